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
    /// Takes the lock: alone (<paramref name="clusterId"/> null, the local profile) or shared with the silos of the
    /// cluster named (a silo of the cluster profile), which also marks the database as that cluster's. Null, with why,
    /// when another deployment holds it: a local engine (or, for a local engine, anyone), or another cluster's silos.
    /// </summary>
    public static async Task<(DeploymentLock? Lock, DeploymentRefusal Refusal)> TryTakeAsync(DatabaseOptions database, string? clusterId,
        CancellationToken cancellationToken = default)
    {
        if (database.Provider != DatabaseProvider.PostgreSql) throw new InvalidOperationException("The deployment lock is PostgreSQL's; the embedded database has its file lock.");
        // A connection of its own, outside the pool: the lock lives as long as it does. Keepalives stop an idle
        // connection from being dropped along the way (and the lock with it).
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 30, ApplicationName = ApplicationName };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // A step code, in order (a CASE's conditions are taken one by one, so the mark is taken before the others'
            // are looked for): 0 held; 1 the database held alone by a local engine (or, for a local engine, by anyone);
            // 3 marked by another cluster's silo (each silo's mark is shared by its cluster's silos: the first key
            // says where, the second which cluster).
            await using var take = new NpgsqlCommand(clusterId is null
                ? $"SELECT CASE WHEN pg_try_advisory_lock(@class, {SchemaHash}) THEN 0 ELSE 1 END"
                : $"""
                   SELECT CASE
                       WHEN NOT pg_try_advisory_lock_shared(@class, {SchemaHash}) THEN 1
                       WHEN NOT pg_try_advisory_lock_shared({MarkWhere}, hashtext(@cluster)) THEN 2
                       WHEN EXISTS (SELECT 1 FROM pg_locks
                                    WHERE locktype = 'advisory' AND objsubid = 2 AND granted
                                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                      AND classid::bigint = ({MarkWhere})::bigint & 4294967295
                                      AND objid::bigint <> hashtext(@cluster)::bigint & 4294967295) THEN 3
                       ELSE 0
                   END
                   """, connection);
            take.Parameters.AddWithValue("class", LockClass);
            if (clusterId is not null) take.Parameters.AddWithValue("cluster", clusterId);
            var step = (int)(await take.ExecuteScalarAsync(cancellationToken))!;
            if (step == 0) return (new DeploymentLock(connection), DeploymentRefusal.None);
            // Given back at once, not when the server gets round to closing the connection: a refused silo's mark must
            // not make a healthy silo of the running cluster, starting just then, take it for another cluster's.
            await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection))
                await release.ExecuteNonQueryAsync(cancellationToken);
            await connection.DisposeAsync();
            return (null, clusterId is null ? DeploymentRefusal.InUse : step switch
            {
                1 => DeploymentRefusal.HeldAlone,
                3 => DeploymentRefusal.AnotherCluster,
                _ => DeploymentRefusal.InUse,
            });
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private const string SchemaHash = "hashtext(coalesce(current_schema(), ''))";
    private const string MarkWhere = "hashtext('collections cluster:' || coalesce(current_schema(), ''))";

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

/// <summary>Why a deployment's lock was not taken.</summary>
public enum DeploymentRefusal
{
    None,

    /// <summary>The local profile's engine: another engine or a cluster's silos hold the database.</summary>
    InUse,

    /// <summary>A cluster's silo: an engine of the local profile holds the database alone.</summary>
    HeldAlone,

    /// <summary>A cluster's silo: silos of another cluster (another cluster id) hold the database.</summary>
    AnotherCluster,
}
