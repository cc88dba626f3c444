using System.CommandLine;
using System.Text.Json;
using Collections.Cli.Import;
using Collections.Cli.Simulation;

namespace Collections.Cli;

/// <summary>The <c>collections</c> command line. Bad input is one line on stderr and exit code 2.</summary>
public static class CliApp
{
    public const int BadInput = 2;
    /// <summary>The engine did not answer (not running, wrong --url, network).</summary>
    public const int Unreachable = 3;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Collections engine tools.");
        root.Subcommands.Add(SimulateCommand(output));
        root.Subcommands.Add(ImportCommand(output, error));
        root.Subcommands.Add(WorklistSimulationCommand(output));
        root.Subcommands.Add(UpliftSimulationCommand(output));
        root.Subcommands.Add(ModelCommands.Create(output, error));
        root.Subcommands.Add(SyntheaSampleCommand(output));
        root.Subcommands.Add(RemitCommands.Create(output));
        root.Subcommands.Add(AdminCommands.Create(output));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // A mistyped command says so, with the nearest one, rather than "Required command was not provided".
            var unknown = parsed.UnmatchedTokens.FirstOrDefault(a => !a.StartsWith('-'));
            var command = parsed.CommandResult.Command;
            if (unknown is not null && command.Subcommands.Count > 0 && command.Subcommands.All(c => c.Name != unknown && !c.Aliases.Contains(unknown)))
            {
                var nearest = command.Subcommands.Select(c => c.Name).MinBy(name => Distance(name, unknown));
                await error.WriteLineAsync($"collections: '{unknown}' is not a command{(nearest is not null && Distance(nearest, unknown) <= Math.Max(2, unknown.Length / 3) ? $"; did you mean '{nearest}'?" : "")} (commands: {string.Join(", ", command.Subcommands.Select(c => c.Name))})");
                return BadInput;
            }
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
        catch (HttpRequestException e) when (e.StatusCode is null)
        {
            // No answer (refused, unknown host, TLS, a connection cut): say where, not a stack trace. A request cut after it
            // was sent may have been carried out: the words say no answer came, not that nothing happened.
            await error.WriteLineAsync($"collections: no answer from the engine ({e.Message.ReplaceLineEndings(" ")}): is it running, and is --url right?");
            return Unreachable;
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            await error.WriteLineAsync("collections: the engine did not answer in time; what was asked may or may not have been done: look before trying again.");
            return Unreachable;
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

    private static Command WorklistSimulationCommand(TextWriter output)
    {
        var defaults = new WorklistSimulationOptions();
        var accounts = new Option<int>("--accounts") { Description = "Accounts in the portfolio the agents work (100 to 1,000,000).", DefaultValueFactory = _ => defaults.Accounts };
        var training = new Option<int>("--training-accounts") { Description = "Synthetic accounts the model is trained on (100 to 1,000,000).", DefaultValueFactory = _ => defaults.TrainingAccounts };
        var agents = new Option<int>("--agents") { Description = "Agents calling (1 to 10,000).", DefaultValueFactory = _ => defaults.Agents };
        var calls = new Option<int>("--calls-per-day") { Description = "Calls each agent makes a day (1 to 1,000).", DefaultValueFactory = _ => defaults.CallsPerAgentPerDay };
        var days = new Option<int>("--days") { Description = "Working days (1 to 365).", DefaultValueFactory = _ => defaults.Days };
        var seed = new Option<int>("--seed") { Description = "Seed of the portfolios and of every draw.", DefaultValueFactory = _ => defaults.Seed };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var command = new Command("simulate-worklist",
            "Agents with limited calls work one synthetic portfolio ordered by the model's expected recovery, oldest debt first, and the true probability (upper bound): dollars per call compared.")
        {
            accounts, training, agents, calls, days, seed, json,
        };
        command.SetAction(parse =>
        {
            static int InRange(ParseResult parse, Option<int> option, int min, int max) =>
                parse.GetValue(option) is var v && v >= min && v <= max ? v : throw new CliInputException($"{option.Name} {v}: must be between {min} and {max}");
            var report = WorklistSimulation.Run(new WorklistSimulationOptions
            {
                Accounts = InRange(parse, accounts, 100, 1_000_000), TrainingAccounts = InRange(parse, training, 100, 1_000_000),
                Agents = InRange(parse, agents, 1, 10_000), CallsPerAgentPerDay = InRange(parse, calls, 1, 1_000),
                Days = InRange(parse, days, 1, 365), Seed = InRange(parse, seed, 0, int.MaxValue - 2_000_000),
            });
            output.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, PolicyFiles.Json) + Environment.NewLine : WorklistSimulation.Table(report));
            return 0;
        });
        return command;
    }

    private static Command UpliftSimulationCommand(TextWriter output)
    {
        var defaults = new UpliftSimulationOptions();
        var accounts = new Option<int>("--accounts") { Description = "Accounts in the measured portfolio (1,000 to 1,000,000).", DefaultValueFactory = _ => defaults.Accounts };
        var training = new Option<int>("--training-accounts") { Description = "Accounts in the pilot the targeting models learn from, half in control (1,000 to 1,000,000).", DefaultValueFactory = _ => defaults.TrainingAccounts };
        var days = new Option<int>("--days") { Description = "Virtual days (30 to 730).", DefaultValueFactory = _ => defaults.Days };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the portfolios and of every draw.", DefaultValueFactory = _ => defaults.Seed };
        var share = new Option<decimal>("--control-share") { Description = "Every policy's control share (above 0, at most 0.5).", DefaultValueFactory = _ => defaults.ControlShare };
        var target = new Option<double>("--target-share") { Description = "Share of accounts the targeting comparison treats (0.05 to 1).", DefaultValueFactory = _ => defaults.TargetShare };
        var policy = new Option<string?>("--policy") { Description = "A policy JSON file saved over the shipped book (default: standard with texts and an early call)." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: every core). The results do not depend on it.", DefaultValueFactory = _ => -1 };
        var command = new Command("simulate-uplift",
            "Run every synthetic account both treated and in control (same random draws): the uplift report with the true effect beside each estimate, "
            + "and targeting by a two-model uplift estimate, by propensity, oldest-first and at random compared by Qini curve and dollars per extra contact.")
        {
            accounts, training, days, seed, share, target, policy, json, threads,
        };
        command.SetAction(parse =>
        {
            static int InRange(ParseResult parse, Option<int> option, int min, int max) =>
                parse.GetValue(option) is var v && v >= min && v <= max ? v : throw new CliInputException($"{option.Name} {v}: must be between {min} and {max}");
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            if (parse.GetValue(share) is <= 0 or > 0.5m) throw new CliInputException($"--control-share {parse.GetValue(share).ToString(inv)}: must be above 0 and at most 0.5");
            if (parse.GetValue(target) is < 0.05 or > 1) throw new CliInputException($"--target-share {parse.GetValue(target).ToString(inv)}: must be between 0.05 and 1");
            if (parse.GetValue(threads) is 0 or < -1) throw new CliInputException($"--threads {parse.GetValue(threads)}: must be a positive number");
            var file = parse.GetValue(policy);
            var scenario = file is null
                ? PolicyScenario.Shipped("texts + early call", DefaultPolicies.EarlyCallAndTexts)
                : PolicyScenario.Shipped(Path.GetFileName(file), PolicyFiles.Load(file));
            var report = UpliftSimulation.Run(new UpliftSimulationOptions
            {
                Accounts = InRange(parse, accounts, 1_000, 1_000_000), TrainingAccounts = InRange(parse, training, 1_000, 1_000_000),
                Days = InRange(parse, days, 30, 730), Seed = parse.GetValue(seed), ControlShare = parse.GetValue(share), TargetShare = parse.GetValue(target),
                MaxDegreeOfParallelism = parse.GetValue(threads),
            }, scenario);
            output.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, PolicyFiles.Json) + Environment.NewLine : UpliftSimulation.Table(report));
            return 0;
        });
        return command;
    }

    private static Command ImportCommand(TextWriter output, TextWriter error)
    {
        var command = new Command("import", "Bulk-load guarantors, accounts or transactions from a CSV file through the HTTP API (see docs/import.md). "
                                            + "Streams the file, re-runs are idempotent, and bad rows are reported by row and column without stopping the good ones. "
                                            + "Exit 0: every row loaded or was already present; 1: some rows failed; 2: bad options, file or header.");
        foreach (var kind in Enum.GetValues<ImportKind>())
            command.Subcommands.Add(ImportKindCommand(kind, output, error));
        command.Subcommands.Add(SyntheaImportCommand(output, error));
        return command;
    }

    private static Command SyntheaImportCommand(TextWriter output, TextWriter error)
    {
        var folder = new Argument<string>("folder") { Description = "A Synthea CSV export: patients.csv, payers.csv, encounters.csv, claims.csv, claims_transactions.csv." };
        var facility = new Option<string?>("--facility") { Description = "Open every account at this facility code. Default: one facility per encounter ORGANIZATION (its UUID without hyphens)." };
        var url = new Option<string>("--url") { Description = "The engine's base address.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var key = new Option<string?>("--key") { Description = "An API key (admin, supervisor or integration role). Default: --key-file, else the COLLECTIONS_API_KEY environment variable." };
        var keyFile = new Option<string?>("--key-file") { Description = "A file holding the API key, e.g. ./data/admin-api-key." };
        var errors = new Option<string?>("--errors") { Description = "Write every problem to this CSV file (file, row, column, reason)." };
        var parallel = new Option<int>("--parallel") { Description = "Requests in flight at once (1 to 256); one claim's entries always go in order.", DefaultValueFactory = _ => 8 };
        var workDir = new Option<string?>("--work-dir") { Description = "Where the temporary SQLite file that sorts the export goes (default: the system's temp folder); deleted at the end." };
        var command = new Command("synthea", "Import a Synthea CSV export: patients as guarantors, claims as accounts, claims_transactions as ledger entries; "
                                             + "then read every account back and report those whose balances differ from claims.csv's outstanding amounts (see docs/import.md).")
        {
            folder, facility, url, key, keyFile, errors, parallel, workDir,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(parallel) is < 1 or > 256) throw new CliInputException($"--parallel {parse.GetValue(parallel)}: must be between 1 and 256");
            var fixedFacility = parse.GetValue(facility);
            if (fixedFacility is not null && !Domain.Identifiers.IsFacility(fixedFacility))
                throw new CliInputException($"--facility {fixedFacility}: must be 1 to 32 letters, digits, '-' or '_'");
            var address = parse.GetValue(url)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliInputException($"--url {address}: must be an absolute http or https address");
            var apiKey = ResolveKey(parse.GetValue(key), parse.GetValue(keyFile));
            var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            using var importer = new Synthea.SyntheaImporter(new Synthea.SyntheaImportOptions
            {
                Folder = parse.GetValue(folder)!, BaseAddress = baseAddress, ApiKey = apiKey, Facility = fixedFacility,
                ErrorsFile = parse.GetValue(errors), Parallel = parse.GetValue(parallel), WorkFolder = parse.GetValue(workDir), Interactive = interactive,
            }, output);
            var s = await importer.RunAsync(ct);
            foreach (var e in importer.FirstErrors)
                await error.WriteLineAsync($"{e.File} row {e.Row}{(e.Column.Length > 0 ? $", column {e.Column}" : "")}: {e.Reason}");
            if (parse.GetValue(errors) is { } errorsPath)
                await output.WriteLineAsync(importer.ErrorCount == 0
                    ? $"problems: none ({Path.GetFullPath(errorsPath)} holds only its header)"
                    : $"problems: {importer.ErrorCount:N0}, every one written to {Path.GetFullPath(errorsPath)}");
            else if (importer.ErrorCount > importer.FirstErrors.Count)
                await error.WriteLineAsync($"({importer.ErrorCount - importer.FirstErrors.Count} more not shown: pass --errors FILE to get them all)");
            await output.WriteLineAsync($"patients: {s.Patients:N0} read, {s.GuarantorsLoaded:N0} loaded, {s.GuarantorsPresent:N0} already present, {s.PatientsFailed:N0} failed; {s.DeceasedHoldsPlaced:N0} deceased holds placed; {s.AddressesForReview:N0} {(s.AddressesForReview == 1 ? "address" : "addresses")} without a ZIP flagged for review");
            await output.WriteLineAsync($"claims: {s.Claims:N0} read, {s.AccountsOpened:N0} accounts opened, {s.AccountsPresent:N0} already present, {s.ClaimsFailed:N0} failed");
            await output.WriteLineAsync($"claims_transactions: {s.TransactionRows:N0} rows read: {s.TransactionRowsPosted:N0} posted, {s.TransactionRowsPresent:N0} already present, "
                                        + $"{s.RowsWithoutEntry:N0} with no entry of their own (a TRANSFEROUT, a zero amount), {s.TransactionRowsFailed:N0} failed; "
                                        + $"{s.EntriesPosted:N0} ledger entries posted, {s.EntriesPresent:N0} already present");
            await output.WriteLineAsync($"verified: {s.AccountsVerified:N0} accounts read back, {s.AccountsVerified - s.AccountsDiffering:N0} equal to claims.csv's outstanding amounts, {s.AccountsDiffering:N0} differ, {s.AccountsNotChecked:N0} not checked (nothing posted to them)");
            await output.WriteLineAsync($"synthea: {s.Rows:N0} rows in {s.Elapsed.TotalSeconds:N1} s ({s.RowsPerSecond:N0} rows/s; verification {s.VerifyElapsed.TotalSeconds:N1} s)");
            return s.Clean ? 0 : 1;
        });
        return command;
    }

    private static Command SyntheaSampleCommand(TextWriter output)
    {
        var patients = new Option<int>("--patients") { Description = "Patients to generate (1 to 10,000,000); each has 1 to 8 encounters, each encounter one claim.", DefaultValueFactory = _ => 1_000 };
        var folder = new Option<string>("--out") { Description = "The folder to write the five CSV files into (created if missing; files are overwritten).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed: the same seed writes the same files.", DefaultValueFactory = _ => 1UL };
        var endDate = new Option<string>("--end-date") { Description = "The last day care happens (yyyy-MM-dd); encounters spread over three years before it.", DefaultValueFactory = _ => "2026-06-30" };
        var command = new Command("synthea-sample", "Write a seeded Synthea-shaped CSV folder (our own generator in Synthea 3.x's layout, not Synthea) for demonstrations and benchmarks.")
        {
            patients, folder, seed, endDate,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(patients) is < 1 or > 10_000_000) throw new CliInputException($"--patients {parse.GetValue(patients)}: must be between 1 and 10000000");
            if (!DateOnly.TryParseExact(parse.GetValue(endDate), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var end))
                throw new CliInputException($"--end-date {parse.GetValue(endDate)}: not a date in the form yyyy-MM-dd");
            var summary = Synthea.SyntheaSampleGenerator.Write(new Synthea.SyntheaSampleOptions
            {
                Patients = parse.GetValue(patients), Folder = parse.GetValue(folder)!, Seed = parse.GetValue(seed), EndDate = end,
            });
            output.WriteLine($"synthea-sample: {summary.Patients:N0} patients ({summary.Deceased:N0} deceased), {summary.Encounters:N0} encounters, {summary.Claims:N0} claims, "
                             + $"{summary.TransactionRows:N0} transaction rows in {parse.GetValue(folder)}; outstanding: insurance {summary.OutstandingInsurance:N2}, patients {summary.OutstandingPatient:N2}");
            return 0;
        });
        return command;
    }

    private static Command ImportKindCommand(ImportKind kind, TextWriter output, TextWriter error)
    {
        var file = new Option<string>("--file") { Description = $"The {ImportSchema.Name(kind)} CSV file (header: see docs/import.md).", Required = true };
        var url = new Option<string>("--url") { Description = "The engine's base address.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var key = new Option<string?>("--key") { Description = "An API key (admin, supervisor or integration role). Default: --key-file, else the COLLECTIONS_API_KEY environment variable." };
        var keyFile = new Option<string?>("--key-file") { Description = "A file holding the API key, e.g. ./data/admin-api-key." };
        var errors = new Option<string?>("--errors") { Description = "Write every row error to this CSV file (row, column, reason)." };
        var parallel = new Option<int>("--parallel") { Description = "Requests in flight at once (1 to 256).", DefaultValueFactory = _ => 8 };
        var waitingRows = new Option<long>("--max-waiting-rows")
        {
            Description = "Transactions: the most rows kept in memory waiting for their account's last row (1 to 10,000,000); a file that would keep more posts each account's rows where they stand together.",
            DefaultValueFactory = _ => Importer.MaxWaitingRows,
        };
        var command = new Command(ImportSchema.Name(kind), $"Import {ImportSchema.Name(kind)} from a CSV file.") { file, url, key, keyFile, errors, parallel };
        if (kind == ImportKind.Transactions) command.Options.Add(waitingRows);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(parallel) is < 1 or > 256) throw new CliInputException($"--parallel {parse.GetValue(parallel)}: must be between 1 and 256");
            if (kind == ImportKind.Transactions && parse.GetValue(waitingRows) is < 1 or > 10_000_000)
                throw new CliInputException($"--max-waiting-rows {parse.GetValue(waitingRows)}: must be between 1 and 10,000,000");
            var address = parse.GetValue(url)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliInputException($"--url {address}: must be an absolute http or https address");
            var apiKey = ResolveKey(parse.GetValue(key), parse.GetValue(keyFile));
            var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            using var importer = new Importer(new ImportOptions
            {
                Kind = kind, File = parse.GetValue(file)!, BaseAddress = baseAddress, ApiKey = apiKey,
                ErrorsFile = parse.GetValue(errors), Parallel = parse.GetValue(parallel), Interactive = interactive,
                MaxWaitingRows = kind == ImportKind.Transactions ? parse.GetValue(waitingRows) : Importer.MaxWaitingRows,
            }, output);
            var summary = await importer.RunAsync(ct);
            foreach (var e in importer.FirstErrors)
                await error.WriteLineAsync($"row {e.Row}{(e.Column.Length > 0 ? $", column {e.Column}" : "")}: {e.Reason}");
            if (parse.GetValue(errors) is { } errorsPath)
                await output.WriteLineAsync(summary.Failed == 0
                    ? $"problems: none ({Path.GetFullPath(errorsPath)} holds only its header)"
                    : $"problems: {summary.Failed:N0} rows failed, every one written to {Path.GetFullPath(errorsPath)}");
            else if (summary.Failed > 0 && importer.FirstErrors.Count >= Importer.ShownErrors)
                await error.WriteLineAsync("(more errors not shown: pass --errors FILE to get them all)");
            await output.WriteLineAsync(
                $"{ImportSchema.Name(kind)}: {summary.Read:N0} rows read, {summary.Loaded:N0} loaded, {summary.AlreadyPresent:N0} already present, "
                + $"{summary.Failed:N0} failed in {summary.Elapsed.TotalSeconds:N1} s ({summary.RowsPerSecond:N0} rows/s)");
            return summary.Failed > 0 ? 1 : 0;
        });
        return command;
    }

    /// <summary>Edit distance between two words (insertions, deletions, substitutions).</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }

    internal static string ResolveKey(string? key, string? keyFile)
    {
        if (!string.IsNullOrWhiteSpace(key)) return key.Trim();
        if (!string.IsNullOrWhiteSpace(keyFile))
        {
            try
            {
                var text = File.ReadAllText(keyFile).Trim();
                return text.Length > 0 ? text : throw new CliInputException($"--key-file {keyFile}: the file is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliInputException($"--key-file {keyFile}: {e.Message}");
            }
        }
        if (Environment.GetEnvironmentVariable("COLLECTIONS_API_KEY") is { Length: > 0 } env) return env.Trim();
        // The local engine's own admin key, where `dotnet run --project src/Silo` writes it.
        var local = Path.Combine("data", "admin-api-key");
        if (File.Exists(local) && File.ReadAllText(local).Trim() is { Length: > 0 } own) return own;
        throw new CliInputException("no API key: pass --key, --key-file or set COLLECTIONS_API_KEY (./data/admin-api-key is used when it exists)");
    }
}
