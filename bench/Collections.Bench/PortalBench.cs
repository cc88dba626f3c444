// The patients' self-service page and card payments (see docs/benchmarks.md, "Self-service page and payments").
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode portal [--patients 64] [--rounds 10] [--postgres "Host=..."] [--skip-sqlite]
//
// An engine started in-process as the run command starts it (sandbox processor, webhooks delivered twice), with N
// patients each owing on one bill and holding a payment link. Over real HTTP, N patients at once:
//  1. the identity check (POST /p/{code} with the date of birth), p50/p99; ceiling: the same HTTP round trip to a
//     page that does nothing (the raw server), in the same run;
//  2. the page render (GET /pay/home signed in: guarantor, accounts, portal state, audit per person), p50/p99, with the
//     same ceiling;
//  3. payments confirmed per second: each patient starts a checkout, pays on the sandbox's page and comes back (the
//     return page asks the processor and posts each share); then every webhook copy is let in and the ledgers are
//     checked: each payment on its bill exactly once. Ceiling: the same number of patient payments posted straight to
//     the account grains (the ledger commit every confirmed payment ends in), at the same concurrency.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Collections.Domain;
using Collections.Grains;
using Collections.Hosting;
using Collections.Outreach;
using Collections.Payments;
using Collections.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Bench;

