namespace Collections.Scoring.Tests;

[Collection(TrainedModelCollection.Name)]
public class ModelTrainerTests(TrainedModelFixture fixture)
{
    private EvaluationReport Report => fixture.Result.Report;

    [Fact]
    public void On_the_held_out_time_slice_the_model_comes_within_003_of_the_true_probabilities_auc()
    {
        Assert.NotNull(Report.TrueProbabilityAuc);
        Assert.True(Report.TrueProbabilityAuc!.Value - Report.Auc < 0.03, $"model {Report.Auc:0.0000}, true probabilities {Report.TrueProbabilityAuc:0.0000}");
        Assert.True(Report.Auc <= Report.TrueProbabilityAuc + 0.01, "no model beats the truth by more than noise");
    }

    [Fact]
    public void The_report_keeps_each_features_training_distribution_for_drift_and_the_training_rows_do_not_drift_from_it()
    {
        Assert.Equal(PaymentFeatures.Names, Report.FeatureProfiles.Select(p => p.Feature));
        Assert.All(Report.FeatureProfiles, p => Assert.Equal(1.0, p.Shares.Sum() + p.MissingShare, 6));
        var train = fixture.Rows.Where(r => r.ScoringDate < Report.CalibrationBoundary).Select(r => (IReadOnlyList<float>)r.Features.ToArray()).ToList();
        Assert.All(FeatureDrift.Compute(Report.FeatureProfiles, PaymentFeatures.Names, train, 0.2), d => Assert.True(d.Psi < 1e-6, $"{d.Feature}: {d.Psi}"));
    }

    [Fact]
    public void Training_calibration_and_evaluation_rows_come_from_successive_scoring_dates()
    {
        var dates = fixture.Rows.Select(r => r.ScoringDate).Distinct().Order().ToList();

        Assert.StartsWith("time", Report.Split);
        Assert.True(Report.CalibrationBoundary < Report.TimeSplitBoundary);
        Assert.Equal(fixture.Rows.Count(r => r.ScoringDate < Report.CalibrationBoundary), Report.TrainRows);
        Assert.Equal(fixture.Rows.Count(r => r.ScoringDate >= Report.TimeSplitBoundary), Report.TestRows);
        Assert.Equal(fixture.Rows.Count, Report.TrainRows + Report.CalibrationRows + Report.TestRows);
        Assert.Contains(Report.TimeSplitBoundary!.Value, dates);
        Assert.InRange(Report.TestRows / (double)fixture.Rows.Count, 0.2, 0.45);
    }

    [Fact]
    public void The_calibrated_probabilities_match_the_observed_rate_on_the_evaluation_rows()
    {
        var test = fixture.Rows.Where(r => r.ScoringDate >= Report.TimeSplitBoundary).ToList();
        var predicted = fixture.Model.ScoreBatch([.. test.Select(r => r.Features)], withReasons: false).Average(p => p.Probability);

        Assert.InRange(predicted - Report.TestPositiveRate, -0.03, 0.03);
        foreach (var bin in Report.Calibration.Where(b => b.Count >= 300))
            Assert.InRange(bin.ObservedRate - bin.MeanPredicted, -0.08, 0.08);
        Assert.Equal(Report.TestRows, Report.Calibration.Sum(b => b.Count));
        Assert.True(Report.Brier < Report.TestPositiveRate * (1 - Report.TestPositiveRate), "better than always predicting the base rate");
    }

    [Fact]
    public void The_report_metrics_agree_with_the_evaluation_rows()
    {
        var test = fixture.Rows.Where(r => r.ScoringDate >= Report.TimeSplitBoundary).ToList();
        var p = fixture.Model.ScoreBatch([.. test.Select(r => r.Features)], withReasons: false).Select(x => x.Probability).ToArray();
        var y = test.Select(r => r.Label).ToArray();

        Assert.Equal(Metrics.Auc(p, y), Report.Auc, 12);
        Assert.Equal(Metrics.Brier(p, y), Report.Brier, 12);
        Assert.Equal(Metrics.LogLoss(p, y), Report.LogLoss, 12);
        Assert.Equal(test.Sum(r => r.CollectedInWindow), Report.Deciles.Sum(d => d.CapturedDollars));
        Assert.Equal(test.Sum(r => r.PatientBalance), Report.Deciles.Sum(d => d.PatientBalance));
        Assert.Equal(10, Report.Deciles.Count);
        Assert.True(Report.Deciles[0].Lift > 1.8 && Report.Deciles[^1].Lift < 0.4, string.Join(", ", Report.Deciles.Select(d => d.Lift)));
        Assert.Equal(PaymentFeatures.Count, Report.FeatureImportance.Count);
        Assert.Contains(nameof(PaymentFeatures.PatientBalance), Report.FeatureImportance.Take(3).Select(f => f.Feature));
    }

