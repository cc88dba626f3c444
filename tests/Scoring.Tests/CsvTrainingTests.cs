using System.Globalization;
using System.Text;

namespace Collections.Scoring.Tests;

public sealed class CsvTrainingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("scoring-csv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>An outside data set: who paid depends on income and visits; names and visit dates are not numbers.</summary>
    private string OutsideCsv(int rows = 1200)
    {
        var random = new Random(2);
        var csv = new StringBuilder("id,name,income,visits,Visit date,paid\n");
        for (var i = 0; i < rows; i++)
        {
            var income = random.Next(10, 150);
            var visits = random.Next(0, 6);
            var p = 1 / (1 + Math.Exp(-(0.04 * (income - 70) + 0.4 * (visits - 2))));
            var visitsText = i % 17 == 0 ? "" : visits.ToString(CultureInfo.InvariantCulture); // some missing
            csv.Append(CultureInfo.InvariantCulture, $"{i},\"Patient, {i}\",{income},{visitsText},2026-0{1 + i % 9}-15,{(random.NextDouble() < p ? "yes" : "no")}\n");
        }
        return Write("outside.csv", csv.ToString());
    }

    private static readonly TrainingOptions Small = new() { Split = SplitKind.Random, NumberOfTrees = 50, MinimumExampleCountPerLeaf = 20, ImportanceSampleRows = 1000 };

    [Fact]
    public void Any_labelled_csv_trains_on_its_numeric_columns_and_names_the_others()
    {
        var result = ModelTrainer.TrainFromCsv(OutsideCsv(), "paid", Small);
        using var model = result.Model;

        Assert.Equal(["id", "income", "visits"], model.FeatureNames);
        Assert.Equal(["name", "Visit date"], result.Report.IgnoredColumns);
        Assert.StartsWith("random", result.Report.Split);
        Assert.Null(result.Report.TimeSplitBoundary);
        Assert.True(result.Report.Auc > 0.75, $"AUC {result.Report.Auc}");
        Assert.Equal(1200, result.Report.TrainRows + result.Report.CalibrationRows + result.Report.TestRows);
        Assert.True(model.Score([5f, 140f, 5f]).Probability > model.Score([5f, 15f, 0f]).Probability);
        Assert.True(model.Score([5f, 140f, float.NaN]).Probability is > 0 and < 1); // a missing value still scores
        Assert.Throws<InvalidOperationException>(() => model.Score(new PaymentFeatures()));
    }

    [Fact]
    public void Excluded_columns_are_not_features()
    {
        using var model = ModelTrainer.TrainFromCsv(OutsideCsv(), "PAID", Small with { ExcludeColumns = ["id"] }).Model;

        Assert.Equal(["income", "visits"], model.FeatureNames);
    }

    [Fact]
    public void A_training_set_csv_trains_with_a_time_split_and_its_outcome_columns_are_never_features()
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 4, Accounts = 3000 }).ToList();
        var path = Path.Combine(_directory, "training.csv");
        using (var writer = new StreamWriter(path)) TrainingSet.WriteCsv(writer, rows);

        var result = ModelTrainer.TrainFromCsv(path, TrainingSet.LabelColumn, new TrainingOptions { ImportanceSampleRows = 1000 });
        using var model = result.Model;

        Assert.Equal(PaymentFeatures.Names, model.FeatureNames);
        Assert.Empty(result.Report.IgnoredColumns);
        Assert.StartsWith("time (ScoringDate)", result.Report.Split);
        Assert.NotNull(result.Report.TrueProbabilityAuc);
        Assert.Equal(rows.Where(r => r.ScoringDate >= result.Report.TimeSplitBoundary).Sum(r => r.CollectedInWindow), result.Report.Deciles.Sum(d => d.CapturedDollars));
        Assert.InRange(model.Score(rows[0].Features).Probability, 0, 1);
    }

    [Fact]
    public void Training_rows_round_trip_through_csv()
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 6, Accounts = 200 }).ToList();
        using var writer = new StringWriter();
        TrainingSet.WriteCsv(writer, rows);

        var back = TrainingSet.ReadCsv(new StringReader(writer.ToString()));

        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i] with { Features = back[i].Features }, back[i]);
            Assert.True(rows[i].Features.SameValues(back[i].Features));
        }
        Assert.StartsWith("AccountId,ScoringDate,Label,BalanceAtScoring,CollectedInWindow,TrueProbability,PatientBalance,", writer.ToString());
    }

    [Theory]
    [InlineData("a,b\n1,2\n", "paid", "no label column 'paid'")]
    [InlineData("x,paid\n1,yes\n2,maybe\n", "paid", "line 3, column paid: 'maybe' is not a label")]
    [InlineData("x,paid\n1,yes\n2\n", "paid", "line 3: 1 fields, the header has 2")]
    [InlineData("name,paid\nann,yes\nbob,no\n", "paid", "no numeric feature columns (ignored: name)")]
    [InlineData("", "paid", "the file is empty")]
    public void A_bad_csv_is_refused_naming_the_file_line_and_column(string content, string label, string expected)
    {
        var path = Write("bad.csv", content);

        var error = Assert.Throws<FormatException>(() => ModelTrainer.TrainFromCsv(path, label, Small));

        Assert.Contains(expected, error.Message);
        Assert.StartsWith(path, error.Message);
    }
}
