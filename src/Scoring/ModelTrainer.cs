using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Collections.Scoring;

/// <summary>The gradient-boosted tree learner.</summary>
public enum Learner
{
    /// <summary>ML.NET's own boosted trees (managed, deterministic for a seed): the default.</summary>
    FastTree,
    /// <summary>Microsoft's LightGBM (native, histogram-based): faster on millions of rows.</summary>
    LightGbm,
}

/// <summary>How rows are split into training, calibration and evaluation rows.</summary>
public enum SplitKind
{
    /// <summary>Train on the earliest scoring dates, calibrate on the next, evaluate on the latest.</summary>
    Time,
    /// <summary>A seeded random split (for data without a time column).</summary>
    Random,
}

public sealed record TrainingOptions
{
    public Learner Learner { get; init; } = Learner.FastTree;
    /// <summary>Seed of the learner and of the settings search.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Seed of the random split and of the cross-validation folds (apart from the learner's, so each can be varied alone).</summary>
    public int SplitSeed { get; init; } = 1;
    /// <summary>Time (the default) needs a time column with at least three distinct values; otherwise the split is random, and the report says so.</summary>
    public SplitKind Split { get; init; } = SplitKind.Time;
    /// <summary>Share of rows (the latest scoring dates for a time split) held out for evaluation.</summary>
    public double TestFraction { get; init; } = 0.25;
    /// <summary>Share of rows (the dates just before the evaluation rows, for a time split) that fit the Platt calibration.</summary>
    public double CalibrationFraction { get; init; } = 0.15;
    public int NumberOfTrees { get; init; } = 200;
    public int NumberOfLeaves { get; init; } = 16;
    public int MinimumExampleCountPerLeaf { get; init; } = 50;
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Share of the features each tree may use (1: all).</summary>
    public double FeatureFraction { get; init; } = 1.0;
    /// <summary>Search the learner's settings by cross-validation before training (<see cref="ModelTuning"/>).</summary>
    public bool Tune { get; init; }
    /// <summary>The search stops starting candidates after this long (the baselines are always tried).</summary>
    public double TuneSeconds { get; init; } = 120;
    /// <summary>At most this many candidates, baselines included.</summary>
    public int TuneTrials { get; init; } = 40;
    /// <summary>The learners the search draws from.</summary>
    public IReadOnlyList<Learner> TuneLearners { get; init; } = [Learner.FastTree, Learner.LightGbm];
    /// <summary>Cross-validation folds of the search.</summary>
    public int Folds { get; init; } = 5;
    /// <summary>CSV only: the label value that counts as positive (default: 1, true, yes); any other value is negative.</summary>
    public string? PositiveLabel { get; init; }

    /// <summary>The learner settings these options give (what the search starts from).</summary>
    public LearnerSettings Settings => new(Learner, NumberOfTrees, NumberOfLeaves, LearningRate, MinimumExampleCountPerLeaf, FeatureFraction);
    /// <summary>Threads the learner may use (null: ML.NET's default, every core).</summary>
    public int? Threads { get; init; }
    /// <summary>The label definition the rows were built with (recorded in the model and the report).</summary>
    public LabelDefinition LabelDefinition { get; init; } = new();
    /// <summary>Version string stored in the model (default: the learner and a hash of the trained model).</summary>
    public string? Version { get; init; }
    /// <summary>When it was trained, kept in the model file (the CLI gives the time; null keeps the file byte-for-byte reproducible).</summary>
    public DateTimeOffset? TrainedAt { get; init; }
    /// <summary>Evaluation rows sampled (seeded) for permutation feature importance; 0 skips it.</summary>
    public int ImportanceSampleRows { get; init; } = 20_000;
    /// <summary>CSV only: the column holding each row's time, for a time split (default: ScoringDate when present).</summary>
    public string? TimeColumn { get; init; }
    /// <summary>CSV only: columns never to use as features (identifiers, outcomes, anything known only later).</summary>
    public IReadOnlyList<string> ExcludeColumns { get; init; } = [];
}

public sealed record TrainingResult
{
    public required PaymentModel Model { get; init; }
    public required EvaluationReport Report { get; init; }
}

/// <summary>
/// Trains a payment-likelihood model: gradient-boosted trees on the earliest rows, a Platt calibration of their score on
/// the rows after those, and an evaluation of the calibrated model on the latest rows (<see cref="EvaluationReport"/>).
/// The model returned is exactly the one evaluated (loaded back from its own bytes).
/// </summary>
public static class ModelTrainer
{
    public static TrainingResult Train(IReadOnlyList<TrainingRow> rows, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        return Train(LabelledData.From(rows), options);
    }

