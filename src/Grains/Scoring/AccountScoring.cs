using System.Data.Common;
using Collections.Persistence;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>What an account grain needs to score itself: this silo's live models, the settings, and the outcome log.</summary>
public sealed class AccountScoring(LiveScoringModels models, ScoringSettings settings, ScoreOutcomeLog outcomes, ILogger<AccountScoring> logger)
{
    public LiveScoringModels Models => models;
    public ScoringSettings Settings => settings;

    /// <summary>Notes the first score a model version gave the account. Tracking never fails the account's own work.</summary>
    public async Task RecordFirstScoreAsync(string accountId, AccountScore score, DateTimeOffset now)
    {
        try
        {
            await outcomes.RecordScoreAsync(accountId, score.ModelVersion, score.IsChallenger, now, score.Probability,
                (long)decimal.Round(score.PatientBalance * 100m), now.AddDays(settings.Label.WindowDays));
        }
        catch (DbException ex)
        {
            logger.LogWarning(ex, "Could not record a score for champion/challenger tracking");
        }
    }

    public async Task RecordPaymentAsync(string accountId, long cents, DateTimeOffset now)
    {
        try
        {
            await outcomes.RecordPaymentAsync(accountId, cents, now);
        }
        catch (DbException ex)
        {
            logger.LogWarning(ex, "Could not record a payment for champion/challenger tracking");
        }
    }
}