internal static partial class PortalBench
{
    public static async Task RunAsync(int patients, int rounds, string? postgres, bool skipSqlite, Func<int> freePort)
    {
        Console.WriteLine($"Collections self-service page benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}; {patients} patients at once, {rounds} rounds");
        var rows = new List<string>();
        var ratios = new List<string>();
        if (!skipSqlite) await RunOneAsync("sqlite", [], patients, rounds, freePort, rows, ratios);
        if (postgres is not null) await RunOneAsync("postgresql", ["--postgres", postgres], patients, rounds, freePort, rows, ratios);
        Console.WriteLine();
        Console.WriteLine("| database | what | count | per s | p50 ms | p99 ms | ceiling per s | ceiling p50 ms | ratio (per s) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        ratios.ForEach(Console.WriteLine);
    }

    private static async Task RunOneAsync(string name, string[] extra, int patients, int rounds, Func<int> freePort, List<string> rows, List<string> ratios)
    {
        var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
        var baseUrl = $"http://127.0.0.1:{freePort()}";
        var app = EngineHost.Build([.. extra, "--data", data, "--urls", baseUrl, "--silo-port", freePort().ToString(), "--gateway-port", freePort().ToString(),
            "--Collections:ServiceId", "bench-portal-" + Guid.NewGuid().ToString("N")[..8], "--Serilog:MinimumLevel:Default", "Warning",
            "--Collections:Outreach:Sender:Enabled", "false", "--Collections:Portal:MaxFailuresPerAddress", "1000000"]);
        // The ceiling's page: the same server, a handler that does nothing.
        app.MapGet("/bench/nothing", () => Results.Text("ok")).AllowAnonymous();
        app.MapPost("/bench/nothing", () => Results.Text("ok")).AllowAnonymous();
        await app.StartAsync();
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var links = app.Services.GetRequiredService<PayLinks>();
            var database = app.Services.GetRequiredService<DatabaseOptions>();
            Console.WriteLine($"{name}: {patients} patients ...");
            var codes = new string[patients];
            var accounts = new AccountKey[patients];
            await Parallel.ForEachAsync(Enumerable.Range(0, patients), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                var guarantorId = $"BENCHG{i}";
                Check((await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(new GuarantorDetails
                {
                    FirstName = "Pat", LastName = $"Bench{i}", DateOfBirth = new DateOnly(1970, 1, 1).AddDays(i),
                    Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" }, Email = $"p{i}@example.org",
                })).Errors);
                accounts[i] = new AccountKey("BENCH", $"PB{i}");
                var account = grains.GetGrain<IPatientAccountGrain>(accounts[i].ToString());
                Check((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Errors);
                Check((await account.Post(new EntryRequest { Kind = EntryKind.Charge, Amount = 10_000m, Party = ResponsibleParty.Patient, ServiceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-5), Code = "99213", IdempotencyKey = "charge" })).Errors);
                // A link as a message to the patient carries it (stored with that message, here on its own).
                var link = await links.IssueAsync(guarantorId, _);
                await using (var connection = await database.OpenAsync(_))
                    await connection.Command("INSERT INTO portal_link (code, guarantor_id, message_id, created_at, expires_at) VALUES (@c, @g, NULL, @at, @until)")
                        .WithParameter("c", link.Code).WithParameter("g", guarantorId).WithParameter("at", link.IssuedAt.ToUnixTimeSeconds())
                        .WithParameter("until", link.ExpiresAt.ToUnixTimeSeconds()).ExecuteNonQueryAsync(_);
                codes[i] = link.Code;
            });

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = patients, UseCookies = false, AllowAutoRedirect = false };
            using var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl) };
            FormUrlEncodedContent DobForm(int i)
            {
                var d = new DateOnly(1970, 1, 1).AddDays(i);
                return new FormUrlEncodedContent([new("month", d.Month.ToString()), new("day", d.Day.ToString()), new("year", d.Year.ToString())]);
            }

            // Warm up (JIT, activations), then measure.
            await Measure(patients, 1, async i => await http.PostAsync($"/p/{codes[i]}", DobForm(i)));
            var cookies = new string[patients];
            var verify = await Measure(patients, rounds, async i =>
            {
                using var r = await http.PostAsync($"/p/{codes[i]}", DobForm(i));
                if (r.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"identity check answered {(int)r.StatusCode}");
                cookies[i] = string.Join("; ", r.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
            });
            var verifyCeiling = await Measure(patients, rounds, async i => { using var r = await http.PostAsync("/bench/nothing", DobForm(i)); r.EnsureSuccessStatusCode(); });
            Row(rows, ratios, name, "identity check (POST /p/{code})", verify, verifyCeiling);

            HttpRequestMessage Get(int i, string path)
            {
                var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add("Cookie", cookies[i]);
                return request;
            }
            var render = await Measure(patients, rounds, async i => { using var r = await http.SendAsync(Get(i, "/pay/home")); r.EnsureSuccessStatusCode(); });
            var renderCeiling = await Measure(patients, rounds, async i => { using var r = await http.SendAsync(Get(i, "/bench/nothing")); r.EnsureSuccessStatusCode(); });
            Row(rows, ratios, name, "page render (GET /pay/home)", render, renderCeiling);

            // Payments: checkout, the sandbox's page, the return page that confirms and posts. One payment per patient per round.
            var sandbox = app.Services.GetRequiredService<SandboxPaymentProcessor>();
            var pay = await Measure(patients, rounds, async i =>
            {
                var home = await (await http.SendAsync(Get(i, "/pay/home"))).Content.ReadAsStringAsync();
                var csrf = Csrf().Match(home).Groups[1].Value;
                var checkout = new HttpRequestMessage(HttpMethod.Post, "/pay/checkout") { Content = new FormUrlEncodedContent([new("csrf", csrf), new("amount", "1.00")]) };
                checkout.Headers.Add("Cookie", cookies[i]);
                using var started = await http.SendAsync(checkout);
                var processorPage = started.Headers.Location ?? throw new InvalidOperationException($"checkout answered {(int)started.StatusCode}");
                using var paid = await http.PostAsync(processorPage.AbsolutePath, new FormUrlEncodedContent([new("card", "4242424242424242"), new("action", "pay")]));
                using var back = await http.SendAsync(Get(i, paid.Headers.Location!.AbsolutePath));
                if (!(await back.Content.ReadAsStringAsync()).Contains("Thank you", StringComparison.Ordinal)) throw new InvalidOperationException("a payment was not confirmed on the return page");
            });
            for (var i = 0; i < 2000 && sandbox.DeliveriesUnderway > 0; i++) await Task.Delay(10);
            var posted = 0;
            foreach (var key in accounts)
            {
                var view = (await grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get())!;
                var payments = view.Entries.Where(e => e.Kind == EntryKind.PatientPayment).ToList();
                if (payments.Count != rounds || payments.Sum(e => e.Amount) != rounds * 1.00m) throw new InvalidOperationException($"{key}: {payments.Count} payments posted, {rounds} made");
                posted += payments.Count;
            }
            var direct = await Measure(patients, rounds, async i =>
                Check((await grains.GetGrain<IPatientAccountGrain>(accounts[i].ToString()).Post(new EntryRequest
                {
                    Kind = EntryKind.PatientPayment, Amount = 1.00m, Method = PaymentMethod.Card, IdempotencyKey = Guid.NewGuid().ToString("N"),
                })).Errors));
            Row(rows, ratios, name, $"card payments confirmed and posted ({posted} checked on the ledgers, each once)", pay, direct);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [GeneratedRegex("name=\"csrf\" value=\"([0-9a-f]+)\"")]
    private static partial Regex Csrf();

    private sealed record Run(int Count, double Seconds, double[] SortedMs)
    {
        public double PerSecond => Count / Seconds;
        public double P(double p) => SortedMs[(int)Math.Min(SortedMs.Length - 1, Math.Round(p * (SortedMs.Length - 1)))];
    }

    /// <summary>Each of <paramref name="patients"/> workers does its step <paramref name="rounds"/> times, all at once.</summary>
    private static async Task<Run> Measure(int patients, int rounds, Func<int, Task> step)
    {
        var latencies = new List<double>(patients * rounds);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, patients).Select(async i =>
        {
            for (var round = 0; round < rounds; round++)
            {
                var started = Stopwatch.GetTimestamp();
                await step(i);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies) latencies.Add(ms);
            }
        }));
        clock.Stop();
        return new Run(latencies.Count, clock.Elapsed.TotalSeconds, [.. latencies.Order()]);
    }

    private static void Row(List<string> rows, List<string> ratios, string database, string what, Run run, Run ceiling)
    {
        rows.Add($"| {database} | {what} | {run.Count:N0} | {run.PerSecond:N0} | {run.P(0.50):N1} | {run.P(0.99):N1} | {ceiling.PerSecond:N0} | {ceiling.P(0.50):N1} | {run.PerSecond / ceiling.PerSecond:N2} |");
        ratios.Add($"portal-vs-ceiling {database} \"{what.Split(" (")[0]}\" {run.PerSecond:F0} {ceiling.PerSecond:F0} {run.PerSecond / ceiling.PerSecond:F2}");
    }

    private static void Check(IReadOnlyList<DomainError> errors)
    {
        if (errors.Count > 0) throw new InvalidOperationException(string.Join("; ", errors.Select(e => e.Message)));
    }
}
