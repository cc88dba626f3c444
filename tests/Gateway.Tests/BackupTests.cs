using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Collections.Hosting;
using Collections.Persistence;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

/// <summary>An engine of its own: the backup is taken while it posts.</summary>
public sealed class BackupEngineFixture : EngineFixture;

public sealed class BackupTests(BackupEngineFixture engine) : IClassFixture<BackupEngineFixture>
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_backup_taken_during_64_way_posting_restores_into_a_new_folder_with_every_entry_acknowledged_before_it()
    {
        using var admin = engine.Admin();
        var accounts = new List<string>();
        for (var i = 0; i < 16; i++)
        {
            var account = await Api.OpenAccountAsync(admin);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Charge(10_000m))).StatusCode);
            accounts.Add(account);
        }

        // 64 posters, each payment with its own idempotency key; every acknowledgement is noted with when it came.
        var acknowledged = new ConcurrentBag<(string Account, string EntryId, DateTime At)>();
        using var stop = new CancellationTokenSource();
        var posters = Enumerable.Range(0, 64).Select(p => Task.Run(async () =>
        {
            using var client = engine.Admin();
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var account = accounts[(p + n) % accounts.Count];
                var response = await Api.PostEntryAsync(client, account, Api.Payment(1.00m), $"backup-{p}-{n}");
                if (response.StatusCode != HttpStatusCode.Created) continue;
                var entryId = (await response.JsonAsync()).GetProperty("entry").GetProperty("entryId").GetString()!;
                acknowledged.Add((account, entryId, DateTime.UtcNow));
            }
        })).ToList();

        // The backup starts once posting is well under way (how long that takes depends on the machine's load).
        var underWay = DateTime.UtcNow.AddSeconds(60);
        while (acknowledged.Count < 100 && DateTime.UtcNow < underWay) await Task.Delay(50);
        var backupStarted = DateTime.UtcNow;
        var backupFile = Path.Combine(TestDatabases.NewFolder(), "nested", "collections-backup.db");
        var backup = await Task.Run(() => SqliteBackup.Backup(Path.Combine(engine.DataFolder, "collections.db"), backupFile));
        await Task.Delay(500);
        stop.Cancel();
        await Task.WhenAll(posters);

        var before = acknowledged.Where(a => a.At < backupStarted).ToList();
        Assert.True(before.Count > 50, $"only {before.Count} postings were acknowledged before the backup");
        Assert.True(acknowledged.Count > before.Count, "posting went on while the backup ran");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backupFile));
        Assert.False(File.Exists(backupFile + ".partial"));
        Assert.Equal(16, backup.Accounts);

        // Restored into a new folder, an engine started on it has every entry acknowledged before the backup began, once.
        var restoredFolder = TestDatabases.NewFolder();
        var restored = SqliteBackup.Restore(backupFile, restoredFolder);
        Assert.Equal(backup.LedgerEntries, restored.LedgerEntries);
        Assert.Throws<BackupException>(() => SqliteBackup.Restore(backupFile, restoredFolder));
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        await using var second = EngineHost.Build(["--data", restoredFolder, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(),
            "--gateway-port", Ports.Free().ToString(), "--Collections:Outreach:Sender:Enabled", "false"]);
        await second.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = http };
            client.DefaultRequestHeaders.Authorization = new("Bearer", engine.AdminKey); // keys live in the database
            foreach (var account in accounts)
            {
                var entries = (await client.GetFromJsonAsync<JsonElement>(account)).GetProperty("entries").EnumerateArray()
                    .Select(e => e.GetProperty("entryId").GetString()!).ToList();
                Assert.Equal(entries.Count, entries.Distinct().Count());
                foreach (var expected in before.Where(b => b.Account == account))
                    Assert.Contains(expected.EntryId, entries);
            }
        }
        finally
        {
            await second.StopAsync();
        }
    }
}
