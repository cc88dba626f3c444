// Posting benchmark: entries per second through the HTTP gateway and through direct grain calls, with 1 and 64
// requests in flight, on SQLite and (when --postgres is given) PostgreSQL, with every projection on (a webhook
// subscribed, scoring, worklist, KPIs); in the same run, the ceiling: a plain single-row INSERT per transaction on
// the same database at the same concurrency and durability. Last it prints one line per database and concurrency:
//   posting-vs-raw <sqlite|postgresql> <in-flight> <engine per s> <raw per s> <ratio>
// and the projections' lag (commit to applied) under the 64-way load; then memory per active account, and (Linux) what
// the machine's disks wrote per post and per raw INSERT.
//
//   dotnet run -c Release --project bench/Collections.Bench -- [--posts 2000] [--seconds 20] [--warm-up 2000] [--accounts 2000] [--postgres "Host=..."]
//   (each measured HTTP run and raw loop posts at least --posts entries and goes on for at least --seconds: a short
//   burst at 64 in flight ends before the projections' share of the writes comes due, and read about twice the rate
//   the engine sustains; the direct grain call, measured first without warm-up, stays a --posts burst)
//   (the HTTP run is measured after a warm-up at its concurrency: rounds of --warm-up posts on accounts of its own
//   until the rate settles, so the JIT's tiers have settled as in an engine that has run a while; the raw loop gets one
//   warm-up round; the direct grain call, measured first, is not warmed)
//   bench/run.sh      (starts a private PostgreSQL and runs both databases)
//   ... --mode cadence --accounts 100000   (cadences at scale: see CadenceBench.cs)
//   ... --mode import                      (CSV and Synthea import rate and memory: see ImportBench.cs)
//   ... --mode worklist [--entries 1000000] (the agents' worklist: see WorklistBench.cs)
//   ... --mode portal [--patients 64]       (the self-service page and card payments: see PortalBench.cs)
//   ... --mode ledger [--entries 10000]     (a long-lived account: the cost per command as its ledger grows, see LedgerLengthBench.cs)
//   ... --mode sending [--messages 4000]    (the outbox sender working off a backlog through a slow vendor: see SendingBench.cs)
//   ... --telemetry both                    (each database nine times: one warm-up engine, then OpenTelemetry off, on,
//                                            on, off, on, off, off, on, so drift falls on both sides; on exports over
//                                            OTLP to a local receiver; prints telemetry-on-vs-off per database and
//                                            in-flight: the median rates and their ratio)
//   ... --telemetry both --trace-ratio 0.1  (the same with one trace in ten sampled: OTEL_TRACES_SAMPLER)
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Collections.Bench;
using Collections.Domain;
using Collections.Grains;
using Collections.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

if (StringArg("--mode") == "worklist")
{
    await Collections.Bench.WorklistBench.RunAsync(IntArg("--entries", 1_000_000), IntArg("--agents", 50), IntArg("--nexts", 20_000), IntArg("--real-accounts", 2_000),
        StringArg("--postgres"), args.Contains("--skip-sqlite"), FreePort);
    return;
}
if (StringArg("--mode") == "cadence")
{
    await Collections.Bench.CadenceBench.RunAsync(IntArg("--accounts", 10_000), IntArg("--in-flight", 64), StringArg("--postgres"), args.Contains("--skip-sqlite"),
        args.Contains("--skip-idle-pass"), args.Contains("--skip-due-day"), args.Contains("--restart"), FreePort,
        args.Contains("--send") ? new Collections.Bench.BenchVendor(TimeSpan.FromMilliseconds(IntArg("--latency-ms", 200)), DoubleArg("--slow-share", 0.02),
            TimeSpan.FromMilliseconds(IntArg("--slow-ms", 2_000)), Collections.Outreach.TransportNames.Sandbox) : null,
        IntArg("--sender-in-flight", 32));
    return;
}
if (StringArg("--mode") == "import")
{
    await Collections.Bench.ImportBench.RunAsync(new Collections.Bench.ImportBench.Options(
        IntArg("--guarantors", 1_000), IntArg("--accounts", 2_000), IntArg("--transactions", 40_000), IntArg("--synthea-patients", 200),
        IntArg("--dry-patients", 10_000), IntArg("--parallel", 8), StringArg("--postgres"), args.Contains("--skip-sqlite")), FreePort);
    return;
}
if (StringArg("--mode") == "portal")
{
    await Collections.Bench.PortalBench.RunAsync(IntArg("--patients", 64), IntArg("--rounds", 10), StringArg("--postgres"), args.Contains("--skip-sqlite"), FreePort);
    return;
}
if (StringArg("--mode") == "ledger")
{
    await Collections.Bench.LedgerLengthBench.RunAsync(IntArg("--entries", 10_000), IntArg("--band", 1_000), StringArg("--postgres"), args.Contains("--skip-sqlite"), FreePort);
    return;
}
if (StringArg("--mode") == "sending")
{
    await Collections.Bench.SendingBench.RunAsync(IntArg("--messages", 4_000), IntArg("--latency-ms", 200), DoubleArg("--slow-share", 0.02), IntArg("--slow-ms", 2_000),
        StringArg("--postgres"), args.Contains("--skip-sqlite"));
    return;
}
if (StringArg("--mode") is { } mode && mode != "posting")
{
    Console.Error.WriteLine($"Unknown --mode '{mode}': use posting (the default), cadence, import, worklist, portal, ledger or sending.");
    Environment.Exit(2);
}
var posts = IntArg("--posts", 2000);
var seconds = TimeSpan.FromSeconds(IntArg("--seconds", 20));
var warmUpPosts = IntArg("--warm-up", 2000);
var memoryAccounts = IntArg("--accounts", 2000);
var postgres = StringArg("--postgres");

