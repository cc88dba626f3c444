// What a long-lived account costs per command (see docs/benchmarks.md, "A long-lived account").
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode ledger [--entries 10000] [--band 1000] [--postgres "Host=..."] [--skip-sqlite]
//
// An engine started in-process as the run command starts it (every projection on: scoring, worklist, KPIs), one
// account charged once (after a warm-up of --band posts on another), then --entries patient payments posted to it one after another (one in flight, a grain call,
// each committed with its audit record and events before the next), timed per band of --band entries: how the rate
// moves as the ledger grows. The ceiling in the same run: the raw single-row INSERT loop at one in flight on the same
// database. Last it prints, per database:
//   ledger-length <database> <entries> <first band per s> <last band per s> <raw per s> <last band over first> <last band over raw>
using System.Diagnostics;
using Collections.Domain;
using Collections.Grains;
using Collections.Hosting;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Bench;

internal static class LedgerLengthBench
{
    public static async Task RunAsync(int entries, int band, string? postgres, bool skipSqlite, Func<int> freePort)
    {
        Console.WriteLine($"Collections long-lived account benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}; {entries:N0} payments to one account, bands of {band:N0}");
        var lines = new List<string>();
        if (!skipSqlite) lines.Add(await RunOneAsync("sqlite", [], entries, band, freePort));
        if (postgres is not null) lines.Add(await RunOneAsync("postgresql", ["--postgres", postgres], entries, band, freePort));
        Console.WriteLine();
        lines.ForEach(Console.WriteLine);
    }

    private static async Task<string> RunOneAsync(string name, string[] extra, int entries, int band, Func<int> freePort)
    {
        var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
        var app = EngineHost.Build([.. extra, "--data", data, "--urls", $"http://127.0.0.1:{freePort()}", "--silo-port", freePort().ToString(),
            "--gateway-port", freePort().ToString(), "--Collections:ServiceId", "bench-ledger-" + Guid.NewGuid().ToString("N")[..8],
            "--Serilog:MinimumLevel:Default", "Warning", "--Collections:Outreach:Sender:Enabled", "false"]);
        await app.StartAsync();
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var database = app.Services.GetRequiredService<DatabaseOptions>();
            var runner = app.Services.GetRequiredService<ProjectionRunner>();
            // A fresh engine trains its first payment model in the background, then scores with it: wait for it, so
            // every band (the first one included) does the same work.
            var models = app.Services.GetRequiredService<LiveScoringModels>();
            for (var waited = 0; models.Current.Champion is null && waited < 600; waited++)
            {
                await Task.Delay(500);
                await models.RefreshAsync();
            }
            if (models.Current.Champion is null) throw new InvalidOperationException("No payment model went live within five minutes.");
            var guarantorId = "BENCHLONG" + Guid.NewGuid().ToString("N")[..6];
            Check((await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(new GuarantorDetails
            {
                FirstName = "Long", LastName = "Ledger", DateOfBirth = new DateOnly(1970, 1, 1),
                Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" }, Email = "long@example.org",
            })).Errors);
            async Task<IPatientAccountGrain> OpenAsync(string number)
            {
                var opened = grains.GetGrain<IPatientAccountGrain>(new AccountKey("BENCH", number).ToString());
                Check((await opened.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Errors);
                Check((await opened.Post(new EntryRequest { Kind = EntryKind.Charge, Amount = 10_000_000m, Party = ResponsibleParty.Patient,
                    ServiceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-5), Code = "99213", IdempotencyKey = "charge" })).Errors);
                return opened;
            }
            // A warm-up on an account of its own (the JIT's tiers settle), so the first band is not the compiler's.
            var warm = await OpenAsync("WARM" + guarantorId[^6..]);
            for (var i = 0; i < band; i++)
                Check((await warm.Post(new EntryRequest { Kind = EntryKind.PatientPayment, Amount = 1.00m, Method = PaymentMethod.Card, Channel = PaymentChannel.Agent, IdempotencyKey = $"w{i}" })).Errors);
            var account = await OpenAsync("LONG" + guarantorId[^6..]);
            await runner.CatchUpAsync(TimeSpan.FromMinutes(5)); // the warm-up's projections done before the first band

            Console.WriteLine();
            Console.WriteLine($"{name}:");
            Console.WriteLine("| ledger entries | posts per s | p50 ms | p99 ms |");
            Console.WriteLine("|---:|---:|---:|---:|");
            var bands = new List<double>();
            var latencies = new List<double>(band);
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < entries; i++)
            {
                var started = Stopwatch.GetTimestamp();
                Check((await account.Post(new EntryRequest { Kind = EntryKind.PatientPayment, Amount = 1.00m, Method = PaymentMethod.Card, Channel = PaymentChannel.Agent,
                    IdempotencyKey = $"p{i}" })).Errors);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (latencies.Count == band || i == entries - 1)
                {
                    var rate = latencies.Count / watch.Elapsed.TotalSeconds;
                    latencies.Sort();
                    Console.WriteLine($"| {i + 2 - latencies.Count:N0}-{i + 2:N0} | {rate:N0} | {latencies[latencies.Count / 2]:N2} | {latencies[(int)((latencies.Count - 1) * 0.99)]:N2} |");
                    bands.Add(rate);
                    latencies.Clear();
                    watch.Restart();
                }
            }

            await runner.CatchUpAsync(TimeSpan.FromMinutes(5)); // the ceiling on a quiet machine
            await RawInsertCeiling.EnsureTableAsync(database);
            for (var i = 0; i < band; i++) await RawInsertCeiling.InsertAsync(database, i); // its warm-up
            watch.Restart();
            for (var i = 0; i < band; i++) await RawInsertCeiling.InsertAsync(database, i);
            var raw = band / watch.Elapsed.TotalSeconds;
            Console.WriteLine($"| raw INSERT (ceiling), one in flight | {raw:N0} | | |");
            return $"ledger-length {name} {entries + 1} {bands[0]:0} {bands[^1]:0} {raw:0} {bands[^1] / bands[0]:0.00} {bands[^1] / raw:0.00}";
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static void Check(IReadOnlyList<DomainError> errors)
    {
        if (errors.Count > 0) throw new InvalidOperationException(errors[0].Message);
    }
}
