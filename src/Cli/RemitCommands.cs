using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Collections.Cli;

/// <summary>
/// <c>collections remit check|post FILE --facility F</c>: an 835 file through <c>POST /api/remittances/{facility}</c>.
/// <c>check</c> is the dry run: claim by claim, what would post and to which account, posting nothing. Exit 0: every
/// claim posts (or would); 1: some claims wait for a person; 2: the file or the options are refused.
/// </summary>
public static class RemitCommands
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("remit", "X12 835 remittances through the engine's API: check a file (a dry run) or post it.");
        command.Subcommands.Add(Build("check", "Show, claim by claim, what the file would post and to which account; nothing is posted.", dryRun: true, output));
        command.Subcommands.Add(Build("post", "Post the file; claims that cannot post wait on the exceptions list.", dryRun: false, output));
        return command;
    }

    private static Command Build(string name, string description, bool dryRun, TextWriter output)
    {
        var file = new Argument<string>("file") { Description = "The 835 file." };
        var facility = new Option<string>("--facility") { Description = "The facility the remittance is for.", Required = true };
        var url = new Option<string>("--url") { Description = "The engine's base address.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var key = new Option<string?>("--key") { Description = "An API key (integration, supervisor or admin). Default: --key-file, else COLLECTIONS_API_KEY." };
        var keyFile = new Option<string?>("--key-file") { Description = "A file holding the API key, e.g. ./data/admin-api-key." };
        var allowTest = new Option<bool>("--allow-test-data") { Description = "Post a test interchange (ISA15 = T): only on a training or test system." };
        var command = new Command(name, description) { file, facility, url, key, keyFile };
        if (!dryRun) command.Options.Add(allowTest);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var code = parse.GetValue(facility)!;
            if (!Domain.Identifiers.IsFacility(code)) throw new CliInputException($"--facility {code}: must be 1 to 32 letters, digits, '-' or '_'");
            var address = parse.GetValue(url)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliInputException($"--url {address}: must be an absolute http or https address");
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliInputException($"{path}: {e.Message}");
            }
            var apiKey = CliApp.ResolveKey(parse.GetValue(key), parse.GetValue(keyFile));

            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            var query = dryRun ? "?dryRun=true" : parse.GetValue(allowTest) ? "?allowTestData=true" : "";
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync($"/api/remittances/{Uri.EscapeDataString(code)}{query}", new StringContent(text, Encoding.UTF8, "text/plain"), ct);
            }
            catch (HttpRequestException e)
            {
                throw new CliInputException($"--url {address}: the engine did not answer ({e.HttpRequestError})");
            }
            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                if (!response.IsSuccessStatusCode)
                {
                    using var problem = TryParse(body);
                    var detail = problem?.RootElement.TryGetProperty("detail", out var d) == true ? d.GetString() : null;
                    // The API's words name its query parameters; here the command's own.
                    detail = detail?.Replace("Check it with dryRun=true", "Check it with: collections remit check", StringComparison.Ordinal)
                        .Replace("post it with allowTestData=true", "post it with --allow-test-data", StringComparison.Ordinal);
                    var segment = problem?.RootElement.TryGetProperty("segment", out var s) == true ? $" segment {s.GetInt32()}:" : "";
                    // A malformed file's problem carries the segment and the bare reason: said once, "segment 3: ...".
                    if (segment.Length > 0 && problem!.RootElement.TryGetProperty("reason", out var r) && r.GetString() is { Length: > 0 } reason) detail = reason;
                    throw new CliInputException(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                        ? $"the engine refused the API key ({(int)response.StatusCode})"
                        : $"{path}:{segment} {detail ?? $"refused ({(int)response.StatusCode})"}");
                }
                using var json = JsonDocument.Parse(body);
                return Report(json.RootElement, dryRun, output);
            }
        });
        return command;
    }

    private static JsonDocument? TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One block per remittance, one line per claim; returns the exit code.</summary>
    private static int Report(JsonElement remittances, bool dryRun, TextWriter output)
    {
        var waiting = 0;
        foreach (var r in remittances.EnumerateArray())
        {
            var payer = r.TryGetProperty("payerName", out var p) ? p.GetString() : "payer";
            var trace = r.TryGetProperty("traceNumber", out var t) ? t.GetString() : "-";
            output.WriteLine($"remittance {r.GetProperty("remittanceId").GetString()}: {payer}, trace {trace}, payment {Money(r.GetProperty("paymentAmount"))}");
            if (r.TryGetProperty("duplicateOf", out var duplicate))
                output.WriteLine($"  repeats {duplicate.GetString()} earlier in this file: not posted again");
            foreach (var c in r.GetProperty("claims").EnumerateArray())
            {
                var outcome = c.GetProperty("outcome").GetString();
                var entries = string.Join(", ", c.GetProperty("entries").EnumerateArray().Select(Entry));
                var reason = c.TryGetProperty("reason", out var why) ? why.GetString() : null;
                var said = outcome switch
                {
                    "wouldPost" => $"would post {entries}",
                    "posted" => $"posted {entries}",
                    "alreadyPosted" => reason ?? "already posted",
                    "noMoneyMoved" => reason,
                    _ => $"needs a person: {reason}",
                };
                if (outcome == "exception") waiting++;
                output.WriteLine($"  claim {c.GetProperty("patientControlNumber").GetString()} / {c.GetProperty("payerClaimControlNumber").GetString()} " +
                                 $"(status {c.GetProperty("status").GetInt32()}, paid {Money(c.GetProperty("paidAmount"))}): {said}");
            }
            int N(string name) => r.TryGetProperty(name, out var v) ? v.GetInt32() : 0;
            output.WriteLine($"  {N("claimsRead")} claims read = {N("claimsPosted") + N("claimsToPost")} {(N("claimsToPost") > 0 ? "to post" : "posted")} + {N("claimsAlreadyPosted")} already posted + " +
                             $"{N("exceptions")} new for a person + {N("exceptionsAlreadyListed")} already listed for a person + {N("claimsWithoutMoney")} that move no money");
            foreach (var w in r.GetProperty("warnings").EnumerateArray()) output.WriteLine($"  warning: {w.GetString()}");
            output.WriteLine(dryRun
                ? $"  would post {r.GetProperty("claimsToPost").GetInt32()}, already posted {r.GetProperty("claimsAlreadyPosted").GetInt32()}, no money {r.GetProperty("claimsWithoutMoney").GetInt32()}, for a person {r.GetProperty("exceptions").GetInt32() + r.GetProperty("exceptionsAlreadyListed").GetInt32()}"
                : $"  posted {r.GetProperty("claimsPosted").GetInt32()}, already posted {r.GetProperty("claimsAlreadyPosted").GetInt32()}, no money {r.GetProperty("claimsWithoutMoney").GetInt32()}, new exceptions {r.GetProperty("exceptions").GetInt32()}, open exceptions {r.GetProperty("exceptionsOpen").GetInt32()}");
        }
        return waiting > 0 ? 1 : 0;
    }

    private static string Entry(JsonElement e)
    {
        var kind = e.TryGetProperty("kind", out var k) ? k.GetString() : "entry";
        return e.TryGetProperty("amount", out var a) && a.ValueKind == JsonValueKind.Number ? $"{kind} {Money(a)}" : kind ?? "entry";
    }

    private static string Money(JsonElement value) => value.GetDecimal().ToString("0.00", CultureInfo.InvariantCulture);
}
