namespace Collections.Scoring;

/// <summary>The gradient-boosted tree learner.</summary>
public enum Learner
{
    FastTree,
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
    public int Seed { get; init; } = 1;
    public SplitKind Split { get; init; } = SplitKind.Time;
    /// <summary>Share of rows (the latest scoring dates for a time split) held out for evaluation.</summary>
    public double TestFraction { get; init; } = 0.25;
    /// <summary>Share of rows (just before the test rows for a time split) that fit the Platt calibrator.</summary>
    public double CalibrationFraction { get; init; } = 0.15;
    public int NumberOfTrees { get; init; } = 200;
    public int NumberOfLeaves { get; init; } = 20;
    public int MinimumExampleCountPerLeaf { get; init; } = 50;
    public double LearningRate { get; init; } = 0.1;
    /// <summary>The label definition the rows were built with (recorded in the model and the report).</summary>
    public LabelDefinition LabelDefinition { get; init; } = new();
    /// <summary>Version string stored in the model (default: learner and training time).</summary>
    public string? Version { get; init; }
    /// <summary>Rows sampled for permutation feature importance (the rest of the test slice is not permuted).</summary>
    public int ImportanceSampleRows { get; init; } = 20_000;
}

public sealed record TrainingResult
{
    public required PaymentModel Model { get; init; }
    public required EvaluationReport Report { get; init; }
}

/// <summary>Trains a calibrated payment-likelihood model and evaluates it on a held-out time slice.</summary>
public static class ModelTrainer
{
    public static TrainingResult Train(IReadOnlyList<TrainingRow> rows, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        throw new NotImplementedException();
    }

    /// <summary>Trains on any labelled CSV: <paramref name="labelColumn"/> is the label, every other numeric column a feature.</summary>
    public static TrainingResult TrainFromCsv(string path, string labelColumn, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(labelColumn);
        ArgumentNullException.ThrowIfNull(options);
        throw new NotImplementedException();
    }
}