    /// <summary>
    /// Trains on any labelled CSV (header row, comma-separated, RFC 4180 quoting). <paramref name="labelColumn"/> (any
    /// case) is the label: 1/0, true/false or yes/no. Every other column is a feature when all its non-empty values are
    /// numbers (invariant culture; true/false count as 1/0; empty cells are missing values). Columns with any other text
    /// (identifiers, names, dates) are not features and the report lists them, as it lists
    /// <see cref="TrainingOptions.ExcludeColumns"/>. The columns of <see cref="TrainingSet"/>'s CSV are recognised:
    /// ScoringDate orders a time split (or <see cref="TrainingOptions.TimeColumn"/>), BalanceAtScoring and
    /// CollectedInWindow fill the decile table's dollars, TrueProbability gives the true-probability AUC; none of them is
    /// ever a feature. Bad input: <see cref="FormatException"/> naming the file, line and column.
    /// </summary>
    public static TrainingResult TrainFromCsv(string path, string labelColumn, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(labelColumn);
        ArgumentNullException.ThrowIfNull(options);
        return Train(LabelledData.ReadCsv(path, labelColumn, options), options);
    }

    internal static TrainingResult Train(LabelledData data, TrainingOptions options)
    {
        if (options.TestFraction is <= 0 or >= 1 || options.CalibrationFraction is <= 0 || options.TestFraction + options.CalibrationFraction >= 0.9)
            throw new ArgumentException("TestFraction and CalibrationFraction must be positive and leave most rows for training.", nameof(options));
        if (options.Tune && options.Folds is < 2 or > 20)
            throw new ArgumentException("Folds must be between 2 and 20.", nameof(options));
        var positives = data.Labels.Count(l => l);
        if (positives == 0 || positives == data.Count)
            throw new ArgumentException(positives == 0
                ? $"No row has the label (0 of {data.Count} rows): a model needs both paying and non-paying accounts. Export a longer period, or check the label column."
                : $"Every row has the label ({data.Count} of {data.Count}): a model needs both paying and non-paying accounts. Export a longer period, or check the label column.", nameof(data));
        if (options.Tune && Math.Min(positives, data.Count - positives) < 2 * options.Folds)
            throw new ArgumentException($"The search needs at least {2 * options.Folds} rows of each outcome for {options.Folds} folds ({positives} positive, {data.Count - positives} negative).", nameof(data));
        // Missing values become a value of their own below the rest, in training and (by the model) in scoring: FastTree
        // would leave every row with one out of training, and the tuner reads the trees exactly as the model scores.
        var fill = data.MissingFill();
        var raw = data; // the medians and the feature profiles describe the values as they come, missing ones as missing
        data = data.WithFilled(fill);
        var split = Split(data, options);
        foreach (var (name, rows) in new[] { ("training", split.Train), ("calibration", split.Calibration), ("evaluation", split.Test) })
            if (!rows.Any(i => data.Labels[i]) || rows.All(i => data.Labels[i]))
                throw new ArgumentException($"The {name} rows ({rows.Length}) need both paying and non-paying accounts; give more rows.", nameof(data));

        // With a search, the chosen settings learn from the training and calibration rows together, and the calibration
        // is fitted on the search's out-of-fold scores of those rows; without one, trees on the training rows, Platt on
        // the calibration rows.
        var chosen = options.Settings;
        ModelTuning.Result? tuning = null;
        var fitRows = split.Train;
        if (options.Tune)
        {
            fitRows = [.. split.Train.Concat(split.Calibration).Order()];
            tuning = ModelTuning.Search(data, fitRows, options);
            chosen = tuning.Chosen;
        }
        var ml = new MLContext(seed: options.Seed);
        var trainView = MlRows.View(ml, data, fitRows);
        var predictor = chosen.Trainer(ml, options.Seed, options.Threads).Fit(trainView);
        var settings = $"{chosen.Describe()}; seed {options.Seed}";
        byte[] bytes;
        using (var stream = new MemoryStream())
        {
            ml.Model.Save(predictor, trainView.Schema, stream);
            bytes = stream.ToArray();
        }
        var learner = LearnerSettings.Name(chosen.Learner);
        var metadata = new ModelMetadata
        {
            Version = "", Learner = learner, FeatureNames = data.FeatureNames, Medians = Medians(raw, fitRows), MissingFill = fill,
            Label = options.LabelDefinition, Calibration = new PlattCalibration(1, 0),
        };
        using var uncalibrated = PaymentModel.Create(bytes, metadata);
        var version = options.Version ?? $"{learner.ToLowerInvariant()}-{Convert.ToHexStringLower(uncalibrated.Fingerprint())[..12]}";

        var calibration = tuning is not null
            ? PlattCalibration.Fit(tuning.OutOfFoldScores, [.. fitRows.Select(i => data.Labels[i])])
            : PlattCalibration.Fit(uncalibrated.RawScores(Gather(data, split.Calibration), split.Calibration.Length), [.. split.Calibration.Select(i => data.Labels[i])]);

        var testRaw = uncalibrated.RawScores(Gather(data, split.Test), split.Test.Length);
        var probabilities = testRaw.Select(calibration.Probability).ToArray();
        var labels = split.Test.Select(i => data.Labels[i]).ToArray();
        double? trueAuc = null, trueBrier = null;
        if (data.TrueProbabilities is { } truth && split.Test.All(i => truth[i] is not null))
        {
            var known = split.Test.Select(i => truth[i]!.Value).ToArray();
            trueAuc = Metrics.Auc(known, labels);
            trueBrier = Metrics.Brier(known, labels);
        }
        var (importance, importanceRows) = PermutationImportance(uncalibrated, data, split.Test, options);
        var tuningReport = tuning?.Report;
        if (tuningReport is not null)
        {
            // The baselines trained on the same rows and scored on the evaluation rows: a comparison the search cannot flatter.
            double TestAuc(LearnerSettings baseline)
            {
                var context = new MLContext(seed: options.Seed);
                var fitted = baseline.Trainer(context, options.Seed, options.Threads).Fit(MlRows.View(context, data, fitRows));
                return Metrics.Auc(ModelTuning.RawScores(context, fitted, data, split.Test), labels);
            }
            tuningReport = tuningReport with
            {
                FastTreeDefaultsTestAuc = TestAuc(LearnerSettings.FastTreeDefaults), LightGbmDefaultsTestAuc = TestAuc(LearnerSettings.LightGbmDefaults),
            };
        }
        var report = new EvaluationReport
        {
            Auc = Metrics.Auc(probabilities, labels),
            PrAuc = Metrics.PrAuc(probabilities, labels),
            LogLoss = Metrics.LogLoss(probabilities, labels),
            Brier = Metrics.Brier(probabilities, labels),
            Ece = Metrics.Ece(probabilities, labels),
            EceByChance = Metrics.EceByChance(probabilities, seed: options.Seed),
            TrueProbabilityAuc = trueAuc,
            TrueProbabilityBrier = trueBrier,
            Calibration = Metrics.Calibration(probabilities, labels),
            Deciles = Metrics.Deciles(probabilities, labels,
                data.Balances is { } b ? [.. split.Test.Select(i => b[i])] : null,
                data.Collected is { } c ? [.. split.Test.Select(i => c[i])] : null),
            FeatureImportance = importance,
            ImportanceRows = importanceRows,
            TrainRows = split.Train.Length,
            CalibrationRows = split.Calibration.Length,
            TestRows = split.Test.Length,
            TrainPositiveRate = split.Train.Count(i => data.Labels[i]) / (double)split.Train.Length,
            TestPositiveRate = labels.Count(l => l) / (double)labels.Length,
            Split = split.Description,
            TimeSplitBoundary = split.TestFrom,
            CalibrationBoundary = split.CalibrationFrom,
            Learner = learner,
            LearnerSettings = settings,
            LabelDefinition = options.LabelDefinition.ToString(),
            ModelVersion = version,
            FeatureCount = data.Width,
            IgnoredColumns = data.IgnoredColumns,
            FeatureProfiles = [.. raw.FeatureNames.Select((name, j) => FeatureProfile.Of(name, fitRows.Select(i => raw.Features[i * raw.Width + j])))],
            Columns = data.Columns,
            SkippedRows = data.SkippedRows,
            PositiveClass = data.PositiveClass,
            HasAmounts = data.HasAmounts,
            SplitSeed = options.SplitSeed,
            CalibrationShare = options.CalibrationFraction,
            Tuning = tuningReport,
            PlattCalibration = calibration,
        };
        return new TrainingResult { Model = uncalibrated.With(version, calibration, report, options.TrainedAt), Report = report };
    }

