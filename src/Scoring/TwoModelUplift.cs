using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace Collections.Scoring;

/// <summary>Boosted-tree settings for the dollar regressions.</summary>
public sealed record RegressionSettings
{
    public int Trees { get; init; } = 200;
    public int Leaves { get; init; } = 16;
    public int MinimumRowsPerLeaf { get; init; } = 50;
    public double LearningRate { get; init; } = 0.05;
    public int Seed { get; init; } = 1;
}

/// <summary>A boosted-tree regression of the dollars an account pays in the outcome window on its features.</summary>
public sealed class ExpectedDollars
{
    private sealed class RegressionRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    private sealed class RegressionScore
    {
        public float Score { get; set; }
    }

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly int _width;

    private ExpectedDollars(MLContext ml, ITransformer model, int width) => (_ml, _model, _width) = (ml, model, width);

    public static ExpectedDollars Train(IEnumerable<(float[] Features, double Dollars)> rows, int width, RegressionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        settings ??= new RegressionSettings();
        var ml = new MLContext(settings.Seed);
        var view = ml.Data.LoadFromEnumerable(rows.Select(r => new RegressionRow { Features = r.Features, Label = (float)r.Dollars }), MlRows.Schema<RegressionRow>(width));
        var model = ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
        {
            NumberOfTrees = settings.Trees, NumberOfLeaves = settings.Leaves, MinimumExampleCountPerLeaf = settings.MinimumRowsPerLeaf,
            LearningRate = settings.LearningRate, FeatureColumnName = nameof(RegressionRow.Features), LabelColumnName = nameof(RegressionRow.Label),
        }).Fit(view);
        return new ExpectedDollars(ml, model, width);
    }

    public double[] Predict(IReadOnlyList<float[]> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var view = _ml.Data.LoadFromEnumerable(features.Select(f => new RegressionRow { Features = f }), MlRows.Schema<RegressionRow>(_width));
        return [.. _ml.Data.CreateEnumerable<RegressionScore>(_model.Transform(view), reuseRowObject: false).Select(s => (double)s.Score)];
    }
}

/// <summary>
/// The two-model (T-learner) uplift estimate: the expected dollars of the treated accounts and of the control accounts
/// learnt separately; the expected incremental dollars of treating an account is the first less the second. It needs
/// outcomes from a randomised control group (<c>ControlGroups</c>): trained on accounts chosen for treatment by their
/// score, it would learn the selection, not the effect.
/// </summary>
public sealed class TwoModelUplift
{
    private readonly ExpectedDollars _treated, _control;

    private TwoModelUplift(ExpectedDollars treated, ExpectedDollars control) => (_treated, _control) = (treated, control);

    /// <param name="features">One vector per account, all the same length.</param>
    /// <param name="control">True for a control account (baseline only).</param>
    /// <param name="dollars">What each account paid in the outcome window.</param>
    public static TwoModelUplift Train(IReadOnlyList<float[]> features, IReadOnlyList<bool> control, IReadOnlyList<double> dollars, RegressionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(dollars);
        settings ??= new RegressionSettings();
        if (features.Count != control.Count || features.Count != dollars.Count) throw new ArgumentException("features, groups and outcomes must have one entry per account");
        var controls = control.Count(c => c);
        var treated = control.Count - controls;
        if (controls < 2 * settings.MinimumRowsPerLeaf || treated < 2 * settings.MinimumRowsPerLeaf)
            throw new ArgumentException($"Each group needs at least {2 * settings.MinimumRowsPerLeaf} accounts to learn from ({treated} treated, {controls} control).");
        var width = features[0].Length;
        ExpectedDollars Fit(bool group) =>
            ExpectedDollars.Train(Enumerable.Range(0, features.Count).Where(i => control[i] == group).Select(i => (features[i], dollars[i])), width, settings);
        return new TwoModelUplift(Fit(false), Fit(true));
    }

    /// <summary>Expected dollars if treated, if kept to the baseline, and the difference (the uplift), per account.</summary>
    public IReadOnlyList<(double Treated, double Control, double Uplift)> Predict(IReadOnlyList<float[]> features)
    {
        var treated = _treated.Predict(features);
        var control = _control.Predict(features);
        return [.. treated.Select((t, i) => (t, control[i], t - control[i]))];
    }
}
