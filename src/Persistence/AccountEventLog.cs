using System.Globalization;

namespace Collections.Persistence;

/// <summary>Where a reader of the event log stands: the last event it has taken, in commit order.</summary>
public readonly record struct LogPosition(long Tx, long Position) : IComparable<LogPosition>
{
    public static readonly LogPosition Start = new(0, 0);
    public int CompareTo(LogPosition other) => Tx != other.Tx ? Tx.CompareTo(other.Tx) : Position.CompareTo(other.Position);
    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogPosition a, LogPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogPosition a, LogPosition b) => a.CompareTo(b) >= 0;
    public override string ToString() => Tx == 0 ? Position.ToString(CultureInfo.InvariantCulture) : $"{Tx}:{Position}";
}

/// <summary>One committed event as the projections read it.</summary>
public sealed record LoggedEvent(LogPosition At, string AccountId, string EventId, string Type, DateTimeOffset OccurredAt, byte[] Payload);

/// <summary>A projection's checkpoint row.</summary>
public sealed record ProjectionCheckpoint(string Name, LogPosition At, string? Owner, DateTimeOffset? LeaseUntil, DateTimeOffset? UpdatedAt);

/// <summary>
/// Reads the account event log in commit order and keeps the projections' checkpoints and leases. On SQLite one
/// writer at a time makes position order commit order. On PostgreSQL a sequence is not commit order, so only rows of
/// transactions older than the oldest one still running are read (they can no longer be joined by an earlier row),
/// ordered by (transaction id, position): nothing committed late is ever skipped.
/// </summary>
public sealed class AccountEventLog(DatabaseOptions database)
{
    private bool Postgres => database.Provider == DatabaseProvider.PostgreSql;

    /// <summary>Up to <paramref name="limit"/> committed events after <paramref name="after"/>, of the given types (all when null).</summary>
    public async Task<IReadOnlyList<LoggedEvent>> ReadAsync(LogPosition after, int limit, IReadOnlyCollection<string>? types = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(ReadSql(Postgres, types?.Count ?? 0)).WithParameter("position", after.Position).WithParameter("limit", limit);
        if (Postgres) command.WithParameter("tx", after.Tx.ToString(CultureInfo.InvariantCulture));
        var i = 0;
        foreach (var type in types ?? []) command.WithParameter("t" + i++, type);
        var events = new List<LoggedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            events.Add(new LoggedEvent(new LogPosition(reader.GetInt64(0), reader.GetInt64(1)), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                database.ReadTimestamp(reader, 5), (byte[])reader.GetValue(6)));
        return events;
    }

