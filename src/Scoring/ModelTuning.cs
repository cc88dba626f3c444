using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Collections.Scoring;

/// <summary>
/// One learner's settings. A null means the library's own default (how ML.NET's defaults are tried as baselines).
/// </summary>
public sealed record LearnerSettings(Learner Learner, int? Trees, int? Leaves, double? LearningRate, int? MinimumRowsPerLeaf, double? FeatureFraction)
{
    /// <summary>ML.NET's FastTree and LightGBM as they come: the baselines a tuned model must beat.</summary>
    public static readonly LearnerSettings FastTreeDefaults = new(Learner.FastTree, null, null, null, null, null);
    public static readonly LearnerSettings LightGbmDefaults = new(Learner.LightGbm, null, null, null, null, null);

    public bool IsLibraryDefault => Trees is null && Leaves is null && LearningRate is null && MinimumRowsPerLeaf is null && FeatureFraction is null;

    public string Describe() => IsLibraryDefault
        ? $"{Name(Learner)} with ML.NET's defaults"
        : string.Create(CultureInfo.InvariantCulture,
            $"{Name(Learner)}: {Trees} trees, {Leaves} leaves, at least {MinimumRowsPerLeaf} rows per leaf, learning rate {LearningRate:0.####}, feature fraction {FeatureFraction:0.##}");

    public static string Name(Learner learner) => learner == Learner.LightGbm ? "LightGBM" : "FastTree";

    /// <summary>The trainer for these settings (threads and seed from the options).</summary>
    internal IEstimator<ITransformer> Trainer(MLContext ml, int seed, int? threads)
    {
        if (Learner == Learner.LightGbm)
        {
            var options = new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = nameof(FeatureRow.Label), FeatureColumnName = nameof(FeatureRow.Features),
                Seed = seed, NumberOfThreads = threads, Silent = true, Verbose = false, Deterministic = true,
            };
            if (Trees is { } trees) options.NumberOfIterations = trees;
            if (Leaves is { } leaves) options.NumberOfLeaves = leaves;
            if (LearningRate is { } rate) options.LearningRate = rate;
            if (MinimumRowsPerLeaf is { } rows) options.MinimumExampleCountPerLeaf = rows;
            if (FeatureFraction is { } fraction) options.Booster = new GradientBooster.Options { FeatureFraction = fraction };
            return ml.BinaryClassification.Trainers.LightGbm(options);
        }
        var fastTree = new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = nameof(FeatureRow.Label), FeatureColumnName = nameof(FeatureRow.Features), Seed = seed, NumberOfThreads = threads,
        };
        if (Trees is { } t) fastTree.NumberOfTrees = t;
        if (Leaves is { } l) fastTree.NumberOfLeaves = l;
        if (LearningRate is { } r) fastTree.LearningRate = r;
        if (MinimumRowsPerLeaf is { } m) fastTree.MinimumExampleCountPerLeaf = m;
        if (FeatureFraction is { } f) fastTree.FeatureFraction = f;
        return ml.BinaryClassification.Trainers.FastTree(fastTree);
    }
}

/// <summary>One candidate's cross-validated result.</summary>
public sealed record TuningTrial(string Settings, double CvAuc, int Trees, bool Baseline);

/// <summary>What the search chose and what it was compared with (the report keeps it).</summary>
public sealed record TuningReport
{
    public required int Folds { get; init; }
    public required int Rows { get; init; }
    public required double Seconds { get; init; }
    public required double BudgetSeconds { get; init; }
    public required int Seed { get; init; }
    public required string Chosen { get; init; }
    public required double CvAuc { get; init; }
    /// <summary>The calibration error of the chosen settings' out-of-fold probabilities, each fold calibrated by a Platt fitted on the other folds' scores.</summary>
    public required double CvEce { get; init; }
    /// <summary>What a perfectly calibrated model would show on as many rows by chance (<see cref="Metrics.EceByChance"/>).</summary>
    public required double CvEceByChance { get; init; }
    public required double? FastTreeDefaultsCvAuc { get; init; }
    public required double? LightGbmDefaultsCvAuc { get; init; }
    public required IReadOnlyList<TuningTrial> Trials { get; init; }
    /// <summary>What ended the search: "trials" (then the choice is the same for the same data and seeds) or "time" (it depends on the machine's speed).</summary>
    public required string StoppedBy { get; init; }
    /// <summary>The two baselines trained on the same rows and scored on the evaluation rows, like the chosen model (unbiased by the search).</summary>
    public double? FastTreeDefaultsTestAuc { get; init; }
    public double? LightGbmDefaultsTestAuc { get; init; }
}

