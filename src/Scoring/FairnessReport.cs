namespace Collections.Scoring;

/// <summary>One account for the fairness report: its guarantor's language and ZIP income band, its score, and the outreach it got.</summary>
/// <param name="OutreachContacts">Contacts the engine made beyond statements (texts, emails, letters, calls, final notices, reminders).</param>
/// <param name="Calls">Agents' outbound calls.</param>
public sealed record FairnessObservation(string Language, string IncomeBand, double? Score, int OutreachContacts, int Calls);

public sealed record FairnessOptions
{
    /// <summary>A group's mean score this far from the portfolio's is flagged.</summary>
    public double ScoreGap { get; init; } = 0.10;
    /// <summary>
    /// A group's contacted share below this ratio of the portfolio's, or above its inverse, is flagged (0.8 as in the
    /// four-fifths rule, though measured against the portfolio rather than the most-contacted group).
    /// </summary>
    public double ContactRatio { get; init; } = 0.8;
    /// <summary>
    /// Groups with fewer accounts are not named and show no figures: they are merged into one "(groups under N accounts)"
    /// row per dimension, so neither a group nor, by subtraction from the portfolio, its people can be read off.
    /// </summary>
    public int MinimumAccounts { get; init; } = 11;
}

/// <summary>One group (a language, or an income band) against the portfolio. Figures are null for a group below the minimum size.</summary>
public sealed record FairnessGroup
{
    /// <summary>"language" or "incomeBand".</summary>
    public required string Dimension { get; init; }
    public required string Group { get; init; }
    /// <summary>Null when the group is below the minimum size (said as "fewer than N").</summary>
    public long? Accounts { get; init; }
    public double? MeanScore { get; init; }
    /// <summary>Share of the group's accounts with at least one outreach contact beyond statements.</summary>
    public double? ContactedShare { get; init; }
    public double? ContactsPerAccount { get; init; }
    public double? CallsPerAccount { get; init; }
    /// <summary>Group mean score less the portfolio's.</summary>
    public double? ScoreDifference { get; init; }
    /// <summary>Group contacted share over the portfolio's.</summary>
    public double? ContactRatio { get; init; }
    public bool Flagged { get; init; }
    public IReadOnlyList<string> Reasons { get; init; } = [];
}

public sealed record FairnessSummary(long Accounts, double? MeanScore, double ContactedShare, double ContactsPerAccount, FairnessOptions Options, IReadOnlyList<FairnessGroup> Groups);

/// <summary>
/// Scores and outreach by the guarantor's language and by the income band of their ZIP code, each group against the
/// whole portfolio, flagged when its mean score or its contacted share differs beyond the settings. Pure and
/// streaming: <see cref="Add"/> every account once, then <see cref="Build"/>. Only groups are reported, never persons,
/// and groups below the minimum size show no figures.
/// </summary>
public sealed class FairnessReport
{
    public const string LanguageDimension = "language", IncomeBandDimension = "incomeBand";

    private sealed class Sums
    {
        public long N, Scored, Contacted, Contacts, Calls;
        public double ScoreTotal;

        public void Add(FairnessObservation o)
        {
            N++;
            if (o.Score is { } s) { Scored++; ScoreTotal += s; }
            if (o.OutreachContacts > 0) Contacted++;
            Contacts += o.OutreachContacts;
            Calls += o.Calls;
        }

        public double? MeanScore => Scored == 0 ? null : ScoreTotal / Scored;
        public double ContactedShare => N == 0 ? 0 : (double)Contacted / N;
    }

    private readonly Sums _all = new();
    private readonly Dictionary<(string Dimension, string Group), Sums> _groups = [];

    public FairnessReport Add(FairnessObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        _all.Add(observation);
        Group(LanguageDimension, observation.Language).Add(observation);
        Group(IncomeBandDimension, observation.IncomeBand).Add(observation);
        return this;
    }

    private Sums Group(string dimension, string group)
    {
        if (!_groups.TryGetValue((dimension, group), out var sums)) _groups[(dimension, group)] = sums = new Sums();
        return sums;
    }

    public static FairnessSummary Of(IEnumerable<FairnessObservation> observations, FairnessOptions? options = null)
    {
        var report = new FairnessReport();
        foreach (var o in observations) report.Add(o);
        return report.Build(options);
    }

    /// <summary>The row that stands for a dimension's groups below the minimum size (no name, no figures).</summary>
    public static string SmallGroups(int minimum) => $"(groups under {minimum} accounts)";

    /// <summary>Languages then income bands, largest group first, each dimension's small groups last as one unnamed row.</summary>
    public FairnessSummary Build(FairnessOptions? options = null)
    {
        options ??= new FairnessOptions();
        if (!double.IsFinite(options.ContactRatio) || options.ContactRatio is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(options), "The contact ratio must be above 0 and at most 1.");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var overallScore = _all.MeanScore;
        var overallContacted = _all.ContactedShare;
        var shown = _groups.Where(g => g.Value.N >= options.MinimumAccounts)
            .OrderBy(g => g.Key.Dimension == LanguageDimension ? 0 : 1).ThenByDescending(g => g.Value.N).ThenBy(g => g.Key.Group, StringComparer.Ordinal)
            .Select(g =>
            {
                var (dimension, name) = g.Key;
                var s = g.Value;
                var scoreDifference = s.MeanScore is { } m && overallScore is { } o ? m - o : (double?)null;
                var ratio = overallContacted > 0 ? s.ContactedShare / overallContacted : (double?)null;
                var reasons = new List<string>();
                if (scoreDifference is { } d && Math.Abs(d) > options.ScoreGap)
                    reasons.Add(string.Create(inv, $"mean score {(d > 0 ? "above" : "below")} the portfolio's by {Math.Abs(d):0.000} (more than {options.ScoreGap:0.###})"));
                if (ratio is { } r && (r < options.ContactRatio || r > 1 / options.ContactRatio))
                    reasons.Add(string.Create(inv, $"contacted {(r < 1 ? "less" : "more")} often: {r:0.00} times the portfolio's share (outside {options.ContactRatio:0.##} to {1 / options.ContactRatio:0.##})"));
                return new FairnessGroup
                {
                    Dimension = dimension, Group = name, Accounts = s.N, MeanScore = s.MeanScore, ContactedShare = s.ContactedShare,
                    ContactsPerAccount = (double)s.Contacts / s.N, CallsPerAccount = (double)s.Calls / s.N,
                    ScoreDifference = scoreDifference, ContactRatio = ratio, Flagged = reasons.Count > 0, Reasons = reasons,
                };
            });
        var hidden = _groups.Where(g => g.Value.N < options.MinimumAccounts).Select(g => g.Key.Dimension).Distinct()
            .OrderBy(d => d == LanguageDimension ? 0 : 1)
            .Select(d => new FairnessGroup { Dimension = d, Group = SmallGroups(options.MinimumAccounts) });
        var groups = shown.Concat(hidden).OrderBy(g => g.Dimension == LanguageDimension ? 0 : 1).ToList(); // stable: each dimension's small groups last
        return new FairnessSummary(_all.N, overallScore, overallContacted, _all.N == 0 ? 0 : (double)_all.Contacts / _all.N, options, groups);
    }
}
