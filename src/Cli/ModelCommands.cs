using System.CommandLine;
using System.Globalization;
using Collections.Scoring;

namespace Collections.Cli;

/// <summary>
/// <c>collections model generate</c>: a synthetic labelled training CSV (docs/scoring.md); <c>collections model train</c>:
/// trains a payment-likelihood model on any labelled CSV, prints the evaluation report, saves the model file and the
/// report (text, JSON, chart). Bad input is one line and exit code 2.
/// </summary>
public static class ModelCommands
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("model", "Payment-likelihood models: generate synthetic training data, train and evaluate; export the engine's "
                                           + "labelled history, register, promote and roll back versions (see docs/scoring.md, docs/model-registry.md).");
        command.Subcommands.Add(GenerateCommand(output));
        command.Subcommands.Add(TrainCommand(output));
        command.Subcommands.Add(UpliftModelCommand(output));
        foreach (var registryCommand in Models.ModelRegistryCommands.All(output, error))
            command.Subcommands.Add(registryCommand);
        return command;
    }

    private static Option<decimal> PaidShareOption() => new("--paid-share")
    {
        Description = "The label: the share of the patient balance that must be paid within the window (0 to 1).", DefaultValueFactory = _ => 0.5m,
    };

    private static Option<int> WindowOption() => new("--window-days") { Description = "The label window in days (1 to 730).", DefaultValueFactory = _ => 90 };

    private static LabelDefinition Label(decimal share, int days)
    {
        if (share is <= 0 or > 1) throw new CliInputException($"--paid-share {share.ToString(CultureInfo.InvariantCulture)}: must be more than 0 and at most 1");
        if (days is < 1 or > 730) throw new CliInputException($"--window-days {days}: must be between 1 and 730");
        return new LabelDefinition { PaidShare = share, WindowDays = days };
    }

    private static Command GenerateCommand(TextWriter output)
    {
        var rows = new Option<int>("--rows") { Description = "Labelled rows to write (1 to 10,000,000).", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic accounts: the same seed gives the same file.", DefaultValueFactory = _ => 1 };
        var file = new Option<string>("--out") { Description = "The CSV file to write (the format `collections model train` reads).", Required = true };
        var share = PaidShareOption();
        var window = WindowOption();
        var command = new Command("generate", "Write a synthetic labelled training CSV: realistic account histories with known true probabilities, "
                                              + "through the real feature extractor and label.") { rows, seed, file, share, window };
        command.SetAction(parse =>
        {
            var count = parse.GetValue(rows);
            if (count is < 1 or > 10_000_000) throw new CliInputException($"--rows {count}: must be between 1 and 10000000");
            var label = Label(parse.GetValue(share), parse.GetValue(window));
            var path = parse.GetValue(file)!;
            var started = System.Diagnostics.Stopwatch.StartNew();
            var options = new SyntheticOptions { Seed = parse.GetValue(seed), Accounts = int.MaxValue, Label = label };
            var written = 0;
            double positives = 0;
            try
            {
                using var writer = new StreamWriter(path);
                TrainingSet.WriteCsv(writer, SyntheticHistory.Rows(options).Take(count).Select(r =>
                {
                    written++;
                    if (r.Label) positives++;
                    return r;
                }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DirectoryNotFoundException)
            {
                throw new CliInputException($"--out {path}: {e.Message}");
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{written:N0} rows ({positives / Math.Max(1, written):P1} paid: {label}) written to {path} in {started.Elapsed.TotalSeconds:N1} s"));
            return 0;
        });
        return command;
    }

    private static Command TrainCommand(TextWriter output)
    {
        var data = new Option<string>("--data") { Description = "The labelled CSV: every numeric column except the label is a feature (docs/scoring.md).", Required = true };
        var label = new Option<string>("--label") { Description = "The label column (1/0, true/false, yes/no).", DefaultValueFactory = _ => TrainingSet.LabelColumn };
        var learner = new Option<string>("--learner") { Description = "fasttree (default) or lightgbm.", DefaultValueFactory = _ => "fasttree" };
        learner.AcceptOnlyFromAmong("fasttree", "lightgbm");
        var file = new Option<string>("--out") { Description = "The model file to write (one zip: the ML.NET model and its metadata).", Required = true };
        var reportDir = new Option<string?>("--report-dir") { Description = "Write report.txt, report.json and report.png (calibration, gains, lift) here." };
        var seed = new Option<int>("--seed") { Description = "Seed of the learner and of the settings search.", DefaultValueFactory = _ => 1 };
        var splitSeed = new Option<int>("--split-seed") { Description = "Seed of a random split and of the cross-validation folds.", DefaultValueFactory = _ => 1 };
        var positive = new Option<string?>("--positive") { Description = "The label value that counts as positive (default: 1, true or yes); every other value is negative." };
        var trees = new Option<int>("--trees") { Description = "Number of trees (with --tune: where the search starts).", DefaultValueFactory = _ => 200 };
        var leaves = new Option<int>("--leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 16 };
        var rate = new Option<double>("--learning-rate") { Description = "Learning rate.", DefaultValueFactory = _ => 0.1 };
        var minLeaf = new Option<int>("--min-leaf-rows") { Description = "Fewest rows a leaf may hold.", DefaultValueFactory = _ => 50 };
        var fraction = new Option<double>("--feature-fraction") { Description = "Share of the features each tree may use (0-1].", DefaultValueFactory = _ => 1.0 };
        var testShare = new Option<double>("--test-share") { Description = "Share of rows held out for evaluation.", DefaultValueFactory = _ => 0.25 };
        var calibrationShare = new Option<double>("--calibration-share") { Description = "Share of rows that fit the calibration (with --tune they also train the final model; the out-of-fold scores fit it).", DefaultValueFactory = _ => 0.15 };
        var tune = new Option<bool>("--tune") { Description = "Search learner, trees, leaves, learning rate, rows per leaf and feature fraction by stratified cross-validation with early stopping, against ML.NET's defaults, then train the best." };
        var tuneSeconds = new Option<double>("--tune-seconds") { Description = "Time budget of the search (the baselines are always tried).", DefaultValueFactory = _ => 120 };
        var tuneTrials = new Option<int>("--tune-trials") { Description = "Most candidates the search tries, baselines included.", DefaultValueFactory = _ => 40 };
        var folds = new Option<int>("--folds") { Description = "Cross-validation folds of the search (2-20).", DefaultValueFactory = _ => 5 };
        var split = new Option<string>("--split") { Description = "time (default: by ScoringDate or --time-column, latest rows evaluated) or random.", DefaultValueFactory = _ => "time" };
        split.AcceptOnlyFromAmong("time", "random");
        var timeColumn = new Option<string?>("--time-column") { Description = "The column that orders a time split (default: ScoringDate when present)." };
        var exclude = new Option<string[]>("--exclude") { Description = "A column never to use as a feature. Repeatable.", AllowMultipleArgumentsPerToken = false };
        var share = PaidShareOption();
        var window = WindowOption();
        var command = new Command("train", "Train a calibrated payment-likelihood model on a labelled CSV, evaluate it on held-out rows and print the report.")
        {
            data, label, learner, file, reportDir, seed, split, timeColumn, exclude, share, window,
            splitSeed, positive, trees, leaves, rate, minLeaf, fraction, testShare, calibrationShare, tune, tuneSeconds, tuneTrials, folds,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(data)!;
            if (!File.Exists(path)) throw new CliInputException($"--data {path}: file not found");
            void Check(bool ok, string option, string what) { if (!ok) throw new CliInputException($"{option}: {what}"); }
            Check(parse.GetValue(trees) is >= 1 and <= 10_000, "--trees", "must be 1 to 10000");
            Check(parse.GetValue(leaves) is >= 2 and <= 1024, "--leaves", "must be 2 to 1024");
            Check(parse.GetValue(rate) is > 0 and <= 1, "--learning-rate", "must be above 0 and at most 1");
            Check(parse.GetValue(minLeaf) >= 1, "--min-leaf-rows", "must be at least 1");
            Check(parse.GetValue(fraction) is > 0 and <= 1, "--feature-fraction", "must be above 0 and at most 1");
            Check(parse.GetValue(testShare) is > 0 and < 0.9, "--test-share", "must be above 0 and below 0.9");
            Check(parse.GetValue(calibrationShare) > 0 && parse.GetValue(testShare) + parse.GetValue(calibrationShare) < 0.9, "--calibration-share",
                "must be above 0, and with --test-share leave at least 10 % of the rows for training");
            Check(parse.GetValue(folds) is >= 2 and <= 20, "--folds", "must be 2 to 20");
            Check(parse.GetValue(tuneSeconds) > 0, "--tune-seconds", "must be above 0");
            Check(parse.GetValue(tuneTrials) >= 3, "--tune-trials", "must be at least 3 (the configured settings and the two baselines)");
            var options = new TrainingOptions
            {
                Learner = parse.GetValue(learner) == "lightgbm" ? Learner.LightGbm : Learner.FastTree,
                Seed = parse.GetValue(seed),
                SplitSeed = parse.GetValue(splitSeed),
                PositiveLabel = parse.GetValue(positive),
                NumberOfTrees = parse.GetValue(trees),
                NumberOfLeaves = parse.GetValue(leaves),
                LearningRate = parse.GetValue(rate),
                MinimumExampleCountPerLeaf = parse.GetValue(minLeaf),
                FeatureFraction = parse.GetValue(fraction),
                TestFraction = parse.GetValue(testShare),
                CalibrationFraction = parse.GetValue(calibrationShare),
                Tune = parse.GetValue(tune),
                TuneSeconds = parse.GetValue(tuneSeconds),
                TuneTrials = parse.GetValue(tuneTrials),
                Folds = parse.GetValue(folds),
                Split = parse.GetValue(split) == "random" ? SplitKind.Random : SplitKind.Time,
                TimeColumn = parse.GetValue(timeColumn),
                ExcludeColumns = parse.GetValue(exclude) ?? [],
                LabelDefinition = Label(parse.GetValue(share), parse.GetValue(window)),
                TrainedAt = DateTimeOffset.UtcNow,
            };
            var started = System.Diagnostics.Stopwatch.StartNew();
            TrainingResult result;
            try
            {
                result = ModelTrainer.TrainFromCsv(path, parse.GetValue(label)!, options);
            }
            catch (FormatException e)
            {
                throw new CliInputException($"--data {e.Message.ReplaceLineEndings(" ")}");
            }
            catch (ArgumentException e)
            {
                throw new CliInputException($"--data {path}: {e.Message.ReplaceLineEndings(" ")}");
            }
            using var model = result.Model;
            var modelPath = parse.GetValue(file)!;
            var outputs = new List<string>();
            try
            {
                using (var stream = File.Create(modelPath)) model.Save(stream);
                outputs.Add(modelPath);
                if (parse.GetValue(reportDir) is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    File.WriteAllText(Path.Combine(dir, "report.txt"), result.Report.ToText());
                    File.WriteAllText(Path.Combine(dir, "report.json"), result.Report.ToJson());
                    result.Report.WriteChartPng(Path.Combine(dir, "report.png"));
                    outputs.Add(Path.Combine(dir, "report.{txt,json,png}"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliInputException($"--out/--report-dir: {e.Message}");
            }
            output.Write(result.Report.ToText());
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Model {model.Version} trained in {started.Elapsed.TotalSeconds:N1} s; written: {string.Join(", ", outputs)}"));
            return 0;
        });
        return command;
    }

    private static Command UpliftModelCommand(TextWriter output)
    {
        var data = new Option<string>("--data") { Description = "The engine's training-set export (collections model export) with its TreatmentGroup column.", Required = true };
        var testShare = new Option<double>("--test-share") { Description = "Share of accounts held out to judge the orderings (0.1 to 0.9).", DefaultValueFactory = _ => 0.3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the account split and the learners.", DefaultValueFactory = _ => 1 };
        var ranking = new Option<string?>("--out") { Description = "Also write every account of the export ranked by expected incremental dollars (CSV, owner-only: it names accounts)." };
        var command = new Command("uplift-train",
            "The uplift model option: learn expected incremental dollars (two models, treated and control) from the export's randomised groups and "
            + "compare targeting by it, by expected dollars and at random on held-out accounts (Qini curves).")
        {
            data, testShare, seed, ranking,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(data)!;
            if (!File.Exists(path)) throw new CliInputException($"--data {path}: file not found");
            if (parse.GetValue(testShare) is < 0.1 or > 0.9) throw new CliInputException($"--test-share {parse.GetValue(testShare).ToString(CultureInfo.InvariantCulture)}: must be between 0.1 and 0.9");
            IReadOnlyList<TrainingRow> rows;
            try
            {
                using var reader = new StreamReader(path);
                rows = TrainingSet.ReadCsv(reader);
            }
            catch (FormatException e)
            {
                throw new CliInputException($"--data {path}, {e.Message.ReplaceLineEndings(" ")}");
            }
            UpliftEvaluationResult result;
            try
            {
                result = UpliftEvaluation.Run(rows, parse.GetValue(testShare), parse.GetValue(seed));
            }
            catch (ArgumentException e)
            {
                throw new CliInputException($"--data {path}: {e.Message.ReplaceLineEndings(" ")}");
            }
            foreach (var line in UpliftEvaluation.Lines(result)) output.WriteLine(line);
            if (parse.GetValue(ranking) is { } file)
            {
                var ranked = UpliftEvaluation.Rank(rows, result.Model);
                try
                {
                    using var writer = new StreamWriter(Collections.Persistence.OwnerOnlyFiles.Create(file), new System.Text.UTF8Encoding(false));
                    UpliftEvaluation.WriteRankingCsv(writer, ranked);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliInputException($"--out {file}: {e.Message}");
                }
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ranked.Count:N0} accounts ranked by expected incremental dollars: {file}"));
            }
            return 0;
        });
        return command;
    }
}
