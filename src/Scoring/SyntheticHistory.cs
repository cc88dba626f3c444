namespace Collections.Scoring;

/// <summary>The knobs of the synthetic generator (docs/scoring.md describes the model behind it).</summary>
public sealed record SyntheticOptions
{
    public int Seed { get; init; } = 1;
    public int Accounts { get; init; } = 10_000;
    /// <summary>The label the true probabilities are of; scoring dates are <see cref="LabelDefinition.WindowDays"/> apart so windows never overlap.</summary>
    public LabelDefinition Label { get; init; } = new();
    public DateTimeOffset FirstScoringDate { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public int ScoringDates { get; init; } = 8;
    /// <summary>Accounts open from this many days before the first scoring date, so the early dates see accounts with a past.</summary>
    public int HistoryDays { get; init; } = 365;
}

/// <summary>
/// One generated account: its history, and at each scoring date where the patient owed something, the true probability
/// of the label event and whether it was drawn to happen (the history's payments follow that draw).
/// </summary>
public sealed record SyntheticAccount(AccountHistory History, IReadOnlyDictionary<DateTimeOffset, double> TrueProbabilities, IReadOnlyDictionary<DateTimeOffset, bool> Outcomes);

/// <summary>
/// A seeded generator of realistic account histories whose label events are drawn from known probabilities
/// (docs/scoring.md: "The synthetic history"). The same options always give the same accounts.
/// </summary>
public static class SyntheticHistory
{
    /// <summary>The scoring dates: <see cref="SyntheticOptions.ScoringDates"/> dates one label window apart.</summary>
    public static IReadOnlyList<DateTimeOffset> ScoringDates(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [.. Enumerable.Range(0, options.ScoringDates).Select(k => options.FirstScoringDate.AddDays(k * options.Label.WindowDays))];
    }

    /// <summary>"Now" for the generated data: the end of the last scoring date's window, so every row is labellable.</summary>
    public static DateTimeOffset Now(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FirstScoringDate.AddDays(options.ScoringDates * options.Label.WindowDays);
    }

    public static IEnumerable<SyntheticAccount> Accounts(SyntheticOptions options)
    {
        Check(options);
        for (var i = 0; i < options.Accounts; i++)
            yield return new AccountSimulator(options, i).Run();
    }

    /// <summary>The account with this index (0-based): each account depends only on the seed and its index.</summary>
    public static SyntheticAccount Account(SyntheticOptions options, int index)
    {
        Check(options);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new AccountSimulator(options, index).Run();
    }

    private static void Check(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Accounts < 0) throw new ArgumentOutOfRangeException(nameof(options), "Accounts must not be negative.");
        if (options.ScoringDates < 1) throw new ArgumentOutOfRangeException(nameof(options), "At least one scoring date is needed.");
    }

    /// <summary>
    /// Labelled rows of generated accounts at the scoring dates, built by the real <see cref="TrainingSet.Rows"/>
    /// (<see cref="FeatureExtractor"/> and <see cref="PaymentLabel"/>), each with its true probability. Accounts are
    /// generated on every core; the rows come in account order, so the output does not depend on the number of cores.
    /// </summary>
    public static IEnumerable<TrainingRow> Rows(SyntheticOptions options)
    {
        Check(options);
        var dates = ScoringDates(options);
        var now = Now(options);
        // Pulled one account at a time (not PLINQ's range partitioning, which would start far down a huge range and
        // buffer everything until the start caught up): a caller may stop after the rows it needs.
        var indexes = System.Collections.Concurrent.Partitioner.Create(Enumerable.Range(0, options.Accounts), System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering);
        return indexes.AsParallel().AsOrdered().SelectMany(i => RowsOf(Account(options, i), dates, options.Label, now));
    }

    private static List<TrainingRow> RowsOf(SyntheticAccount account, IReadOnlyList<DateTimeOffset> dates, LabelDefinition label, DateTimeOffset now)
    {
        var rows = new List<TrainingRow>(account.TrueProbabilities.Count);
        foreach (var row in TrainingSet.Rows([account.History], dates, label, now))
        {
            if (!account.TrueProbabilities.TryGetValue(row.ScoringDate, out var p))
                throw new InvalidOperationException($"The generator did not record a probability for {row.AccountId} at {row.ScoringDate:O}.");
            rows.Add(row with { TrueProbability = p });
        }
        return rows;
    }
}
