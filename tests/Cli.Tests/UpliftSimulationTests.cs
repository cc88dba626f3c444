using Collections.Cli.Simulation;
using Collections.Scoring;

namespace Collections.Cli.Tests;

public class UpliftSimulationTests
{
    private static readonly UpliftSimulationOptions Small = new() { Accounts = 6000, TrainingAccounts = 6000, Days = 90, Seed = 5, ControlShare = 0.3m };

    private static UpliftSimulationReport Run() =>
        UpliftSimulation.Run(Small, PolicyScenario.Shipped("texts + early call", DefaultPolicies.EarlyCallAndTexts));

    [Fact]
    public void The_uplift_estimate_on_simulated_accounts_holds_the_true_effect_within_its_interval()
    {
        var report = Run();

        var all = report.Segments.Single(s => s.Estimate.Kind == UpliftReport.All);
        Assert.True(all.TruthInInterval, $"true {all.TrueDollarsPerAccount} outside {all.Estimate.DollarsDifference}");
        Assert.InRange(all.TrueRateDifference, all.Estimate.RateDifference!.Low, all.Estimate.RateDifference.High);
        Assert.True(all.TrueDollarsPerAccount > 0, "texts, calls and letters add dollars in the behaviour model");
        Assert.Equal(Small.Accounts, report.TreatedAccounts + report.ControlAccounts);
        Assert.InRange(report.ControlAccounts / (double)Small.Accounts, 0.27, 0.33);
        // Segments made before outreach (policy, score band) are unbiased: the truth is inside most of their intervals.
        var before = report.Segments.Where(s => s.Estimate.Kind is UpliftReport.PolicyKind or UpliftReport.ScoreBandKind && s.TruthInInterval is not null).ToList();
        Assert.True(before.Count(s => s.TruthInInterval == true) >= before.Count - 1, string.Join("; ", before.Select(s => $"{s.Estimate.Name}: {s.TruthInInterval}")));
    }

    [Fact]
    public void Targeting_by_a_model_beats_random_and_the_true_effect_bounds_every_ordering()
    {
        var report = Run();
        var by = report.Targeting.ToDictionary(t => t.Strategy);

        Assert.Equal(1.0, by["true effect"].QiniCoefficient, 6);
        Assert.True(by["uplift"].QiniCoefficient > by["random"].QiniCoefficient + 0.2, $"uplift {by["uplift"].QiniCoefficient} vs random {by["random"].QiniCoefficient}");
        Assert.True(by["propensity"].QiniCoefficient > by["random"].QiniCoefficient + 0.2);
        foreach (var t in report.Targeting)
        {
            Assert.True(t.IncrementalDollarsAtTarget <= by["true effect"].IncrementalDollarsAtTarget);
            Assert.Equal(0, t.Curve[0].Share);
            Assert.Equal(1, t.Curve[^1].Share);
            Assert.Equal(report.Targeting[0].Curve[^1].IncrementalDollars, t.Curve[^1].IncrementalDollars); // treating everyone is the same for all
        }
    }

    [Fact]
    public async Task The_command_prints_the_estimates_beside_the_truth_and_checks_its_options()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["simulate-uplift", "--accounts", "2000", "--training-accounts", "2000", "--days", "60"], output, error));
        Assert.Contains("all accounts", output.ToString());
        Assert.Contains("true $", output.ToString());
        Assert.Contains("oldest-first", output.ToString());

        using var bad = new StringWriter();
        Assert.Equal(2, await CliApp.RunAsync(["simulate-uplift", "--control-share", "0.7"], new StringWriter(), bad));
        Assert.Equal("collections: --control-share 0.7: must be above 0 and at most 0.5", bad.ToString().Trim());
    }
}
