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

        Assert.Equal(["income", "visits"], model.FeatureNames);
        Assert.Equal(["id", "name", "Visit date"], result.Report.IgnoredColumns); // a row number, an identifier, dates
        Assert.StartsWith("random", result.Report.Split);
        Assert.Null(result.Report.TimeSplitBoundary);
        Assert.True(result.Report.Auc > 0.75, $"AUC {result.Report.Auc}");
        Assert.Equal(1200, result.Report.TrainRows + result.Report.CalibrationRows + result.Report.TestRows);
        Assert.True(model.Score([140f, 5f]).Probability > model.Score([15f, 0f]).Probability);
        Assert.True(model.Score([140f, float.NaN]).Probability is > 0 and < 1); // a missing value still scores, filled as in training
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
        Assert.StartsWith("AccountId,ScoringDate,Label,BalanceAtScoring,CollectedInWindow,TrueProbability,TreatmentGroup,PatientBalance,", writer.ToString());
    }

    [Theory]
    [InlineData("a,b\n1,2\n", "paid", "no label column 'paid'")]
    [InlineData("x,paid\n1,yes\n2,maybe\n", "paid", "line 3, column paid: 'maybe' is not a label")]
    [InlineData("x,paid\n1,yes\n2\n", "paid", "line 3: 1 fields, the header has 2")]
    [InlineData("name,paid\nann,yes\nbob,no\n", "paid", "no feature columns (ignored: name)")]
    [InlineData("x,paid\nX,PAID\n1,yes\n", "paid", "line 2: repeats the header")]
    [InlineData("x,paid\nthe x value,did they pay\n1,yes\n", "paid", "line 2: looks like a second header")]
    [InlineData("x,x,paid\n1,2,yes\n", "paid", "the column 'x' appears twice")]
    [InlineData("", "paid", "the file is empty")]
    public void A_bad_csv_is_refused_naming_the_file_line_and_column(string content, string label, string expected)
    {
        var path = Write("bad.csv", content);

        var error = Assert.Throws<FormatException>(() => ModelTrainer.TrainFromCsv(path, label, Small));

        Assert.Contains(expected, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void Excluding_a_column_the_file_does_not_have_is_an_error()
    {
        var error = Assert.Throws<FormatException>(() => ModelTrainer.TrainFromCsv(OutsideCsv(), "paid", Small with { ExcludeColumns = ["incom"] }));

        Assert.Contains("no column 'incom' to exclude", error.Message);
    }

    /// <summary>Real exports: a stray NA, null or ? in a number column, a text category, a date, an identifier, rows without a label.</summary>
    private string RealExport(int rows = 1500, string positive = "1", string negative = "0")
    {
        var random = new Random(3);
        var csv = new StringBuilder("customer,opened,income,plan,region,defaulted\n");
        string[] plans = ["gold", "silver", "bronze"];
        for (var i = 0; i < rows; i++)
        {
            var income = random.Next(10, 150);
            var plan = plans[random.Next(3)];
            var p = 1 / (1 + Math.Exp(-(0.05 * (income - 70) + (plan == "gold" ? 1.5 : plan == "bronze" ? -1.5 : 0))));
            var incomeText = i switch { 7 => "NA", 8 => "null", 9 => "?", _ => income.ToString(CultureInfo.InvariantCulture) };
            var label = i == 11 ? "" : random.NextDouble() < p ? positive : negative;
            var region = i % 500 == 0 ? "Atlantis" : i % 2 == 0 ? "north" : "south"; // one value too rare for a column of its own
            csv.Append(CultureInfo.InvariantCulture, $"C{i:D6},2025-0{1 + i % 9}-01,{incomeText},{plan},{region},{label}\n");
        }
        return Write("export.csv", csv.ToString());
    }

    [Fact]
    public void A_stray_missing_value_keeps_its_column_and_text_becomes_categories_and_every_column_has_its_reason()
    {
        var result = ModelTrainer.TrainFromCsv(RealExport(), "defaulted", Small);
        using var model = result.Model;
        var fates = result.Report.Columns.ToDictionary(c => c.Column, c => c);

        Assert.Equal(["income", "plan=bronze", "plan=gold", "plan=silver", "region=(other)", "region=north", "region=south"], model.FeatureNames.Order(StringComparer.Ordinal));
        Assert.Equal(ColumnFate.Feature, fates["income"].Fate);
        Assert.Contains("3 missing", fates["income"].Reason);
        Assert.Equal(ColumnFate.Category, fates["plan"].Fate);
        Assert.Contains("(other)", fates["region"].Reason);
        Assert.Equal(ColumnFate.Ignored, fates["customer"].Fate);
        Assert.Contains("identifier", fates["customer"].Reason);
        Assert.Equal(ColumnFate.Ignored, fates["opened"].Fate);
        Assert.Contains("dates", fates["opened"].Reason);
        Assert.Equal(ColumnFate.Label, fates["defaulted"].Fate);
        Assert.Equal(1, result.Report.SkippedRows);
        Assert.Equal(1499, result.Report.TrainRows + result.Report.CalibrationRows + result.Report.TestRows);
        Assert.True(result.Report.Auc > 0.75, $"AUC {result.Report.Auc}");
        Assert.True(result.Report.FeatureImportance[0].Feature is "income" or "plan=gold" or "plan=bronze");
    }

    [Fact]
    public void The_positive_value_can_be_named_and_the_report_speaks_of_it_and_not_of_dollars()
    {
        var result = ModelTrainer.TrainFromCsv(RealExport(positive: "bad", negative: "good"), "defaulted", Small with { PositiveLabel = "bad" });
        result.Model.Dispose();
        var text = result.Report.ToText();

        Assert.Equal("defaulted = bad", result.Report.PositiveClass);
        Assert.Contains("Positive class: defaulted = bad", text);
        Assert.DoesNotContain("collected", text);
        Assert.DoesNotContain("paid rate", text);
        Assert.Contains("ECE", text);
        var error = Assert.Throws<FormatException>(() => ModelTrainer.TrainFromCsv(RealExport(positive: "bad", negative: "good"), "defaulted", Small));
        Assert.Contains("'good' is not a label", error.Message); // without --positive the words are not 1/0, true/false or yes/no
    }

    [Fact]
    public void A_random_split_keeps_the_share_of_positives_and_its_seed_is_the_splits_own()
    {
        var a = ModelTrainer.TrainFromCsv(OutsideCsv(), "paid", Small with { SplitSeed = 5, Seed = 1 });
        var b = ModelTrainer.TrainFromCsv(OutsideCsv(), "paid", Small with { SplitSeed = 5, Seed = 2 });
        a.Model.Dispose();
        b.Model.Dispose();

        Assert.InRange(Math.Abs(a.Report.TrainPositiveRate - a.Report.TestPositiveRate), 0, 0.01);
        Assert.Equal(a.Report.TestPositiveRate, b.Report.TestPositiveRate); // the same rows held out whatever the learner's seed
        Assert.Contains("stratified", a.Report.Split);
    }

    [Fact]
    public void The_settings_search_is_reproducible_by_seed_compares_with_mlnet_defaults_and_trains_the_winner()
    {
        var options = Small with { Tune = true, TuneTrials = 5, TuneSeconds = 600, Folds = 3, Threads = 1 };
        var first = ModelTrainer.TrainFromCsv(OutsideCsv(600), "paid", options);
        var second = ModelTrainer.TrainFromCsv(OutsideCsv(600), "paid", options);
        first.Model.Dispose();
        second.Model.Dispose();
        var tuning = first.Report.Tuning!;

        Assert.Equal(5, tuning.Trials.Count);
        Assert.Equal(2, tuning.Trials.Count(t => t.Baseline));
        Assert.NotNull(tuning.FastTreeDefaultsCvAuc);
        Assert.NotNull(tuning.LightGbmDefaultsCvAuc);
        Assert.Equal(tuning.Chosen, second.Report.Tuning!.Chosen);
        Assert.Equal(tuning.CvAuc, second.Report.Tuning.CvAuc, 10);
        Assert.Equal(tuning.Trials.Max(t => t.CvAuc), tuning.CvAuc); // a baseline may win
        Assert.Equal("trials", tuning.StoppedBy);
        Assert.NotNull(tuning.FastTreeDefaultsTestAuc);
        Assert.StartsWith(tuning.Chosen, first.Report.LearnerSettings);
        Assert.InRange(first.Report.Tuning!.CvEce, 0, 0.2);
        Assert.Contains("Settings search", first.Report.ToText());
        Assert.Equal(450, tuning.Rows); // the training and calibration rows: 75 % of 600
    }

    [Fact]
    public void Rows_with_missing_values_still_train_fasttree_and_a_missing_value_scores_like_its_training_rows()
    {
        // Half the rows miss income; whether it is missing says a lot (those rows mostly pay).
        var random = new Random(9);
        var csv = new StringBuilder("income,visits,paid\n");
        for (var i = 0; i < 1200; i++)
        {
            var missing = i % 2 == 0;
            var income = random.Next(10, 150);
            var p = missing ? 0.85 : 1 / (1 + Math.Exp(-0.04 * (income - 90)));
            csv.Append(CultureInfo.InvariantCulture, $"{(missing ? "NA" : income.ToString(CultureInfo.InvariantCulture))},{random.Next(0, 6)},{(random.NextDouble() < p ? 1 : 0)}\n");
        }
        var result = ModelTrainer.TrainFromCsv(Write("half-missing.csv", csv.ToString()), "paid", Small);
        using var model = result.Model;

        Assert.Equal(1200, result.Report.TrainRows + result.Report.CalibrationRows + result.Report.TestRows);
        Assert.True(result.Report.Auc > 0.7, $"AUC {result.Report.Auc}: the rows with a missing income were left out of training");
        Assert.True(model.Score([float.NaN, 2f]).Probability > model.Score([20f, 2f]).Probability);
    }

    [Theory]
    [InlineData("x,paid\n1,1.0\n2,0\n3,1\n", "1", null)]
    [InlineData("x,paid\n1,good\n2,bad\n", "great", "no row has the positive value 'great'")]
    [InlineData("x,paid\nthe x,\n1,yes\n2,no\n", null, null)] // a first row without a label is skipped, not a second header
    public void The_positive_value_is_compared_as_a_number_when_it_is_one_and_must_be_there(string content, string? positive, string? error)
    {
        var path = Write("labels.csv", content);
        if (error is null)
        {
            var data = LabelledData.ReadCsv(path, "paid", Small with { PositiveLabel = positive });
            Assert.Contains(true, data.Labels);
            if (positive is not null) Assert.Equal([true, false, true], data.Labels);
            return;
        }
        Assert.Contains(error, Assert.Throws<FormatException>(() => LabelledData.ReadCsv(path, "paid", Small with { PositiveLabel = positive })).Message);
    }
}
