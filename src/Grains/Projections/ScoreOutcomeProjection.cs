using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>Champion/challenger outcomes: the first score each model version gave an account, and the patient payments after it.</summary>
public sealed class ScoreOutcomeProjection(ScoreOutcomeLog outcomes, ScoringSettings settings, Serializer serializer) : IAccountProjection
{
    public string Name => "score-outcomes";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var facts = FactsBatch.Read(events, serializer).ToList();
        var scores = facts.Where(f => f.Facts.FirstScore is not null).Select(f =>
        {
            var score = f.Facts.FirstScore!;
            return new ScoreOutcomeLog.FirstScore(f.Facts.Account.ToString(), score.ModelVersion, score.IsChallenger, score.ScoredAt, score.Probability,
                (long)decimal.Round(score.PatientBalance * 100m), score.ScoredAt.AddDays(settings.Label.WindowDays))
            {
                Features = f.Facts.FirstScoreFeatures,
            };
        }).ToList();
        var payments = facts.Where(f => f.Facts.PatientPaymentCents > 0)
            .Select(f => new ScoreOutcomeLog.Payment(f.Event.EventId, f.Event.At.Position, f.Facts.Account.ToString(), f.Facts.PatientPaymentCents, f.Facts.At)).ToList();
        return outcomes.RecordAsync(scores, payments, cancellationToken);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => outcomes.ClearAsync(cancellationToken);
}
