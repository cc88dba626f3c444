using System.CommandLine;
using System.Text.Json;
using Collections.Cli.Simulation;

namespace Collections.Cli;

/// <summary>The <c>collections</c> command line. Bad input is one line on stderr and exit code 2.</summary>
public static class CliApp
{
    public const int BadInput = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Collections engine tools.");
        root.Subcommands.Add(SimulateCommand(output));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var first = parsed.Errors[0];
            await error.WriteLineAsync($"collections: {first.Message.ReplaceLineEndings(" ")}{(parsed.Errors.Count > 1 ? $" (and {parsed.Errors.Count - 1} more)" : "")} (see --help)");
            return BadInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (CliInputException e)
        {
            await error.WriteLineAsync($"collections: {e.Message}");
            return BadInput;
        }
    }

    private static Command SimulateCommand(TextWriter output)
    {
        var accounts = new Option<int>("--accounts") { Description = "Synthetic accounts in the portfolio (1 to 10,000,000).", DefaultValueFactory = _ => 10_000 };
        var days = new Option<int>("--days") { Description = "Virtual days to run (1 to 3650).", DefaultValueFactory = _ => 180 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the portfolio and of every random draw.", DefaultValueFactory = _ => 1UL };
        var policies = new Option<string[]>("--policy")
        {
            Description = "A policy JSON file (the body of PUT /api/policies, plus policyId; default: the file name). Repeatable. "
                          + "One file: compared with the shipped policies. None: shipped standard vs standard with texts and an early call.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: every core). The results do not depend on it.", DefaultValueFactory = _ => -1 };

        var command = new Command("simulate", "Run cadence policies over virtual time on a seeded synthetic portfolio, with the real cadence engine and compliance gate, and compare them.")
        {
            accounts, days, seed, policies, json, threads,
        };
        command.SetAction(parse =>
        {
            // Ranges are checked here rather than in option validators, which would throw on a value that did not parse.
            if (parse.GetValue(accounts) is < 1 or > 10_000_000) throw new CliInputException($"--accounts {parse.GetValue(accounts)}: must be between 1 and 10000000");
            if (parse.GetValue(days) is < 1 or > 3650) throw new CliInputException($"--days {parse.GetValue(days)}: must be between 1 and 3650");
            if (parse.GetValue(threads) is 0 or < -1) throw new CliInputException($"--threads {parse.GetValue(threads)}: must be a positive number");
            var files = parse.GetValue(policies) ?? [];
            var scenarios = files.Length switch
            {
                0 => new[] { PolicyScenario.Shipped("shipped"), PolicyScenario.Shipped("texts + early call", DefaultPolicies.EarlyCallAndTexts) },
                1 => [PolicyScenario.Shipped("shipped"), PolicyScenario.Shipped(Path.GetFileName(files[0]), PolicyFiles.Load(files[0]))],
                _ => [.. files.Select(f => PolicyScenario.Shipped(Path.GetFileName(f), PolicyFiles.Load(f)))],
            };
            var report = PortfolioSimulator.Run(new SimulationOptions
            {
                Accounts = parse.GetValue(accounts),
                Days = parse.GetValue(days),
                Seed = parse.GetValue(seed),
                MaxDegreeOfParallelism = parse.GetValue(threads),
            }, scenarios);
            output.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, PolicyFiles.Json) + Environment.NewLine : ReportWriter.Table(report));
            return 0;
        });
        return command;
    }

}