Console.WriteLine($"Collections posting benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, at least {posts} posts and {seconds.TotalSeconds:0} s per run");
Console.WriteLine();
Console.WriteLine("| database | path | in flight | entries/s | p50 ms | p99 ms |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");
var memory = new List<string>();
var ratios = new List<string>();
var lags = new List<string>();
var disk = new List<string>();
var runtime = new List<string>();
var hooks = new List<string>();
await using var hookReceiver = await WebhookReceiver.StartAsync(FreePort());
await using var otlpReceiver = await WebhookReceiver.StartAsync(FreePort());
var telemetryRates = new Dictionary<(string, int, bool), List<double>>();
var comparesTelemetry = StringArg("--telemetry") is not null;
foreach (var (name, extra0) in Databases())
foreach (var (telemetryOn, warmUp) in TelemetryVariants())
{
    var label = comparesTelemetry ? $"{name} telemetry {(warmUp ? "warm-up" : telemetryOn ? "on" : "off")}" : name;
    string[] extra = telemetryOn
        ? [.. extra0, "--OTEL_EXPORTER_OTLP_ENDPOINT", otlpReceiver.Url.Replace("/hook", ""), "--OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
            "--OTEL_METRIC_EXPORT_INTERVAL", "5000", "--OTEL_BSP_SCHEDULE_DELAY", "1000",
            .. StringArg("--trace-ratio") is { } ratio ? new[] { "--OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "--OTEL_TRACES_SAMPLER_ARG", ratio } : []]
        : extra0;
    var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
    var http = new Uri($"http://127.0.0.1:{FreePort()}");
    var app = EngineHost.Build([.. extra, "--data", data, "--urls", http.ToString(), "--silo-port", FreePort().ToString(),
        "--gateway-port", FreePort().ToString(), "--Collections:ServiceId", "bench-" + Guid.NewGuid().ToString("N")[..8],
        "--Serilog:MinimumLevel:Default", "Warning",
        // The bench's webhook receiver listens on this machine: allowed as an administrator allows an on-premise one.
        "--Collections:Webhooks:AllowedPrivateTargets:0", "127.0.0.1"]);
    await app.StartAsync();
    var grains = app.Services.GetRequiredService<IGrainFactory>();
    using var client = new HttpClient { BaseAddress = http };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminKey(data, postgres, app));
    // Every projection on: a webhook subscription for every event type (scoring, worklist and KPIs are on by default).
    var subscribed = await client.PostAsJsonAsync("/api/webhooks", new { url = hookReceiver.Url, events = AccountEventTypes.All, description = "bench" });
    subscribed.EnsureSuccessStatusCode();
    var subscription = (await subscribed.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
    var database = app.Services.GetRequiredService<Collections.Persistence.DatabaseOptions>();
    var runner = app.Services.GetRequiredService<ProjectionRunner>();
    await runner.CatchUpAsync(TimeSpan.FromMinutes(2));

    foreach (var inFlight in (StringArg("--in-flight") ?? "1,64").Split(',').Select(int.Parse))
    {
        if (!args.Contains("--skip-direct"))
        {
            var direct = await Prepare(grains, $"direct{inFlight}");
            Report(label, "direct grain call", inFlight, await Run(inFlight, posts, i => PostDirect(grains, direct, i)));
        }
        var viaHttp = await Prepare(grains, $"http{inFlight}");
        // Warm-up at the same concurrency on accounts of its own (the JIT's tiers settle, pools fill), as the raw
        // loop below is: what is compared is the steady state, not the first seconds after start.
        var warm = await Prepare(grains, $"warm{inFlight}");
        var warmedUp = await WarmUp(inFlight, i => PostHttp(client, warm, i));
        await runner.CatchUpAsync(TimeSpan.FromMinutes(5));
        await WebhooksDrained(app.Services.GetRequiredService<Collections.Outreach.Webhooks.IWebhookStore>(), subscription);
        using var lag = inFlight == 64 ? new LagRecorder() : null;
        var diskBefore = DiskWrites.Now();
        var runtimeBefore = RuntimeCost.Now();
        var hooksBefore = hookReceiver.Requests;
        var engine = await Run(inFlight, posts, i => PostHttp(client, viaHttp, i), seconds);
        var hooksDuring = hookReceiver.Requests - hooksBefore;
        var hooksWaiting = await WaitingDeliveries(database);
        var draining = Stopwatch.StartNew();
        runtime.Add((RuntimeCost.Now() - runtimeBefore).Row(label, inFlight, engine.Count - 1, warmedUp));
        var engineDisk = DiskWrites.Now() - diskBefore;
        Report(label, "HTTP gateway", inFlight, engine);
        if (!telemetryRates.TryGetValue((name, inFlight, telemetryOn), out var rates)) telemetryRates[(name, inFlight, telemetryOn)] = rates = [];
        if (!warmUp) rates.Add(Rate(engine));
        await runner.CatchUpAsync(TimeSpan.FromMinutes(5));
        if (lag is not null) lags.Add($"| {label} | {lag.Summary()} |");
        var drained = await WebhooksDrained(app.Services.GetRequiredService<Collections.Outreach.Webhooks.IWebhookStore>(), subscription); // the ceiling runs on a quiet machine
        var hooksMade = hookReceiver.Requests - hooksBefore;
        hooks.Add($"| {label} | {inFlight} | {hooksMade / -engine[^1]:0} | {hooksDuring / -engine[^1]:0} | {hooksWaiting:N0} | " +
                  $"{(drained ? $"{draining.Elapsed.TotalSeconds:0.0} s" : $"not in {draining.Elapsed.TotalSeconds:0} s")} |");
        await RawInsertCeiling.EnsureTableAsync(database);
        await Run(inFlight, Math.Min(warmUpPosts, posts), i => RawInsertCeiling.InsertAsync(database, i)); // its warm-up
        diskBefore = DiskWrites.Now();
        var raw = await Run(inFlight, posts, i => RawInsertCeiling.InsertAsync(database, i), seconds);
        var rawDisk = DiskWrites.Now() - diskBefore;
        Report(label, "raw INSERT (ceiling)", inFlight, raw);
        ratios.Add($"posting-vs-raw {name.ToLowerInvariant()}{(!comparesTelemetry ? "" : telemetryOn ? " telemetry-on" : " telemetry-off")} {inFlight} {Rate(engine):0} {Rate(raw):0} {Rate(engine) / Rate(raw):0.00}");
        disk.Add($"| {label} | {inFlight} | {engineDisk.KibPer(engine.Count - 1):0.0} KiB, {(double)engineDisk.Writes / (engine.Count - 1):0.0} writes | {rawDisk.KibPer(raw.Count - 1):0.0} KiB, {(double)rawDisk.Writes / (raw.Count - 1):0.0} writes |");
    }
    memory.Add($"| {label} | {await MemoryPerAccount(grains, memoryAccounts):N0} bytes |");
    await client.DeleteAsync($"/api/webhooks/{subscription}"); // a later run on the same database must not retry into this run's receiver
    await app.StopAsync();
    await app.DisposeAsync();
}
Console.WriteLine();
Console.WriteLine($"| database | managed memory per active account (10 ledger entries, {memoryAccounts} accounts) |");
Console.WriteLine("|---|---:|");
memory.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("| database | in flight | webhook deliveries made per s of posting | delivered per s during the posting | still waiting when the posting ended | drained after the posting in |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
hooks.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("| database | projection lag under 64-way posting (commit to applied), per projection |");
Console.WriteLine("|---|---|");
lags.ForEach(Console.WriteLine);
Console.WriteLine();
if (DiskWrites.Now() != default)
{
    Console.WriteLine("| database | in flight | the machine's disk writes per post (every writer: journal, projections, checkpoints) | per raw INSERT |");
    Console.WriteLine("|---|---:|---:|---:|");
    disk.ForEach(Console.WriteLine);
    Console.WriteLine();
}
Console.WriteLine("| database | in flight | warm-up | allocated per post | GC pauses (share of the run) | collections (gen0 and older / gen1 and older / gen2) | CPU per post (this process: engine, projections, the bench's client and webhook receiver) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
runtime.ForEach(Console.WriteLine);
Console.WriteLine();
ratios.ForEach(Console.WriteLine);
// Telemetry's cost: the HTTP posting rate with OpenTelemetry exporting, over the rate without it (same run, same database).
foreach (var ((db, inFlight, on), onRates) in telemetryRates.Where(r => r.Key.Item3))
    if (telemetryRates.TryGetValue((db, inFlight, false), out var offRates))
        Console.WriteLine($"telemetry-on-vs-off {db.ToLowerInvariant()} {inFlight} {Median(onRates):0} {Median(offRates):0} {Median(onRates) / Median(offRates):0.00} " +
                          $"(on: {string.Join(", ", onRates.Select(r => r.ToString("0")))}; off: {string.Join(", ", offRates.Select(r => r.ToString("0")))}; {otlpReceiver.Requests} OTLP exports received)");
return;

static double Median(List<double> values) =>
    values.Order().ToList() is var sorted && sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

IEnumerable<(bool On, bool WarmUp)> TelemetryVariants() => StringArg("--telemetry") switch
{
    null or "off" => [(false, false)],
    "on" => [(true, false)],
    "both" => [(false, true), (false, false), (true, false), (true, false), (false, false), (true, false), (false, false), (false, false), (true, false)],
    var other => throw new ArgumentException($"--telemetry {other}: use on, off or both."),
};

static double Rate(List<double> samples) => (samples.Count - 1) / -samples[^1];

/// <summary>Deliveries not yet settled (waiting, or on their way): read from the table, whatever the receiver has seen.</summary>
static async Task<long> WaitingDeliveries(Collections.Persistence.DatabaseOptions database)
{
    await using var connection = await database.OpenAsync();
    await using var command = connection.CreateCommand();
    command.CommandText = "SELECT COUNT(*) FROM webhook_delivery WHERE status IN ('pending', 'sending')";
    return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
}

static async Task<bool> WebhooksDrained(Collections.Outreach.Webhooks.IWebhookStore store, string subscription)
{
    for (var i = 0; i < 3000; i++)
    {
        if ((await store.DeliveriesAsync(subscription, Collections.Outreach.Webhooks.WebhookStatus.Pending, 1)).Count == 0
            && (await store.DeliveriesAsync(subscription, Collections.Outreach.Webhooks.WebhookStatus.Sending, 1)).Count == 0) return true;
        await Task.Delay(100);
    }
    return false;
}

IEnumerable<(string Name, string[] Args)> Databases()
{
    if (!args.Contains("--skip-sqlite")) yield return ("SQLite", []);
    if (postgres is not null) yield return ("PostgreSQL", ["--postgres", postgres]);
}

// Rounds of --warm-up posts until a round's rate is within 10 % of the one before and the JIT has settled (it compiled
// for under 1 % of the round's time), for at most 120 s: what is compared is the steady state. Tiered compilation
// recompiles the hot methods twice (instrumented, then optimised); on two cores that took a sixth of the CPU 30-40 s
// into a fresh process, when the rate alone had already looked steady and the timed run had begun.
async Task<TimeSpan> WarmUp(int inFlight, Func<int, Task> post)
{
    var previous = 0.0;
    var started = Stopwatch.StartNew();
    for (var round = 0; started.Elapsed < TimeSpan.FromSeconds(120); round++)
    {
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
        var roundTime = Stopwatch.StartNew();
        var rate = Rate(await Run(inFlight, warmUpPosts, post));
        var jitShare = (System.Runtime.JitInfo.GetCompilationTime() - jitBefore) / roundTime.Elapsed;
        if (round > 0 && Math.Abs(rate - previous) <= 0.1 * previous && jitShare < 0.01) break;
        previous = rate;
    }
    return started.Elapsed;
}

// Each run spreads posts over 64 accounts (many accounts, as in production), opening them first. It makes at least
// count posts and, given a duration, goes on until that much time has passed.
async Task<List<double>> Run(int inFlight, int count, Func<int, Task> post, TimeSpan? atLeast = null)
{
    var latencies = new List<double>(count);
    var next = -1;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count || stopwatch.Elapsed < atLeast)
        {
            var started = Stopwatch.GetTimestamp();
            await post(i);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            lock (latencies) latencies.Add(ms);
        }
    }));
    stopwatch.Stop();
    latencies.Add(-stopwatch.Elapsed.TotalSeconds); // carried to Report as the last element
    return latencies;
}