/// <summary>
/// The settings search: each candidate (the configured settings, ML.NET's FastTree and LightGBM defaults as baselines,
/// then random settings drawn with the seed) scored by stratified k-fold cross-validation AUC on the rows the final
/// model will learn from, with early stopping: each fold's model is read tree by tree and the ensemble size with the
/// best mean held-out AUC is kept. Stops at the time budget (after the baselines) or the trial limit.
/// </summary>
internal static class ModelTuning
{
    /// <summary>Ensemble sizes are compared every this many trees.</summary>
    public const int Step = 25;

    internal sealed record Result(LearnerSettings Chosen, double[] OutOfFoldScores, TuningReport Report);

    public static Result Search(LabelledData data, int[] rows, TrainingOptions options)
    {
        var clock = Stopwatch.StartNew();
        var folds = StratifiedFolds(data, rows, options.Folds, options.SplitSeed);
        var random = new Random(options.Seed);
        var trials = new List<(TuningTrial Trial, LearnerSettings Settings, double[] Oof)>();
        var candidates = new List<(LearnerSettings, bool)>
        {
            (options.Settings, false),
            (LearnerSettings.FastTreeDefaults, true),
            (LearnerSettings.LightGbmDefaults, true),
        };
        var stoppedBy = "trials";
        for (var k = 0; k < options.TuneTrials; k++)
        {
            if (k >= 3 && clock.Elapsed.TotalSeconds >= options.TuneSeconds)
            {
                stoppedBy = "time";
                break;
            }
            var (settings, baseline) = k < candidates.Count ? candidates[k] : (Draw(random, options), false);
            var (auc, trees, oof) = CrossValidate(data, rows, folds, settings, earlyStopping: !baseline, options);
            trials.Add((new TuningTrial(settings.Describe(), auc, trees, baseline), settings with { Trees = baseline ? settings.Trees : trees }, oof));
        }
        // A baseline may win: then it is what ships.
        var best = trials.Where(t => !double.IsNaN(t.Trial.CvAuc)).MaxBy(t => t.Trial.CvAuc);
        var labels = rows.Select(i => data.Labels[i]).ToArray();
        var probabilities = CrossFittedProbabilities(rows, folds, best.Oof, labels);
        var report = new TuningReport
        {
            Folds = options.Folds, Rows = rows.Length, Seconds = clock.Elapsed.TotalSeconds, BudgetSeconds = options.TuneSeconds, Seed = options.Seed,
            Chosen = best.Settings.Describe(), CvAuc = best.Trial.CvAuc,
            CvEce = Metrics.Ece(probabilities, labels),
            CvEceByChance = Metrics.EceByChance(probabilities, seed: options.Seed),
            FastTreeDefaultsCvAuc = trials.FirstOrDefault(t => t.Settings == LearnerSettings.FastTreeDefaults).Trial?.CvAuc,
            LightGbmDefaultsCvAuc = trials.FirstOrDefault(t => t.Settings == LearnerSettings.LightGbmDefaults).Trial?.CvAuc,
            Trials = [.. trials.Select(t => t.Trial)],
            StoppedBy = stoppedBy,
        };
        return new Result(best.Settings, best.Oof, report);
    }

    /// <summary>Each fold's out-of-fold scores calibrated by a Platt fitted on the other folds' (an honest calibration error).</summary>
    private static double[] CrossFittedProbabilities(int[] rows, int[][] folds, double[] oof, bool[] labels)
    {
        var position = new Dictionary<int, int>(rows.Length);
        for (var k = 0; k < rows.Length; k++) position[rows[k]] = k;
        var probabilities = new double[rows.Length];
        foreach (var fold in folds)
        {
            var inFold = fold.Select(i => position[i]).ToHashSet();
            var others = Enumerable.Range(0, rows.Length).Where(k => !inFold.Contains(k)).ToArray();
            var platt = PlattCalibration.Fit([.. others.Select(k => oof[k])], [.. others.Select(k => labels[k])]);
            foreach (var k in inFold) probabilities[k] = platt.Probability(oof[k]);
        }
        return probabilities;
    }

