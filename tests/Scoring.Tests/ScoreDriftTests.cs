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

    [Fact]
    public void A_feature_whose_live_values_moved_or_went_missing_is_flagged_and_one_that_did_not_is_stable()
    {
        var training = Enumerable.Range(0, 1000).Select(i => (float)(i % 100)).ToList();
        var flags = Enumerable.Range(0, 1000).Select(i => i % 4 == 0 ? 1f : 0f).ToList();
        var profiles = new[] { FeatureProfile.Of("Balance", training), FeatureProfile.Of("HasEmail", flags), FeatureProfile.Of("NotLive", training) };
        Assert.Equal(9, profiles[0].Edges.Count);
        Assert.Equal([1.0], profiles[1].Edges);                      // a flag has one cut
        Assert.Equal(1.0, profiles[0].Shares.Sum() + profiles[0].MissingShare, 6);

        var live = Enumerable.Range(0, 500).Select(i => (IReadOnlyList<float>)[i % 2 == 0 ? 500f + i : i % 100, i % 4 == 0 ? 1f : 0f]).ToList();
        var drift = FeatureDrift.Compute(profiles, ["Balance", "HasEmail"], live, threshold: 0.2);

        Assert.Equal(["Balance", "HasEmail"], drift.Select(d => d.Feature)); // largest first; a feature live vectors lack is left out
        Assert.True(drift[0] is { Flagged: true, Psi: > 0.2 }, $"PSI {drift[0].Psi}");
        Assert.True(drift[1] is { Flagged: false, Psi: < 0.01 }, $"PSI {drift[1].Psi}");

        var missing = FeatureDrift.Compute(profiles, ["Balance"], [.. Enumerable.Range(0, 100).Select(i => (IReadOnlyList<float>)[i < 50 ? float.NaN : i])], 0.2);
        Assert.True(missing[0].Flagged, "half the live values missing where training had none");
        Assert.Empty(FeatureDrift.Compute(profiles, ["Balance"], [], 0.2));
    }
}
