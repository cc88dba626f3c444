using Collections.Scoring;

namespace Collections.Cli.Tests;

public sealed class ModelCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cli-model-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string At(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task Register_names_the_model_it_found_with_its_training_date_before_sending_it_and_refuses_a_file_that_is_not_one()
    {
        await Cli.Run("model", "generate", "--rows", "3000", "--seed", "4", "--out", At("t.csv"));
        var (trained, _, trainErr) = await Cli.Run("model", "train", "--data", At("t.csv"), "--out", At("m.zip"));
        Assert.Equal((0, ""), (trained, trainErr));
        using (var model = PaymentModel.Load(File.OpenRead(At("m.zip"))))
            Assert.True(model.TrainedAt > DateTimeOffset.UtcNow.AddMinutes(-10));

        // Nothing listens at this address: the file is described, then the call fails.
        var (exit, output, unreachable) = await Cli.Run("model", "register", "--file", At("m.zip"), "--url", "http://127.0.0.1:1", "--key", "ck_x_y");
        Assert.Equal(CliApp.Unreachable, exit);
        Assert.StartsWith("collections: no answer from the engine (", unreachable, StringComparison.Ordinal);
        Assert.Single(unreachable.Trim().Split('\n'));
        Assert.Matches(@"holds model fasttree-[0-9a-f]{12} \(FastTree, trained \d{4}-\d\d-\d\d \d\d:\d\d UTC on [\d,]+ rows, AUC 0\.\d{3}; label: ", output);

        await File.WriteAllTextAsync(At("notes.zip"), "not a zip");
        var (refused, _, error) = await Cli.Run("model", "register", "--file", At("notes.zip"), "--url", "http://127.0.0.1:1", "--key", "ck_x_y");
        Assert.NotEqual(0, refused);
        Assert.Contains("notes.zip: not a model file written by collections model train", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_export_says_which_dates_it_looked_at_and_when_rows_will_come()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
        response.Headers.Add("Collections-First-Scoring-Date", "2025-09-05");
        response.Headers.Add("Collections-Last-Scoring-Date", "2026-09-05");
        response.Headers.Add("Collections-Label-Window-Days", "90");
        response.Headers.Add("Collections-Accounts", "4530");

        var reason = Models.ModelRegistryCommands.EmptyExportReason(response);

        Assert.Contains("from 2025-09-05 to 2026-09-05", reason, StringComparison.Ordinal);
        Assert.Contains("None of the engine's 4530 accounts had one", reason, StringComparison.Ordinal);
        Assert.Contains("An account opened today gives its first row on 2027-03-04", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_then_train_prints_the_report_and_writes_the_model_and_report_files()
    {
        var (generated, generateOut, generateErr) = await Cli.Run("model", "generate", "--rows", "6000", "--seed", "3", "--out", At("train.csv"));
        var (trained, trainOut, trainErr) = await Cli.Run("model", "train", "--data", At("train.csv"), "--out", At("model.zip"), "--report-dir", At("report"));

        Assert.Equal((0, ""), (generated, generateErr));
        Assert.Contains("6,000 rows", generateOut);
        var lines = await File.ReadAllLinesAsync(At("train.csv"));
        Assert.Equal(6001, lines.Length);
        Assert.Equal(string.Join(',', TrainingSet.Header), lines[0]);

        Assert.Equal((0, ""), (trained, trainErr));
        foreach (var expected in new[] { "ROC AUC", "true probabilities", "Brier", "Calibration", "decile", "Permutation feature importance", "Split: time (ScoringDate)" })
            Assert.Contains(expected, trainOut);
        using var model = PaymentModel.Load(File.OpenRead(At("model.zip")));
        Assert.Contains(model.Version, trainOut);
        Assert.Equal(PaymentFeatures.Names, model.FeatureNames);
        Assert.Equal(model.Report!.ToText(), await File.ReadAllTextAsync(At(Path.Combine("report", "report.txt"))));
        Assert.Equal(model.Report.Auc, EvaluationReport.FromJson(await File.ReadAllTextAsync(At(Path.Combine("report", "report.json")))).Auc);
        Assert.True(new FileInfo(At(Path.Combine("report", "report.png"))).Length > 10_000);
    }

    [Fact]
    public async Task Train_reads_any_labelled_csv_with_the_named_label_and_learner()
    {
        var random = new Random(5);
        var csv = new System.Text.StringBuilder("score,age,outcome\n");
        for (var i = 0; i < 800; i++)
        {
            var score = random.Next(0, 100);
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{score},{random.Next(18, 90)},{(random.Next(0, 100) < score ? 1 : 0)}\n");
        }
        await File.WriteAllTextAsync(At("outside.csv"), csv.ToString());

        var (exit, output, error) = await Cli.Run("model", "train", "--data", At("outside.csv"), "--label", "outcome", "--learner", "lightgbm", "--split", "random", "--out", At("m.zip"));

        Assert.Equal((0, ""), (exit, error));
        Assert.Contains("LightGBM", output);
        Assert.Contains("random", output);
        Assert.Equal(["score", "age"], PaymentModel.Load(await File.ReadAllBytesAsync(At("m.zip"))).FeatureNames);
    }

    [Theory]
    [InlineData("missing-file")]
    [InlineData("bad-label-column")]
    [InlineData("bad-label-value")]
    [InlineData("bad-learner")]
    [InlineData("bad-rows")]
    [InlineData("bad-share")]
    [InlineData("bad-exclude")]
    [InlineData("bad-folds")]
    [InlineData("bad-shares")]
    [InlineData("bad-fraction")]
    public async Task Bad_input_exits_2_with_one_line_naming_what_and_where(string problem)
    {
        await File.WriteAllTextAsync(At("small.csv"), "x,Label\n1,1\n2,0\n3,perhaps\n");
        var (args, expected) = problem switch
        {
            "missing-file" => (new[] { "model", "train", "--data", At("nope.csv"), "--out", At("m.zip") }, "nope.csv: file not found"),
            "bad-label-column" => (["model", "train", "--data", At("small.csv"), "--label", "Paid", "--out", At("m.zip")], "no label column 'Paid'"),
            "bad-label-value" => (["model", "train", "--data", At("small.csv"), "--out", At("m.zip")], "line 4, column Label: 'perhaps'"),
            "bad-learner" => (["model", "train", "--data", At("small.csv"), "--learner", "xgboost", "--out", At("m.zip")], "xgboost"),
            "bad-rows" => (["model", "generate", "--rows", "0", "--out", At("g.csv")], "--rows 0"),
            "bad-exclude" => (["model", "train", "--data", At("small.csv"), "--exclude", "y", "--out", At("m.zip")], "no column 'y' to exclude"),
            "bad-folds" => (["model", "train", "--data", At("small.csv"), "--tune", "--folds", "1", "--out", At("m.zip")], "--folds: must be 2 to 20"),
            "bad-shares" => (["model", "train", "--data", At("small.csv"), "--test-share", "0.5", "--calibration-share", "0.45", "--out", At("m.zip")], "--calibration-share"),
            "bad-fraction" => (["model", "train", "--data", At("small.csv"), "--feature-fraction", "0", "--out", At("m.zip")], "--feature-fraction: must be above 0"),
            _ => (["model", "generate", "--paid-share", "1.5", "--out", At("g.csv")], "--paid-share 1.5"),
        };

        var (exit, output, error) = await Cli.Run(args);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task Uplift_train_reads_the_export_and_compares_orderings_on_held_out_accounts_or_says_what_the_file_lacks()
    {
        var random = new Random(8);
        var values = new float[PaymentFeatures.Count];
        TrainingRow Row(int i, string? group)
        {
            for (var f = 0; f < values.Length; f++) values[f] = (float)random.NextDouble();
            var dollars = (random.NextDouble() < 0.3 ? 40m : 0m) + (group == "treated" && values[0] > 0.5 ? 50m : 0m);
            return new TrainingRow
            {
                AccountId = $"MAIN/A{i}", ScoringDate = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero), Features = PaymentFeatures.FromArray(values),
                Label = dollars > 0, PatientBalance = 150m, CollectedInWindow = dollars, TreatmentGroup = group,
            };
        }
        await using (var writer = File.CreateText(At("export.csv")))
            TrainingSet.WriteCsv(writer, Enumerable.Range(0, 1500).Select(i => Row(i, i % 2 == 0 ? "control" : "treated")));
        await using (var writer = File.CreateText(At("no-groups.csv")))
            TrainingSet.WriteCsv(writer, Enumerable.Range(0, 300).Select(i => Row(i, null)));

        var (exit, output, error) = await Cli.Run("model", "uplift-train", "--data", At("export.csv"), "--out", At("ranking.csv"));

        Assert.Equal((0, ""), (exit, error));
        var ranking = await File.ReadAllLinesAsync(At("ranking.csv"));
        Assert.Equal("AccountId,ScoringDate,ExpectedIncrementalDollars,ExpectedDollarsTreated,ExpectedDollarsControl", ranking[0]);
        Assert.Equal(1501, ranking.Length);
        var uplift = ranking.Skip(1).Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(uplift.OrderByDescending(u => u), uplift); // highest expected incremental dollars first
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At("ranking.csv")));
        Assert.Contains("1,500 accounts ranked by expected incremental dollars", output, StringComparison.Ordinal);
        Assert.StartsWith("1500 accounts with a group: ", output, StringComparison.Ordinal);
        Assert.Contains("area over random", output, StringComparison.Ordinal);
        Assert.Contains("two-model expected incremental dollars", output, StringComparison.Ordinal);

        var (refused, _, why) = await Cli.Run("model", "uplift-train", "--data", At("no-groups.csv"));
        Assert.Equal(CliApp.BadInput, refused);
        Assert.Single(why.Trim().Split('\n'));
        Assert.Contains("no-groups.csv: the file has 0 treated and 0 control accounts (TreatmentGroup)", why, StringComparison.Ordinal);
    }
}
