using System.Data.Common;
using System.Globalization;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Reminders;

namespace Collections.Grains;

/// <summary>
/// Orleans' reminder table in the engine's database, with the writes of many grains in one transaction: on a due day
/// every account that takes a step moves its reminder, and at arming each new cadence sets one twice (the short
/// fallback for the step it is about to take, then the next step's day). Orleans' ADO.NET table wrote each in a
/// transaction of its own (on SQLite each waiting for the write turn behind the engine's other writers); here the
/// upserts asked for at the same moment share one (<see cref="GroupCommit{T}"/>), and each caller still answers only
/// once its row is durable. The table and its rows are those of Orleans' ADO.NET provider
/// (<c>deploy/sql/*/*-orleans-reminders.sql</c>), so reminders set before are read as they were: the grain id as text,
/// its ring position as a signed 32-bit hash, the period in milliseconds, and the version as the ETag (0 when created,
/// +1 on every change).
/// </summary>
public sealed class GroupCommitReminderTable : IReminderTable, IAsyncDisposable
{
    private const string Columns = "GrainId, ReminderName, StartTime, Period, Version";
    private readonly DatabaseOptions _database;
    private readonly string _serviceId;
    private readonly GroupCommit<Upsert> _upserts;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _horizon;

    /// <summary>One reminder to set, and the version its transaction gave it.</summary>
    private sealed class Upsert(ReminderEntry entry)
    {
        public ReminderEntry Entry { get; } = entry;
        public int Version { get; set; } = -1;
    }

    public GroupCommitReminderTable(DatabaseOptions database, IOptions<ClusterOptions> cluster, IOptions<ReminderOptions> reminders,
        [FromKeyedServices(ReminderTimeProviderNames.Reminders)] TimeProvider clock, // the reminder service's own clock
        ILogger<GroupCommitReminderTable> logger)
    {
        _database = database;
        _serviceId = cluster.Value.ServiceId;
        _clock = clock;
        // What the reminder service keeps in memory (its loading window), and one refresh more, so that a reminder is
        // read at least once before it enters the window whatever the moment of the read.
        _horizon = reminders.Value.ReminderLoadingWindow + reminders.Value.RefreshReminderListPeriod;
        // Two transactions under way at once on PostgreSQL: the next group gathers while one waits for its round trip.
        _upserts = new GroupCommit<Upsert>(CommitAsync, maxItems: 500, logger, "reminders", writers: IsPostgres ? 2 : 1,
            aloneOnFailure: e => e is not OperationCanceledException); // an upsert set again sets the same schedule
    }

    private bool IsPostgres => _database.Provider == DatabaseProvider.PostgreSql;

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        ReadAsync($"SELECT {Columns} FROM OrleansRemindersTable WHERE ServiceId = @service AND GrainId = @grain",
            c => c.WithParameter("grain", grainId.ToString()));

    /// <summary>
    /// The reminders whose grains lie in the ring range (begin, end] (a range whose bounds wrap, or are equal, takes the
    /// rest of the ring) and that start within the horizon: Orleans' reminder service calls this at start and on every
    /// refresh (every five minutes), and keeps only the reminders whose next tick falls within its loading window; a
    /// reminder that starts later stays in the table until a later refresh. Read whole, a million armed cadences were a
    /// million rows every five minutes, and at a million accounts the service ran out of memory building its list from
    /// them. A reminder that starts beyond the horizon has its next tick there too, so leaving it out changes nothing
    /// the service does: one it holds is dropped as outside the window either way, and a row whose start has passed is
    /// always read.
    /// </summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>
        ReadAsync((int)begin < (int)end
                ? $"SELECT {Columns} FROM OrleansRemindersTable WHERE ServiceId = @service AND GrainHash > @begin AND GrainHash <= @end AND StartTime <= @horizon"
                : $"SELECT {Columns} FROM OrleansRemindersTable WHERE ServiceId = @service AND (GrainHash > @begin OR GrainHash <= @end) AND StartTime <= @horizon",
            c => c.WithParameter("begin", (int)begin).WithParameter("end", (int)end).WithParameter("horizon", Horizon()));

