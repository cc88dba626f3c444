namespace Collections.Scoring;

/// <summary>One score band: the share of the model's test set in it, and the share of live accounts.</summary>
public sealed record DriftBin(double Lower, double Upper, double ExpectedShare, double LiveShare);

/// <summary>How far live scores moved from the scores the model gave its own test set.</summary>
public sealed record ScoreDriftReport(int ExpectedCount, int LiveCount, IReadOnlyList<DriftBin> Bins, double? Psi);

/// <summary>
/// The population stability index of the score: Σ (live − expected) × ln(live ÷ expected) over the evaluation
/// report's score bands, each share floored at 0.0001 so an empty band does not divide by zero. Under 0.1 is usually
/// read as stable, 0.1 to 0.2 as a moderate shift, above 0.2 as a shift worth retraining for.
/// </summary>
public static class ScoreDrift
{
    public const double Floor = 1e-4;

    /// <summary>One band's share of the population stability index, each share floored at <see cref="Floor"/>.</summary>
    internal static double Term(double expected, double actual)
    {
        var (e, a) = (Math.Max(expected, Floor), Math.Max(actual, Floor));
        return (a - e) * Math.Log(a / e);
    }

    public static ScoreDriftReport Compute(IReadOnlyList<CalibrationBin> expected, IReadOnlyList<double> live)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(live);
        var bins = expected.Count;
        var liveCounts = new int[bins];
        foreach (var p in live)
        {
            if (bins == 0 || double.IsNaN(p)) continue;
            liveCounts[Band(expected, p)]++;
        }
        var expectedTotal = expected.Sum(b => b.Count);
        var liveTotal = liveCounts.Sum();
        var rows = expected.Select((b, i) => new DriftBin(b.Lower, b.Upper,
            expectedTotal == 0 ? 0 : b.Count / (double)expectedTotal, liveTotal == 0 ? 0 : liveCounts[i] / (double)liveTotal)).ToList();
        double? psi = expectedTotal == 0 || liveTotal == 0 ? null
            : rows.Sum(r => Term(r.ExpectedShare, r.LiveShare));
        return new ScoreDriftReport(expectedTotal, liveTotal, rows, psi);
    }

    /// <summary>The band a score falls in (lower bound included); below the first or from the last's upper bound, the nearest band.</summary>
    private static int Band(IReadOnlyList<CalibrationBin> bands, double p)
    {
        for (var i = 0; i < bands.Count; i++)
            if (p < bands[i].Upper) return i;
        return bands.Count - 1;
    }
}

/// <summary>
/// One feature's distribution in the training rows: cut points at its deciles (repeated values merged, so a flag has
/// one cut and a constant none), the share of rows in each band, and the share missing.
/// </summary>
public sealed record FeatureProfile(string Feature, IReadOnlyList<double> Edges, IReadOnlyList<double> Shares, double MissingShare)
{
    /// <summary>The profile of <paramref name="values"/> (NaN is missing).</summary>
    public static FeatureProfile Of(string feature, IEnumerable<float> values)
    {
        var all = values.ToList();
        var present = all.Where(v => !float.IsNaN(v)).Select(v => (double)v).Order().ToArray();
        var edges = new List<double>();
        for (var k = 1; k < 10 && present.Length > 0; k++)
        {
            var cut = present[Math.Min(present.Length - 1, k * present.Length / 10)];
            if (cut > present[0] && (edges.Count == 0 || cut > edges[^1])) edges.Add(cut);
        }
        var counts = new int[edges.Count + 1];
        foreach (var v in present) counts[FeatureDrift.Band(edges, v)]++;
        var total = Math.Max(1, all.Count);
        return new FeatureProfile(feature, edges, [.. counts.Select(c => c / (double)total)], (all.Count - present.Length) / (double)total);
    }
}

/// <summary>One feature's population stability index between the training rows and the live accounts.</summary>
public sealed record FeatureDriftRow(string Feature, double Psi, bool Flagged);

/// <summary>
/// The population stability index of each feature, the same sum as <see cref="ScoreDrift"/> over the feature's
/// training-decile bands and its missing share, each share floored at <see cref="ScoreDrift.Floor"/>.
/// </summary>
public static class FeatureDrift
{
    /// <summary>
    /// Each profiled feature's PSI over <paramref name="live"/> vectors whose columns are <paramref name="liveNames"/>
    /// (a feature the live vectors lack is left out), largest first; flagged above <paramref name="threshold"/>.
    /// </summary>
    public static IReadOnlyList<FeatureDriftRow> Compute(IReadOnlyList<FeatureProfile> profiles, IReadOnlyList<string> liveNames,
        IReadOnlyList<IReadOnlyList<float>> live, double threshold)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(live);
        if (live.Count == 0) return [];
        var index = liveNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var rows = new List<FeatureDriftRow>();
        foreach (var profile in profiles)
        {
            if (!index.TryGetValue(profile.Feature, out var column)) continue;
            var counts = new int[profile.Shares.Count];
            var missing = 0;
            var seen = 0;
            foreach (var vector in live)
            {
                if (column >= vector.Count) continue;
                seen++;
                var v = vector[column];
                if (float.IsNaN(v)) missing++;
                else counts[Band(profile.Edges, v)]++;
            }
            if (seen == 0) continue;
            var psi = ScoreDrift.Term(profile.MissingShare, missing / (double)seen)
                      + profile.Shares.Select((expected, b) => ScoreDrift.Term(expected, counts[b] / (double)seen)).Sum();
            rows.Add(new FeatureDriftRow(profile.Feature, psi, psi > threshold));
        }
        return [.. rows.OrderByDescending(r => r.Psi).ThenBy(r => r.Feature, StringComparer.Ordinal)];
    }


    /// <summary>The band of <paramref name="value"/>: below the first cut is band 0, from the last cut on the last band.</summary>
    internal static int Band(IReadOnlyList<double> edges, double value)
    {
        var band = 0;
        while (band < edges.Count && value >= edges[band]) band++;
        return band;
    }
}
