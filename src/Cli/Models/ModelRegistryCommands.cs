using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Collections.Scoring;

namespace Collections.Cli.Models;

/// <summary>
/// The data team's commands that talk to a running engine: export the labelled training set from its history,
/// register a trained model file, promote a version, roll back. Key: --key, --key-file or COLLECTIONS_API_KEY
/// (data-team or admin role).
/// </summary>
public static class ModelRegistryCommands
{
    public static IEnumerable<Command> All(TextWriter output, TextWriter error)
    {
        yield return Export(output);
        yield return Register(output, error);
        yield return Promote(output, error);
        yield return Rollback(output, error);
        yield return List(output);
        yield return Challenger(output);
        yield return Drift(output);
        yield return Uplift(output);
        yield return Fairness(output);
    }

    private sealed record Connection(Option<string> Url, Option<string?> Key, Option<string?> KeyFile)
    {
        public static Connection Create() => new(
            new Option<string>("--url") { Description = "The engine's base address.", DefaultValueFactory = _ => "http://127.0.0.1:5080" },
            new Option<string?>("--key") { Description = "An API key (data-team or admin role). Default: --key-file, else COLLECTIONS_API_KEY." },
            new Option<string?>("--key-file") { Description = "A file holding the API key, e.g. ./data/admin-api-key." });

        public void AddTo(Command command)
        {
            command.Options.Add(Url);
            command.Options.Add(Key);
            command.Options.Add(KeyFile);
        }