    /// <summary>Now plus the horizon, at most the latest time there is (a loading window can be set to years).</summary>
    private DateTime Horizon()
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return _horizon >= DateTime.MaxValue - now ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : now + _horizon;
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        (await ReadAsync($"SELECT {Columns} FROM OrleansRemindersTable WHERE ServiceId = @service AND GrainId = @grain AND ReminderName = @name",
            c => c.WithParameter("grain", grainId.ToString()).WithParameter("name", reminderName))).Reminders.FirstOrDefault();

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var upsert = new Upsert(entry);
        await _upserts.WriteAsync([upsert]);
        return upsert.Version.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        if (!int.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)) return false;
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var command = connection.Command(
            "DELETE FROM OrleansRemindersTable WHERE ServiceId = @service AND GrainId = @grain AND ReminderName = @name AND Version = @version");
        command.WithParameter("service", _serviceId).WithParameter("grain", grainId.ToString()).WithParameter("name", reminderName).WithParameter("version", version);
        return await command.ExecuteNonQueryAsync() > 0;
    }

    public async Task TestOnlyClearTable()
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var command = connection.Command("DELETE FROM OrleansRemindersTable WHERE ServiceId = @service");
        command.WithParameter("service", _serviceId);
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => _upserts.DisposeAsync();

    private string UpsertSql => IsPostgres ? PostgresUpsertSql : SqliteUpsertSql;

    private const string PostgresUpsertSql = """
        INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
        VALUES (@service, @grain, @name, @start, @period, @hash, 0)
        ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
            StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, Version = OrleansRemindersTable.Version + 1
        RETURNING Version
        """;

    private const string UpsertArraysSql = """
        INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
        SELECT @service, r.grain, r.name, r.start, r.period, r.hash, 0
        FROM unnest(@grain::text[], @name::text[], @start::timestamptz[], @period::bigint[], @hash::int[]) AS r(grain, name, start, period, hash)
        ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
            StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, Version = OrleansRemindersTable.Version + 1
        RETURNING GrainId, ReminderName, Version
        """;

    private const string SqliteUpsertSql = """
        INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
        VALUES (@service, @grain, @name, @start, @period, @hash, 0)
        ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
            StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, Version = Version + 1
        RETURNING Version
        """;

    /// <summary>
    /// Sets the group's reminders in one transaction. Should that fail (a deadlock, a lost connection, one refused row),
    /// GroupCommit sets each on its own, so one reminder's failure fails only the grain that asked for it.
    /// </summary>
    private Task CommitAsync(IReadOnlyList<Upsert> upserts) => upserts.Count == 1 ? SetAloneAsync(upserts[0]) : SetTogetherAsync(upserts);

    /// <summary>One reminder: the statement is its own transaction (one round trip, as Orleans' table made it).</summary>
    private async Task SetAloneAsync(Upsert upsert)
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var single = connection.Command(UpsertSql);
        foreach (var (name, value) in Parameters(upsert.Entry)) single.WithParameter(name, value);
        upsert.Version = Convert.ToInt32(await single.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Every reminder of the group in one transaction, reading back each one's new version.</summary>
    private async Task SetTogetherAsync(IReadOnlyList<Upsert> upserts)
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Each reminder's row key, worked out once: it tells a reminder set twice in the group, binds the statement and maps its answers.
        var byReminder = new Dictionary<(string Grain, string Name), Upsert>(upserts.Count);
        var setOnce = upserts.All(u => byReminder.TryAdd((u.Entry.GrainId.ToString(), u.Entry.ReminderName), u));
        if (IsPostgres && setOnce)
        {
            // One statement: the group's reminders as arrays, each answering its new version. (A reminder set twice in
            // one group cannot be: PostgreSQL refuses to change a row twice in one statement; the batch below takes it.)
            await using var command = connection.Command(UpsertArraysSql, transaction);
            command.WithParameter("service", _serviceId)
                .WithParameter("grain", byReminder.Keys.Select(k => k.Grain).ToArray())
                .WithParameter("name", byReminder.Keys.Select(k => k.Name).ToArray())
                .WithParameter("start", byReminder.Values.Select(u => AsUtc(u.Entry.StartAt)).ToArray())
                .WithParameter("period", byReminder.Values.Select(u => (long)u.Entry.Period.TotalMilliseconds).ToArray())
                .WithParameter("hash", byReminder.Values.Select(u => (int)u.Entry.GrainId.GetUniformHashCode()).ToArray());
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    byReminder[(reader.GetString(0), reader.GetString(1))].Version = Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
            }
            if (upserts.Any(u => u.Version < 0)) throw new InvalidOperationException("A reminder's upsert returned no version.");
        }
        else if (IsPostgres && connection.CanCreateBatch)
        {
            // One round trip: a batch of upserts, each answering its own version.
            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            foreach (var upsert in upserts)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = UpsertSql;
                foreach (var (name, value) in Parameters(upsert.Entry)) command.Parameters.Add(Parameter(command, name, value));
                PositionalSql.MakePositional(command);
                batch.BatchCommands.Add(command);
            }
            await using var reader = await batch.ExecuteReaderAsync();
            foreach (var upsert in upserts)
            {
                if (!await reader.ReadAsync()) throw new InvalidOperationException("A reminder's upsert returned no version.");
                upsert.Version = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                await reader.NextResultAsync();
            }
        }
        else
        {
            // SQLite is in process: one prepared statement, re-bound for each reminder.
            await using var command = connection.Command(UpsertSql, transaction);
            foreach (var (name, _) in Parameters(upserts[0].Entry)) command.WithParameter(name, null);
            await command.PrepareAsync();
            foreach (var upsert in upserts)
            {
                var values = Parameters(upsert.Entry);
                for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i].Value;
                upsert.Version = Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            }
        }
        await transaction.CommitAsync();
    }

    private (string Name, object Value)[] Parameters(ReminderEntry entry) =>
    [
        ("service", _serviceId),
        ("grain", entry.GrainId.ToString()),
        ("name", entry.ReminderName),
        ("start", AsUtc(entry.StartAt)),
        ("period", (long)entry.Period.TotalMilliseconds),
        ("hash", (int)entry.GrainId.GetUniformHashCode()),
    ];

    private static DbParameter Parameter(DbBatchCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        return p;
    }

    /// <summary>Orleans hands over start times as UTC or unspecified (read as UTC, as its own table does).</summary>
    private static DateTime AsUtc(DateTime at) => at.Kind switch
    {
        DateTimeKind.Utc => at,
        DateTimeKind.Local => at.ToUniversalTime(),
        _ => DateTime.SpecifyKind(at, DateTimeKind.Utc),
    };

    private async Task<ReminderTableData> ReadAsync(string sql, Func<DbCommand, DbCommand> bind)
    {
        await using var connection = await _database.OpenAsync();
        await using var command = bind(connection.Command(sql).WithParameter("service", _serviceId));
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<ReminderEntry>();
        while (await reader.ReadAsync())
            rows.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0)),
                ReminderName = reader.GetString(1),
                StartAt = DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc),
                Period = TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                ETag = Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
            });
        return new ReminderTableData(rows);
    }
}
