// X12 835 benchmark.
//   dotnet run -c Release --project bench/Remittance.Bench -- [--claims 20000] [--post-claims 2000] [--postgres "Host=..."]
// 1. Generates one balanced 835 with --claims claims (three adjustments and a service line each) and measures reading
//    it (tokenize + model + balance check) and planning every claim's entries, in memory.
// 2. Starts the engine in-process (SQLite, then PostgreSQL when given), opens --post-claims insured accounts, and
//    posts a --post-claims 835 through POST /api/remittances, then posts it again (all replays).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Collections.Domain;
using Collections.Grains;
using Collections.Hosting;
using Collections.Remittance;
using Microsoft.Extensions.DependencyInjection;

var claims = Arg("--claims", 20_000);
var postClaims = Arg("--post-claims", 2_000);
var postgres = StringArg("--postgres");
Console.WriteLine($"X12 835 benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}");

var text = Generate(claims, "000000001");
Console.WriteLine($"file: {claims:N0} claims, {text.Length / 1024.0 / 1024.0:N1} MiB");
Remittance835Reader.Read(Generate(200, "000000002")); // warm up
var stopwatch = Stopwatch.StartNew();
var remittance = Remittance835Reader.Read(text).Single();
var readSeconds = stopwatch.Elapsed.TotalSeconds;
stopwatch.Restart();
var planned = remittance.Claims.Sum(c => RemittancePosting.Plan(remittance, c, []).Entries.Count);
var planSeconds = stopwatch.Elapsed.TotalSeconds;
Console.WriteLine($"| step | claims/s | time |");
Console.WriteLine($"|---|---:|---:|");
Console.WriteLine($"| read + balance check (balanced: {remittance.IsBalanced}) | {claims / readSeconds:N0} | {readSeconds:N2} s |");
Console.WriteLine($"| plan entries ({planned:N0} entries) | {claims / planSeconds:N0} | {planSeconds:N2} s |");
Console.WriteLine();

Console.WriteLine("| database | posting | claims | claims/s | entries/s | time |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");
foreach (var (name, extra) in Databases())
{
    var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
    var http = new Uri($"http://127.0.0.1:{FreePort()}");
    var facility = "R" + Guid.NewGuid().ToString("N")[..6];
    var app = EngineHost.Build([.. extra, "--data", data, "--urls", http.ToString(), "--silo-port", FreePort().ToString(), "--gateway-port", FreePort().ToString(),
        "--Collections:ServiceId", "bench-" + facility, "--Collections:Outreach:Sender:Enabled", "false"]);
    await app.StartAsync();
    var grains = app.Services.GetRequiredService<IGrainFactory>();
    var (_, token) = await app.Services.GetRequiredService<Collections.Persistence.ApiKeyStore>().CreateAsync("bench", "admin", "bench");
    using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromMinutes(30) };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    await Parallel.ForEachAsync(Enumerable.Range(0, postClaims), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
    {
        // One guarantor per account, as in a real portfolio (a guarantor's grain serialises that person's contacts).
        await grains.GetGrain<IGuarantorGrain>($"bench-g{i}").Register(new GuarantorDetails
        {
            FirstName = "Bench", LastName = "Mark", DateOfBirth = new DateOnly(1970, 1, 1),
            Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" },
        });
        var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, $"PCN{i:D7}").ToString());
        await account.Open(new OpenAccountRequest { GuarantorId = $"bench-g{i}", PrimaryPayer = "BENCH PAYER" });
        await account.Post(new EntryRequest { Kind = EntryKind.Charge, Amount = 1000.00m, ServiceDate = new DateOnly(2026, 10, 1), Code = "99214", IdempotencyKey = "c" });
    });
    var file = Generate(postClaims, "000000003");
    foreach (var pass in new[] { "first post", "same file again" })
    {
        stopwatch.Restart();
        var response = await client.PostAsync($"/api/remittances/{facility}", new StringContent(file, Encoding.UTF8, "text/plain"));
        response.EnsureSuccessStatusCode();
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var summary = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>())[0];
        var posted = summary.GetProperty("claimsPosted").GetInt32() + summary.GetProperty("claimsAlreadyPosted").GetInt32();
        Console.WriteLine($"| {name} | {pass} | {posted:N0} | {postClaims / seconds:N0} | {postClaims * 3 / seconds:N0} | {seconds:N1} s |");
    }
    await app.StopAsync();
    await app.DisposeAsync();
}
return;

IEnumerable<(string Name, string[] Args)> Databases()
{
    yield return ("SQLite", []);
    if (postgres is not null) yield return ("PostgreSQL", ["--postgres", postgres]);
}

// Each claim: charge 1000.00, paid 600.00, CO-45 250.00, PR-1 100.00, PR-2 50.00, one service line.
static string Generate(int count, string control)
{
    var sb = new StringBuilder();
    var paid = 600.00m * count;
    sb.Append(CultureInfo.InvariantCulture, $"ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*{control}*0*P*:~");
    sb.Append("GS*HP*PAYER*HOSPITAL*20261101*0900*1*X*005010X221A1~ST*835*0001~");
    sb.Append(CultureInfo.InvariantCulture, $"BPR*I*{paid:0.00}*C*ACH*CCP*01*1*DA*2*1234567890**01*3*DA*4*20261101~TRN*1*EFT-1*1234567890~N1*PR*BENCH PAYER~N1*PE*HOSPITAL*XX*1999999999~LX*1~");
    for (var i = 0; i < count; i++)
        sb.Append(CultureInfo.InvariantCulture, $"CLP*PCN{i:D7}*1*1000.00*600.00*150.00*12*PAYER{i}~SVC*HC:99214*1000.00*600.00**1~DTM*472*20261001~CAS*CO*45*250.00~CAS*PR*1*100.00**2*50.00~");
    sb.Append(CultureInfo.InvariantCulture, $"SE*{8 + 5 * count}*0001~GE*1*1~IEA*1*{control}~");
    return sb.ToString();
}

static int FreePort()
{
    var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

int Arg(string name, int fallback) => StringArg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? StringArg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