        public HttpClient Client(ParseResult parse)
        {
            var address = parse.GetValue(Url)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliInputException($"--url {address}: must be an absolute http or https address");
            var client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CliApp.ResolveKey(parse.GetValue(Key), parse.GetValue(KeyFile)));
            return client;
        }
    }

    private static Command Export(TextWriter output)
    {
        var connection = Connection.Create();
        var file = new Option<string>("--out") { Description = "Where to write the CSV (one row per account per scoring date).", Required = true };
        var from = new Option<string?>("--from") { Description = "First scoring date (yyyy-MM-dd). Default: a year before --to." };
        var to = new Option<string?>("--to") { Description = "Last scoring date (yyyy-MM-dd). Default: today less the label window." };
        var every = new Option<int>("--every-days") { Description = "Days between scoring dates.", DefaultValueFactory = _ => 30 };
        var share = new Option<decimal>("--paid-share") { Description = "Label: at least this share of the patient balance paid...", DefaultValueFactory = _ => 0.5m };
        var window = new Option<int>("--window-days") { Description = "...within this many days after the scoring date.", DefaultValueFactory = _ => 90 };
        var command = new Command("export", "Download the labelled training set from a running engine's own history (CSV that `collections model train` reads).")
        {
            file, from, to, every, share, window,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var query = new List<string>
            {
                $"everyDays={parse.GetValue(every)}", $"paidShare={parse.GetValue(share).ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                $"windowDays={parse.GetValue(window)}",
            };
            if (parse.GetValue(from) is { } f) query.Add($"from={Date("--from", f)}");
            if (parse.GetValue(to) is { } t) query.Add($"to={Date("--to", t)}");
            var path = parse.GetValue(file)!;
            using var client = connection.Client(parse);
            using var response = await client.GetAsync($"api/scoring/training-set?{string.Join('&', query)}", HttpCompletionOption.ResponseHeadersRead, ct);
            await EnsureSuccessAsync(response, "export", ct);
            long lines = 0;
            try
            {
                await using var target = Persistence.OwnerOnlyFiles.Create(path); // account keys and balances: patients' data
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                    lines += buffer.AsSpan(0, read).Count((byte)'\n');
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliInputException($"--out {path}: {e.Message}");
            }
            var rowsWritten = Math.Max(0, lines - 1);
            await output.WriteLineAsync($"export: {rowsWritten:N0} rows written to {path}");
            if (rowsWritten == 0) await output.WriteLineAsync(EmptyExportReason(response));
            return 0;
        });
        return command;
    }

    /// <summary>Why an export has no rows, from what the engine said it used (scoring dates, label window).</summary>
    public static string EmptyExportReason(HttpResponseMessage response)
    {
        static string? Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
        var first = Header(response, "Collections-First-Scoring-Date");
        var last = Header(response, "Collections-Last-Scoring-Date");
        var window = Header(response, "Collections-Label-Window-Days");
        var accounts = Header(response, "Collections-Accounts");
        if (last is null || window is null)
            return "export: no account had a scoring date whose label window has closed (the engine did not say which dates it used).";
        var firstRowOn = DateOnly.TryParse(last, System.Globalization.CultureInfo.InvariantCulture, out var lastDate) && int.TryParse(window, out var days)
            ? lastDate.AddDays(days).AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "?";
        return $"export: why no rows: a row needs an account that was open and owed something on a scoring date from {first} to {last}, and that date's "
               + $"{window}-day label window must have closed (so the last scoring date is today less {window} days). "
               + (accounts is "0" ? "The engine has no accounts yet. " : $"None of the engine's {accounts} accounts had one: they were opened after {last}, or owed nothing then. ")
               + $"An account opened today gives its first row on {firstRowOn}; a shorter --window-days gives rows sooner, and an imported history with older dates gives them now.";
    }

    private static Command Register(TextWriter output, TextWriter error)
    {
        var connection = Connection.Create();
        var file = new Option<string>("--file") { Description = "The model file written by `collections model train`.", Required = true };
        var version = new Option<string?>("--version") { Description = "The version's name (default: the version inside the file)." };
        var notes = new Option<string?>("--notes") { Description = "What this version is (data, changes)." };
        var command = new Command("register", "Register a trained model with a running engine (it does not go live until promoted).") { file, version, notes };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliInputException($"--file {path}: {e.Message}");
            }
            // Say which model this is before sending it: a file left in the folder from an earlier run is easy to pick by mistake.
            string described;
            try
            {
                using var model = PaymentModel.Load(bytes);
                var inv = System.Globalization.CultureInfo.InvariantCulture;
                described = $"{model.Version} ({model.Learner}, "
                            + (model.TrainedAt is { } at ? $"trained {at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", inv)} UTC" : "training date not recorded")
                            + (model.Report is { } r ? string.Create(inv, $" on {r.TrainRows:N0} rows, AUC {r.Auc:0.000}") : "")
                            + $"; label: {model.Label})";
            }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or IOException or ArgumentException or InvalidOperationException)
            {
                throw new CliInputException($"--file {path}: not a model file written by collections model train ({e.Message})");
            }
            await output.WriteLineAsync($"register: {path} holds model {described}");
            var query = new List<string>();
            if (parse.GetValue(version) is { } v) query.Add($"version={Uri.EscapeDataString(v)}");
            if (parse.GetValue(notes) is { } n) query.Add($"notes={Uri.EscapeDataString(n)}");
            using var client = connection.Client(parse);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            using var response = await client.PostAsync($"api/models{(query.Count > 0 ? "?" + string.Join('&', query) : "")}", content, ct);
            await EnsureSuccessAsync(response, "register", ct);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var registered = json.RootElement.GetProperty("version").GetString();
            await output.WriteLineAsync(response.StatusCode == HttpStatusCode.Created
                ? $"register: version {registered} registered; promote it with: collections model promote --version {registered} --reason \"...\""
                : $"register: version {registered} was already registered with this file");
            _ = error;
            return 0;
        });
        return command;
    }

    private static Command Promote(TextWriter output, TextWriter error)
    {
        var connection = Connection.Create();
        var version = new Option<string>("--version") { Description = "The registered version to make the champion.", Required = true };
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the registry's history and the audit trail).", Required = true };
        var command = new Command("promote", "Make a registered version the champion: every silo scores with it within seconds; the portfolio is rescored in the background.")
        {
            version, reason,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            using var body = JsonContent(new { reason = parse.GetValue(reason) });
            using var response = await client.PostAsync($"api/models/{Uri.EscapeDataString(parse.GetValue(version)!)}/promote", body, ct);
            await EnsureSuccessAsync(response, "promote", ct);
            await output.WriteLineAsync($"promote: {Describe(await response.Content.ReadAsStringAsync(ct))}");
            _ = error;
            return 0;
        });
        return command;
    }

    private static Command Rollback(TextWriter output, TextWriter error)
    {
        var connection = Connection.Create();
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the registry's history and the audit trail).", Required = true };
        var command = new Command("rollback", "Put the previous champion back.") { reason };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            // What changes besides the champion is said, not left to be noticed: a challenger stopped, a synthetic model back.
            using var registry = JsonDocument.Parse(await GetTextAsync(client, "api/models", "rollback", ct));
            var challengerBefore = registry.RootElement.GetProperty("assignment").TryGetProperty("challenger", out var cb) ? cb.GetString() : null;
            // One key for this rollback: asked again after a lost answer (a timeout, a gateway restarting), the engine
            // answers what it did and rolls nothing further back.
            var key = $"cli-rollback-{Guid.NewGuid():N}";
            HttpResponseMessage response;
            for (var attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/models/rollback") { Content = JsonContent(new { reason = parse.GetValue(reason) }) };
                request.Headers.Add("Idempotency-Key", key);
                try
                {
                    response = await client.SendAsync(request, ct);
                    if (attempt < 3 && (int)response.StatusCode is 502 or 503 or 504)
                    {
                        response.Dispose();
                        await Task.Delay(TimeSpan.FromSeconds(attempt), ct);
                        continue;
                    }
                    break;
                }
                catch (Exception e) when (attempt < 3 && (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested)))
                {
                    await Task.Delay(TimeSpan.FromSeconds(attempt), ct);
                }
            }
            using var _response = response;
            await EnsureSuccessAsync(response, "rollback", ct);
            var answer = await response.Content.ReadAsStringAsync(ct);
            await output.WriteLineAsync($"rollback: {Describe(answer)}");
            using var after = JsonDocument.Parse(answer);
            var champion = after.RootElement.TryGetProperty("champion", out var c) ? c.GetString() : null;
            var challengerAfter = after.RootElement.TryGetProperty("challenger", out var ca) ? ca.GetString() : null;
            if (challengerBefore is not null && challengerAfter is null)
                await output.WriteLineAsync($"rollback: the challenger {challengerBefore} was stopped (it is the champion now)");
            if (registry.RootElement.GetProperty("versions").EnumerateArray().FirstOrDefault(v => v.GetProperty("version").GetString() == champion) is { ValueKind: JsonValueKind.Object } back
                && back.GetProperty("kind").GetString() is "bootstrap")
                await output.WriteLineAsync($"rollback: {champion} is the engine's bootstrap model, trained on synthetic accounts, not on this hospital's history");
            _ = error;
            return 0;
        });
        return command;
    }

    private static Command List(TextWriter output)
    {
        var connection = Connection.Create();
        var json = new Option<bool>("--json") { Description = "Print the engine's answer as JSON (with the history of changes)." };
        var command = new Command("list", "The registered versions with their headline figures, and which is the champion and the challenger.") { json };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            var text = await GetTextAsync(client, "api/models", "list", ct);
            if (await PrintedRawAsync(parse.GetValue(json), text, output)) return 0;
            using var answer = JsonDocument.Parse(text);
            var assignment = answer.RootElement.GetProperty("assignment");
            var champion = assignment.TryGetProperty("champion", out var c) ? c.GetString() : null;
            var challenger = assignment.TryGetProperty("challenger", out var ch) ? ch.GetString() : null;
            var share = assignment.TryGetProperty("challengerShare", out var sh) ? sh.GetDouble() : 0;
            await output.WriteLineAsync($"{Describe(assignment.GetRawText())}{(challenger is null ? "" : $" ({share:P0} of accounts)")}");
            foreach (var v in answer.RootElement.GetProperty("versions").EnumerateArray())
            {
                var version = v.GetProperty("version").GetString();
                var role = version == champion ? " [champion]" : version == challenger ? " [challenger]" : "";
                string Figure(string name) => v.TryGetProperty(name, out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble().ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "-";
                await output.WriteLineAsync($"{version}{role}: {v.GetProperty("kind").GetString()}, registered {v.GetProperty("registeredAt").GetDateTimeOffset():yyyy-MM-dd} by {v.GetProperty("registeredBy").GetString()}, AUC {Figure("auc")}, Brier {Figure("brier")}");
            }
            return 0;
        });
        return command;
    }

    private static Command Challenger(TextWriter output)
    {
        var connection = Connection.Create();
        var version = new Option<string?>("--version") { Description = "The registered version to score a share of accounts with." };
        var share = new Option<double?>("--share") { Description = "The share of accounts it scores, above 0 and at most 0.5 (by a stable hash of the account)." };
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the registry's history)." };
        var stop = new Option<bool>("--stop") { Description = "Stop the challenger: the champion scores every account again." };
        var command = new Command("challenger", "Run a challenger beside the champion on a share of accounts, or stop it (--stop).") { version, share, reason, stop };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!parse.GetValue(stop) && (parse.GetValue(version) is null || parse.GetValue(share) is null))
                throw new CliInputException("model challenger: give --version and --share (e.g. --share 0.1), or --stop");
            using var client = connection.Client(parse);
            using var response = parse.GetValue(stop)
                ? await client.DeleteAsync("api/models/challenger", ct)
                : await client.PutAsync("api/models/challenger", JsonContent(new { version = parse.GetValue(version), share = parse.GetValue(share), reason = parse.GetValue(reason) }), ct);
            await EnsureSuccessAsync(response, "challenger", ct);
            await output.WriteLineAsync($"challenger: {Describe(await response.Content.ReadAsStringAsync(ct))}");
            return 0;
        });
        return command;
    }

    private static Command Drift(TextWriter output)
    {
        var connection = Connection.Create();
        var version = new Option<string>("--version") { Description = "The version whose live scores to compare with its test set.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the engine's answer as JSON (every band and feature)." };
        var command = new Command("drift", "How far a version's live scores and features moved from its test set (population stability index).") { version, json };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            var text = await GetTextAsync(client, $"api/models/{Uri.EscapeDataString(parse.GetValue(version)!)}/drift", "drift", ct);
            if (await PrintedRawAsync(parse.GetValue(json), text, output)) return 0;
            using var answer = JsonDocument.Parse(text);
            var root = answer.RootElement;
            var psi = root.GetProperty("psi") is { ValueKind: JsonValueKind.Number } p ? p.GetDouble().ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "none (no live scores)";
            await output.WriteLineAsync($"{root.GetProperty("version").GetString()}: PSI {psi} over {root.GetProperty("liveScores").GetInt32()} live and {root.GetProperty("testSetScores").GetInt32()} test-set scores"
                                        + (root.GetProperty("flagged").GetBoolean() ? $", above the threshold {root.GetProperty("threshold").GetDouble():0.00}: drifted" : ", within the threshold"));
            if (root.TryGetProperty("caution", out var caution) && caution.ValueKind == JsonValueKind.String) await output.WriteLineAsync($"caution: {caution.GetString()}");
            foreach (var f in root.GetProperty("features").EnumerateArray().Where(f => f.GetProperty("flagged").GetBoolean()).Take(10))
                await output.WriteLineAsync($"  feature {f.GetProperty("feature").GetString()}: PSI {f.GetProperty("psi").GetDouble():0.000}");
            return 0;
        });
        return command;
    }

    private sealed record UpliftAnswer(long Accounts, long WithoutControlGroup, double Confidence, int MinimumAccounts, List<UpliftSegment> Segments);

    private static Command Uplift(TextWriter output)
    {
        var connection = Connection.Create();
        var facility = new Option<string?>("--facility") { Description = "One facility's accounts (default: every facility)." };
        var confidence = new Option<double>("--confidence") { Description = "Confidence level of the intervals (0.8 to 0.995).", DefaultValueFactory = _ => 0.95 };
        var json = new Option<bool>("--json") { Description = "Print the engine's answer as JSON instead of a table." };
        var command = new Command("uplift", "What outreach adds on the engine's accounts: treated against control (each policy's control share) in payment rate and "
                                            + "dollars per account since assignment, with confidence intervals, for all accounts, each policy, step reached and score band.")
        {
            facility, confidence, json,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            var query = $"confidence={parse.GetValue(confidence).ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                        + (parse.GetValue(facility) is { } f ? $"&facility={Uri.EscapeDataString(f)}" : "");
            var text = await GetTextAsync(client, $"api/models/uplift?{query}", "uplift", ct);
            if (await PrintedRawAsync(parse.GetValue(json), text, output)) return 0;
            var answer = JsonSerializer.Deserialize<UpliftAnswer>(text, JsonSerializerOptions.Web)!;
            var control = answer.Segments.FirstOrDefault(s => s.Kind == UpliftReport.All)?.Control.Accounts ?? 0;
            await output.WriteLineAsync($"{answer.Accounts} accounts under policies with a control group, {control} in control"
                                        + (answer.WithoutControlGroup > 0 ? $" ({answer.WithoutControlGroup} under policies without one not compared)" : "")
                                        + $"; dollars and payments since assignment; a group under {answer.MinimumAccounts} accounts shows its count only. "
                                        + "A later step compares the accounts still unpaid when it came: read its row as indicative.");
            if (control == 0) await output.WriteLineAsync("No account is in a control group: give a policy a controlShare (up to 0.5) to measure what its outreach adds.");
            foreach (var line in UpliftReport.Lines(answer.Segments, answer.Confidence)) await output.WriteLineAsync(line);
            return 0;
        });
        return command;
    }

    private sealed record FairnessAnswer(FairnessSummary Summary, string? IncomeTable);

    private static Command Fairness(TextWriter output)
    {
        var connection = Connection.Create();
        var facility = new Option<string?>("--facility") { Description = "One facility's accounts (default: every facility)." };
        var json = new Option<bool>("--json") { Description = "Print the engine's answer as JSON instead of a table." };
        var command = new Command("fairness", "Scores and outreach by the guarantor's language and ZIP income band on the engine's accounts, each group against "
                                              + "the portfolio, flagged beyond the engine's settings (Collections:Fairness).")
        {
            facility, json,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var client = connection.Client(parse);
            var text = await GetTextAsync(client, "api/models/fairness" + (parse.GetValue(facility) is { } f ? $"?facility={Uri.EscapeDataString(f)}" : ""), "fairness", ct);
            if (await PrintedRawAsync(parse.GetValue(json), text, output)) return 0;
            var (summary, table) = JsonSerializer.Deserialize<FairnessAnswer>(text, JsonSerializerOptions.Web)!;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            await output.WriteLineAsync(string.Create(inv,
                $"{summary.Accounts} accounts, mean score {summary.MeanScore:0.000}, {summary.ContactedShare:0.0%} contacted beyond statements; income bands from {table ?? "no table (every band unknown)"}"));
            await output.WriteLineAsync($"{"group",-28} {"accounts",9} {"score",7} {"diff",7} {"contacted",10} {"ratio",6} {"contacts",9} {"calls",6}  flag");
            foreach (var g in summary.Groups)
                await output.WriteLineAsync(string.Create(inv,
                    $"{g.Dimension + " " + g.Group,-28} {(g.Accounts is { } n ? n.ToString(inv) : "-"),9} {g.MeanScore,7:0.000} {g.ScoreDifference,7:+0.000;-0.000} {g.ContactedShare,10:0.0%} {g.ContactRatio,6:0.00} {g.ContactsPerAccount,9:0.00} {g.CallsPerAccount,6:0.00}  {(g.Flagged ? "FLAGGED: " + string.Join("; ", g.Reasons) : "")}"));
            return 0;
        });
        return command;
    }

    private static StringContent JsonContent(object value) =>
        new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");

    private static string Describe(string assignmentJson)
    {
        using var json = JsonDocument.Parse(assignmentJson);
        var root = json.RootElement;
        var champion = root.TryGetProperty("champion", out var c) ? c.GetString() : null;
        var challenger = root.TryGetProperty("challenger", out var ch) ? ch.GetString() : null;
        return $"champion {champion ?? "none"}" + (challenger is null ? "" : $", challenger {challenger}");
    }

    private static string Date(string option, string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", out var date)
            ? date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
            : throw new CliInputException($"{option} {value}: must be a date as yyyy-MM-dd");

    /// <summary>A refusal from the engine becomes one line: the command, the status and the problem's detail.</summary>
    /// <summary>An answer of the engine's, or its refusal as one line (<see cref="CliInputException"/>).</summary>
    private static async Task<string> GetTextAsync(HttpClient client, string path, string what, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        await EnsureSuccessAsync(response, what, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>With --json, the engine's answer as it came; true when printed so.</summary>
    private static async Task<bool> PrintedRawAsync(bool json, string text, TextWriter output)
    {
        if (json) await output.WriteLineAsync(text);
        return json;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        var detail = text;
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.TryGetProperty("detail", out var d)) detail = d.GetString() ?? text;
            else if (json.RootElement.TryGetProperty("title", out var t)) detail = t.GetString() ?? text;
        }
        catch (JsonException)
        {
            // Not a problem document: show the text as it is.
        }
        throw new CliInputException($"{what}: the engine answered {(int)response.StatusCode} {response.ReasonPhrase}: {detail.ReplaceLineEndings(" ")}");
    }
}