void Report(string database, string path, int inFlight, List<double> samples)
{
    var seconds = -samples[^1];
    var latencies = samples.Take(samples.Count - 1).Order().ToList();
    double Percentile(double p) => latencies[(int)Math.Min(latencies.Count - 1, Math.Round(p * (latencies.Count - 1)))];
    Console.WriteLine($"| {database} | {path} | {inFlight} | {latencies.Count / seconds:N0} | {Percentile(0.50):N2} | {Percentile(0.99):N2} |");
}

string AccountFor(int i, string run) => $"BENCH/{run}-{i % 64}";

async Task<string> Prepare(IGrainFactory g, string run)
{
    await Task.WhenAll(Enumerable.Range(0, 64).Select(i => EnsureOpen(g, AccountFor(i, run))));
    return run;
}

async Task EnsureOpen(IGrainFactory g, string key)
{
    var account = g.GetGrain<IPatientAccountGrain>(key);
    if (await account.Get() is not null) return;
    // Its own guarantor, as in a real portfolio (a guarantor has a handful of accounts): one guarantor for every
    // account would make its single activation the bottleneck the engine is not.
    var guarantor = "bench-guarantor-" + key.Replace('/', '-');
    await g.GetGrain<IGuarantorGrain>(guarantor).Register(new GuarantorDetails
    {
        FirstName = "Bench", LastName = "Mark", DateOfBirth = new DateOnly(1970, 1, 1),
        Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" },
    });
    await account.Open(new OpenAccountRequest { GuarantorId = guarantor });
    await account.Post(new EntryRequest { Kind = EntryKind.Charge, Amount = 1_000_000m, ServiceDate = new DateOnly(2026, 1, 1), Code = "99213", IdempotencyKey = "open" });
}

