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

    public static IReadOnlyList<(string Name, string Sql)> Scripts(DatabaseProvider provider) =>
        Resources(provider == DatabaseProvider.Sqlite ? "sql/sqlite/" : "sql/postgresql/");

    /// <summary>
    /// SQLite's one-time table rebuilds: each script with the query that says it is still needed. A rebuild script
    /// makes the table in its new shape; the schema scripts, run again after it, add what hangs on the table (indexes).
    /// </summary>
    public static IReadOnlyList<(string Name, string When, string Sql)> Rebuilds(DatabaseProvider provider)
    {
        if (provider != DatabaseProvider.Sqlite) return [];
        const string marker = "-- when:";
        return Resources("sql/sqlite-rebuilds/").Select(r =>
        {
            var first = r.Sql.AsSpan(0, r.Sql.IndexOf('\n') is var end and >= 0 ? end : r.Sql.Length).Trim().ToString();
            if (!first.StartsWith(marker, StringComparison.Ordinal))
                throw new InvalidOperationException($"The rebuild script {r.Name} does not start with '{marker} SELECT ...'.");
            return (r.Name, first[marker.Length..].Trim(), r.Sql);
        }).ToList();
    }

    private static List<(string Name, string Sql)> Resources(string folder)
    {
        var assembly = typeof(DatabaseSchema).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(folder, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n[folder.Length..], Read(assembly, n)))
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
        var rebuilds = Rebuilds(database.Provider);
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
                    await RunAsync(connection, transaction, scripts, logger, cancellationToken);
                    var rebuilt = await RebuildAsync(connection, transaction, rebuilds, logger, cancellationToken);
                    if (rebuilt) await RunAsync(connection, transaction, scripts, logger, cancellationToken); // what hangs on the rebuilt tables
                    await transaction.CommitAsync(cancellationToken);
                    if (rebuilt) await TruncateWriteAheadLogAsync(connection, logger, cancellationToken);
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

    /// <summary>
    /// After a rebuild, whose copy went through the write-ahead log: its size goes back to the disk now, not at some later
    /// checkpoint. The schema is committed by then, so a failure here is only said.
    /// </summary>
    private static async Task TruncateWriteAheadLogAsync(System.Data.Common.DbConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await using var checkpoint = connection.Command("PRAGMA wal_checkpoint(TRUNCATE);");
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            logger.LogWarning("The write-ahead log was not truncated after a rebuild ({Error}); the next checkpoint does it", ex.SqliteErrorCode);
        }
    }

    /// <summary>Runs each rebuild whose query finds the old shape; whether any ran.</summary>
    private static async Task<bool> RebuildAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        IReadOnlyList<(string Name, string When, string Sql)> rebuilds, ILogger logger, CancellationToken cancellationToken)
    {
        var rebuilt = false;
        foreach (var (name, when, sql) in rebuilds)
        {
            await using var needed = connection.Command(when, transaction);
            if (await needed.ExecuteScalarAsync(cancellationToken) is null) continue;
            logger.LogInformation("Rebuilding a table into its new shape ({Script}); once, and it may take a while on a large database", name);
            await using var command = connection.Command(sql, transaction);
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(cancellationToken);
            rebuilt = true;
        }
        return rebuilt;
    }

    private static async Task RunAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        IReadOnlyList<(string Name, string Sql)> scripts, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var (name, sql) in scripts)
        {
            await using var command = connection.Command(sql, transaction);
            command.CommandTimeout = 120;
            await command.ExecuteNonQueryAsync(cancellationToken);
            logger.LogDebug("Applied schema script {Script}", name);
        }
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