    /// <summary>Random settings: log-uniform learning rate, trees enough for it, leaves, rows per leaf and feature fraction from usual ranges.</summary>
    private static LearnerSettings Draw(Random random, TrainingOptions options)
    {
        var learner = options.TuneLearners[random.Next(options.TuneLearners.Count)];
        var rate = Math.Exp(Math.Log(0.01) + random.NextDouble() * (Math.Log(0.2) - Math.Log(0.01)));
        var trees = (int)Math.Clamp(Math.Round(40 / rate / Step) * Step, 100, 1500);
        int[] leaves = [4, 8, 16, 31, 64];
        int[] minimum = [5, 10, 20, 50, 100, 200];
        double[] fractions = [0.5, 0.7, 0.85, 1.0];
        return new LearnerSettings(learner, trees, leaves[random.Next(leaves.Length)], Math.Round(rate, 4), minimum[random.Next(minimum.Length)], fractions[random.Next(fractions.Length)]);
    }

    /// <summary>
    /// Mean held-out AUC over the folds, the ensemble size it was best at (every <see cref="Step"/> trees when the trees
    /// can be read, else all of them), and every row's held-out raw score at that size.
    /// </summary>
    private static (double Auc, int Trees, double[] Oof) CrossValidate(LabelledData data, int[] rows, int[][] folds, LearnerSettings settings, bool earlyStopping, TrainingOptions options)
    {
        var position = new Dictionary<int, int>(rows.Length);
        for (var k = 0; k < rows.Length; k++) position[rows[k]] = k;
        var staged = new List<double[][]>(); // fold → stage → scores of the fold's rows
        var stageCounts = new List<int>();
        for (var f = 0; f < folds.Length; f++)
        {
            var held = folds[f];
            var heldSet = held.ToHashSet();
            var train = rows.Where(i => !heldSet.Contains(i)).ToArray();
            var ml = new MLContext(seed: options.Seed);
            var view = MlRows.View(ml, data, train);
            var predictor = settings.Trainer(ml, options.Seed, options.Threads).Fit(view);
            var trees = earlyStopping ? TreeEvaluator.TryCreate(predictor, data.Width) : null;
            if (trees is null)
            {
                staged.Add([RawScores(ml, predictor, data, held)]);
                stageCounts.Add(1);
                continue;
            }
            var count = trees.StageCount(Step);
            var scores = Enumerable.Range(0, count).Select(_ => new double[held.Length]).ToArray();
            Span<double> stages = new double[count];
            for (var k = 0; k < held.Length; k++)
            {
                trees.StagedScores(data.Row(held[k]), Step, stages);
                for (var s = 0; s < count; s++) scores[s][k] = stages[s];
            }
            staged.Add(scores);
            stageCounts.Add(count);
        }
        var common = stageCounts.Min();
        var bestStage = common - 1;
        var bestAuc = double.NegativeInfinity;
        for (var s = 0; s < common; s++)
        {
            var auc = Enumerable.Range(0, folds.Length).Average(f => Metrics.Auc(staged[f][Math.Min(s, staged[f].Length - 1)], [.. folds[f].Select(i => data.Labels[i])]));
            if (auc > bestAuc) (bestAuc, bestStage) = (auc, s);
        }
        var oof = new double[rows.Length];
        for (var f = 0; f < folds.Length; f++)
            for (var k = 0; k < folds[f].Length; k++)
                oof[position[folds[f][k]]] = staged[f][Math.Min(bestStage, staged[f].Length - 1)][k];
        var treesUsed = common == 1 ? settings.Trees ?? 0 : Math.Min((bestStage + 1) * Step, settings.Trees ?? int.MaxValue);
        return (bestAuc, treesUsed, oof);
    }

    /// <summary>ML.NET's own raw scores of <paramref name="rows"/>.</summary>
    internal static double[] RawScores(MLContext ml, ITransformer predictor, LabelledData data, int[] rows)
    {
        var scored = predictor.Transform(MlRows.View(ml, data, rows));
        return [.. ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false).Select(r => (double)r.Score)];
    }

    /// <summary><paramref name="k"/> folds of <paramref name="rows"/>, each with its share of positives and negatives (seeded).</summary>
    public static int[][] StratifiedFolds(LabelledData data, int[] rows, int k, int seed)
    {
        var random = new Random(seed);
        var folds = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        var next = 0; // the second outcome continues where the first left off, so the folds differ in size by one at most
        foreach (var outcome in new[] { true, false })
        {
            var group = rows.Where(i => data.Labels[i] == outcome).ToArray();
            random.Shuffle(group);
            foreach (var row in group) folds[next++ % k].Add(row);
        }
        return [.. folds.Select(f => f.Order().ToArray())];
    }
}
