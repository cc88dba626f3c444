namespace Collections.Scoring.Tests;

public class UpliftReportTests
{
    /// <summary>
    /// Generated accounts with a known effect: a control account pays anything with probability <paramref name="controlRate"/>,
    /// a treated one with <paramref name="treatedRate"/>; a payer pays a log-normal amount (median $120). The true dollar
    /// effect is (treatedRate - controlRate) times the mean amount.
    /// </summary>
    private static List<UpliftObservation> Generate(int accounts, double controlShare, double controlRate, double treatedRate, int seed,
        Func<int, string>? band = null)
    {
        var random = new Random(seed);
        var rows = new List<UpliftObservation>(accounts);
        for (var i = 0; i < accounts; i++)
        {
            var control = random.NextDouble() < controlShare;
            var pays = random.NextDouble() < (control ? controlRate : treatedRate);
            var amount = pays ? (decimal)Math.Round(Math.Exp(Math.Log(120) + 0.8 * Normal(random)), 2) : 0m;
            rows.Add(new UpliftObservation("standard", control, (decimal)controlShare, amount, band?.Invoke(i), ["call-day-20"]));
        }
        return rows;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static readonly double MeanAmount = 120 * Math.Exp(0.8 * 0.8 / 2); // log-normal mean

    [Fact]
    public void The_estimate_recovers_a_known_effect_within_its_interval()
    {
        var all = UpliftReport.Of(Generate(20_000, 0.3, 0.30, 0.36, seed: 7)).Single(s => s.Kind == UpliftReport.All);

        var rate = all.RateDifference!;
        Assert.InRange(0.06, rate.Low, rate.High);
        Assert.InRange(rate.Estimate, 0.04, 0.08);
        var dollars = all.DollarsDifference!;
        Assert.InRange((decimal)(0.06 * MeanAmount), dollars.Low, dollars.High);
        Assert.Equal(UpliftVerdict.Adds, all.Verdict);
        var cent = 0.005m * all.Treated.Accounts; // the per-account figure is rounded to cents, the total is not
        Assert.InRange(all.IncrementalDollars!.Value, dollars.Estimate * all.Treated.Accounts - cent, dollars.Estimate * all.Treated.Accounts + cent);
    }

    [Fact]
    public void The_intervals_cover_the_true_effect_about_as_often_as_they_say()
    {
        var trueDollars = 0.05 * MeanAmount;
        int rateCovered = 0, dollarsCovered = 0;
        const int replications = 400;
        for (var seed = 0; seed < replications; seed++)
        {
            var all = UpliftReport.Of(Generate(1_500, 0.5, 0.25, 0.30, seed)).Single(s => s.Kind == UpliftReport.All);
            if (all.RateDifference!.Low <= 0.05 && 0.05 <= all.RateDifference.High) rateCovered++;
            if ((double)all.DollarsDifference!.Low <= trueDollars && trueDollars <= (double)all.DollarsDifference.High) dollarsCovered++;
        }
        // 95 % nominal; with 400 replications the observed share lies within about 0.93-0.97.
        Assert.InRange(rateCovered / (double)replications, 0.92, 0.98);
        Assert.InRange(dollarsCovered / (double)replications, 0.92, 0.98);
    }

    [Fact]
    public void Without_an_effect_the_verdict_is_unclear_not_adds()
    {
        var all = UpliftReport.Of(Generate(5_000, 0.5, 0.3, 0.3, seed: 3)).Single(s => s.Kind == UpliftReport.All);

        Assert.Equal(UpliftVerdict.Unclear, all.Verdict);
        Assert.InRange(0.0, all.RateDifference!.Low, all.RateDifference.High);
    }

    [Fact]
    public void Outreach_that_lowers_payment_is_reported_as_costing()
    {
        var all = UpliftReport.Of(Generate(20_000, 0.5, 0.40, 0.30, seed: 5)).Single(s => s.Kind == UpliftReport.All);

        Assert.Equal(UpliftVerdict.Costs, all.Verdict);
        Assert.True(all.DollarsDifference!.High < 0);
    }

    [Fact]
    public void Segments_are_all_then_each_policy_step_and_score_band()
    {
        var rows = new List<UpliftObservation>
        {
            new("standard", false, 0.5m, 100m, "0.2-0.4", ["statement-1", "call-day-20"]),
            new("standard", true, 0.5m, 0m, "0.2-0.4", ["statement-1", "call-day-20"]),
            new("small-balance", false, 0.5m, 20m, null, ["statement-1", "statement-1"]),
            new("no-experiment", false, 0m, 999m, null, ["statement-1"]), // a policy without a control share is left out
        };

        var report = new UpliftReport();
        foreach (var row in rows) report.Add(row);
        var segments = report.Build(new UpliftReportOptions { MinimumAccounts = 1 });

        Assert.Equal(
            ["all/all", "policy/small-balance", "policy/standard", "step/call-day-20", "step/statement-1", "scoreBand/0.2-0.4"],
            segments.Select(s => $"{s.Kind}/{s.Name}"));
        var statement = segments.Single(s => s.Name == "statement-1");
        Assert.Equal(2, statement.Treated.Accounts); // a step reached twice counts the account once
        Assert.Equal(60m, statement.Treated.DollarsPerAccount);
        Assert.Equal(1, statement.Control.Accounts);
        Assert.Equal(1.0, statement.Treated.PaymentRate!.Value, 12);
        Assert.Equal((3, 1), (report.Observations, report.LeftOut));
    }

    [Fact]
    public void A_segment_with_too_few_accounts_in_a_group_shows_counts_but_no_interval()
    {
        var rows = Generate(200, 0.05, 0.3, 0.4, seed: 11); // about 10 controls

        var all = UpliftReport.Of(rows).Single(s => s.Kind == UpliftReport.All);

        Assert.Equal(UpliftVerdict.TooFew, all.Verdict);
        Assert.Null(all.RateDifference);
        Assert.Null(all.DollarsDifference);
        Assert.Equal(200, all.Treated.Accounts + all.Control.Accounts);
        Assert.Null(all.Control.DollarsPerAccount); // a handful of accounts' figures would describe them
        Assert.Null(all.Control.PaymentRate);
        Assert.NotNull(all.Treated.DollarsPerAccount);
    }

    [Fact]
    public void Newcombe_interval_matches_the_published_example()
    {
        // Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
        var interval = UpliftReport.NewcombeDifference(56.0 / 70, 70, 48.0 / 80, 80, UpliftReport.NormalQuantile(0.975));

        Assert.Equal(0.2, interval.Estimate, 10);
        Assert.Equal(0.0524, interval.Low, 4);
        Assert.Equal(0.3339, interval.High, 4);
    }

    [Theory]
    [InlineData(0.975, 1.959964)]
    [InlineData(0.95, 1.644854)]
    [InlineData(0.995, 2.575829)]
    [InlineData(0.01, -2.326348)]
    public void Normal_quantile_is_exact_to_six_places(double p, double expected) =>
        Assert.Equal(expected, UpliftReport.NormalQuantile(p), 6);

    [Theory]
    [InlineData(0.975, 8, 2.306004)]
    [InlineData(0.975, 10, 2.228139)]
    [InlineData(0.975, 30, 2.042272)]
    [InlineData(0.95, 20, 1.724718)]
    [InlineData(0.995, 60, 2.660283)]
    public void Student_quantile_is_close_to_the_tables(double p, double df, double expected) =>
        Assert.Equal(expected, UpliftReport.StudentQuantile(p, df), 3);

    [Fact]
    public void Policies_with_different_control_shares_pool_without_bias()
    {
        // Two policies, no effect anywhere: A's accounts pay $100 and keep 50 % in control, B's pay nothing and keep 10 %.
        // Unweighted, the pooled control group is mostly A's payers and outreach would seem to cost; weighted, it is zero.
        var random = new Random(12);
        var rows = new List<UpliftObservation>();
        for (var i = 0; i < 20_000; i++)
        {
            var a = i % 2 == 0;
            var share = a ? 0.5m : 0.1m;
            rows.Add(new UpliftObservation(a ? "A" : "B", random.NextDouble() < (double)share, share, a ? 100m : 0m, null, []));
        }

        var all = UpliftReport.Of(rows).Single(s => s.Kind == UpliftReport.All);

        Assert.InRange(all.DollarsDifference!.Estimate, -3m, 3m);
        Assert.Equal(UpliftVerdict.Unclear, all.Verdict);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(0.0, "0.0-0.2")]
    [InlineData(0.2, "0.2-0.4")]
    [InlineData(0.79999, "0.6-0.8")]
    [InlineData(1.0, "0.8-1.0")]
    public void Score_bands_are_fifths_of_the_probability(double? probability, string? band) =>
        Assert.Equal(band, UpliftReport.Band(probability));

    [Fact]
    public void Lines_print_one_line_per_segment_with_its_verdict()
    {
        var segments = UpliftReport.Of(Generate(4_000, 0.5, 0.3, 0.4, seed: 2));

        var lines = UpliftReport.Lines(segments).ToList();

        Assert.Equal(segments.Count + 1, lines.Count);
        Assert.StartsWith("all accounts", lines[1]);
        Assert.EndsWith(UpliftVerdict.Adds, lines[1]);
    }
}
