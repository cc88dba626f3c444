namespace Collections.Scoring;

public sealed record CalibrationBin(double Lower, double Upper, double MeanPredicted, double ObservedRate, int Count);

public sealed record DecileRow(int Decile, int Count, double MeanScore, double PositiveRate, double Lift, decimal PatientBalance, decimal CapturedDollars);

public sealed record FeatureImportance(string Feature, double AucDrop);

/// <summary>How a model did on the held-out rows.</summary>
public sealed record EvaluationReport
{
    public double Auc { get; init; }
    public double PrAuc { get; init; }
    public double LogLoss { get; init; }
    public double Brier { get; init; }
    /// <summary>AUC of the true probabilities on the same rows, when known (synthetic data): the best any model can do.</summary>
    public double? TrueProbabilityAuc { get; init; }
    public IReadOnlyList<CalibrationBin> Calibration { get; init; } = [];
    public IReadOnlyList<DecileRow> Deciles { get; init; } = [];
    public IReadOnlyList<FeatureImportance> FeatureImportance { get; init; } = [];
    public int TrainRows { get; init; }
    public int CalibrationRows { get; init; }
    public int TestRows { get; init; }
    public double TestPositiveRate { get; init; }
    /// <summary>For a time split: the first scoring date of the test rows.</summary>
    public DateTimeOffset? TimeSplitBoundary { get; init; }
    public string Learner { get; init; } = "";
    public string LabelDefinition { get; init; } = "";

    public string ToText() => $"AUC {Auc}";
    public string ToJson() => $"{{\"auc\": {Auc}}}";
    public void WriteChartPng(string path) => File.WriteAllText(path, ToText());
}
