using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Grains.Tests;

public sealed class SchemaStartTests
{
    [PostgresFact]
    public async Task Silos_started_together_each_bring_the_schema_up_to_date_without_failing()
    {
        // Compose and Kubernetes start their silos at once; each applies the schema at start on the same database.
        var database = await TestDatabases.PostgresAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseSchema.ApplyAsync(database, NullLogger.Instance))));

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // and again, one alone
    }

    [PostgresFact]
    public async Task A_postgresql_event_log_made_with_the_event_id_constraint_loses_it_at_start_and_keeps_its_events()
    {
        // A database made before the release that drops it: the event log had a UNIQUE on event_id.
        var database = await TestDatabases.PostgresAsync();
        const string CountConstraint = "SELECT count(*) FROM pg_constraint WHERE conname = 'account_event_log_event_id_key'";
        await using (var connection = await database.OpenAsync())
            await connection.Command("""
                ALTER TABLE account_event_log ADD CONSTRAINT account_event_log_event_id_key UNIQUE (event_id);
                INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES ('F1/A1', 'e1', 'balanceChanged', now(), '\x01');
                """).ExecuteNonQueryAsync();

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // a later start finds nothing to drop

        await using var after = await database.OpenAsync();
        Assert.Equal(0L, await after.Command(CountConstraint).ExecuteScalarAsync());
        Assert.Equal("e1", await after.Command("SELECT event_id FROM account_event_log").ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_sqlite_event_log_made_with_the_event_id_index_is_rebuilt_once_keeping_every_position()
    {
        // A database made before the event log lost its UNIQUE on event_id: the old table, with events at positions
        // 1-4, the last one deleted (so the counter, not the rows, says where the next one goes).
        var database = await SqliteMadeBefore20261207Async("""
            INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES
                ('F1/A1', 'e1', 'balanceChanged', '2026-12-01T10:00:00.0000000Z', x'01'),
                ('F1/A2', 'e2', 'statusChanged', '2026-12-01T10:00:01.0000000Z', x'02'),
                ('F1/A1', 'e3', 'paidInFull', '2026-12-01T10:00:02.0000000Z', x'03'),
                ('F1/A3', 'e4', 'balanceChanged', '2026-12-01T10:00:03.0000000Z', x'04');
            DELETE FROM account_event_log WHERE position = 4;
            """);

        await StartTwiceRebuildingOnceAsync(database, "account_event_log");

        var log = new AccountEventLog(database);
        var events = await log.ReadAsync(LogPosition.Start, 10);
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.At.Position));
        Assert.Equal(["e1", "e2", "e3"], events.Select(e => e.EventId));
        Assert.Equal([(byte)3], events[2].Payload);
        await using (var connection = await database.OpenAsync())
        {
            Assert.Equal(0L, await connection.Command(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_account_event_log_1' OR name LIKE 'account_event_log_rebuilt%'").ExecuteScalarAsync());
            await connection.Command("""
                INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload)
                VALUES ('F1/A4', 'e5', 'balanceChanged', '2026-12-01T10:00:04.0000000Z', x'05')
                """).ExecuteNonQueryAsync();
        }
        Assert.Equal(5L, (await log.ReadAsync(events[^1].At, 10)).Single().At.Position);

        // A database made now has the new shape from the start.
        var fresh = await TestDatabases.NewSqliteAsync();
        await using var made = await fresh.OpenAsync();
        Assert.Equal(0L, await made.Command("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_account_event_log_1'").ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_sqlite_webhook_delivery_table_keyed_by_event_id_is_rebuilt_once_keeping_its_ids_and_finding_each_rows_log_position()
    {
        // A database made before deliveries were keyed by log position: UNIQUE (event_id, subscription_id), deliveries 1-3
        // (the last one deleted, so the counter says where the next one goes), and the events they came from in a log
        // of the shape before its own rebuild (UNIQUE event_id): the three rebuilds run at the same start.
        var database = await SqliteMadeBefore20261207Async("""
            INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES
                ('MAIN/A1', 'e1', 'balanceChanged', '2026-12-01T10:00:00.0000000Z', x'01'),
                ('MAIN/A1', 'e2', 'balanceChanged', '2026-12-01T10:00:01.0000000Z', x'02');
            CREATE TABLE webhook_delivery (
                id               INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id         TEXT NOT NULL,
                subscription_id  TEXT NOT NULL,
                event_type       TEXT NOT NULL,
                facility         TEXT NOT NULL,
                account_number   TEXT NOT NULL,
                payload          TEXT NOT NULL,
                status           TEXT NOT NULL,
                attempts         INTEGER NOT NULL DEFAULT 0,
                next_attempt_at  TEXT NULL,
                lease_owner      TEXT NULL,
                lease_until      TEXT NULL,
                created_at       TEXT NOT NULL,
                updated_at       TEXT NOT NULL,
                delivered_at     TEXT NULL,
                last_status_code INTEGER NULL,
                last_error       TEXT NULL,
                UNIQUE (event_id, subscription_id)
            );
            INSERT INTO webhook_delivery (event_id, subscription_id, event_type, facility, account_number, payload, status, attempts,
                                          created_at, updated_at, delivered_at, last_status_code) VALUES
                ('e1', 'wh_1', 'balanceChanged', 'MAIN', 'A1', '{}', 'delivered', 1, '2026-12-01T10:00:00.0000000Z', '2026-12-01T10:00:00.0000000Z', '2026-12-01T10:00:00.0000000Z', 200),
                ('e2', 'wh_1', 'balanceChanged', 'MAIN', 'A1', '{}', 'delivered', 2, '2026-12-01T10:00:01.0000000Z', '2026-12-01T10:00:01.0000000Z', '2026-12-01T10:00:09.0000000Z', 200),
                ('e3', 'wh_1', 'balanceChanged', 'MAIN', 'A1', '{}', 'failed', 8, '2026-12-01T10:00:02.0000000Z', '2026-12-01T10:00:02.0000000Z', NULL, 500);
            DELETE FROM webhook_delivery WHERE id = 3;
            """);

        await StartTwiceRebuildingOnceAsync(database, "webhook_delivery");

        await using (var connection = await database.OpenAsync())
        {
            await using var rows = connection.Command("SELECT id, event_id, log_position, status, attempts FROM webhook_delivery ORDER BY id");
            await using var reader = await rows.ExecuteReaderAsync();
            var found = new List<string>();
            while (await reader.ReadAsync()) found.Add($"{reader.GetInt64(0)} {reader.GetString(1)} {reader.GetInt64(2)} {reader.GetString(3)} {reader.GetInt32(4)}");
            Assert.Equal(["1 e1 1 delivered 1", "2 e2 2 delivered 2"], found);
            Assert.Equal(0L, await connection.Command(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'webhook_delivery_rebuilt%' OR name = 'sqlite_autoindex_account_event_log_1'").ExecuteScalarAsync());
            Assert.Equal(1L, await connection.Command("SELECT count(*) FROM sqlite_master WHERE name = 'ix_webhook_delivery_due'").ExecuteScalarAsync());
            await connection.Command("""
                INSERT INTO webhook_subscription (id, url, events, secret, created_at, created_by)
                VALUES ('wh_1', 'https://example.org/hook', '', 'whsec_x', '2026-12-01T09:00:00.0000000Z', 'test')
                """).ExecuteNonQueryAsync();
        }

        // The projection offering the log again finds the deliveries already made; a new event gets an id never given.
        using var signal = new Collections.Outreach.Webhooks.WebhookSignal();
        var store = new Collections.Outreach.Webhooks.SqlWebhookStore(database, TimeProvider.System, signal);
        await store.PublishAsync([new(1, Event("e1")), new(2, Event("e2")), new(3, Event("e4"))]);
        var deliveries = await store.DeliveriesAsync("wh_1", null, 10);
        Assert.Equal(["e4", "e2", "e1"], deliveries.Select(d => d.EventId));
        Assert.Equal([2L, 1L], deliveries.Skip(1).Select(d => d.Id));
        Assert.True(deliveries[0].Id > 3, $"delivery id {deliveries[0].Id} was given before the rebuild");

        // A database made now has the new shape from the start.
        var fresh = await TestDatabases.NewSqliteAsync();
        await using var made = await fresh.OpenAsync();
        Assert.Equal(1L, await made.Command("SELECT count(*) FROM pragma_table_info('webhook_delivery') WHERE name = 'log_position'").ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task A_postgresql_webhook_delivery_table_keyed_by_event_id_gains_the_log_position_key_and_still_writes_each_delivery_once()
    {
        // A database made before deliveries were keyed by log position: no column, UNIQUE (event_id, subscription_id), one
        // delivery written then.
        var database = await TestDatabases.PostgresAsync();
        await using (var connection = await database.OpenAsync())
            await connection.Command("""
                DROP INDEX ux_webhook_delivery_log_position;
                ALTER TABLE webhook_delivery DROP COLUMN log_position;
                ALTER TABLE webhook_delivery ADD CONSTRAINT webhook_delivery_event_id_subscription_id_key UNIQUE (event_id, subscription_id);
                INSERT INTO webhook_subscription (id, url, events, secret, created_at, created_by) VALUES ('wh_1', 'https://example.org/hook', '', 'whsec_x', now(), 'test');
                INSERT INTO webhook_delivery (event_id, subscription_id, event_type, facility, account_number, payload, status, attempts, created_at, updated_at)
                VALUES ('e1', 'wh_1', 'balanceChanged', 'MAIN', 'A1', '{}', 'delivered', 1, now(), now());
                """).ExecuteNonQueryAsync();

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // a later start applies the scripts again without failing

        using var signal = new Collections.Outreach.Webhooks.WebhookSignal();
        var store = new Collections.Outreach.Webhooks.SqlWebhookStore(database, TimeProvider.System, signal);
        // The row written without a position is found by the old key; a new event by its position, however often offered.
        await store.PublishAsync([new(1, Event("e1")), new(2, Event("e2"))]);
        await store.PublishAsync([new(2, Event("e2")), new(2, Event("e2-other-id"))]); // the position alone finds it
        Assert.Equal(["e2", "e1"], (await store.DeliveriesAsync("wh_1", null, 10)).Select(d => d.EventId));
    }

    [Fact]
    public async Task A_sqlite_score_payment_table_keyed_by_event_id_is_rebuilt_once_and_each_payment_still_counts_once()
    {
        // A database made before score payments were keyed by log position: two payments, from facts events in a log of
        // the shape before its own rebuild (UNIQUE event_id), so both rebuilds run at the same start.
        var database = await SqliteMadeBefore20261207Async("""
            INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES
                ('MAIN/A1', 'e1', 'account.facts', '2026-12-01T10:00:00.0000000Z', x'01'),
                ('MAIN/A1', 'e2', 'account.facts', '2026-12-02T10:00:00.0000000Z', x'02');
            CREATE TABLE score_outcome_payment (
                event_id    TEXT NOT NULL PRIMARY KEY,
                account_id  TEXT NOT NULL,
                cents       INTEGER NOT NULL,
                paid_at     TEXT NOT NULL
            );
            INSERT INTO score_outcome_payment (event_id, account_id, cents, paid_at) VALUES
                ('e1', 'MAIN/A1', 1000, '2026-12-01T10:00:00.0000000Z'),
                ('e2', 'MAIN/A1', 2500, '2026-12-02T10:00:00.0000000Z');
            """);

        await StartTwiceRebuildingOnceAsync(database, "score_outcome_payment");

        // The projection replaying the log finds both payments; a new one is counted once however often it is offered.
        var outcomes = new ScoreOutcomeLog(database);
        var scoredAt = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        await outcomes.RecordAsync([new ScoreOutcomeLog.FirstScore("MAIN/A1", "v1", false, scoredAt, 0.5, 10_000, scoredAt.AddDays(120))],
            [new("e1", 1, "MAIN/A1", 1000, scoredAt.AddDays(1).AddHours(10)), new("e2", 2, "MAIN/A1", 2500, scoredAt.AddDays(2).AddHours(10))]);
        var third = new ScoreOutcomeLog.Payment("e3", 3, "MAIN/A1", 500, scoredAt.AddDays(3));
        await outcomes.RecordAsync([], [third]);
        await outcomes.RecordAsync([], [third]);
        Assert.Equal(4000, Assert.Single(await outcomes.ReadAsync("v1")).CollectedCents);
        await using var connection2 = await database.OpenAsync();
        Assert.Equal(0L, await connection2.Command(
            "SELECT count(*) FROM score_outcome_payment WHERE log_position IS NULL OR log_position NOT IN (1, 2, 3)").ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task A_postgresql_score_payment_table_keyed_by_event_id_gains_the_log_position_key_and_counts_each_payment_once()
    {
        var database = await TestDatabases.PostgresAsync();
        await using (var connection = await database.OpenAsync())
            await connection.Command("""
                DROP INDEX ux_score_outcome_payment_log_position;
                ALTER TABLE score_outcome_payment DROP COLUMN log_position;
                ALTER TABLE score_outcome_payment ADD PRIMARY KEY (event_id);
                INSERT INTO score_outcome_payment (event_id, account_id, cents, paid_at) VALUES ('e1', 'MAIN/A1', 1000, '2026-12-01T10:00:00Z');
                """).ExecuteNonQueryAsync();

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // a later start applies the scripts again without failing

        // The row written without a position is found by the old key; a new payment by its position, however often offered.
        var outcomes = new ScoreOutcomeLog(database);
        var scoredAt = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        var second = new ScoreOutcomeLog.Payment("e2", 2, "MAIN/A1", 2500, scoredAt.AddDays(2));
        await outcomes.RecordAsync([new ScoreOutcomeLog.FirstScore("MAIN/A1", "v1", false, scoredAt, 0.5, 10_000, scoredAt.AddDays(120))],
            [new("e1", 1, "MAIN/A1", 1000, scoredAt.AddDays(1).AddHours(10)), second]);
        await outcomes.RecordAsync([], [second, second with { EventId = "e2-other-id" }]); // the position alone finds it
        Assert.Equal(3500, Assert.Single(await outcomes.ReadAsync("v1")).CollectedCents);
    }

    /// <summary>The SQLite event log as made before 2026-12-07: UNIQUE on event_id (rebuilt without it at start).</summary>
    private const string EventLogMadeBefore20261207 = """
        CREATE TABLE account_event_log (
            position    INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id  TEXT NOT NULL,
            event_id    TEXT NOT NULL UNIQUE,
            type        TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            payload     BLOB NOT NULL
        );

        """;

    /// <summary>A balance change of MAIN/A1 with the given event id, as the webhook projection hands it to the store.</summary>
    private static Collections.Domain.AccountEvent Event(string id) => new()
    {
        EventId = id, Type = Collections.Domain.AccountEventTypes.BalanceChanged, OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = "A1",
        Balances = new Collections.Domain.AccountEventBalances(),
    };

    /// <summary>A SQLite file holding the event log as made before 2026-12-07, then <paramref name="sql"/> (more old tables, rows).</summary>
    private static async Task<DatabaseOptions> SqliteMadeBefore20261207Async(string sql)
    {
        var database = DatabaseOptions.SqliteFile(Path.Combine(TestDatabases.NewFolder(), "collections.db"));
        await using var connection = await database.OpenAsync();
        await connection.Command(EventLogMadeBefore20261207 + sql).ExecuteNonQueryAsync();
        return database;
    }

    /// <summary>
    /// Starts the schema twice: the first start copies <paramref name="table"/> into its new shape, the second finds
    /// nothing to rebuild (where the table starts in the file: a table copied again would start elsewhere).
    /// </summary>
    private static async Task StartTwiceRebuildingOnceAsync(DatabaseOptions database, string table)
    {
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        var rebuiltAt = await RootPageAsync();
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // a later start finds nothing to rebuild
        Assert.Equal(rebuiltAt, await RootPageAsync());

        async Task<long> RootPageAsync()
        {
            await using var connection = await database.OpenAsync();
            return (long)(await connection.Command($"SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = '{table}'").ExecuteScalarAsync())!;
        }
    }
}
