using System.Data.Common;

namespace Collections.Persistence;

/// <summary>One facility's (or every facility's, <c>*</c>) figures on one day, as stored: JSON, and who wrote them.</summary>
public sealed record KpiDayRow(string Facility, DateOnly Day, string Figures, string Source);

/// <summary>
/// The supervisors' KPI trends (deploy/sql/*/155-kpi-daily.sql): each facility's figures per day. The live recorder
/// rewrites today's row from the KPI projection's totals; the backfill adds days from the ledgers' history where no
/// live row exists. Rederivable: rebuilt from the ledger by the backfill.
/// </summary>
public sealed class KpiTrendStore(DatabaseOptions database, TimeProvider clock)
{
    public const string Live = "live", Backfill = "backfill";
    public const string AllFacilities = "*";

    /// <summary>Writes today's (or any day's) live figures, replacing what was there.</summary>
    public Task SaveLiveAsync(IReadOnlyList<(string Facility, DateOnly Day, string Figures)> days, CancellationToken cancellationToken = default) =>
        WriteAsync(days, """
            INSERT INTO kpi_daily (facility, day, figures, source, written_at) VALUES (@facility, @day, @figures, 'live', @at)
            ON CONFLICT (facility, day) DO UPDATE SET figures = excluded.figures, source = excluded.source, written_at = excluded.written_at
            """, cancellationToken);

    /// <summary>Adds days rebuilt from history; a day that already has a row (live or an earlier backfill) keeps it. Returns the rows added.</summary>
    public Task<int> SaveBackfillAsync(IReadOnlyList<(string Facility, DateOnly Day, string Figures)> days, CancellationToken cancellationToken = default) =>
        WriteAsync(days, """
            INSERT INTO kpi_daily (facility, day, figures, source, written_at) VALUES (@facility, @day, @figures, 'backfill', @at)
            ON CONFLICT (facility, day) DO NOTHING
            """, cancellationToken);

    private async Task<int> WriteAsync(IReadOnlyList<(string Facility, DateOnly Day, string Figures)> days, string sql, CancellationToken cancellationToken)
    {
        if (days.Count == 0) return 0;
        var at = database.Timestamp(clock.GetUtcNow());
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var counts = await database.ExecuteCountingAsync(connection, transaction,
            days.Select(d => new SqlStatement(sql, [("facility", d.Facility), ("day", database.Date(d.Day)), ("figures", d.Figures), ("at", at)])).ToList());
        await transaction.CommitAsync(cancellationToken);
        return counts.Sum();
    }

    /// <summary>A facility's stored days from <paramref name="from"/> to <paramref name="to"/>, oldest first.</summary>
    public async Task<IReadOnlyList<KpiDayRow>> ReadAsync(string facility, DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("""
            SELECT facility, day, figures, source FROM kpi_daily WHERE facility = @facility AND day >= @from AND day <= @to ORDER BY day
            """).WithParameter("facility", facility).WithParameter("from", database.Date(from)).WithParameter("to", database.Date(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<KpiDayRow>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new KpiDayRow(reader.GetString(0), database.ReadDate(reader, 1)!.Value, reader.GetString(2), reader.GetString(3)));
        return rows;
    }

    /// <summary>Empties the trends (before a backfill that should redo every day).</summary>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await connection.Command("DELETE FROM kpi_daily").ExecuteNonQueryAsync(cancellationToken);
    }
}
