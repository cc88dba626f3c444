namespace Collections.Scoring.Tests;

public class QiniCurveTests
{
    private static readonly decimal[] Effects = [50m, -10m, 0m, 30m, 5m];
    private static readonly long[] Contacts = [2, 2, 1, 3, 1];

    [Fact]
    public void Ordering_by_the_true_effect_has_coefficient_one_and_the_reverse_is_negative()
    {
        var truth = Effects.Select(e => (double)e).ToArray();
        var best = QiniCurve.FromEffects(truth, Effects, Contacts, points: 5);
        var worst = QiniCurve.FromEffects([.. truth.Select(t => -t)], Effects, Contacts, points: 5);

        Assert.Equal(1.0, QiniCurve.Coefficient(best, best), 12);
        Assert.True(QiniCurve.Coefficient(worst, best) < 0);
        Assert.Equal([0m, 50m, 80m, 85m, 85m, 75m], best.Select(p => p.IncrementalDollars));
        Assert.Equal([0L, 2, 5, 6, 7, 9], best.Select(p => p.ExtraContacts));
        Assert.Equal(worst[^1].IncrementalDollars, best[^1].IncrementalDollars);
    }

    [Fact]
    public void The_experiment_curve_scales_control_dollars_to_the_treated_count()
    {
        // Top half: two treated paying 100 and 0, one control paying 30: 100 - 30 * 2 / 1 = 40.
        double[] score = [0.9, 0.8, 0.7, 0.1, 0.2, 0.3];
        bool[] control = [false, false, true, true, false, true];
        decimal[] dollars = [100m, 0m, 30m, 0m, 10m, 20m];

        var curve = QiniCurve.FromExperiment(score, control, dollars, points: 2);

        Assert.Equal(40m, curve[1].IncrementalDollars);
        Assert.Equal(110m - 50m * 3 / 3, curve[2].IncrementalDollars);
    }

    [Fact]
    public void Two_model_uplift_finds_the_accounts_outreach_moves()
    {
        // Outreach adds $40 only where feature 0 is 1; feature 1 raises what everyone pays whatever we do.
        var random = new Random(4);
        var features = new List<float[]>();
        var control = new List<bool>();
        var dollars = new List<double>();
        for (var i = 0; i < 4000; i++)
        {
            float responsive = random.Next(2), wealthy = random.Next(2);
            var isControl = random.NextDouble() < 0.5;
            features.Add([responsive, wealthy]);
            control.Add(isControl);
            dollars.Add(20 + 60 * wealthy + (isControl ? 0 : 40 * responsive) + 10 * (random.NextDouble() - 0.5));
        }

        var model = TwoModelUplift.Train(features, control, dollars, new RegressionSettings { Trees = 50, MinimumRowsPerLeaf = 20 });
        var uplift = model.Predict([[1f, 0f], [1f, 1f], [0f, 0f], [0f, 1f]]).Select(p => p.Uplift).ToArray();

        Assert.All(uplift.Take(2), u => Assert.InRange(u, 35, 45));
        Assert.All(uplift.Skip(2), u => Assert.InRange(u, -5, 5));
    }
}
