using System.Data;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>
/// Brings a database up to the engine's schema at start-up by running every script under deploy/sql/&lt;provider&gt;
/// in name order, in one transaction. The scripts are idempotent, so this runs on every start and never loses data;
/// on PostgreSQL an advisory lock keeps several silos starting at once from racing. On SQLite, which cannot drop a
/// constraint, the scripts under deploy/sql/sqlite-rebuilds then copy a table into its new shape, each only when its
/// first line's query (<c>-- when: SELECT ...</c>) finds the old shape: once per database.
/// </summary>
public static class DatabaseSchema
{
    private const long PostgresSchemaLock = 0x436F6C6C656374; // "Collect"

    public static IReadOnlyList<(string Name, string Sql)> Scripts(DatabaseProvider provider)
    {
        var folder = provider == DatabaseProvider.Sqlite ? "sql/sqlite/" : "sql/postgresql/";
        var assembly = typeof(DatabaseSchema).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(folder, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n[folder.Length..], Read(assembly, n)))
            .ToList();
    }

    /// <summary>SQLite's one-time table rebuilds: each script with the query that says it is still needed.</summary>
    public static IReadOnlyList<(string Name, string When, string Sql)> Rebuilds(DatabaseProvider provider)
    {
        if (provider != DatabaseProvider.Sqlite) return [];
        const string folder = "sql/sqlite-rebuilds/", marker = "-- when:";
        var assembly = typeof(DatabaseSchema).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(folder, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                var sql = Read(assembly, n);
                var first = sql.AsSpan(0, sql.IndexOf('\n') is var end and >= 0 ? end : sql.Length).Trim().ToString();
                if (!first.StartsWith(marker, StringComparison.Ordinal))
                    throw new InvalidOperationException($"The rebuild script {n} does not start with '{marker} SELECT ...'.");
                return (n[folder.Length..], first[marker.Length..].Trim(), sql);
            })
            .ToList();
    }

    private const int SchemaAttempts = 5;

    public static async Task ApplyAsync(DatabaseOptions database, ILogger logger, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Bringing the database schema up to date on {Database}", database.Describe());
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            var file = Path.GetFullPath(new SqliteConnectionStringBuilder(database.ConnectionString).DataSource);
            var folder = Path.GetDirectoryName(file);
            if (!string.IsNullOrEmpty(folder)) OwnerOnlyFiles.EnsureFolder(folder);
            OwnerOnlyFiles.EnsureDatabaseFile(file); // it holds patients' data
        }

        var scripts = Scripts(database.Provider);
        if (scripts.Count == 0)
            throw new InvalidOperationException($"No schema scripts are embedded for {database.Provider}.");

        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            // Write-ahead logging lets readers proceed during a write; it is a property of the file, set outside a transaction.
            await connection.Command("PRAGMA journal_mode=WAL;").ExecuteNonQueryAsync(cancellationToken);
        }

        // Silos started together (compose, a Kubernetes rollout) apply the schema one at a time: the lock is taken before
        // the transaction begins, so the one that waited sees what the first committed (taken inside a serializable
        // transaction, its snapshot would predate that commit and it would fail with 40001).
        if (database.Provider == DatabaseProvider.PostgreSql)
            await connection.Command($"SELECT pg_advisory_lock({PostgresSchemaLock});").ExecuteNonQueryAsync(cancellationToken);
        try
        {
            // Applied while other silos run (a rolling upgrade), a script's lock on one table can meet an engine
            // transaction's on another: PostgreSQL ends one of the two (40P01). Everything here is one transaction,
            // rolled back whole, so it is run again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
                    foreach (var (name, sql) in scripts)
                    {
                        var command = connection.Command(sql, transaction);
                        command.CommandTimeout = 120;
                        await command.ExecuteNonQueryAsync(cancellationToken);
                        logger.LogDebug("Applied schema script {Script}", name);
                    }
                    foreach (var (name, when, sql) in Rebuilds(database.Provider))
                    {
                        if (await connection.Command(when, transaction).ExecuteScalarAsync(cancellationToken) is null) continue;
                        logger.LogInformation("Rebuilding a table into its new shape ({Script}); once, and it may take a while on a large database", name);
                        var command = connection.Command(sql, transaction);
                        command.CommandTimeout = 0;
                        await command.ExecuteNonQueryAsync(cancellationToken);
                    }
                    await transaction.CommitAsync(cancellationToken);
                    break;
                }
                catch (Exception ex) when (SqlStatements.AbortedForConflict(ex) && attempt < SchemaAttempts)
                {
                    logger.LogWarning("Applying the schema met a running transaction's locks ({Error}); trying again ({Attempt} of {Attempts})",
                        ex.GetType().Name, attempt + 1, SchemaAttempts);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
                }
            }
        }
        finally
        {
            if (database.Provider == DatabaseProvider.PostgreSql)
                await connection.Command($"SELECT pg_advisory_unlock({PostgresSchemaLock});").ExecuteNonQueryAsync(CancellationToken.None);
        }
        logger.LogInformation("Database schema is up to date ({Count} scripts) on {Database}", scripts.Count, database.Describe());
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
