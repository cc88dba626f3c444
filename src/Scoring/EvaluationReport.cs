using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Collections.Scoring;

/// <summary>One bin of the calibration table: predictions in [Lower, Upper), their mean, the observed positive rate, the number of rows.</summary>
public sealed record CalibrationBin(double Lower, double Upper, double MeanPredicted, double ObservedRate, int Count);

/// <summary>
/// One tenth of the evaluation rows by score (decile 1: the highest scores): rows, mean score, positive rate, lift over
/// the overall rate, patient balance at scoring, and dollars collected in the label window (what working this tenth captured).
/// </summary>
public sealed record DecileRow(int Decile, int Count, double MeanScore, double PositiveRate, double Lift, decimal PatientBalance, decimal CapturedDollars);

/// <summary>How much the evaluation AUC drops when a feature's values are shuffled among the rows (permutation importance).</summary>
public sealed record FeatureImportance(string Feature, double AucDrop);

/// <summary>How a model did on the held-out rows. <see cref="ToText"/> is what <c>collections model train</c> prints.</summary>
public sealed record EvaluationReport
{
    public double Auc { get; init; }
    /// <summary>Area under the precision-recall curve (average precision).</summary>
    public double PrAuc { get; init; }
    /// <summary>Mean negative natural log-likelihood of the outcomes (nats).</summary>
    public double LogLoss { get; init; }
    public double Brier { get; init; }
    /// <summary>AUC of the true probabilities on the same rows, when known (synthetic data): the best any model can do.</summary>
    public double? TrueProbabilityAuc { get; init; }
    /// <summary>Brier score of the true probabilities on the same rows, when known.</summary>
    public double? TrueProbabilityBrier { get; init; }
    public IReadOnlyList<CalibrationBin> Calibration { get; init; } = [];
    public IReadOnlyList<DecileRow> Deciles { get; init; } = [];
    /// <summary>Every feature, largest AUC drop first.</summary>
    public IReadOnlyList<FeatureImportance> FeatureImportance { get; init; } = [];
    /// <summary>Evaluation rows the importance was measured on (a seeded sample when there are many).</summary>
    public int ImportanceRows { get; init; }
    public int TrainRows { get; init; }
    public int CalibrationRows { get; init; }
    public int TestRows { get; init; }
    public double TrainPositiveRate { get; init; }
    public double TestPositiveRate { get; init; }
    /// <summary>"time" or "random" and how the rows were cut.</summary>
    public string Split { get; init; } = "";
    /// <summary>For a time split: the first scoring date of the evaluation rows (training rows are all earlier).</summary>
    public DateTimeOffset? TimeSplitBoundary { get; init; }
    /// <summary>For a time split: the first scoring date of the calibration rows.</summary>
    public DateTimeOffset? CalibrationBoundary { get; init; }
    public string Learner { get; init; } = "";
    public string LearnerSettings { get; init; } = "";
    public string LabelDefinition { get; init; } = "";
    public string ModelVersion { get; init; } = "";
    public int FeatureCount { get; init; }
    /// <summary>CSV columns that were not used as features (non-numeric, empty or excluded).</summary>
    public IReadOnlyList<string> IgnoredColumns { get; init; } = [];
    /// <summary>Each feature's distribution in the training rows, for drift against the live accounts (empty in reports written before).</summary>
    public IReadOnlyList<FeatureProfile> FeatureProfiles { get; init; } = [];
    public PlattCalibration? PlattCalibration { get; init; }
    /// <summary>Expected calibration error on the evaluation rows (ten bins).</summary>
    public double Ece { get; init; }
    /// <summary>The ECE a perfectly calibrated model would show on the evaluation rows by chance (<see cref="Metrics.EceByChance"/>).</summary>
    public double EceByChance { get; init; }
    /// <summary>What became of every column of a CSV (empty for the engine's own rows).</summary>
    public IReadOnlyList<ColumnFate> Columns { get; init; } = [];
    /// <summary>Rows left out because their label was missing.</summary>
    public int SkippedRows { get; init; }
    /// <summary>What a positive label means: "paid" for the engine's rows, the label column (and its positive value) for outside data.</summary>
    public string PositiveClass { get; init; } = Paid;