async Task PostDirect(IGrainFactory g, string run, int i)
{
    var key = AccountFor(i, run);
    var receipt = await g.GetGrain<IPatientAccountGrain>(key).Post(new EntryRequest
    {
        Kind = EntryKind.PatientPayment, Amount = 1.00m, Method = PaymentMethod.Card, IdempotencyKey = Guid.NewGuid().ToString(),
    });
    if (!receipt.Succeeded) throw new InvalidOperationException(receipt.Errors[0].Message);
}

async Task PostHttp(HttpClient c, string run, int i)
{
    var key = AccountFor(i, run);
    var request = new HttpRequestMessage(HttpMethod.Post, $"/api/accounts/{key}/entries")
    {
        Content = JsonContent.Create(new { kind = "patientPayment", amount = 1.00m, method = "card" }),
    };
    request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
    var response = await c.SendAsync(request);
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
}

async Task<long> MemoryPerAccount(IGrainFactory g, int accounts)
{
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var run = Guid.NewGuid().ToString("N")[..6];
    await Parallel.ForEachAsync(Enumerable.Range(0, accounts), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
    {
        var key = $"MEM/{run}-{i}";
        await EnsureOpen(g, key);
        for (var e = 0; e < 9; e++)
            await g.GetGrain<IPatientAccountGrain>(key).Post(new EntryRequest { Kind = EntryKind.PatientPayment, Amount = 1.00m, Method = PaymentMethod.Cash, IdempotencyKey = $"m{e}" });
    });
    var after = GC.GetTotalMemory(forceFullCollection: true);
    return (after - before) / accounts;
}

static async Task<string> AdminKey(string data, string? postgres, WebApplication app)
{
    var file = Path.Combine(data, "admin-api-key");
    if (File.Exists(file)) return (await File.ReadAllTextAsync(file)).Trim();
    // PostgreSQL already had an admin key (an earlier run): make one for this run.
    var (_, token) = await app.Services.GetRequiredService<Collections.Persistence.ApiKeyStore>().CreateAsync("bench", "admin", "bench");
    return token;
}

static int FreePort()
{
    var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

int IntArg(string name, int fallback) => StringArg(name) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
double DoubleArg(string name, double fallback) => StringArg(name) is { } v ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

string? StringArg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
