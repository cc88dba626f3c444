using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The supervisors' KPI rows: the newest facts of each account, upserted.</summary>
public sealed class KpiProjection(KpiStore kpis, Serializer serializer) : IAccountProjection
{
    public string Name => "kpi";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var facts = FactsBatch.Read(events, serializer).ToList();
        var rows = facts.Where(f => f.Facts.Kpi is not null).GroupBy(f => f.Facts.Account)
            .Select(g => g.Last()).Select(f => KpiRows.From(f.Facts.Kpi!, f.Facts.At)).ToList();
        return rows.Count == 0 ? Task.CompletedTask : kpis.SaveAllAsync(rows);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => kpis.ClearAsync(cancellationToken);
}
