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
            : rows.Sum(r => (Math.Max(r.LiveShare, Floor) - Math.Max(r.ExpectedShare, Floor)) * Math.Log(Math.Max(r.LiveShare, Floor) / Math.Max(r.ExpectedShare, Floor)));
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
