namespace Collections.Scoring;

public sealed record SyntheticOptions
{
    public int Seed { get; init; } = 1;
    public int Accounts { get; init; } = 10_000;
    public LabelDefinition Label { get; init; } = new();
}

/// <summary>One generated account: its history and the true probability of the label event at each scoring date.</summary>
public sealed record SyntheticAccount(AccountHistory History, IReadOnlyDictionary<DateTimeOffset, double> TrueProbabilities);

/// <summary>A seeded generator of realistic account histories with known true probabilities (docs/scoring.md).</summary>
public static class SyntheticHistory
{
    public static IEnumerable<SyntheticAccount> Accounts(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [];
    }

    public static IEnumerable<TrainingRow> Rows(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [];
    }
}
