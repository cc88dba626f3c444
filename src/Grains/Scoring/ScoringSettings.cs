using Collections.Scoring;

namespace Collections.Grains;

/// <summary>
/// How live scoring runs, from <c>Collections:Scoring:*</c>: whether the engine trains a bootstrap model when it has
/// none, how often silos look for a newly promoted version, when a score is old enough to recompute, and how fast a
/// portfolio rescore may go (so the API stays responsive).
/// </summary>
public sealed class ScoringSettings
{
    /// <summary>Score accounts at all (the worklist then orders by balance with a 0.5 prior).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Train a bootstrap model on the synthetic generator when no model is registered.</summary>
    public bool Bootstrap { get; init; } = true;
    /// <summary>Synthetic accounts the bootstrap model is trained on (a few seconds on 2 cores).</summary>
    public int BootstrapAccounts { get; init; } = 4000;
    /// <summary>How often every silo asks the registry which versions are live.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>A score older than this is recomputed at the account's next evaluation (age-related features move).</summary>
    public TimeSpan RescoreAfter { get; init; } = TimeSpan.FromDays(7);
    /// <summary>How often the whole portfolio is walked to refresh old scores.</summary>
    public TimeSpan PortfolioRescoreEvery { get; init; } = TimeSpan.FromDays(1);
    /// <summary>Accounts asked to rescore per second during a portfolio pass.</summary>
    public int RescoreAccountsPerSecond { get; init; } = 200;
    /// <summary>What the model predicts, for new bootstrap models and for tracking outcomes of live scores.</summary>
    public LabelDefinition Label { get; init; } = new();
}
