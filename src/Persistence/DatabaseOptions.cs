using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Collections.Persistence;

public enum DatabaseProvider
{
    /// <summary>An embedded file database: the single-node default, nothing to install.</summary>
    Sqlite,
    /// <summary>A PostgreSQL server: the cluster profile.</summary>
    PostgreSql,
}

/// <summary>Which database holds grain state, reminders, membership, the audit trail and API keys.</summary>
public sealed record DatabaseOptions(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>The Orleans ADO.NET invariant name for this provider.</summary>
    public string OrleansInvariant => Provider == DatabaseProvider.Sqlite ? "System.Data.SQLite" : "Npgsql";

    /// <summary>The folder of setup scripts under deploy/sql.</summary>
    public string ScriptFolder => Provider == DatabaseProvider.Sqlite ? "sqlite" : "postgresql";

    public static DatabaseOptions SqliteFile(string path) =>
        new(DatabaseProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true }.ToString());

    public static DatabaseOptions Postgres(string connectionString) => new(DatabaseProvider.PostgreSql, WithPoolLimit(connectionString));

    /// <summary>Connections one process opens for durable writes and reads, unless the connection string says otherwise.</summary>
    public const int DefaultPostgresPoolSize = 40;

    /// <summary>
    /// Npgsql's own default pool (100) is PostgreSQL's default <c>max_connections</c>: one busy silo, with its
    /// rederivable pool beside it, would take every slot and the next connection anywhere would fail with 53300. Without
    /// an explicit <c>Maximum Pool Size</c> a process uses <see cref="DefaultPostgresPoolSize"/>, plus a quarter of that
    /// for rederivable writes (see <see cref="OpenRederivableAsync"/>). Statement preparation and pool reset likewise,
    /// unless the connection string chooses.
    /// </summary>
    private static string WithPoolLimit(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var explicitLimit = connectionString.Split(';').Select(part => part.Split('=')[0].Trim().Replace(" ", "", StringComparison.Ordinal))
            .Any(key => key.Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase) || key.Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase));
        if (!explicitLimit) builder.MaxPoolSize = DefaultPostgresPoolSize;
        // The engine sends the same few hundred statements over and over: Npgsql prepares the frequent ones on each
        // connection, so the server stops parsing and planning them every time (profiled: a large part of its CPU). The
        // engine sets no session state to reset, so a pooled connection goes back without RESET ALL.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 256;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!connectionString.Contains("Reset", StringComparison.OrdinalIgnoreCase)) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    public DbConnection CreateConnection() => Provider == DatabaseProvider.Sqlite
        ? new SqliteConnection(ConnectionString)
        : new NpgsqlConnection(ConnectionString);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> RederivableConnectionStrings = new(StringComparer.Ordinal);

    /// <summary>
    /// PostgreSQL connections for rederivable writes start with <c>synchronous_commit=off</c> (a pool of their own, so
    /// the setting costs no round trip and a pooled reset keeps it): their commits do not wait for the WAL flush. A
    /// crash of the server can lose only the newest of them, never one older than a durable commit that survived (the
    /// WAL is replayed in order), so a projection's view is never behind its checkpoint.
    /// </summary>
    private string RederivableConnectionString => RederivableConnectionStrings.GetOrAdd(ConnectionString, durable =>
        {
            var builder = new NpgsqlConnectionStringBuilder(durable);
            builder.Options = (builder.Options + " -c synchronous_commit=off").Trim();
            builder.MaxPoolSize = Math.Max(2, builder.MaxPoolSize / 4);
            if (builder.MinPoolSize > builder.MaxPoolSize) builder.MinPoolSize = builder.MaxPoolSize;
            return builder.ToString();
        });

    /// <summary>How long SQLite itself waits for another writer's lock before answering "busy".</summary>
    public const int SqliteBusyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// How much of the SQLite file each connection reads through a memory map instead of read calls. In WAL mode a
    /// connection drops its page cache whenever another connection has committed since its last read, so under
    /// steady writes every read started from a cold cache and copied each page out of the kernel again; mapped, a
    /// page is read where it lies. Address space only: the pages are the kernel's file cache, shared by all.
    /// </summary>
    public const long SqliteMmapBytes = 1L << 30;

    /// <summary>The embedded database's file name in the data folder.</summary>
    public const string SqliteFileName = "collections.db";

    /// <summary>The SQLite database's file, its full path (SQLite only).</summary>
    public string SqliteFilePath => Path.GetFullPath(new SqliteConnectionStringBuilder(ConnectionString).DataSource);

    /// <summary>
    /// An open connection. On SQLite it gets a busy timeout, so that SQLite waits for another writer's lock in its own
    /// fine-grained steps: Microsoft.Data.Sqlite sets none and, on "busy", sleeps 150 ms before each retry, which made
    /// two of our writers committing at the same moment (a worklist lease and its audit event) cost 150 ms.
    /// </summary>
    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) => OpenAsync(rederivable: false, cancellationToken);

    /// <summary>
    /// A connection for writes that can be derived again from what is durable (projections' views and checkpoints,
    /// webhook delivery bookkeeping). On SQLite its commits are not flushed on their own (<c>synchronous=NORMAL</c> in
    /// WAL mode): the next durable commit flushes them, and a crash can only lose a tail of them, which the projections
    /// replay from their (equally lost) checkpoints. Account commits, audit records and the outbox stay fully durable.
    /// </summary>
    public Task<DbConnection> OpenRederivableAsync(CancellationToken cancellationToken = default) => OpenAsync(rederivable: true, cancellationToken);

    private async Task<DbConnection> OpenAsync(bool rederivable, CancellationToken cancellationToken)
    {
        var connection = rederivable && Provider == DatabaseProvider.PostgreSql
            ? new NpgsqlConnection(RederivableConnectionString)
            : CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Provider == DatabaseProvider.Sqlite)
            {
                // Set on every open: pooled connections keep their settings, and a durable writer must never inherit NORMAL.
                await using var pragma = connection.Command(
                    $"PRAGMA busy_timeout = {SqliteBusyTimeoutMilliseconds}; PRAGMA synchronous = {(rederivable ? "NORMAL" : "FULL")}; PRAGMA mmap_size = {SqliteMmapBytes};");
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> SqliteWriters = new(StringComparer.Ordinal);

    /// <summary>
    /// SQLite has one writer at a time. The engine's own writers (the account journal, audit trail, projections' stores,
    /// outbox, webhooks, checkpoints) take turns here, in process and in order, instead of colliding on the file lock and
    /// sleeping in SQLite's busy handler (1 ms, 2 ms, 5 ms … each time). Hold the turn for one write transaction only,
    /// never across another store's call that takes it (a store that writes in its caller's transaction, as the outbox's
    /// AddInTransactionAsync, does not). On PostgreSQL it is a no-op: rows are locked, not the database.
    /// </summary>
    public async ValueTask<IAsyncDisposable> WriteTurnAsync(CancellationToken cancellationToken = default)
    {
        if (Provider != DatabaseProvider.Sqlite) return NoTurn.Instance;
        var file = Path.GetFullPath(new SqliteConnectionStringBuilder(ConnectionString).DataSource);
        var gate = SqliteWriters.GetOrAdd(file, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Turn(gate);
    }

    private sealed class Turn(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;
        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class NoTurn : IAsyncDisposable
    {
        public static readonly NoTurn Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A timestamp as this database stores it (ISO-8601 text in SQLite, timestamptz in PostgreSQL).</summary>
    public object Timestamp(DateTimeOffset value) => Provider == DatabaseProvider.Sqlite
        ? value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)
        : value.ToUniversalTime();

    /// <summary>A time as <see cref="ReadTimestamp"/> gives it back once stored: UTC, to the microsecond on PostgreSQL.</summary>
    public DateTimeOffset AsStored(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return Provider == DatabaseProvider.Sqlite ? utc : new DateTimeOffset(utc.UtcTicks - utc.UtcTicks % 10, TimeSpan.Zero);
    }

    public DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) => Provider == DatabaseProvider.Sqlite
        ? DateTimeOffset.Parse(reader.GetString(ordinal), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal)
        : reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>A date as this database stores it (ISO-8601 text in SQLite, date in PostgreSQL); null stays null.</summary>
    public object? Date(DateOnly? value) => value is not { } d ? null
        : Provider == DatabaseProvider.Sqlite ? d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : d;

    public DateOnly? ReadDate(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null
        : Provider == DatabaseProvider.Sqlite ? DateOnly.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
        : reader.GetFieldValue<DateOnly>(ordinal);

    /// <summary>A description safe to log: provider and data source, never the password.</summary>
    public string Describe()
    {
        if (Provider == DatabaseProvider.Sqlite)
            return $"SQLite file {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
    }
}

public static class DbCommandExtensions
{
    public static DbCommand WithParameter(this DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.Named(name);
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
        return command;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> AtNames = new(StringComparer.Ordinal);

    /// <summary>
    /// Names the parameter as the statement's text does. Microsoft.Data.Sqlite binds a parameter by looking its name up
    /// in the statement at every execution; a name given without its <c>@</c> is not found, and it then tries
    /// <c>@</c>, <c>$</c> and <c>:</c> in turn, each a new string converted to UTF-8 and looked up again (all three, to
    /// refuse an ambiguous name). Under 64-way posting that binding was 4 % of the process's CPU. Our statements name
    /// their parameters <c>@name</c>, so on SQLite the name carries the <c>@</c>; Npgsql takes the bare name.
    /// </summary>
    public static DbParameter Named(this DbParameter parameter, string name)
    {
        parameter.ParameterName = parameter is SqliteParameter && name is [not ('@' or '$' or ':'), ..]
            ? AtNames.GetOrAdd(name, static n => "@" + n)
            : name;
        return parameter;
    }

    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }
}
