using Collections.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.TestSupport;

/// <summary>Real databases for tests: a fresh SQLite file, or the PostgreSQL server the test script started.</summary>
public static class TestDatabases
{
    /// <summary>Set by scripts/test.sh to the connection string of the private PostgreSQL server it started.</summary>
    public const string PostgresVariable = "COLLECTIONS_TEST_POSTGRES";

    public static string? PostgresConnectionString => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } cs ? cs : null;

    public static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "collections-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static async Task<DatabaseOptions> NewSqliteAsync()
    {
        var database = DatabaseOptions.SqliteFile(Path.Combine(NewFolder(), "collections.db"));
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        return database;
    }

    /// <summary>
    /// A new, empty database on the test server for each caller: the account journal, its event log and the
    /// projections' checkpoints belong to one deployment, so tests never share them.
    /// </summary>
    public static async Task<DatabaseOptions> PostgresAsync()
    {
        var server = PostgresConnectionString
            ?? throw new InvalidOperationException($"{PostgresVariable} is not set: run the tests with scripts/test.sh, which starts PostgreSQL.");
        var name = "collections_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new Npgsql.NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var database = DatabaseOptions.Postgres(new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        return database;
    }

    /// <summary>A service id no other test uses: Orleans keys grain state and reminders by it, so tests sharing a database stay apart.</summary>
    public static string NewServiceId() => "test-" + Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// A test that needs the PostgreSQL server. Outside scripts/test.sh (no server) it is skipped with the reason; under
/// CI the script always provides one, so these tests always run there.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestDatabases.PostgresConnectionString is null)
            Skip = $"No PostgreSQL: set {TestDatabases.PostgresVariable} or run scripts/test.sh.";
    }
}
