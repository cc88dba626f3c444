namespace Collections.Scoring.Tests;

public class UpliftEvaluationTests
{
    /// <summary>
    /// Sure things and persuadables: the second feature raises the chance of paying $100 whatever we do, and outreach adds
    /// $40 only for the accounts low on it (the ones who would not pay anyway). Expected dollars ranks the sure things
    /// first; only the uplift model finds who outreach moves.
    /// </summary>
    public static List<TrainingRow> Rows(int accounts, double controlShare, int seed = 3)
    {
        var random = new Random(seed);
        var rows = new List<TrainingRow>(accounts);
        var values = new float[PaymentFeatures.Count];
        for (var i = 0; i < accounts; i++)
        {
            for (var f = 0; f < values.Length; f++) values[f] = (float)random.NextDouble();
            var control = random.NextDouble() < controlShare;
            var dollars = (random.NextDouble() < 0.1 + 0.8 * values[1] ? 100 : 0) + (!control && values[1] < 0.5 ? 40 : 0) + 10 * random.NextDouble();
            rows.Add(new TrainingRow
            {
                AccountId = $"MAIN/A{i}", ScoringDate = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero), Features = PaymentFeatures.FromArray(values),
                Label = dollars >= 100, PatientBalance = 200m, CollectedInWindow = Math.Round((decimal)dollars, 2), TreatmentGroup = control ? "control" : "treated",
            });
        }
        return rows;
    }

    [Fact]
    public void Targeting_by_the_uplift_model_finds_the_accounts_outreach_moves_better_than_expected_dollars_or_chance()
    {
        var result = UpliftEvaluation.Run(Rows(4000, 0.5), testShare: 0.3, seed: 1, new RegressionSettings { Trees = 60, MinimumRowsPerLeaf = 20 });
        var by = result.Orderings.ToDictionary(o => o.Ordering);

        Assert.True(by["uplift"].AreaOverRandom > by["propensity"].AreaOverRandom, $"uplift {by["uplift"].AreaOverRandom}, propensity {by["propensity"].AreaOverRandom}");
        Assert.True(by["uplift"].AreaOverRandom > by["random"].AreaOverRandom + 500);
        Assert.Equal(4000, result.TrainingAccounts + result.TestAccounts);
        Assert.InRange(result.TestAccounts, 1000, 1400);
        var all = result.TestGroups.Single(s => s.Kind == UpliftReport.All);
        Assert.InRange(20.0, (double)all.DollarsDifference!.Low, (double)all.DollarsDifference.High); // half the accounts gain $40
    }

    [Fact]
    public void Each_account_counts_once_from_its_first_scoring_date_and_too_few_controls_is_refused()
    {
        var rows = Rows(400, 0.1);
        var later = rows.Select(r => r with { ScoringDate = r.ScoringDate.AddDays(30), CollectedInWindow = 1_000_000m }).ToList();

        var error = Assert.Throws<ArgumentException>(() => UpliftEvaluation.Run([.. rows, .. later]));
        Assert.Contains("control accounts (TreatmentGroup); the uplift model needs at least 100 of each", error.Message);
        Assert.Matches(@"^the file has 3\d\d treated and \d\d control", error.Message);
    }
}
