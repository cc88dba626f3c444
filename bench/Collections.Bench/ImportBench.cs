// CSV import benchmark (`--mode import`): rows per second and memory of `collections import` (guarantors, accounts,
// transactions) and `collections import synthea`, against a running engine on SQLite and on PostgreSQL.
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode import [--transactions 40000] [--synthea-patients 300] [--postgres "Host=..."]
//   bench/run.sh --mode import          (starts a private PostgreSQL and runs both databases)
//
// The engine runs as its own process (the built Collections.Silo, local profile), so the importer's memory (this
// process, where the import runs exactly as the command line runs it) and the engine's are measured apart.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Collections.Cli;
using Collections.Cli.Synthea;
using Collections.Persistence;

namespace Collections.Bench;

public static class ImportBench
{
    public sealed record Options(int Guarantors, int Accounts, int Transactions, int SyntheaPatients, int DryPatients, int Parallel, string? Postgres, bool SkipSqlite);

    public static async Task RunAsync(Options options, Func<int> freePort)
    {
        var work = Directory.CreateTempSubdirectory("collections-import-bench-").FullName;
        try
        {
            Console.WriteLine($"CSV import benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {options.Parallel} requests in flight");
            Console.WriteLine();
            await DryRunAsync(options, work);
            var rows = new List<string>();
            foreach (var (name, extra) in Databases(options))
            {
                var run = Guid.NewGuid().ToString("N")[..6];
                var files = WriteGenericCsv(Path.Combine(work, $"csv-{run}"), run, options);
                var synthea = Path.Combine(work, $"synthea-{run}");
                var sample = SyntheaSampleGenerator.Write(new SyntheaSampleOptions
                {
                    Patients = options.SyntheaPatients, Folder = synthea, Seed = ulong.Parse(run, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                });
                using var engine = await EngineChild.StartAsync(name, extra, run, work, options.Postgres, freePort);
                foreach (var (kind, file, count) in files)
                {
                    var phase = await MeasureAsync(engine, () => CliApp.RunAsync(
                        ["import", kind, "--file", file, "--url", engine.BaseAddress.ToString(), "--key", engine.AdminKey, "--parallel", options.Parallel.ToString(CultureInfo.InvariantCulture)],
                        TextWriter.Null, Console.Error));
                    rows.Add(Row(name, kind, count, phase, ""));
                }
                var syntheaOutput = new StringWriter();
                var syntheaPhase = await MeasureAsync(engine, () => CliApp.RunAsync(
                    ["import", "synthea", synthea, "--url", engine.BaseAddress.ToString(), "--key", engine.AdminKey, "--parallel", options.Parallel.ToString(CultureInfo.InvariantCulture),
                     "--work-dir", work], syntheaOutput, Console.Error));
                var fileRows = sample.Patients + 8 + sample.Encounters + sample.Claims + sample.TransactionRows;
                var verified = syntheaOutput.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("verified:", StringComparison.Ordinal))?.Trim() ?? "";
                rows.Add(Row(name, $"synthea ({sample.Patients:N0} patients, {sample.Claims:N0} claims, {sample.TransactionRows:N0} transaction rows)", fileRows, syntheaPhase, verified));
                if (syntheaPhase.Exit != 0) Console.Error.WriteLine(syntheaOutput.ToString());
            }
            Console.WriteLine("| database | file | rows | exit | time | rows/s | importer peak working set | importer peak managed heap | engine peak working set | |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
            rows.ForEach(Console.WriteLine);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static IEnumerable<(string Name, string[] Args)> Databases(Options options)
    {
        if (!options.SkipSqlite) yield return ("SQLite", []);
        if (options.Postgres is not null) yield return ("PostgreSQL", ["--postgres", options.Postgres]);
    }

    private static string Row(string database, string file, long rows, Phase p, string note) =>
        $"| {database} | {file} | {rows:N0} | {p.Exit} | {p.Elapsed.TotalSeconds:N1} s | {rows / p.Elapsed.TotalSeconds:N0} | {Mib(p.PeakWorkingSet)} (from {Mib(p.StartWorkingSet)}) | {Mib(p.PeakManaged)} | {Mib(p.EnginePeakWorkingSet)} | {note} |";

    private static string Mib(long bytes) => $"{bytes / 1024.0 / 1024.0:N0} MiB";

    /// <summary>
    /// Reading, sorting and planning a large Synthea-shaped folder without an engine: the importer's memory with the
    /// file size taken out of the HTTP round trips, at two sizes, to show it does not grow with the file.
    /// </summary>
    private static async Task DryRunAsync(Options options, string work)
    {
        Console.WriteLine("| patients | transaction rows | CSV size | read + sort on disk + plan every claim | of which: copy into SQLite, index, read back and plan | rows/s | peak working set | peak managed heap | temporary SQLite file |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var patients in new[] { Math.Max(options.DryPatients / 10, 1), options.DryPatients })
        {
            var folder = Path.Combine(work, $"dry-{patients}");
            var sample = SyntheaSampleGenerator.Write(new SyntheaSampleOptions { Patients = patients, Folder = folder, Seed = 42 });
            var size = SyntheaSchema.Files.Sum(f => new FileInfo(Path.Combine(folder, f)).Length);
            long sqliteBytes = 0;
            var steps = new List<double>();
            var phase = await MeasureAsync(null, async () =>
            {
                var step = Stopwatch.StartNew();
                await using var staging = await SyntheaStaging.CreateAsync(work, default);
                foreach (var file in new[] { SyntheaSchema.Encounters, SyntheaSchema.Claims, SyntheaSchema.Transactions })
                {
                    await using var csv = await SyntheaCsv.OpenAsync(folder, file, default);
                    await staging.StageAsync(csv, null, default);
                }
                steps.Add(step.Elapsed.TotalSeconds);
                step.Restart();
                await staging.IndexAsync(default);
                steps.Add(step.Elapsed.TotalSeconds);
                step.Restart();
                var payers = new Dictionary<string, string>();
                await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Payers, default))
                    while (await csv.ReadAsync(default)) payers[csv.Get("Id")!] = csv.Get("NAME")!;
                await foreach (var (claim, encounter) in staging.ClaimsAsync(default))
                {
                    var (plan, _) = SyntheaMapping.MapClaim(claim, encounter, payers, null);
                    if (plan is not null) staging.TryAddAccount(plan);
                }
                steps.Add(step.Elapsed.TotalSeconds);
                step.Restart();
                var now = DateTimeOffset.UtcNow;
                long entries = 0;
                await foreach (var group in staging.TransactionsByClaimAsync(default))
                {
                    if (group.Account is not { } a) continue;
                    var claim = new AccountPlan(a.ClaimRow, a.ClaimId, a.PatientId, a.Facility, a.ClaimId, new System.Text.Json.Nodes.JsonObject(), a.PrimaryPayer, a.SecondaryPayer, default);
                    entries += ClaimLedgerPlanner.Plan(claim, group.Rows, now).Entries.Count;
                }
                steps.Add(step.Elapsed.TotalSeconds);
                sqliteBytes = new FileInfo(staging.Path).Length + (File.Exists(staging.Path + "-wal") ? new FileInfo(staging.Path + "-wal").Length : 0);
                return entries > 0 ? 0 : 1;
            });
            var rows = sample.Patients + sample.Encounters + sample.Claims + sample.TransactionRows;
            Console.WriteLine($"| {patients:N0} | {sample.TransactionRows:N0} | {Mib(size)} | {phase.Elapsed.TotalSeconds:N1} s | {string.Join(" + ", steps.Select(x => $"{x:N1}"))} s | {rows / phase.Elapsed.TotalSeconds:N0} | {Mib(phase.PeakWorkingSet)} | {Mib(phase.PeakManaged)} | {Mib(sqliteBytes)} |");
            Directory.Delete(folder, recursive: true);
        }
        Console.WriteLine();
    }

    private sealed record Phase(int Exit, TimeSpan Elapsed, long StartWorkingSet, long PeakWorkingSet, long PeakManaged, long EnginePeakWorkingSet);

    /// <summary>Runs one import, sampling this process's working set and managed heap, and the engine's working set, every 50 ms.</summary>
    private static async Task<Phase> MeasureAsync(EngineChild? engine, Func<Task<int>> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var start = self.WorkingSet64;
        long peakWorkingSet = start, peakManaged = GC.GetTotalMemory(false), enginePeak = engine?.WorkingSet() ?? 0;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                self.Refresh();
                peakWorkingSet = Math.Max(peakWorkingSet, self.WorkingSet64);
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
                if (engine is not null) enginePeak = Math.Max(enginePeak, engine.WorkingSet());
                try { await Task.Delay(50, done.Token); }
                catch (OperationCanceledException) { }
            }
        });
        var clock = Stopwatch.StartNew();
        var exit = await run();
        clock.Stop();
        await done.CancelAsync();
        await sampler;
        return new Phase(exit, clock.Elapsed, start, peakWorkingSet, peakManaged, enginePeak);
    }

    /// <summary>
    /// guarantors.csv, accounts.csv (70 % insured) and transactions.csv (a charge per account, then insurance payments,
    /// contractual adjustments and patient payments, none of which depend on the order they post in).
    /// </summary>
    private static List<(string Kind, string File, long Rows)> WriteGenericCsv(string folder, string run, Options options)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(7);
        var guarantors = Path.Combine(folder, "guarantors.csv");
        using (var w = new StreamWriter(guarantors, false, new UTF8Encoding(false)))
        {
            w.WriteLine("guarantor_id,first_name,last_name,date_of_birth,address_line1,city,state,zip,mobile_phone,email,preferred_channel");
            for (var g = 0; g < options.Guarantors; g++)
                w.WriteLine($"G{run}-{g},Pat{g},Bench,{new DateOnly(1950, 1, 1).AddDays(random.Next(0, 20_000)):yyyy-MM-dd},{g} Main St,Austin,TX,78701,512555{g % 10_000:D4},pat{g}@example.org,email");
        }
        var accounts = Path.Combine(folder, "accounts.csv");
        using (var w = new StreamWriter(accounts, false, new UTF8Encoding(false)))
        {
            w.WriteLine("facility,account_number,guarantor_id,primary_payer,admit_date,discharge_date");
            for (var a = 0; a < options.Accounts; a++)
                w.WriteLine($"B{run},A{a},G{run}-{a % options.Guarantors},{(a % 10 < 7 ? "Acme Health" : "")},2026-09-01,2026-09-02");
        }
        var transactions = Path.Combine(folder, "transactions.csv");
        using (var w = new StreamWriter(transactions, false, new UTF8Encoding(false)))
        {
            w.WriteLine("facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,payer,method,category,reason_code");
            for (var t = 0; t < options.Transactions; t++)
            {
                var account = t % options.Accounts;
                var insured = account % 10 < 7;
                var nth = t / options.Accounts;
                var line = nth == 0
                    ? $"charge,{random.Next(100, 2000)}.00,2026-10-01,2026-09-01,99213,Office visit,,,,"
                    : insured
                        ? (nth % 3) switch
                        {
                            1 => $"insurancePayment,{random.Next(5, 60)}.00,2026-10-15,,,,Acme Health,,,",
                            2 => $"adjustment,{random.Next(5, 40)}.00,2026-10-15,,,,Acme Health,,contractual,CO-45",
                            _ => $"patientPayment,{random.Next(5, 30)}.00,2026-10-20,,,,,card,,",
                        }
                        : $"patientPayment,{random.Next(5, 40)}.00,2026-10-20,,,,,card,,";
                w.WriteLine($"B{run},A{account},T{t},{line}");
            }
        }
        return [("guarantors", guarantors, options.Guarantors), ("accounts", accounts, options.Accounts), ("transactions", transactions, options.Transactions)];
    }

    /// <summary>The built engine (Collections.Silo, local profile) as a child process on free ports, with its admin key.</summary>
    private sealed class EngineChild : IDisposable
    {
        private readonly Process _process;

        private EngineChild(Process process, Uri baseAddress, string adminKey)
        {
            _process = process;
            BaseAddress = baseAddress;
            AdminKey = adminKey;
        }

        public Uri BaseAddress { get; }
        public string AdminKey { get; }

        public long WorkingSet()
        {
            try
            {
                _process.Refresh();
                return _process.HasExited ? 0 : _process.WorkingSet64;
            }
            catch (InvalidOperationException)
            {
                return 0;
            }
        }

        public static async Task<EngineChild> StartAsync(string name, string[] extra, string run, string work, string? postgres, Func<int> freePort)
        {
            var data = Path.Combine(work, $"engine-{name}-{run}");
            var baseAddress = new Uri($"http://127.0.0.1:{freePort()}");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in (string[])[SiloPath(), .. extra, "--data", data, "--urls", baseAddress.ToString(), "--silo-port", freePort().ToString(CultureInfo.InvariantCulture),
                         "--gateway-port", freePort().ToString(CultureInfo.InvariantCulture), "--Collections:ServiceId", $"bench-import-{run}",
                         "--Collections:Outreach:Sender:Enabled", "false", "--Serilog:MinimumLevel:Default", "Warning"])
                start.ArgumentList.Add(arg);
            var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the engine");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
            for (var i = 0; ; i++)
            {
                if (process.HasExited) throw new InvalidOperationException($"the engine exited with code {process.ExitCode}");
                try
                {
                    if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                if (i > 400) throw new TimeoutException("the engine did not become ready");
                await Task.Delay(250);
            }
            var keyFile = Path.Combine(data, "admin-api-key");
            string key;
            if (File.Exists(keyFile)) key = (await File.ReadAllTextAsync(keyFile)).Trim();
            else
            {
                // PostgreSQL already had an admin key (an earlier run): make one for this run, straight in the database.
                var store = new ApiKeyStore(DatabaseOptions.Postgres(postgres!), TimeProvider.System);
                key = (await store.CreateAsync("import bench", "admin", "bench")).Token;
            }
            return new EngineChild(process, baseAddress, key);
        }

        private static string SiloPath()
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Collections.sln"))) root = root.Parent;
            var path = Path.Combine(root?.FullName ?? ".", "src", "Silo", "bin", "Release", "net10.0", "Collections.Silo.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build the engine first (dotnet build -c Release): {path} is missing");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