    /// <summary>The positive class of the engine's own rows.</summary>
    public const string Paid = "paid";

    /// <summary>The rows are the engine's own: the report speaks of paying.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool AboutPaying => PositiveClass == Paid;
    /// <summary>Whether the rows carried balances and collected dollars (the dollar columns are left out otherwise).</summary>
    public bool HasAmounts { get; init; } = true;
    public int SplitSeed { get; init; }
    /// <summary>The share of rows set aside for calibration (with a search: the training and calibration rows' out-of-fold scores fit it instead).</summary>
    public double CalibrationShare { get; init; }
    /// <summary>The settings search, when there was one.</summary>
    public TuningReport? Tuning { get; init; }

    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var t = new StringBuilder();
        t.AppendLine(inv, $"Model {ModelVersion}: {Learner} ({LearnerSettings})");
        t.AppendLine(AboutPaying ? $"Label: {LabelDefinition}" : $"Positive class: {PositiveClass}");
        t.AppendLine(inv, $"Split: {Split}");
        t.AppendLine(inv, $"Rows: {TrainRows:N0} training ({TrainPositiveRate:P1} positive), {CalibrationRows:N0} calibration, {TestRows:N0} evaluation ({TestPositiveRate:P1} positive); {FeatureCount} features");
        if (SkippedRows > 0) t.AppendLine(inv, $"Rows left out: {SkippedRows:N0} without a label");
        if (Columns.Count > 0)
        {
            t.AppendLine("Columns:");
            foreach (var column in Columns) t.AppendLine(inv, $"  {column.Column,-28} {column.Fate,-9} {column.Reason}");
        }
        else if (IgnoredColumns.Count > 0) t.AppendLine(inv, $"Not used as features: {string.Join(", ", IgnoredColumns)}");
        if (Tuning is { } tuning)
        {
            var better = new[] { tuning.FastTreeDefaultsCvAuc, tuning.LightGbmDefaultsCvAuc }.Where(a => a is not null && !double.IsNaN(a.Value)).Max();
            t.AppendLine(inv, $"Settings search: {tuning.Trials.Count} candidates in {tuning.Seconds:N0} s (budget {tuning.BudgetSeconds:N0} s; stopped by {(tuning.StoppedBy == "time" ? "time, so another machine may choose differently" : "the trial limit, so the same data and seeds choose the same")}), {tuning.Folds}-fold stratified cross-validation on {tuning.Rows:N0} rows, seed {tuning.Seed}");
            t.AppendLine(inv, $"  chosen: {tuning.Chosen}: CV ROC AUC {tuning.CvAuc:0.0000}, CV calibration error (ECE, each fold calibrated on the others) {tuning.CvEce:0.0000} (a perfectly calibrated model would show {tuning.CvEceByChance:0.0000} by chance on as many rows)");
            t.AppendLine(inv, $"  ML.NET defaults in CV: FastTree {Num(tuning.FastTreeDefaultsCvAuc ?? double.NaN, "0.0000")}, LightGBM {Num(tuning.LightGbmDefaultsCvAuc ?? double.NaN, "0.0000")}{(better is { } b ? $"; the chosen settings {(tuning.CvAuc - b >= 0 ? "+" : "")}{tuning.CvAuc - b:0.0000} over the better (favoured: the best of the candidates and of their tree counts on these folds)" : "")}");
            if (tuning.FastTreeDefaultsTestAuc is { } ft && tuning.LightGbmDefaultsTestAuc is { } lg)
                t.AppendLine(inv, $"  on the evaluation rows: the chosen model {Auc:0.0000}, ML.NET FastTree defaults {ft:0.0000}, LightGBM defaults {lg:0.0000} (trained on the same rows): {(Auc - Math.Max(ft, lg) >= 0 ? "+" : "")}{Auc - Math.Max(ft, lg):0.0000} over the better");
            foreach (var trial in tuning.Trials.OrderByDescending(x => x.CvAuc).Take(8))
                t.AppendLine(inv, $"    {trial.CvAuc:0.0000}  {trial.Settings}{(trial.Baseline ? " (baseline)" : $", best at {trial.Trees} trees")}");
        }
        if (PlattCalibration is { } c) t.AppendLine(inv, $"Calibration: Platt, p = 1 / (1 + exp(-({c.Slope:0.####} x score {(c.Intercept < 0 ? "-" : "+")} {Math.Abs(c.Intercept):0.####}))), fitted on {(Tuning is not null ? "the search's out-of-fold scores of the training and calibration rows" : $"the calibration rows ({CalibrationShare:P0})")}");
        t.AppendLine();
        t.AppendLine("On the evaluation rows:");
        t.AppendLine(inv, $"  ROC AUC     {Auc:0.0000}{(TrueProbabilityAuc is { } ta ? $"   (true probabilities: {ta:0.0000}, the best any model can do; gap {ta - Auc:0.0000})" : "")}");
        t.AppendLine(inv, $"  PR AUC      {PrAuc:0.0000}   (positive rate {TestPositiveRate:0.0000})");
        t.AppendLine(inv, $"  Log-loss    {LogLoss:0.0000}");
        t.AppendLine(inv, $"  Brier       {Brier:0.0000}{(TrueProbabilityBrier is { } tb ? $"   (true probabilities: {tb:0.0000})" : "")}");
        t.AppendLine(inv, $"  ECE         {Ece:0.0000}   (expected calibration error, ten bins; {EceByChance:0.0000} by chance alone for a perfectly calibrated model on these rows)");
        t.AppendLine();
        t.AppendLine("Calibration (predicted probability bins):");
        t.AppendLine("  bin          rows   mean predicted   observed");
        foreach (var b in Calibration)
            t.AppendLine(inv, $"  {b.Lower:0.0}-{b.Upper:0.0}   {b.Count,8:N0}   {Num(b.MeanPredicted),14}   {Num(b.ObservedRate),8}");
        t.AppendLine();
        t.AppendLine("By score decile (1 = highest scores):");
        t.AppendLine(HasAmounts
            ? "  decile      rows   mean score   paid rate    lift   patient balance   collected in window   cumulative share collected"
            : "  decile      rows   mean score   positive rate    lift");
        var totalCollected = Deciles.Sum(d => d.CapturedDollars);
        decimal running = 0;
        foreach (var d in Deciles)
        {
            running += d.CapturedDollars;
            t.AppendLine(HasAmounts
                ? string.Create(inv, $"  {d.Decile,6}  {d.Count,8:N0}   {d.MeanScore,10:0.000}   {d.PositiveRate,9:0.000}   {d.Lift,5:0.00}   {d.PatientBalance,15:N0}   {d.CapturedDollars,19:N0}   {(totalCollected > 0 ? (double)(running / totalCollected) : 0),26:P1}")
                : string.Create(inv, $"  {d.Decile,6}  {d.Count,8:N0}   {d.MeanScore,10:0.000}   {d.PositiveRate,13:0.000}   {d.Lift,5:0.00}"));
        }
        t.AppendLine();
        t.AppendLine(inv, $"Permutation feature importance (AUC drop when shuffled, {ImportanceRows:N0} rows), top 15:");
        foreach (var f in FeatureImportance.Take(15))
            t.AppendLine(inv, $"  {f.Feature,-34} {f.AucDrop,8:0.0000}");
        return t.ToString();

        static string Num(double v, string format = "0.000") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);
    }

    public string ToJson() => JsonSerializer.Serialize(this, PaymentModel.Json);

    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, PaymentModel.Json) ?? throw new FormatException("Empty report JSON.");

    /// <summary>A PNG with the calibration curve, the cumulative gains (accounts and dollars) and the lift by decile.</summary>
    public void WriteChartPng(string path) => ReportChart.Write(this, path);
}
