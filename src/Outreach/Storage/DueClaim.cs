using Collections.Persistence;

namespace Collections.Outreach;

/// <summary>
/// Which rows a sender claims next from a table it leases rows of (the outbox, the webhook deliveries): pending rows
/// due by <c>@now</c> and sending rows whose lease ran out, with fewer than <c>@max_attempts</c> attempts, earliest
/// first, at most <c>@batch</c>. Each kind is read apart in the order of the table's (status, next_attempt_at) index and
/// stops at the batch, so a claim reads about a batch of rows however many wait: one condition joining both kinds with
/// OR made the database gather and sort every waiting row for each claim (a day's statements, a webhook backlog).
/// </summary>
internal static class DueClaim
{
    /// <summary>A pending row a claim takes: due by <c>@now</c>, with fewer than <c>@max_attempts</c> attempts.</summary>
    public const string Pending = "status = 'pending' AND next_attempt_at <= @now AND attempts < @max_attempts";

    /// <summary>A sending row a claim takes back: its lease ran out by <c>@now</c>, with fewer than <c>@max_attempts</c> attempts.</summary>
    public const string Expired = "status = 'sending' AND lease_until <= @now AND attempts < @max_attempts";

    /// <summary>
    /// When the row that has waited longest for a sender fell due, of those a claim would take (the same conditions, each
    /// kind read apart at the start of the due index's range for it); null when none waits. A retry waiting for its
    /// time, or a row being sent, waits for nobody.
    /// </summary>
    public static async Task<DateTimeOffset?> OldestAsync(DatabaseOptions database, string table, DateTimeOffset now, int maxAttempts,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT (SELECT next_attempt_at FROM {table} WHERE {Pending} ORDER BY next_attempt_at LIMIT 1), (SELECT MIN(lease_until) FROM {table} WHERE {Expired})");
        command.WithParameter("now", database.Timestamp(now)).WithParameter("max_attempts", maxAttempts);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new[] { database.ReadTimestampOrNull(reader, 0), database.ReadTimestampOrNull(reader, 1) }.Min();
    }

    /// <remarks>
    /// No other condition belongs here: one on another table (a join, an IN sub-select) lets PostgreSQL's planner leave
    /// the index's order and gather and sort every waiting row. Check such things on the rows claimed.
    /// </remarks>
    /// <returns>
    /// PostgreSQL: a common-table prefix for an <c>UPDATE ... FROM due</c> (rows locked, those another sender holds
    /// skipped); SQLite: a sub-select of the ids. At most a batch in all, earliest first.
    /// </returns>
    public static string Ids(bool postgres, string table) => Ids(postgres, table, [("pending", Pending, "@batch"), ("expired", Expired, "@batch")]);

    /// <summary>
    /// As <see cref="Ids(bool, string)"/>, with the kinds given: each read apart (its <c>Condition</c>, at most its
    /// <c>Limit</c>, a number or a parameter), then at most a batch in all, earliest first. <c>Name</c> names its
    /// common table on PostgreSQL.
    /// </summary>
    public static string Ids(bool postgres, string table, IReadOnlyList<(string Name, string Condition, string Limit)> kinds)
    {
        string Kind((string Name, string Condition, string Limit) kind) =>
            $"SELECT id, next_attempt_at FROM {table} WHERE {kind.Condition} ORDER BY next_attempt_at, id LIMIT {kind.Limit}{(postgres ? " FOR UPDATE SKIP LOCKED" : "")}";
        return postgres
            ? "WITH " + string.Join(", ", kinds.Select(k => $"due_{k.Name} AS ({Kind(k)})")) +
              $", due AS (SELECT id FROM ({string.Join(" UNION ALL ", kinds.Select(k => $"SELECT * FROM due_{k.Name}"))}) kinds ORDER BY next_attempt_at, id LIMIT @batch)"
            : $"SELECT id FROM ({string.Join(" UNION ALL ", kinds.Select(k => $"SELECT * FROM ({Kind(k)})"))}) ORDER BY next_attempt_at, id LIMIT @batch";
    }
}
