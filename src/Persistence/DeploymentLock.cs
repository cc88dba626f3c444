using Npgsql;

namespace Collections.Persistence;

/// <summary>
/// One deployment per PostgreSQL database and schema. An engine of the local profile forms a cluster of its own: on a
/// database a cluster's silos use (or another local engine does), it would run the same accounts' cadences and send
/// the same messages beside them, each side with its own view. So a local engine holds the database alone, and each
/// silo of the cluster profile holds it shared with the cluster's other silos: PostgreSQL's session advisory lock, on
/// one connection kept for the process's life, given back by the server when the process or its connection ends.
/// </summary>
/// <remarks>
/// Session locks need the engine's own connection to the server: a pooler in transaction mode (PgBouncer's
/// <c>pool_mode=transaction</c>) does not keep them, and the check then protects nothing (docs/cluster.md).
/// </remarks>
public sealed class DeploymentLock : IAsyncDisposable, IDisposable
{
    /// <summary>The lock's first key ("Coll"); the second is the schema's hash, so deployments in other schemas are apart.</summary>
    private const int LockClass = 0x436F6C6C;

    private readonly NpgsqlConnection _connection;

    private DeploymentLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>
    /// Takes the lock: alone (<paramref name="shared"/> false, the local profile) or shared with the cluster's other
    /// silos. Null when another holds it in a way that excludes this one.
    /// </summary>
    public static async Task<DeploymentLock?> TryTakeAsync(DatabaseOptions database, bool shared, CancellationToken cancellationToken = default)
    {
        if (database.Provider != DatabaseProvider.PostgreSql) throw new InvalidOperationException("The deployment lock is PostgreSQL's; the embedded database has its file lock.");
        // A connection of its own, outside the pool: the lock lives as long as it does. Keepalives stop an idle
        // connection from being dropped along the way (and the lock with it).
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 30, ApplicationName = ApplicationName };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var take = new NpgsqlCommand(
                shared ? "SELECT pg_try_advisory_lock_shared(@class, hashtext(coalesce(current_schema(), '')))" : "SELECT pg_try_advisory_lock(@class, hashtext(coalesce(current_schema(), '')))",
                connection);
            take.Parameters.AddWithValue("class", LockClass);
            if (await take.ExecuteScalarAsync(cancellationToken) is true) return new DeploymentLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>What the lock's connection is called in <c>pg_stat_activity</c> (to find who holds a database).</summary>
    public const string ApplicationName = "collections deployment lock";

    /// <summary>Whether the lock's connection still answers (the server restarted or the connection broke: the lock is gone).</summary>
    public async Task<bool> StillHeldAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var ask = new NpgsqlCommand("SELECT 1", _connection);
            await ask.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.IO.IOException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    public void Dispose() => _connection.Dispose();
}
