using Collections.Cli.Simulation;

namespace Collections.Cli.Tests;

public class WorklistSimulationTests
{
    private static readonly WorklistSimulationOptions Small = new()
    {
        Accounts = 4000, TrainingAccounts = 4000, Agents = 4, CallsPerAgentPerDay = 40, Days = 10, Seed = 3,
    };

    [Fact]
    public void Score_prioritised_calling_collects_more_dollars_per_call_than_oldest_first_on_the_same_portfolio()
    {
        var report = WorklistSimulation.Run(Small);
        var score = report.Strategies.Single(s => s.Strategy == "score-prioritised");
        var oldest = report.Strategies.Single(s => s.Strategy == "oldest-first");
        var upper = report.Strategies.Single(s => s.Strategy == "true-probability");

        Assert.Equal(score.Calls, oldest.Calls); // the same effort...
        Assert.True(score.PerCall > oldest.PerCall, $"score-prioritised {score.PerCall}/call vs oldest-first {oldest.PerCall}/call");
        Assert.True(upper.Collected >= score.Collected * 0.9m, "the true-probability ordering is the practical upper bound");
        Assert.InRange(report.ModelAucOnPortfolio, 0.6, 1.0);
    }

    [Fact]
    public void The_same_seed_gives_the_same_results()
    {
        var first = WorklistSimulation.Run(Small with { Accounts = 1500, TrainingAccounts = 1500 });
        var second = WorklistSimulation.Run(Small with { Accounts = 1500, TrainingAccounts = 1500 });
        Assert.Equal(first.Strategies, second.Strategies);
    }

    [Fact]
    public async Task A_value_out_of_range_is_one_line_naming_the_option_and_exit_2()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(["simulate-worklist", "--agents", "0"], output, error);
        Assert.Equal(2, exit);
        Assert.Equal("collections: --agents 0: must be between 1 and 10000", error.ToString().Trim());
    }
}
