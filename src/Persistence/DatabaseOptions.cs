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

    public static DatabaseOptions Postgres(string connectionString) => new(DatabaseProvider.PostgreSql, connectionString);

    public DbConnection CreateConnection() => Provider == DatabaseProvider.Sqlite
        ? new SqliteConnection(ConnectionString)
        : new NpgsqlConnection(ConnectionString);

    /// <summary>How long SQLite itself waits for another writer's lock before answering "busy".</summary>
    public const int SqliteBusyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// An open connection. On SQLite it gets a busy timeout, so that SQLite waits for another writer's lock in its own
    /// fine-grained steps: Microsoft.Data.Sqlite sets none and, on "busy", sleeps 150 ms before each retry, which made
    /// two of our writers committing at the same moment (a worklist lease and its audit event) cost 150 ms.
    /// </summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Provider == DatabaseProvider.Sqlite)
                await connection.Command($"PRAGMA busy_timeout = {SqliteBusyTimeoutMilliseconds};").ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A timestamp as this database stores it (ISO-8601 text in SQLite, timestamptz in PostgreSQL).</summary>
    public object Timestamp(DateTimeOffset value) => Provider == DatabaseProvider.Sqlite
        ? value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)
        : value.ToUniversalTime();

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
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
        return command;
    }

    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }
}
