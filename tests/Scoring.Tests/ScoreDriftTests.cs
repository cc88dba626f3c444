using Collections.Scoring;

namespace Collections.Scoring.Tests;

public sealed class ScoreDriftTests
{
    private static IReadOnlyList<CalibrationBin> Bands(params int[] counts) =>
        [.. counts.Select((c, i) => new CalibrationBin(i / (double)counts.Length, (i + 1) / (double)counts.Length, 0, 0, c))];

    [Fact]
    public void Live_scores_spread_like_the_test_set_are_stable_and_scores_that_moved_up_are_flagged()
    {
        var bands = Bands(100, 100, 100, 100, 100, 100, 100, 100, 100, 100);
        var same = Enumerable.Range(0, 1000).Select(i => (i % 10 + 0.5) / 10).ToList();
        var moved = Enumerable.Range(0, 1000).Select(i => 0.8 + (i % 20) / 100.0).ToList();

        var stable = ScoreDrift.Compute(bands, same);
        var shifted = ScoreDrift.Compute(bands, moved);

        Assert.Equal(0.0, stable.Psi!.Value, 6);
        Assert.All(stable.Bins, b => Assert.Equal(0.1, b.LiveShare, 6));
        Assert.True(shifted.Psi > 0.2, $"PSI {shifted.Psi}");
        Assert.Equal(1.0, shifted.Bins.Skip(8).Sum(b => b.LiveShare), 6);   // a score of exactly 1 falls in the top band
        Assert.Null(ScoreDrift.Compute(bands, []).Psi);                        // no live scores yet: nothing to compare
    }

    [Fact]
    public void An_empty_band_on_either_side_does_not_divide_by_zero()
    {
        var drift = ScoreDrift.Compute(Bands(0, 50, 50), [0.1, 0.1, 0.9, 1.0]);
        Assert.True(double.IsFinite(drift.Psi!.Value));
        Assert.Equal((100, 4), (drift.ExpectedCount, drift.LiveCount));
    }
}
