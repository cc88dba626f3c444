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
        var database = DatabaseOptions.SqliteFile(Path.Combine(TestDatabases.NewFolder(), "collections.db"));
        await using (var connection = await database.OpenAsync())
        {
            await connection.Command("""
                CREATE TABLE account_event_log (
                    position    INTEGER PRIMARY KEY AUTOINCREMENT,
                    account_id  TEXT NOT NULL,
                    event_id    TEXT NOT NULL UNIQUE,
                    type        TEXT NOT NULL,
                    occurred_at TEXT NOT NULL,
                    payload     BLOB NOT NULL
                );
                INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES
                    ('F1/A1', 'e1', 'balanceChanged', '2026-12-01T10:00:00.0000000Z', x'01'),
                    ('F1/A2', 'e2', 'statusChanged', '2026-12-01T10:00:01.0000000Z', x'02'),
                    ('F1/A1', 'e3', 'paidInFull', '2026-12-01T10:00:02.0000000Z', x'03'),
                    ('F1/A3', 'e4', 'balanceChanged', '2026-12-01T10:00:03.0000000Z', x'04');
                DELETE FROM account_event_log WHERE position = 4;
                """).ExecuteNonQueryAsync();
        }

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        var rebuiltAt = await RootPageAsync(database);
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // a later start finds nothing to rebuild
        Assert.Equal(rebuiltAt, await RootPageAsync(database));

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

    /// <summary>Where the event log's table starts in the file: a table copied again would start elsewhere.</summary>
    private static async Task<long> RootPageAsync(DatabaseOptions database)
    {
        await using var connection = await database.OpenAsync();
        return (long)(await connection.Command("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'account_event_log'").ExecuteScalarAsync())!;
    }
}
