using Collections.Persistence;
using Collections.Scoring;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>The comparison behind <see cref="IModelComparisonGrain"/>: the registry's versions against the score outcomes.</summary>
[StatelessWorker]
public sealed class ModelComparisonGrain(IGrainFactory grains, ScoreOutcomeLog outcomes, TimeProvider clock) : Grain, IModelComparisonGrain
{
    public async Task<IReadOnlyList<VersionOutcome>> Compare(decimal paidShare)
    {
        var view = await grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key).Get();
        var share = paidShare is > 0 and <= 1 ? paidShare : 0.5m;
        var now = clock.GetUtcNow();
        var result = new List<VersionOutcome>();
        foreach (var version in view.Versions)
        {
            var rows = await outcomes.ReadAsync(version.Version);
            if (rows.Count == 0 && view.Assignment.Champion != version.Version && view.Assignment.Challenger != version.Version) continue;
            var ended = rows.Where(r => r.WindowEndsAt <= now).ToList();
            var labels = ended.Select(r => r.CollectedCents >= (long)Math.Ceiling(r.PatientBalanceCents * (double)share)).ToList();
            result.Add(new VersionOutcome(
                version.Version,
                view.Assignment.Champion == version.Version ? "champion" : view.Assignment.Challenger == version.Version ? "challenger" : "earlier",
                rows.Count,
                rows.Count == 0 ? 0 : rows.Average(r => r.Probability),
                rows.Sum(r => r.PatientBalanceCents) / 100m,
                rows.Sum(r => r.CollectedCents) / 100m,
                ended.Count,
                ended.Count == 0 ? null : ended.Average(r => r.Probability),
                ended.Count == 0 ? null : labels.Count(l => l) / (double)ended.Count,
                Metrics.Auc(ended.Select(r => r.Probability).ToList(), labels) is var auc && !double.IsNaN(auc) ? auc : null));
        }
        return result;
    }
}