    private sealed record SplitRows(int[] Train, int[] Calibration, int[] Test, string Description, DateTimeOffset? CalibrationFrom, DateTimeOffset? TestFrom);

    private static SplitRows Split(LabelledData data, TrainingOptions options)
    {
        var n = data.Count;
        if (options.Split == SplitKind.Time && data.Dates is { } dates)
        {
            var distinct = dates.Distinct().Order().ToArray();
            if (distinct.Length >= 3)
            {
                var perDate = dates.GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
                // From the latest date back: the evaluation dates until they hold TestFraction of the rows, then the calibration dates.
                int k = distinct.Length - 1, taken = 0;
                while (k > 1 && taken < options.TestFraction * n) taken += perDate[distinct[k--]];
                var testFrom = distinct[k + 1];
                var calibrationTaken = 0;
                while (k > 0 && calibrationTaken < options.CalibrationFraction * n) calibrationTaken += perDate[distinct[k--]];
                var calibrationFrom = distinct[k + 1];
                var train = Enumerable.Range(0, n).Where(i => dates[i] < calibrationFrom).ToArray();
                var calibration = Enumerable.Range(0, n).Where(i => dates[i] >= calibrationFrom && dates[i] < testFrom).ToArray();
                var test = Enumerable.Range(0, n).Where(i => dates[i] >= testFrom).ToArray();
                var inv = CultureInfo.InvariantCulture;
                return new SplitRows(train, calibration, test,
                    string.Create(inv, $"time ({data.TimeColumn}): training before {Day(calibrationFrom)}, calibration {Day(calibrationFrom)} to before {Day(testFrom)}, evaluation from {Day(testFrom)} to {Day(distinct[^1])}"),
                    calibrationFrom, testFrom);
            }
        }
        var why = options.Split == SplitKind.Random ? "as asked"
            : data.Dates is null ? "no time column" : "fewer than three distinct times";
        // Stratified: each outcome is shuffled (split seed) and shared out in the same proportions.
        var random = new Random(options.SplitSeed);
        List<int> trainRows = [], calibrationRows = [], testRows = [];
        foreach (var outcome in new[] { true, false })
        {
            var group = Enumerable.Range(0, n).Where(i => data.Labels[i] == outcome).ToArray();
            random.Shuffle(group);
            var testCount = (int)Math.Round(options.TestFraction * group.Length);
            var calibrationCount = (int)Math.Round(options.CalibrationFraction * group.Length);
            testRows.AddRange(group.Take(testCount));
            calibrationRows.AddRange(group.Skip(testCount).Take(calibrationCount));
            trainRows.AddRange(group.Skip(testCount + calibrationCount));
        }
        return new SplitRows([.. trainRows.Order()], [.. calibrationRows.Order()], [.. testRows.Order()],
            string.Create(CultureInfo.InvariantCulture, $"random, stratified by label, split seed {options.SplitSeed} ({why}): {options.TestFraction:P0} evaluation, {options.CalibrationFraction:P0} calibration"),
            null, null);

        static string Day(DateTimeOffset d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary>Each feature's median over the training rows, ignoring missing values (NaN when a feature has none).</summary>
    private static float[] Medians(LabelledData data, int[] rows)
    {
        var medians = new float[data.Width];
        var column = new List<float>(rows.Length);
        for (var j = 0; j < data.Width; j++)
        {
            column.Clear();
            foreach (var i in rows)
            {
                var v = data.Features[i * data.Width + j];
                if (!float.IsNaN(v)) column.Add(v);
            }
            if (column.Count == 0)
            {
                medians[j] = float.NaN;
                continue;
            }
            column.Sort();
            medians[j] = column[(column.Count - 1) / 2];
        }
        return medians;
    }

    private static float[] Gather(LabelledData data, int[] rows)
    {
        var matrix = new float[rows.Length * data.Width];
        for (var k = 0; k < rows.Length; k++) data.Row(rows[k]).CopyTo(matrix.AsSpan(k * data.Width, data.Width));
        return matrix;
    }

    /// <summary>
    /// For each feature: the evaluation AUC with the feature's column shuffled among a seeded sample of evaluation rows,
    /// subtracted from the AUC of the same rows unshuffled. Calibration is monotone, so raw scores give the same AUC.
    /// </summary>
    private static (IReadOnlyList<FeatureImportance>, int) PermutationImportance(PaymentModel model, LabelledData data, int[] test, TrainingOptions options)
    {
        if (options.ImportanceSampleRows <= 0) return ([], 0);
        var rows = test;
        if (rows.Length > options.ImportanceSampleRows)
        {
            rows = [.. test];
            new Random(options.Seed + 1).Shuffle(rows);
            rows = rows[..options.ImportanceSampleRows];
        }
        var matrix = Gather(data, rows);
        var labels = rows.Select(i => data.Labels[i]).ToArray();
        var baseline = Metrics.Auc(model.RawScores(matrix, rows.Length), labels);
        var width = data.Width;
        var result = new List<FeatureImportance>(width);
        var permuted = new float[matrix.Length];
        var order = new int[rows.Length];
        for (var j = 0; j < width; j++)
        {
            Array.Copy(matrix, permuted, matrix.Length);
            for (var k = 0; k < order.Length; k++) order[k] = k;
            new Random(options.Seed * 7919 + j).Shuffle(order);
            for (var k = 0; k < rows.Length; k++) permuted[k * width + j] = matrix[order[k] * width + j];
            result.Add(new FeatureImportance(data.FeatureNames[j], baseline - Metrics.Auc(model.RawScores(permuted, rows.Length), labels)));
        }
        return ([.. result.OrderByDescending(f => f.AucDrop).ThenBy(f => f.Feature, StringComparer.Ordinal)], rows.Length);
    }
}
