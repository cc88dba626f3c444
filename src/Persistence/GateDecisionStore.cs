namespace Collections.Persistence;

/// <summary>One decision of the compliance gate as stored: where it came from (event and place), facility, day, what and how it was decided.</summary>
public sealed record GateDecisionRow(string EventId, int Seq, string Facility, DateOnly Day, string Action, string? Channel, string Verdict, string Rule);

/// <summary>Decisions counted by day, verdict and rule.</summary>
public sealed record GateDecisionCount(DateOnly Day, string Verdict, string Rule, int Count);

/// <summary>
/// The compliance gate's decisions for the supervisors' compliance view (deploy/sql/*/156-gate-decisions.sql): written
/// by the gate-decisions projection, one row per decision keyed by its event, so applying a batch again adds nothing.
/// </summary>
public sealed class GateDecisionStore(DatabaseOptions database)
{
    private const string InsertSql = """
        INSERT INTO gate_decision (event_id, seq, facility, day, action, channel, verdict, rule)
        VALUES (@event_id, @seq, @facility, @day, @action, @channel, @verdict, @rule)
        ON CONFLICT (event_id, seq) DO NOTHING
        """;

    // PostgreSQL: a batch's decisions in one statement (a decision given twice is kept once, as one by one).
    private const string InsertArraysSql = """
        INSERT INTO gate_decision (event_id, seq, facility, day, action, channel, verdict, rule)
        SELECT * FROM unnest(@event_id::text[], @seq::int[], @facility::text[], @day::date[], @action::text[], @channel::text[], @verdict::text[], @rule::text[])
        ON CONFLICT (event_id, seq) DO NOTHING
        """;

    public async Task SaveAsync(IReadOnlyList<GateDecisionRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return;
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await database.ExecuteAsync(connection, transaction, database.Provider == DatabaseProvider.PostgreSql
            ? [new SqlStatement(InsertArraysSql,
                [
                    SqlStatements.ArrayOf("event_id", rows, r => r.EventId), SqlStatements.ArrayOf("seq", rows, r => r.Seq),
                    SqlStatements.ArrayOf("facility", rows, r => r.Facility), SqlStatements.ArrayOf("day", rows, r => r.Day),
                    SqlStatements.ArrayOf("action", rows, r => r.Action), SqlStatements.ArrayOf("channel", rows, r => r.Channel),
                    SqlStatements.ArrayOf("verdict", rows, r => r.Verdict), SqlStatements.ArrayOf("rule", rows, r => r.Rule),
                ])]
            : rows.Select(r => new SqlStatement(InsertSql,
                [("event_id", r.EventId), ("seq", r.Seq), ("facility", r.Facility), ("day", database.Date(r.Day)), ("action", r.Action),
                 ("channel", r.Channel), ("verdict", r.Verdict), ("rule", r.Rule)])));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>One facility's decisions (or every facility's, null) from <paramref name="from"/> to <paramref name="to"/>, counted.</summary>
    public async Task<IReadOnlyList<GateDecisionCount>> CountAsync(string? facility, DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var command = connection.Command($"""
            SELECT day, verdict, rule, COUNT(*) FROM gate_decision
            WHERE day >= @from AND day <= @to{(facility is null ? "" : " AND facility = @facility")}
            GROUP BY day, verdict, rule ORDER BY day, verdict, rule
            """).WithParameter("from", database.Date(from)).WithParameter("to", database.Date(to));
        if (facility is not null) command.WithParameter("facility", facility);
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var counts = new List<GateDecisionCount>();
            while (await reader.ReadAsync(cancellationToken))
                counts.Add(new GateDecisionCount(database.ReadDate(reader, 0)!.Value, reader.GetString(1), reader.GetString(2),
                    (int)Convert.ToInt64(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)));
            return counts;
        }
    }

    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await connection.Command("DELETE FROM gate_decision").ExecuteNonQueryAsync(cancellationToken);
    }
}