    [Fact]
    public void The_report_prints_serialises_and_draws()
    {
        var text = Report.ToText();
        var back = EvaluationReport.FromJson(Report.ToJson());
        var png = Path.Combine(Path.GetTempPath(), $"scoring-chart-{Guid.NewGuid():N}.png");
        try
        {
            Report.WriteChartPng(png);
            var bytes = File.ReadAllBytes(png);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.Equal(1800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4))); // IHDR width
        }
        finally
        {
            File.Delete(png);
        }
        foreach (var expected in new[] { "ROC AUC", "PR AUC", "Log-loss", "Brier", "true probabilities", "Calibration", "decile", "lift", "Permutation feature importance", Report.ModelVersion })
            Assert.Contains(expected, text);
        Assert.Equal(Report.Auc, back.Auc);
        Assert.Equal(Report.Deciles, back.Deciles);
        Assert.Equal(Report.TimeSplitBoundary, back.TimeSplitBoundary);
    }

    [Fact]
    public void A_saved_model_loads_back_and_scores_identically()
    {
        var bytes = fixture.Model.ToBytes();
        using var loaded = PaymentModel.Load(new MemoryStream(bytes));

        Assert.Equal(fixture.Model.Version, loaded.Version);
        Assert.Equal(fixture.Model.FeatureNames, loaded.FeatureNames);
        Assert.Equal(fixture.Model.Medians, loaded.Medians);
        Assert.Equal(fixture.Model.Label, loaded.Label);
        Assert.Equal(fixture.Model.Calibration, loaded.Calibration);
        Assert.Equal(Report.Auc, loaded.Report!.Auc);
        Assert.Equal(bytes, loaded.ToBytes());
        foreach (var row in fixture.Rows.Take(500))
        {
            var a = fixture.Model.Score(row.Features);
            var b = loaded.Score(row.Features);
            Assert.Equal(a.Probability, b.Probability);
            Assert.Equal(a.Reasons, b.Reasons);
        }
    }

    [Fact]
    public void The_trees_read_out_of_the_model_give_ml_net_scores()
    {
        Assert.True(fixture.Model.EvaluatesTreesDirectly);
        // A vector with a missing value goes through ML.NET's prediction engine; with the value filled in, through the trees.
        var row = fixture.Rows[3].Features.ToArray();
        var viaTrees = fixture.Model.Score(row, withReasons: false).Probability;
        var withMissing = row.ToArray();
        withMissing[PaymentFeatures.IndexOf(nameof(PaymentFeatures.HasTextConsent))] = float.NaN;
        var viaEngine = fixture.Model.Score(withMissing, withReasons: false).Probability;
        Assert.InRange(viaTrees, 0, 1);
        Assert.InRange(viaEngine, 0, 1);
    }

    [Fact]
    public void Batch_and_concurrent_scoring_give_the_single_scores()
    {
        var features = fixture.Rows.Take(3000).Select(r => r.Features).ToList();

        var batch = fixture.Model.ScoreBatch(features);
        var concurrent = new PaymentPrediction[features.Count];
        Parallel.For(0, features.Count, i => concurrent[i] = fixture.Model.Score(features[i]));

        for (var i = 0; i < features.Count; i++)
        {
            var single = fixture.Model.Score(features[i]);
            Assert.Equal(single.Probability, batch[i].Probability);
            Assert.Equal(single.Reasons, batch[i].Reasons);
            Assert.Equal(single.Probability, concurrent[i].Probability);
        }
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 8, Accounts = 2500 }).ToList();
        var options = new TrainingOptions { Seed = 3, NumberOfTrees = 60, ImportanceSampleRows = 500 };

        using var first = ModelTrainer.Train(rows, options).Model;
        using var second = ModelTrainer.Train(rows, options).Model;

        Assert.Equal(first.Version, second.Version);
        Assert.All(rows.Take(200), r => Assert.Equal(first.Score(r.Features).Probability, second.Score(r.Features).Probability));
    }

    [Fact]
    public void LightGbm_trains_a_comparable_model_that_round_trips()
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 9, Accounts = 5000 }).ToList();

        var result = ModelTrainer.Train(rows, new TrainingOptions { Learner = Learner.LightGbm, ImportanceSampleRows = 1000 });
        using var model = result.Model;
        using var loaded = PaymentModel.Load(model.ToBytes());

        Assert.Equal("LightGBM", result.Report.Learner);
        Assert.StartsWith("lightgbm-", model.Version);
        Assert.True(result.Report.TrueProbabilityAuc - result.Report.Auc < 0.06, $"{result.Report.Auc} vs {result.Report.TrueProbabilityAuc}");
        Assert.All(rows.Take(100), r => Assert.Equal(model.Score(r.Features).Probability, loaded.Score(r.Features).Probability));
    }

    [Fact]
    public void Too_few_rows_of_one_outcome_are_refused_with_a_reason()
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 1, Accounts = 200 }).Select(r => r with { Label = false }).ToList();

        var error = Assert.Throws<ArgumentException>(() => ModelTrainer.Train(rows, new TrainingOptions()));

        Assert.Contains("both paying and non-paying", error.Message);
        Assert.Contains("No row has the label (0 of ", error.Message); // says which outcome is missing, of how many rows
    }
}
