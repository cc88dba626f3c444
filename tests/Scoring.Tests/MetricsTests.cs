namespace Collections.Scoring.Tests;

public class MetricsTests
{
    // Positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the four positive-negative pairs, three are ordered right.
    private static readonly double[] Scores = [0.1, 0.4, 0.35, 0.8];
    private static readonly bool[] Labels = [false, false, true, true];

    [Fact]
    public void Auc_is_the_share_of_positive_negative_pairs_ordered_right()
    {
        Assert.Equal(0.75, Metrics.Auc(Scores, Labels), 12);
    }

    [Fact]
    public void Auc_counts_a_tie_as_half()
    {
        Assert.Equal(0.5, Metrics.Auc([0.5, 0.5], [true, false]), 12);
        Assert.Equal(0.75, Metrics.Auc([0.2, 0.5, 0.5], [false, true, false]), 12); // pairs: (0.5 vs 0.2) 1, (0.5 vs 0.5) 1/2
        Assert.True(double.IsNaN(Metrics.Auc([0.1, 0.2], [true, true])));
    }

    [Fact]
    public void Pr_auc_is_average_precision()
    {
        // Highest first: 0.8 positive (precision 1, recall 1/2), 0.4 negative, 0.35 positive (precision 2/3, recall 1).
        Assert.Equal(0.5 * 1 + 0.5 * 2.0 / 3, Metrics.PrAuc(Scores, Labels), 12);
    }

    [Fact]
    public void Brier_is_the_mean_squared_error_of_the_probabilities()
    {
        // (0.9 - 1)^2 + (0.2 - 0)^2 + (0.6 - 0)^2 = 0.01 + 0.04 + 0.36
        Assert.Equal(0.41 / 3, Metrics.Brier([0.9, 0.2, 0.6], [true, false, false]), 12);
    }

    [Fact]
    public void Log_loss_is_the_mean_negative_natural_log_of_the_probability_of_what_happened()
    {
        // -(ln 0.9 + ln 0.8 + ln 0.4) / 3 = (0.1053605 + 0.2231436 + 0.9162907) / 3
        Assert.Equal(0.4149316, Metrics.LogLoss([0.9, 0.2, 0.6], [true, false, false]), 6);
        Assert.Equal(-Math.Log(1e-15), Metrics.LogLoss([0.0], [true]), 6); // clamped, not infinite
    }

    [Fact]
    public void The_calibration_table_bins_by_predicted_probability()
    {
        var bins = Metrics.Calibration([0.05, 0.15, 0.12, 0.95, 1.0], [false, true, false, true, true]);

        Assert.Equal(10, bins.Count);
        Assert.Equal((1, 0.05, 0.0), (bins[0].Count, bins[0].MeanPredicted, bins[0].ObservedRate));
        Assert.Equal(2, bins[1].Count);
        Assert.Equal(0.135, bins[1].MeanPredicted, 12);
        Assert.Equal(0.5, bins[1].ObservedRate, 12);
        Assert.Equal((2, 1.0), (bins[9].Count, bins[9].ObservedRate)); // 1.0 falls in the last bin
        Assert.True(double.IsNaN(bins[5].MeanPredicted));
    }

    [Fact]
    public void Deciles_order_by_score_and_give_lift_and_dollars()
    {
        var scores = Enumerable.Range(0, 20).Select(i => i / 20.0).ToArray();
        var labels = scores.Select(s => s >= 0.8).ToArray(); // the top 4 of 20 pay: overall rate 0.2
        var balances = scores.Select(_ => 100m).ToArray();
        var collected = scores.Select(s => s >= 0.8 ? 60m : 5m).ToArray();

        var deciles = Metrics.Deciles(scores, labels, balances, collected);

        Assert.Equal(10, deciles.Count);
        Assert.Equal(new DecileRow(1, 2, 0.925, 1.0, 5.0, 200m, 120m), deciles[0]);
        Assert.Equal(new DecileRow(3, 2, 0.725, 0.0, 0.0, 200m, 10m), deciles[2]);
        Assert.Equal(20, deciles.Sum(d => d.Count));
    }

    [Fact]
    public void Platt_calibration_recovers_a_known_logistic_curve()
    {
        var random = new Random(4);
        var scores = Enumerable.Range(0, 40_000).Select(_ => random.NextDouble() * 6 - 3).ToArray();
        var labels = scores.Select(s => random.NextDouble() < 1 / (1 + Math.Exp(-(1.5 * s - 0.5)))).ToArray();

        var fit = PlattCalibration.Fit(scores, labels);

        Assert.InRange(fit.Slope, 1.4, 1.6);
        Assert.InRange(fit.Intercept, -0.6, -0.4);
        Assert.Equal(1 / (1 + Math.Exp(-(fit.Slope * 2 + fit.Intercept))), fit.Probability(2), 12);
    }

    [Fact]
    public void Platt_calibration_stays_finite_on_perfectly_separated_scores()
    {
        var fit = PlattCalibration.Fit([-2, -1, 1, 2], [false, false, true, true]);

        Assert.True(double.IsFinite(fit.Slope) && fit.Slope > 0);
        Assert.InRange(fit.Probability(2), 0.5, 1.0);
    }

    [Fact]
    public void Ece_weighs_each_bins_gap_between_predicted_and_observed_by_its_rows()
    {
        // Bin 0.1-0.2: predicted 0.15, observed 0 (2 rows); bin 0.8-0.9: predicted 0.85, observed 0.5 (2 rows).
        var ece = Metrics.Ece([0.15, 0.15, 0.85, 0.85], [false, false, true, false]);
        Assert.Equal(0.5 * 0.15 + 0.5 * 0.35, ece, 10);
        Assert.Equal(0.0, Metrics.Ece([0.5, 0.5], [true, false]), 10);
    }

    [Fact]
    public void The_ece_a_calibrated_model_shows_by_chance_shrinks_with_more_rows()
    {
        var few = Metrics.EceByChance([.. Enumerable.Range(0, 200).Select(i => (i % 10 + 0.5) / 10)]);
        var many = Metrics.EceByChance([.. Enumerable.Range(0, 20_000).Select(i => (i % 10 + 0.5) / 10)], draws: 20);
        Assert.InRange(few, 0.02, 0.12);
        Assert.True(many < few / 5, $"{many} on 20,000 rows, {few} on 200");
    }
}
