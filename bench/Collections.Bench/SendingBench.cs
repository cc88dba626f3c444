// Sending benchmark: how fast the outbox sender works off a backlog of due messages (a due day's statements and
// reminders) through a vendor that answers in --latency-ms, a share --slow-share of them in --slow-ms (vendors have
// tails), on SQLite and (with --postgres) PostgreSQL; in the same run, the ceiling: the same vendor driven directly,
// with no database, at the most requests the sender had on their way at once. Prints last, per database:
//   sending-vs-raw <sqlite|postgresql> <in-flight> <engine sent per s> <raw per s> <ratio>
// The sender runs as the engine runs it, with its default settings, minus the last look at the account and the person
// (IOutboxSendCheck: two grain calls per message, which need a silo), so its rate is an upper bound; the run fails
// unless each message went exactly once.
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode sending [--messages 4000] [--latency-ms 200]
//       [--slow-share 0.02] [--slow-ms 2000] [--postgres "Host=..."] [--skip-sqlite]
using System.Diagnostics;
using Collections.Domain;
using Collections.Outreach;
using Collections.Persistence;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Collections.Bench;

internal static class SendingBench
{
    public static async Task RunAsync(int messages, int latencyMs, double slowShare, int slowMs, string? postgres, bool skipSqlite)
    {
        Console.WriteLine($"Collections sending benchmark: {messages:N0} due messages, a vendor answering in {latencyMs} ms ({slowShare:P0} of them in {slowMs} ms), " +
                          $"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
        var vendor = new BenchVendor(TimeSpan.FromMilliseconds(latencyMs), slowShare, TimeSpan.FromMilliseconds(slowMs));
        var lines = new List<string>();
        if (!skipSqlite)
        {
            var folder = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(folder);
            try
            {
                lines.Add(await RunOneAsync("sqlite", DatabaseOptions.SqliteFile(Path.Combine(folder, "collections.db")), messages, vendor));
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                    // Left for the machine's temporary-file cleanup.
                }
            }
        }
        if (postgres is not null)
        {
            var schema = "bench_sending_" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                lines.Add(await RunOneAsync("postgresql", await NewSchemaAsync(postgres, schema), messages, vendor));
            }
            finally
            {
                await ExecuteAsync(postgres, $"DROP SCHEMA IF EXISTS {schema} CASCADE");
            }
        }
        Console.WriteLine();
        foreach (var line in lines) Console.WriteLine(line);
    }

    private static async Task<string> RunOneAsync(string name, DatabaseOptions database, int messages, BenchVendor vendor)
    {
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        var outbox = new SqlOutboxStore(database, TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        var fill = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, messages), new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (i, ct) => await outbox.AddAsync(Message(i, now), ct));
        Console.WriteLine($"{name}: {messages:N0} messages queued in {fill.Elapsed.TotalSeconds:N1} s");

        var options = Microsoft.Extensions.Options.Options.Create(new OutreachOptions());
        options.Value.Transports.Email = options.Value.Transports.Sms = options.Value.Transports.Mail = vendor.Name;
        using var signal = new OutboxSignal();
        var sender = new OutboxSender(outbox, new TransportRouter([vendor], options), options, signal, TimeProvider.System, NullLogger<OutboxSender>.Instance);
        vendor.Reset();
        var clock = Stopwatch.StartNew();
        var tried = 0;
        while (vendor.Delivered < messages && clock.Elapsed < TimeSpan.FromMinutes(30)) tried += await sender.RunOnceAsync();
        var engine = clock.Elapsed;
        var peak = vendor.Peak;
        var duplicates = vendor.Duplicates;
        var sent = await CountSentAsync(database);
        var enginePerSecond = messages / engine.TotalSeconds;
        Console.WriteLine($"{name}: sent {sent:N0} of {messages:N0} in {engine.TotalSeconds:N1} s ({enginePerSecond:N0}/s), at most {peak} on their way at once, " +
                          $"{tried - messages} claimed twice, {duplicates} delivered twice");
        if (sent != messages || duplicates != 0 || peak == 0)
            throw new InvalidOperationException($"{name}: every message must be sent exactly once ({sent} of {messages} sent, {duplicates} twice)");

        // The ceiling: the same vendor, the same messages, at the same concurrency, with nothing stored.
        vendor.Reset();
        clock.Restart();
        await Parallel.ForEachAsync(Enumerable.Range(0, messages), new ParallelOptions { MaxDegreeOfParallelism = peak },
            async (i, ct) => await vendor.DeliverAsync(Message(i, now), ct));
        var raw = clock.Elapsed;
        var rawPerSecond = messages / raw.TotalSeconds;
        Console.WriteLine($"{name}: the vendor alone at {peak} at once: {messages:N0} in {raw.TotalSeconds:N1} s ({rawPerSecond:N0}/s)");
        return $"sending-vs-raw {name} {peak} {enginePerSecond:0} {rawPerSecond:0} {enginePerSecond / rawPerSecond:0.00}";
    }

    private static OutboxMessage Message(int i, DateTimeOffset now) => new()
    {
        MessageId = $"BENCH/S{i:D7}/cadence-v1/statement/1",
        Channel = (i % 3) switch { 0 => ContactChannel.Email, 1 => ContactChannel.Sms, _ => ContactChannel.Mail },
        Action = OutreachAction.PatientStatement,
        Facility = "BENCH",
        AccountNumber = $"S{i:D7}",
        GuarantorId = $"G{i:D7}",
        RecipientName = "Bench Patient",
        Recipient = (i % 3) switch { 0 => $"patient{i}@example.org", 1 => "+15125550100", _ => "1 Main St\nAustin, TX 78701" },
        AmountDue = 120.00m,
        Body = "Your statement is ready: 120.00 is due.",
        TemplateId = "email/patientStatement",
        TemplateVersion = 0,
        Status = OutboxStatus.Pending,
        Attempts = 0,
        CreatedAt = now,
        UpdatedAt = now,
        NextAttemptAt = now,
    };

    private static async Task<long> CountSentAsync(DatabaseOptions database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM outreach_outbox WHERE status = 'sent'";
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task<DatabaseOptions> NewSchemaAsync(string baseline, string schema)
    {
        await ExecuteAsync(baseline, $"CREATE SCHEMA {schema}");
        return DatabaseOptions.Postgres(new NpgsqlConnectionStringBuilder(baseline) { SearchPath = schema }.ToString());
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
