// The agents' worklist at scale (see docs/benchmarks.md, "Agents' worklist").
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode worklist [--entries 1000000] [--agents 50] [--nexts 20000]
//       [--real-accounts 2000] [--postgres "Host=..."] [--skip-sqlite]
//   bench/run.sh --mode worklist
//
// Three measurements:
//  1. The pure WorklistQueue alone: build a queue of N entries, then 50 agents take turns asking for the next account and
//     completing it (no answer: back after the retry time); Next's latency, single-threaded, no I/O.
//  2. The queue grain with an always-allow call check (so the queue is measured, not the accounts), in an engine started
//     in-process as the run command does, per database: load N entries with UpsertMany (5,000 per call, written through
//     to worklist_entry), then 50 agents call Next and Complete concurrently, each Next answering only once its lease is
//     written and its "account.read" audit event committed. Then the engine is restarted on the same database and the
//     first call to the queue is timed: activation loading N rows.
//  3. The real path at a smaller scale: the account's own check (worklist rules + the compliance gate through the
//     guarantor) on real accounts that published themselves when their self-pay charge started their cadence, through
//     the HTTP API with 50 agent keys.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Grains;
using Collections.Hosting;
using Collections.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Bench;

internal static class WorklistBench
{
    public static async Task RunAsync(int entries, int agents, int nexts, int realAccounts, string? postgres, bool skipSqlite, Func<int> freePort)
    {
        Console.WriteLine($"Collections worklist benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        Console.WriteLine($"{entries:N0} entries, {agents} agents, {nexts:N0} offers per run; real path: {realAccounts:N0} accounts");
        Console.WriteLine();
        var rows = new List<string> { PureQueue(entries, agents, Math.Max(nexts, 200_000)) };
        var loads = new List<string>();
        var real = new List<string>();
        foreach (var (name, extra) in Databases(postgres, skipSqlite))
        {
            var (row, load) = await GrainQueueAsync(name, extra, entries, agents, nexts, freePort);
            rows.Add(row);
            loads.Add(load);
            if (realAccounts > 0) real.Add(await RealPathAsync(name, extra, realAccounts, agents, freePort));
        }
        Console.WriteLine();
        Console.WriteLine("| what | database | entries | agents | offers | offers/s | next p50 ms | next p99 ms | other |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("| database | entries | load with UpsertMany | rows/s | activation (load all rows) | managed heap of the loaded queue |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        loads.ForEach(Console.WriteLine);
        if (real.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("| real path (HTTP, account check + gate) | accounts | open + publish | agents | offers | offers/s | next p50 ms | next p99 ms | outcome p50 ms | outcome p99 ms |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            real.ForEach(Console.WriteLine);
        }
    }

    private static IEnumerable<(string Name, string[] Args)> Databases(string? postgres, bool skipSqlite)
    {
        if (!skipSqlite) yield return ("SQLite", []);
        if (postgres is not null) yield return ("PostgreSQL", ["--postgres", postgres]);
    }

    private static readonly DateTimeOffset Start = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);

    private static WorklistEntry Entry(string facility, int i, DateTimeOffset now)
    {
        var random = new Random(i);
        var balance = random.Next(1_000, 500_000) / 100m;
        double? probability = random.Next(10) == 0 ? null : random.NextDouble();
        return new WorklistEntry
        {
            Account = new AccountKey(facility, $"A{i:D7}"), GuarantorId = $"G{i:D7}", PatientBalance = balance, Probability = probability,
            ExpectedRecovery = WorklistEntry.ExpectedRecoveryOf(probability, balance), OldestBalanceDate = new DateOnly(2025, 1, 1).AddDays(random.Next(400)),
            CallableFrom = random.Next(10) == 0 ? now.AddHours(random.Next(1, 48)) : null, ModelVersion = probability is null ? null : "bench-1", UpdatedAt = now,
        };
    }

    /// <summary>The pure index: N entries, then agents take turns: complete the held account (no answer), ask for the next.</summary>
    private static string PureQueue(int entries, int agents, int nexts)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var queue = new WorklistQueue();
        var build = Stopwatch.StartNew();
        for (var i = 0; i < entries; i++) queue.Upsert(Entry("PURE", i, Start), Start);
        build.Stop();
        var heap = GC.GetTotalMemory(forceFullCollection: true) - before;
        Console.WriteLine($"pure: built {entries:N0} entries in {build.Elapsed.TotalSeconds:N1} s, {heap / 1048576.0:N0} MiB managed heap");

        var latencies = new double[nexts];
        var held = new AccountKey?[agents];
        var now = Start;
        var total = Stopwatch.StartNew();
        for (var n = 0; n < nexts; n++)
        {
            var a = n % agents;
            now = now.AddMilliseconds(10);
            if (held[a] is { } account) queue.Complete(account, $"agent-{a}", WorklistOutcome.NoAnswer, now, now.AddHours(4));
            var started = Stopwatch.GetTimestamp();
            var lease = queue.Next($"agent-{a}", now, TimeSpan.FromMinutes(15));
            latencies[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            held[a] = lease?.Entry.Account;
        }
        total.Stop();
        var updates = new double[20_000];
        for (var n = 0; n < updates.Length; n++)
        {
            var entry = Entry("PURE", (n * 7919) % entries, now) with { PatientBalance = 42m };
            var started = Stopwatch.GetTimestamp();
            queue.Upsert(entry, now);
            updates[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(latencies);
        Array.Sort(updates);
        return $"| pure `WorklistQueue` (no I/O, one thread) | — | {entries:N0} | {agents} | {nexts:N0} | {nexts / total.Elapsed.TotalSeconds:N0} | {P(latencies, 0.50):N4} | {P(latencies, 0.99):N4} | " +
               $"build {build.Elapsed.TotalSeconds:N1} s; {heap / 1048576.0:N0} MiB; upsert p50 {P(updates, 0.5):N4} ms, p99 {P(updates, 0.99):N4} ms |";
    }

    private sealed class AlwaysAllow : IWorklistCallCheck
    {
        public Task<CallCheck> CheckAsync(AccountKey account) => Task.FromResult(new CallCheck { Decision = GateDecision.Allowed, PatientBalance = 1m });
    }

    private static WebApplication Engine(string[] extra, string data, string serviceId, Func<int> freePort, bool alwaysAllow)
    {
        string[] args = [.. extra, "--data", data, "--urls", $"http://127.0.0.1:{freePort()}", "--silo-port", freePort().ToString(),
            "--gateway-port", freePort().ToString(), "--Collections:ServiceId", serviceId, "--Serilog:MinimumLevel:Default", "Warning",
            "--Collections:Outreach:Sender:Enabled", "false", "--Collections:Webhooks:Enabled", "false",
            "--Collections:Compliance:WindowStart", "00:00", "--Collections:Compliance:WindowEnd", "23:59:59"];
        // As EngineHost.Build, with the queue's call check replaced when asked.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = builder.AddCollectionsSettings(args, defaultProfile: "local");
        builder.AddCollectionsLogging(settings, "silo");
        builder.AddCollectionsDatabase();
        if (alwaysAllow) builder.Services.AddSingleton<IWorklistCallCheck, AlwaysAllow>();
        builder.AddCollectionsSilo(settings);
        builder.AddCollectionsGateway(settings);
        var app = builder.Build();
        app.MapCollectionsGateway();
        return app;
    }

    private static async Task<(string Row, string Load)> GrainQueueAsync(string name, string[] extra, int entries, int agents, int nexts, Func<int> freePort)
    {
        var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
        var serviceId = "bench-worklist-" + Guid.NewGuid().ToString("N")[..8];
        var queueId = "WL" + Guid.NewGuid().ToString("N")[..8];
        var app = Engine(extra, data, serviceId, freePort, alwaysAllow: true);
        await app.StartAsync();
        TimeSpan load;
        long heap;
        List<double> latencies;
        TimeSpan run;
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var queue = grains.GetGrain<IWorklistQueueGrain>(queueId);
            var now = DateTimeOffset.UtcNow;
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            Console.WriteLine($"{name}: loading {entries:N0} entries into queue {queueId} ...");
            var stopwatch = Stopwatch.StartNew();
            const int batch = 5_000;
            var loaded = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, (entries + batch - 1) / batch), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (b, _) =>
            {
                var list = Enumerable.Range(b * batch, Math.Min(batch, entries - b * batch)).Select(i => Entry(queueId, i, now)).ToList();
                await queue.UpsertMany(list);
                var n = Interlocked.Add(ref loaded, list.Count);
                if (n % 100_000 < batch) Console.WriteLine($"{name}: {n:N0} entries ({stopwatch.Elapsed.TotalSeconds:N0} s)");
            });
            load = stopwatch.Elapsed;
            heap = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
            Console.WriteLine($"{name}: loaded in {load.TotalSeconds:N1} s; heap +{heap / 1048576.0:N0} MiB");

            (latencies, run) = await AgentsAsync(agents, nexts, async agent =>
            {
                var started = Stopwatch.GetTimestamp();
                var offer = await queue.Next(agent);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (offer is not null) await queue.Complete(offer.Lease.Entry.Account, agent, WorklistOutcome.NoAnswer, Guid.NewGuid().ToString());
                return (ms, offer is not null);
            });
            var stats = await queue.Stats(null);
            Console.WriteLine($"{name}: depth {stats.Depth:N0}, callable {stats.CallableNow:N0}, deferred {stats.Deferred:N0}, leased {stats.Leased}");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        // A restart: the first call activates the queue, which loads every row.
        app = Engine(extra, data, serviceId, freePort, alwaysAllow: true);
        await app.StartAsync();
        TimeSpan activation;
        try
        {
            var queue = app.Services.GetRequiredService<IGrainFactory>().GetGrain<IWorklistQueueGrain>(queueId);
            var stopwatch = Stopwatch.StartNew();
            var stats = await queue.Stats(null);
            activation = stopwatch.Elapsed;
            Console.WriteLine($"{name}: restarted; the queue activated with {stats.Depth:N0} entries in {activation.TotalSeconds:N1} s");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var sorted = latencies.Order().ToArray();
        return ($"| queue grain, always-allow check (lease write + audit each) | {name} | {entries:N0} | {agents} | {sorted.Length:N0} | {sorted.Length / run.TotalSeconds:N0} | {P(sorted, 0.5):N2} | {P(sorted, 0.99):N2} | each offer then completed (no answer) |",
            $"| {name} | {entries:N0} | {load.TotalSeconds:N1} s | {entries / load.TotalSeconds:N0} | {activation.TotalSeconds:N1} s | {heap / 1048576.0:N0} MiB |");
    }

    /// <summary>Real accounts (each publishes itself), real checks, over HTTP with one key per agent.</summary>
    private static async Task<string> RealPathAsync(string name, string[] extra, int accounts, int agents, Func<int> freePort)
    {
        var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
        var facility = "RL" + Guid.NewGuid().ToString("N")[..8];
        var app = Engine(extra, data, "bench-worklist-" + Guid.NewGuid().ToString("N")[..8], freePort, alwaysAllow: false);
        await app.StartAsync();
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var keys = app.Services.GetRequiredService<ApiKeyStore>();
            var tokens = new List<(string Id, string Token)>();
            for (var a = 0; a < agents; a++)
            {
                var (record, token) = await keys.CreateAsync($"bench agent {a}", Roles.Agent, "bench");
                tokens.Add((record.KeyId, token));
            }
            var saved = await grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key)
                .Save(facility, new WorklistQueueRequest { Name = "bench", Facility = facility, Agents = tokens.Select(t => (string?)t.Id).ToList() });
            if (!saved.Succeeded) throw new InvalidOperationException(saved.Errors[0].Message);

            Console.WriteLine($"{name}: opening {accounts:N0} real accounts (guarantor, account, self-pay charge: each publishes itself) ...");
            var open = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, accounts), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                var guarantorId = $"{facility}-G{i}";
                await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(new GuarantorDetails
                {
                    FirstName = "Bench", LastName = "Patient", DateOfBirth = new DateOnly(1970, 1, 1),
                    Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" },
                    Phones = [new PhoneNumber { Number = "5125550100", Type = PhoneType.Landline }],
                });
                var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, $"A{i}").ToString());
                await account.Open(new OpenAccountRequest { GuarantorId = guarantorId });
                await account.Post(new EntryRequest { Kind = EntryKind.Charge, Amount = 100m + i % 900, ServiceDate = new DateOnly(2026, 1, 1), Code = "99213", IdempotencyKey = "charge" });
            });
            open.Stop();
            var depth = (await grains.GetGrain<IWorklistQueueGrain>(facility).Stats(null)).Depth;
            Console.WriteLine($"{name}: {accounts:N0} accounts opened in {open.Elapsed.TotalSeconds:N1} s; queue depth {depth:N0}");

            var baseAddress = new Uri(app.Urls.First());
            var clients = tokens.Select(t =>
            {
                var client = new HttpClient { BaseAddress = baseAddress };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", t.Token);
                return client;
            }).ToList();
            var outcomes = new List<double>();
            var offers = Math.Min(accounts, 2_000);
            var (latencies, run) = await AgentsAsync(agents, offers, async agent =>
            {
                var client = clients[int.Parse(agent["agent-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
                var started = Stopwatch.GetTimestamp();
                var response = await client.PostAsync("/api/worklist/next", null);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode == System.Net.HttpStatusCode.NoContent) return (ms, false);
                response.EnsureSuccessStatusCode();
                var offer = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
                var request = new HttpRequestMessage(HttpMethod.Post, $"/api/worklist/leases/{facility}/{offer.GetProperty("accountNumber").GetString()}/outcome")
                {
                    Content = JsonContent.Create(new { outcome = "noAnswer" }),
                };
                request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                started = Stopwatch.GetTimestamp();
                (await client.SendAsync(request)).EnsureSuccessStatusCode();
                lock (outcomes) outcomes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return (ms, true);
            });
            clients.ForEach(c => c.Dispose());
            var sorted = latencies.Order().ToArray();
            var outcomeSorted = outcomes.Order().ToArray();
            return $"| {name} | {accounts:N0} | {open.Elapsed.TotalSeconds:N0} s | {agents} | {sorted.Length:N0} | {sorted.Length / run.TotalSeconds:N0} | {P(sorted, 0.5):N2} | {P(sorted, 0.99):N2} | {P(outcomeSorted, 0.5):N2} | {P(outcomeSorted, 0.99):N2} |";
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Agents work concurrently until <paramref name="offers"/> accounts were offered (or nothing is left); latencies of the offers.</summary>
    private static async Task<(List<double> Latencies, TimeSpan Elapsed)> AgentsAsync(int agents, int offers, Func<string, Task<(double Ms, bool Offered)>> work)
    {
        var latencies = new List<double>(offers);
        var taken = 0;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, agents).Select(a => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref taken) <= offers)
            {
                var (ms, offered) = await work($"agent-{a}");
                if (!offered) return;
                lock (latencies) latencies.Add(ms);
            }
        })));
        stopwatch.Stop();
        return (latencies, stopwatch.Elapsed);
    }

    private static double P(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Round(p * (sorted.Length - 1)))];
}