    /// <summary>The newest committed event's position and time (Start and null on an empty log).</summary>
    /// <remarks>Every committed row counts, also those of transactions newer than the oldest still running (readers wait for those).</remarks>
    public async Task<(LogPosition At, DateTimeOffset? OccurredAt)> HeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(HeadSql(Postgres));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (new LogPosition(reader.GetInt64(0), reader.GetInt64(1)), database.ReadTimestamp(reader, 2))
            : (LogPosition.Start, null);
    }

    /// <summary>
    /// The read of the log in commit order (parameters <c>@tx</c>, <c>@position</c>, <c>@limit</c>, <c>@t0</c>...), for
    /// <see cref="ReadAsync"/> and for the test that it walks the commit-order index. The transaction id goes out under
    /// a name of its own: an output column called <c>tx</c> would be what <c>ORDER BY tx</c> sorts, a cast the index
    /// does not hold, and every read would scan and sort the whole log.
    /// </summary>
    public static string ReadSql(bool postgres, int typeCount)
    {
        var typeFilter = typeCount == 0 ? "" : $" AND type IN ({string.Join(", ", Enumerable.Range(0, typeCount).Select(i => "@t" + i))})";
        return postgres
            ? $"""
               SELECT tx::text::bigint AS tx_number, position, account_id, event_id, type, occurred_at, payload FROM account_event_log
               WHERE (tx, position) > (@tx::text::xid8, @position) AND tx < pg_snapshot_xmin(pg_current_snapshot()){typeFilter}
               ORDER BY tx, position LIMIT @limit
               """
            : $"SELECT 0, position, account_id, event_id, type, occurred_at, payload FROM account_event_log WHERE position > @position{typeFilter} ORDER BY position LIMIT @limit";
    }

    /// <summary>The newest event's position (see <see cref="ReadSql"/> on the transaction id's name).</summary>
    public static string HeadSql(bool postgres) => postgres
        ? "SELECT tx::text::bigint AS tx_number, position, occurred_at FROM account_event_log ORDER BY tx DESC, position DESC LIMIT 1"
        : "SELECT 0, position, occurred_at FROM account_event_log ORDER BY position DESC LIMIT 1";

    /// <summary>The time of the oldest committed event after <paramref name="after"/> (null: nothing waiting).</summary>
    public async Task<DateTimeOffset?> OldestAfterAsync(LogPosition after, CancellationToken cancellationToken = default)
    {
        var next = await ReadAsync(after, 1, null, cancellationToken);
        return next.Count == 0 ? null : next[0].OccurredAt;
    }

    public async Task<IReadOnlyList<ProjectionCheckpoint>> CheckpointsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT name, tx, position, owner, lease_until, updated_at FROM projection_checkpoint ORDER BY name");
        var rows = new List<ProjectionCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new ProjectionCheckpoint(reader.GetString(0), new LogPosition(reader.GetInt64(1), reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : database.ReadTimestamp(reader, 4),
                reader.IsDBNull(5) ? null : database.ReadTimestamp(reader, 5)));
        return rows;
    }

    /// <summary>
    /// Takes or renews the lease on a projection for <paramref name="owner"/> (one runner per projection in a cluster)
    /// and returns its checkpoint; null while another owner's lease runs.
    /// </summary>
    public async Task<LogPosition?> AcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        var insert = Postgres
            ? "INSERT INTO projection_checkpoint (name) VALUES (@name) ON CONFLICT (name) DO NOTHING"
            : "INSERT OR IGNORE INTO projection_checkpoint (name) VALUES (@name)";
        await using (var create = connection.Command(insert).WithParameter("name", name))
            await create.ExecuteNonQueryAsync(cancellationToken);
        await using var command = connection.Command(
            $"""
             UPDATE projection_checkpoint SET owner = @owner, lease_until = @until
             WHERE name = @name AND (owner IS NULL OR owner = @owner OR lease_until IS NULL OR lease_until < @now)
             RETURNING tx, position
             """)
            .WithParameter("owner", owner).WithParameter("until", database.Timestamp(now + lease)).WithParameter("name", name).WithParameter("now", database.Timestamp(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new LogPosition(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    /// <summary>Moves several checkpoints on in one transaction, each if <paramref name="owner"/> still holds its lease; returns the names whose lease was lost.</summary>
    public async Task<IReadOnlyList<string>> SaveAllAsync(string owner, IReadOnlyList<(string Name, LogPosition At)> checkpoints, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (checkpoints.Count == 0) return [];
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var counts = await database.ExecuteCountingAsync(connection, transaction, checkpoints.Select(c => new SqlStatement(
            "UPDATE projection_checkpoint SET tx = @tx, position = @position, updated_at = @now WHERE name = @name AND owner = @owner",
            [("tx", c.At.Tx), ("position", c.At.Position), ("now", database.Timestamp(now)), ("name", c.Name), ("owner", owner)])).ToList());
        await transaction.CommitAsync(cancellationToken);
        return checkpoints.Where((_, i) => counts[i] != 1).Select(c => c.Name).ToList();
    }

    /// <summary>Sets a projection back to the start of the log (a rebuild), whoever holds it.</summary>
    public async Task ResetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // The owner is dropped too, so a runner in the middle of a batch cannot move the checkpoint past the reset.
        await connection.Command("UPDATE projection_checkpoint SET tx = 0, position = 0, owner = NULL, lease_until = NULL, updated_at = NULL WHERE name = @name")
            .WithParameter("name", name).ExecuteNonQueryAsync(cancellationToken);
    }
}
