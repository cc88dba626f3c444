using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Collections.Grains.Tests;

/// <summary>The reminder table that writes many grains' reminders in one transaction, on both databases.</summary>
public sealed class ReminderTableTests
{
    private static readonly DateTime Start = new(2026, 12, 5, 9, 30, 0, DateTimeKind.Utc);

    [Fact]
    public Task Reminders_set_at_once_each_get_their_version_and_read_back_as_set_on_sqlite() => SetAtOnce(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Reminders_set_at_once_each_get_their_version_and_read_back_as_set_on_postgresql() => SetAtOnce(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_is_removed_only_by_its_current_etag_on_sqlite() => RemovedByCurrentETag(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_is_removed_only_by_its_current_etag_on_postgresql() => RemovedByCurrentETag(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_ring_range_holds_the_reminders_whose_grains_hash_into_it_on_sqlite() => RingRanges(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_ring_range_holds_the_reminders_whose_grains_hash_into_it_on_postgresql() => RingRanges(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_stored_by_Orleans_own_table_reads_back_and_moves_on_from_its_version_on_sqlite() => StoredBefore(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_stored_by_Orleans_own_table_reads_back_and_moves_on_from_its_version_on_postgresql() => StoredBefore(TestDatabases.PostgresAsync);

    private static async Task SetAtOnce(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        var entries = Enumerable.Range(0, 120).Select(i => Entry($"F1|A{i}", Start.AddMinutes(i), TimeSpan.FromMinutes(1 + i % 3))).ToList();

        var etags = await Task.WhenAll(entries.Select(table.UpsertRow));
        Assert.All(etags, etag => Assert.Equal("0", etag));
        // The same reminders again, with another schedule: each moves to version 1.
        var moved = entries.Select(e => Entry(e.GrainId.Key.ToString()!, e.StartAt.AddDays(1), TimeSpan.FromHours(1))).ToList();
        Assert.All(await Task.WhenAll(moved.Select(table.UpsertRow)), etag => Assert.Equal("1", etag));

        foreach (var expected in moved.Take(5))
        {
            var row = await table.ReadRow(expected.GrainId, expected.ReminderName);
            Assert.NotNull(row);
            Assert.Equal(expected.StartAt, row.StartAt);
            Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
            Assert.Equal(TimeSpan.FromHours(1), row.Period);
            Assert.Equal("1", row.ETag);
            Assert.Single((await table.ReadRows(expected.GrainId)).Reminders);
        }
        Assert.Null(await table.ReadRow(GrainId.Create("patientaccount", "F1|none"), "cadence"));
        Assert.Equal(120, (await table.ReadRows(0u, 0u)).Reminders.Count); // equal bounds: the whole ring
    }

    private static async Task RemovedByCurrentETag(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        var entry = Entry("F1|A1", Start, TimeSpan.FromMinutes(1));
        Assert.Equal("0", await table.UpsertRow(entry));
        Assert.Equal("1", await table.UpsertRow(entry));

        Assert.False(await table.RemoveRow(entry.GrainId, "cadence", "0"));
        Assert.False(await table.RemoveRow(entry.GrainId, "cadence", "not-a-version"));
        Assert.NotNull(await table.ReadRow(entry.GrainId, "cadence"));
        Assert.True(await table.RemoveRow(entry.GrainId, "cadence", "1"));
        Assert.Null(await table.ReadRow(entry.GrainId, "cadence"));
    }

    private static async Task RingRanges(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        var entries = Enumerable.Range(0, 40).Select(i => Entry($"F1|R{i}", Start, TimeSpan.FromMinutes(1))).ToList();
        await Task.WhenAll(entries.Select(table.UpsertRow));
        var hashes = entries.ToDictionary(e => e.GrainId, e => e.GrainId.GetUniformHashCode());

        // Orleans compares bounds as signed numbers: (begin, end] when begin < end, and the rest of the ring otherwise.
        foreach (var (begin, end) in new[] { (0x1000_0000u, 0x6000_0000u), (0x6000_0000u, 0x1000_0000u), (0x9000_0000u, 0xF000_0000u), (0x2000_0000u, 0xA000_0000u) })
        {
            bool Inside(uint hash) => (int)begin < (int)end
                ? (int)hash > (int)begin && (int)hash <= (int)end
                : (int)hash > (int)begin || (int)hash <= (int)end;
            var expected = hashes.Where(h => Inside(h.Value)).Select(h => h.Key).OrderBy(g => g.ToString()).ToList();
            var found = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId).OrderBy(g => g.ToString()).ToList();
            Assert.Equal(expected, found);
        }
    }

    private static async Task StoredBefore(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out var serviceId);
        var grain = GrainId.Create("patientaccount", "F1|OLD");
        // A row as Orleans' ADO.NET reminder table wrote it, with its own statement (kept in OrleansQuery).
        await using (var connection = await database.OpenAsync())
        {
            var sql = (string)(await connection.Command("SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'UpsertReminderRowKey'").ExecuteScalarAsync())!;
            await using var command = connection.Command(sql)
                .WithParameter("ServiceId", serviceId).WithParameter("GrainId", grain.ToString()).WithParameter("GrainHash", (int)grain.GetUniformHashCode())
                .WithParameter("ReminderName", "cadence").WithParameter("StartTime", Start).WithParameter("Period", 60_000);
            Assert.Equal(0L, Convert.ToInt64(await command.ExecuteScalarAsync()));
            Assert.Equal(1L, Convert.ToInt64(await command.ExecuteScalarAsync()));
        }

        var row = await table.ReadRow(grain, "cadence");
        Assert.NotNull(row);
        Assert.Equal(Start, row.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal("1", row.ETag);
        Assert.Equal("2", await table.UpsertRow(Entry("F1|OLD", Start.AddDays(1), TimeSpan.FromMinutes(1))));
    }

    private static GroupCommitReminderTable Table(DatabaseOptions database, out string serviceId)
    {
        serviceId = TestDatabases.NewServiceId();
        return new GroupCommitReminderTable(database, Options.Create(new ClusterOptions { ServiceId = serviceId }), NullLogger<GroupCommitReminderTable>.Instance);
    }

    private static ReminderEntry Entry(string key, DateTime startAt, TimeSpan period) =>
        new() { GrainId = GrainId.Create("patientaccount", key), ReminderName = "cadence", StartAt = startAt, Period = period };
}
