using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

/// <summary>The real executables, killed with SIGKILL, as an operator would.</summary>
public sealed class ProcessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_second_engine_started_on_a_running_engines_folder_stops_at_once_in_one_line_and_the_first_goes_on()
    {
        var data = TestDatabases.NewFolder();
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        using var engine = await EngineProcess.StartAsync("Silo", http,
            "--data", data, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString());
        using var client = Client(http, data);
        var account = await Api.OpenAccountAsync(client);

        // Another terminal, or a service and a person, start one on the same folder by mistake.
        var (exitCode, said) = await EngineProcess.RunToExitAsync("Silo", TimeSpan.FromSeconds(60),
            "--data", data, "--urls", $"http://127.0.0.1:{Ports.Free()}", "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString());

        Assert.Equal(1, exitCode);
        var line = Assert.Single(said.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Collections did not start: Another engine is already running on", line, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(account)).StatusCode);
    }

    [Fact]
    public async Task An_engine_whose_postgresql_cannot_be_reached_stops_with_what_to_check_and_no_stack_trace_on_its_console()
    {
        var data = TestDatabases.NewFolder();
        var (exitCode, said) = await EngineProcess.RunToExitAsync("Silo", TimeSpan.FromSeconds(60),
            "--data", data, "--urls", $"http://127.0.0.1:{Ports.Free()}", "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString(),
            "--postgres", $"Host=127.0.0.1;Port={Ports.Free()};Username=collections;Password=secret;Database=collections;Timeout=5");

        Assert.Equal(1, exitCode);
        var lines = said.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("Collections did not start: Could not reach PostgreSQL", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal) || line.Contains("Exception", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.EndsWith("Microsoft.Extensions.Hosting.Internal.Host: Hosting failed to start (details in the log file)", StringComparison.Ordinal));
        // The log file keeps the details for whoever looks into it.
        var log = await ReadSharedAsync(Assert.Single(Directory.GetFiles(Path.Combine(data, "logs"))));
        Assert.Contains("SocketException", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_the_local_engine_with_sigkill_loses_no_cent()
    {
        var data = TestDatabases.NewFolder();
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        string[] args = ["--data", data, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()];
        string account;
        using (var engine = await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            account = await Api.OpenAccountAsync(client);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(250.00m))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "payment-1")).StatusCode);
            // The database holds patients' data: it, its WAL and shared-memory files, and the folders are the engine user's only.
            if (!OperatingSystem.IsWindows())
            {
                foreach (var file in new[] { "collections.db", "collections.db-wal", "collections.db-shm", "admin-api-key" })
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, file)));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(data, "logs")));
            }
            // Refusals are logged (Information), by their route template: a patient's link code and an account number in
            // the path never reach the log, and the log files are the engine user's only.
            Assert.NotEqual(HttpStatusCode.OK, (await client.GetAsync("/p/ZZLOGCHECK77")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/accounts/MAIN/LOGCHECK404")).StatusCode);
            var logs = Directory.GetFiles(Path.Combine(data, "logs"));
            Assert.NotEmpty(logs);
            foreach (var log in logs)
            {
                var text = await ReadSharedAsync(log);
                Assert.DoesNotContain("ZZLOGCHECK77", text, StringComparison.Ordinal);
                Assert.DoesNotContain("LOGCHECK404", text, StringComparison.Ordinal);
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
            }
            // A normal first start prints no warning: notices about what the engine chose, and a watchdog "stall"
            // longer than the process has existed (an Orleans start-up race), are not news. Orleans' self-monitoring
            // ("local health is degraded": the thread pool was late) is: it reports this machine's load, which the other
            // test processes running beside this one make, so it is let through here and nowhere else.
            Assert.DoesNotContain(engine.Output.Split('\n'), line =>
                (line.Contains(" WRN] ", StringComparison.Ordinal) && !line.Contains(" Orleans.Runtime.MembershipService.LocalSiloHealthMonitor: ", StringComparison.Ordinal))
                || line.Contains(" ERR] ", StringComparison.Ordinal));
            engine.KillHard();
        }

        using (await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            var view = await client.GetJsonAsync(account);
            Assert.Equal(210.00m, view.GetProperty("balances").GetProperty("balance").GetDecimal());
            Assert.Equal(2, view.GetProperty("entries").GetArrayLength());

            // The client never saw an answer? It retries with the same key, and nothing is posted twice.
            var retry = await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "payment-1");
            Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(2, (await client.GetJsonAsync(account)).GetProperty("entries").GetArrayLength());
        }
    }

    /// <summary>A log file as the engine, still writing it, lets others read it.</summary>
    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>
    /// SIGKILL in the middle of 64-way posting: every acknowledged entry is there exactly once with exactly one audit
    /// record; a request that never got its answer, retried with its key, posts at most once; and the KPI projection
    /// converges to its rebuild.
    /// </summary>
    [Fact]
    public async Task Killing_the_local_engine_during_64_way_posting_keeps_every_acknowledged_entry_once_with_its_audit_record()
    {
        var data = TestDatabases.NewFolder();
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        string[] args = ["--data", data, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString(),
            "--Collections:Scoring:Enabled", "false"];
        List<string> accounts;
        PostingLoad load;
        using (var engine = await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            accounts = await ChargedAccountsAsync(client);
            load = PostingLoad.Start(client, accounts, "fault");
            await load.UntilAcknowledgedAsync(300);
            engine.KillHard();
            await load.StopAsync();
        }
        var (acknowledged, unanswered) = (load.Acknowledged, load.Unanswered);

        using (await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            foreach (var (key, account) in unanswered) // the client retries what it never saw answered, with the same key
                Assert.True((await Api.PostEntryAsync(client, account, Api.Payment(1.00m), key)).IsSuccessStatusCode);
            await AssertEveryAcknowledgedEntryOnceWithItsAuditRecordAsync(client, accounts, acknowledged);

            await AssertKpisEqualTheirRebuildAsync(client);
        }
    }

    /// <summary>
    /// SIGKILL in the middle of a cadence day: accounts are being charged (each charge starts a cadence whose
    /// statement goes out at once) while the follow-up emails of earlier accounts fall due (a cadence day of one
    /// second) and the sender delivers both. After the restart every account takes each step once: one statement and
    /// one follow-up in the outbox, both delivered to the sandbox once; the KPI projection converges to its rebuild.
    /// </summary>
    [Fact]
    public async Task Killing_the_local_engine_during_a_due_cadence_day_takes_each_step_once_and_delivers_each_message_once()
    {
        var data = TestDatabases.NewFolder();
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        string[] args = [.. DueDayArguments(data, http)];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        DueDayLoad load;
        using (var engine = await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            load = await DueDayLoad.StartAsync(client);
            await load.UntilFollowUpsGoOutAsync(client);
            load.FaultComing();
            engine.KillHard();
            await load.StopAsync();
        }
        output.WriteLine($"{load.Charged.Count} accounts opened, {load.Charged.Count(c => c.Value)} charges acknowledged before the kill at {clock.Elapsed.TotalSeconds:F1} s");

        using (await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            await load.RetryUnacknowledgedChargesAsync(client);
            output.WriteLine($"restarted, retries done at {clock.Elapsed.TotalSeconds:F1} s");
            var resent = await load.AssertEveryStepTakenAndDeliveredOnceAsync(client);
            output.WriteLine($"every step taken and delivered at {clock.Elapsed.TotalSeconds:F1} s; {load.FollowUpsSentAtFault} follow-ups had gone before the kill; {resent} messages needed a second attempt");
            await AssertKpisEqualTheirRebuildAsync(client);
        }
    }

    /// <summary>
    /// PostgreSQL stopped at once in the middle of a due cadence day, the engine left running, then the server started
    /// again: every account still gets its statement and its follow-up once, each delivered once, and the KPI projection
    /// converges to its rebuild. The steps that fell due while the database was down are taken once it is back.
    /// </summary>
    [PostgresFact]
    public async Task Stopping_postgresql_at_once_during_a_due_cadence_day_takes_each_step_once_and_delivers_each_message_once()
    {
        await OnPrivatePostgresAsync(async (postgres, serverDir) =>
        {
            var data = TestDatabases.NewFolder();
            var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var engine = await EngineProcess.StartAsync("Silo", http, [.. DueDayArguments(data, http), "--postgres", postgres]);
            using var client = Client(http, data);
            var load = await DueDayLoad.StartAsync(client);
            await load.UntilFollowUpsGoOutAsync(client);
            load.FaultComing();
            await PostgresScriptAsync("crash", serverDir);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await load.StopAsync();
            Assert.Equal(postgres, await PostgresScriptAsync("start", serverDir)); // same port: the engine reconnects by itself
            output.WriteLine($"{load.Charged.Count} accounts opened, {load.Charged.Count(c => c.Value)} charges acknowledged; database back at {clock.Elapsed.TotalSeconds:F1} s");

            await load.RetryUnacknowledgedChargesAsync(client);
            var resent = await load.AssertEveryStepTakenAndDeliveredOnceAsync(client);
            output.WriteLine($"every step taken and delivered at {clock.Elapsed.TotalSeconds:F1} s; {load.FollowUpsSentAtFault} follow-ups had gone before the stop; {resent} messages needed a second attempt");
            await AssertKpisEqualTheirRebuildAsync(client);
        });
    }

    /// <summary>An engine whose cadence days last a second and whose contact window is all day; short sender leases.</summary>
    private static IEnumerable<string> DueDayArguments(string data, Uri http) =>
        ["--data", data, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString(), .. DueDaySettings];

    private static readonly string[] DueDaySettings =
    [
        "--Collections:Scoring:Enabled", "false", "--Collections:Cadence:DayLength", "00:00:01",
        "--Collections:Compliance:WindowStart", "00:00", "--Collections:Compliance:WindowEnd", "23:59:59",
        // A message claimed by a sender that died (or lost its database) is sent again once its lease runs out: a short
        // lease (and transport timeouts within it) keeps the test short; the sandbox, like a vendor given the message
        // id, accepts it once.
        "--Collections:Outreach:Sender:LeaseSeconds", "10", "--Collections:Outreach:Smtp:TimeoutSeconds", "5", "--Collections:Outreach:Twilio:TimeoutSeconds", "5",
        "--Collections:Outreach:Webhooks:Sms:TimeoutSeconds", "5", "--Collections:Outreach:Webhooks:Mail:TimeoutSeconds", "5",
    ];

    /// <summary>
    /// The cluster profile (two silos and a gateway on PostgreSQL) in the middle of a due cadence day, with the gateway
    /// killed with SIGKILL and started again: every account still gets its statement and its follow-up once, each
    /// delivered once, and the KPI projection converges to its rebuild.
    /// </summary>
    [PostgresFact]
    public Task Killing_the_gateway_during_a_due_cadence_day_takes_each_step_once_and_delivers_each_message_once() =>
        KillDuringClusterDueDayAsync(killGateway: true);

    /// <summary>
    /// As above, with one of the two silos killed instead: its accounts, their reminders and the messages its sender had
    /// claimed move to the other silo, and each step is still taken once and each message delivered once.
    /// </summary>
    [PostgresFact]
    public Task Killing_a_silo_during_a_due_cadence_day_takes_each_step_once_and_delivers_each_message_once() =>
        KillDuringClusterDueDayAsync(killGateway: false);

    private async Task KillDuringClusterDueDayAsync(bool killGateway)
    {
        await OnPrivatePostgresAsync(async (postgres, serverDir) =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await using var cluster = await Cluster.StartAsync(postgres, DueDaySettings);
            using var client = await cluster.ClientAsync();
            var load = await DueDayLoad.StartAsync(client);
            await load.UntilFollowUpsGoOutAsync(client);
            load.FaultComing();
            if (killGateway) cluster.Gateway.KillHard();
            else cluster.Silo2.KillHard();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync();
            if (killGateway) await cluster.RestartGatewayAsync();
            output.WriteLine($"{load.Charged.Count} accounts opened, {load.Charged.Count(c => c.Value)} charges acknowledged; the {(killGateway ? "gateway" : "silo")} was killed at {clock.Elapsed.TotalSeconds:F1} s");

            await load.RetryUnacknowledgedChargesAsync(client);
            output.WriteLine($"retries done at {clock.Elapsed.TotalSeconds:F1} s");
            var resent = await load.AssertEveryStepTakenAndDeliveredOnceAsync(client);
            output.WriteLine($"every step taken and delivered at {clock.Elapsed.TotalSeconds:F1} s; {load.FollowUpsSentAtFault} follow-ups had gone before the kill; {resent} messages needed a second attempt");
            await AssertKpisEqualTheirRebuildAsync(client);
        });
    }

    /// <summary>
    /// A due cadence day under way: a policy of a statement then an email the next (one-second) day, and eight clients
    /// opening and charging accounts, so statements and follow-ups fall due while accounts keep arriving.
    /// </summary>
    private sealed class DueDayLoad
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _workers = Task.CompletedTask;
        private bool _faultComing;

        /// <summary>Account → its charge was acknowledged.</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, bool> Charged { get; } = new();
        public int FollowUpsSentAtFault { get; private set; }

        public static async Task<DueDayLoad> StartAsync(HttpClient client)
        {
            var policy = await client.PutAsJsonAsync("/api/policies/kill-day", new
            {
                name = "Statement, then an email the next day",
                priority = 100,
                steps = new object[]
                {
                    new { stepId = "statement", day = 0, action = "patientStatement", channel = "mail" },
                    new { stepId = "follow-up", day = 1, action = "emailReminder", channel = "email" },
                },
            });
            Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
            var load = new DueDayLoad();
            load._workers = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                while (!load._stop.IsCancellationRequested)
                {
                    try
                    {
                        var account = await Api.OpenAccountAsync(client); // asserts the account was opened (201)
                        load.Charged[account] = false;
                        var response = await Api.PostEntryAsync(client, account, Api.Charge(300.00m), $"charge-{account}");
                        load.Charged[account] = response.StatusCode == HttpStatusCode.Created;
                    }
                    catch (Exception) when (Volatile.Read(ref load._faultComing)) // the engine or its database went under the request
                    {
                        return;
                    }
                }
            }));
            return load;
        }

        /// <summary>Waits until follow-ups are going out while statements still are: the middle of the day.</summary>
        public async Task UntilFollowUpsGoOutAsync(HttpClient client)
        {
            for (var i = 0; i < 600 && FollowUpsSentAtFault < 10; i++)
            {
                await Task.Delay(100);
                var sent = await client.GetJsonAsync("/api/sandbox/messages?limit=1000");
                FollowUpsSentAtFault = sent.EnumerateArray().Count(m => m.GetProperty("action").GetString() == "emailReminder");
            }
            Assert.True(FollowUpsSentAtFault >= 10, $"only {FollowUpsSentAtFault} follow-ups were sent in a minute");
        }

        public void FaultComing() => Volatile.Write(ref _faultComing, true);

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _workers;
        }

        /// <summary>The client retries each charge it never saw answered, with the same key, until the engine answers.</summary>
        public async Task RetryUnacknowledgedChargesAsync(HttpClient client)
        {
            foreach (var (account, acknowledged) in Charged)
            {
                if (acknowledged) continue;
                var retried = await EventuallyAsync(async () => (await Api.PostEntryAsync(client, account, Api.Charge(300.00m), $"charge-{account}")).EnsureSuccessStatusCode(),
                    TimeSpan.FromSeconds(120)); // every account here was acknowledged as opened; a killed silo's accounts move once it is declared dead
                Assert.True(retried.IsSuccessStatusCode, $"retry answered {retried.StatusCode}");
            }
        }

        /// <summary>
        /// Every account's two steps are taken and their messages delivered once (a step due when the fault struck is
        /// taken by its reminder, at worst after its one-minute fallback). Returns how many messages needed a second attempt.
        /// </summary>
        public async Task<int> AssertEveryStepTakenAndDeliveredOnceAsync(HttpClient client)
        {
            var charges = Charged.Keys.ToList();
            Assert.True(charges.Count > FollowUpsSentAtFault, "every follow-up had gone before the fault: it did not fall in the middle of the day");
            var resent = 0;
            var deadline = DateTime.UtcNow.AddMinutes(3);
            foreach (var account in charges)
            {
                var number = account.Split('/')[^1];
                List<System.Text.Json.JsonElement> outbox;
                while (true)
                {
                    outbox = (await client.GetJsonAsync($"/api/outbox?account=MAIN/{number}&limit=100")).EnumerateArray().ToList();
                    if (outbox.Count >= 2 && outbox.All(m => m.GetProperty("status").GetString() is "sent" or "delivered")) break;
                    Assert.True(DateTime.UtcNow < deadline, $"account {number}: {string.Join(", ", outbox.Select(m => $"{m.GetProperty("action")}/{m.GetProperty("status")}"
                        + (m.TryGetProperty("lastError", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.String ? $" ({error.GetString()})" : "")))}");
                    await Task.Delay(250);
                }
                Assert.Equal(["emailReminder", "patientStatement"], outbox.Select(m => m.GetProperty("action").GetString()).Order(StringComparer.Ordinal));
                resent += outbox.Count(m => m.GetProperty("attempts").GetInt32() > 1); // claimed by a sender that lost its lease, sent again after it
                var sandbox = (await client.GetJsonAsync($"/api/sandbox/messages?account=MAIN/{number}&limit=100")).EnumerateArray().ToList();
                Assert.Equal(outbox.Select(m => m.GetProperty("messageId").GetString()).Order(StringComparer.Ordinal),
                    sandbox.Select(m => m.GetProperty("messageId").GetString()).Order(StringComparer.Ordinal));
            }
            return resent;
        }
    }

    /// <summary>
    /// PostgreSQL stopped at once (as by a power cut) in the middle of 64-way posting, then started again: every
    /// acknowledged entry is there once with its audit record; an answer that said nothing was stored is true; every
    /// request without a success, retried with its key, posts at most once; the KPI projection converges to its rebuild.
    /// The server is private to the test (scripts/postgres.sh), so no other test sees it go down.
    /// </summary>
    [PostgresFact]
    public async Task Stopping_postgresql_at_once_during_64_way_posting_keeps_every_acknowledged_entry_and_every_error_tells_the_truth()
    {
        await OnPrivatePostgresAsync(async (postgres, serverDir) =>
        {
            var data = TestDatabases.NewFolder();
            var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
            using var engine = await EngineProcess.StartAsync("Silo", http, ["--postgres", postgres, "--data", data, "--urls", http.ToString(),
                "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString(), "--Collections:Scoring:Enabled", "false"]);
            using var client = Client(http, data);
            var accounts = await ChargedAccountsAsync(client);

            var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(); // key → account
            var notStored = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
            var unanswered = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
            var answers = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(); // status and code → count
            using var stop = new CancellationTokenSource();
            var next = 0;
            var posters = Enumerable.Range(0, 64).Select(async _ =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var n = Interlocked.Increment(ref next);
                    var account = accounts[n % accounts.Count];
                    var key = $"pg-fault-{n}";
                    try
                    {
                        var response = await Api.PostEntryAsync(client, account, Api.Payment(1.00m), key);
                        if (response.StatusCode == HttpStatusCode.Created) acknowledged[key] = account;
                        else
                        {
                            unanswered[key] = account;
                            var code = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                                       && (await response.JsonAsync()).TryGetProperty("code", out var c) ? c.GetString() : null;
                            if (code == "commit.not-stored") notStored[key] = account;
                            answers.AddOrUpdate($"{(int)response.StatusCode} {code}", 1, (_, k) => k + 1);
                        }
                    }
                    catch (Exception) // timed out: no answer
                    {
                        unanswered[key] = account;
                        answers.AddOrUpdate("no answer", 1, (_, k) => k + 1);
                    }
                    if (!unanswered.IsEmpty) await Task.Delay(50); // the database is down: do not spin
                }
            }).ToList();
            while (acknowledged.Count < 200) await Task.Delay(20);
            await PostgresScriptAsync("crash", serverDir);
            var crashed = DateTime.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await Task.WhenAll(posters);

            // A read that needs the database while it is down is told so: 503 with Retry-After, not "something went wrong".
            await AssertDatabaseUnavailableAsync(await client.GetAsync("/api/accounts/MAIN/NEVER-OPENED"));
            // Once the gateway's list of revoked keys is out of date, a key is checked against the database, which cannot
            // answer: the request is not served at all, and a change says so.
            if (crashed + TimeSpan.FromSeconds(8) - DateTime.UtcNow is { Ticks: > 0 } wait) await Task.Delay(wait);
            var unserved = await Api.PostEntryAsync(client, accounts[0], Api.Payment(1.00m), "pg-fault-unserved");
            await AssertDatabaseUnavailableAsync(unserved);
            notStored["pg-fault-unserved"] = accounts[0];
            Assert.Equal(postgres, await PostgresScriptAsync("start", serverDir)); // same port: the engine reconnects by itself

            // What the engine said was not stored is not stored.
            var entriesBeforeRetry = new Dictionary<string, HashSet<string>>();
            foreach (var account in accounts)
            {
                var view = await EventuallyAsync(() => client.GetJsonAsync(account), TimeSpan.FromSeconds(60));
                entriesBeforeRetry[account] = view.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("idempotencyKey").GetString()!).ToHashSet();
            }
            foreach (var (key, account) in notStored) Assert.DoesNotContain(key, entriesBeforeRetry[account]);

            // The client retries what never succeeded, with the same key: stored ones come back as replays, the rest post once.
            var replays = 0;
            foreach (var (key, account) in unanswered)
            {
                var retried = await EventuallyAsync(async () => (await Api.PostEntryAsync(client, account, Api.Payment(1.00m), key)).EnsureSuccessStatusCode(),
                    TimeSpan.FromSeconds(60));
                if (retried.Headers.Contains("Idempotent-Replayed")) replays++;
            }
            output.WriteLine($"acknowledged {acknowledged.Count}; other answers: {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key}: {a.Value}"))}; "
                             + $"retried {unanswered.Count}, of which {replays} had been stored (replayed) and {unanswered.Count - replays} posted now");
            await AssertEveryAcknowledgedEntryOnceWithItsAuditRecordAsync(client, accounts, acknowledged);

            await AssertKpisEqualTheirRebuildAsync(client);
        });
    }

    private static async Task AssertDatabaseUnavailableAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("database.unavailable", (await response.JsonAsync()).GetProperty("code").GetString());
        Assert.NotNull(response.Headers.RetryAfter);
    }

    /// <summary>Sixteen accounts, each charged 5,000.00, for posting loads of 1.00 payments.</summary>
    private static async Task<List<string>> ChargedAccountsAsync(HttpClient client)
    {
        var accounts = new List<string>();
        for (var i = 0; i < 16; i++)
        {
            var account = await Api.OpenAccountAsync(client);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(5000.00m))).StatusCode);
            accounts.Add(account);
        }
        return accounts;
    }

    /// <summary>
    /// 64 clients posting 1.00 payments across the accounts, each with its own Idempotency-Key, noting which were
    /// acknowledged and which got no success. A client stops at its first request without an answer, unless it keeps
    /// going (then it waits a little after a failure, not to spin while something is down).
    /// </summary>
    private sealed class PostingLoad
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _posters = Task.CompletedTask;
        public System.Collections.Concurrent.ConcurrentDictionary<string, string> Acknowledged { get; } = new(); // key → account
        public System.Collections.Concurrent.ConcurrentDictionary<string, string> Unanswered { get; } = new();

        public static PostingLoad Start(HttpClient client, List<string> accounts, string keyPrefix, bool keepGoing = false)
        {
            var load = new PostingLoad();
            var next = 0;
            load._posters = Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                while (!load._stop.IsCancellationRequested)
                {
                    var n = Interlocked.Increment(ref next);
                    var account = accounts[n % accounts.Count];
                    var key = $"{keyPrefix}-{n}";
                    try
                    {
                        var response = await Api.PostEntryAsync(client, account, Api.Payment(1.00m), key);
                        if (response.StatusCode == HttpStatusCode.Created) load.Acknowledged[key] = account;
                        else load.Unanswered[key] = account;
                    }
                    catch (Exception) // the process died under the request, or it timed out: no answer
                    {
                        load.Unanswered[key] = account;
                        if (!keepGoing) return;
                    }
                    if (keepGoing && !load.Unanswered.IsEmpty) await Task.Delay(50);
                }
            }));
            return load;
        }

        public async Task UntilAcknowledgedAsync(int count)
        {
            var started = DateTime.UtcNow;
            while (Acknowledged.Count < count)
            {
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(120), $"only {Acknowledged.Count} postings acknowledged in two minutes");
                await Task.Delay(20);
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _posters;
            _stop.Dispose();
        }
    }

    /// <summary>Every acknowledged entry is on its account once, each entry has exactly one audit record, and each balance adds up.</summary>
    private static async Task AssertEveryAcknowledgedEntryOnceWithItsAuditRecordAsync(HttpClient client, IReadOnlyList<string> accounts,
        IReadOnlyDictionary<string, string> acknowledged)
    {
        foreach (var account in accounts)
        {
            var view = await client.GetJsonAsync(account);
            var keys = view.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("idempotencyKey").GetString()!).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count()); // nothing twice
            foreach (var key in acknowledged.Where(a => a.Value == account).Select(a => a.Key)) Assert.Contains(key, keys);
            var entryIds = view.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("entryId").GetString()!).ToList();
            var audit = await client.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(account["/api/accounts/".Length..])}&limit=10000");
            var posted = audit.EnumerateArray().Where(a => a.GetProperty("action").GetString() == "account.entry.post" && a.GetProperty("outcome").GetString() == "ok")
                .Select(a => a.GetProperty("detail").GetString()!.Split(';')[0]["entry=".Length..]).ToList();
            Assert.Equal(entryIds.Order(), posted.Order()); // one audit record per entry, no more, no less
            Assert.Equal(5000.00m - (keys.Count - 1), view.GetProperty("balances").GetProperty("balance").GetDecimal());
        }
    }

    /// <summary>The KPI projection, once caught up, equals its rebuild from the event log.</summary>
    private static async Task AssertKpisEqualTheirRebuildAsync(HttpClient client)
    {
        async Task<string> Kpis()
        {
            for (var i = 0; i < 1200; i++)
            {
                var status = await client.GetJsonAsync("/api/admin/projections");
                if (status.EnumerateArray().All(p => p.GetProperty("caughtUp").GetBoolean())) break;
                await Task.Delay(50);
            }
            var kpis = await client.GetJsonAsync("/api/kpis?facility=MAIN");
            return $"{kpis.GetProperty("totalAr")}|{kpis.GetProperty("patientAr")}|{kpis.GetProperty("accountsWithBalance")}";
        }
        var live = await Kpis();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/admin/projections/kpi/rebuild", null)).StatusCode);
        Assert.Equal(live, await Kpis());
    }

    /// <summary>
    /// Runs a test on a PostgreSQL server of its own (scripts/postgres.sh), given its connection string and directory: a
    /// server the test stops, or a KPI rebuild that empties a view, must not touch other tests.
    /// </summary>
    private static async Task OnPrivatePostgresAsync(Func<string, string, Task> test)
    {
        var serverDir = TestDatabases.NewFolder();
        var postgres = await PostgresScriptAsync("start", serverDir);
        try
        {
            await test(postgres, serverDir);
        }
        finally
        {
            await PostgresScriptAsync("stop", serverDir);
        }
    }

    /// <summary>Runs scripts/postgres.sh (start, stop or crash) on a private server directory; returns what it printed (the connection string on start).</summary>
    private static async Task<string> PostgresScriptAsync(string action, string directory)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Collections.sln"))) root = root.Parent;
        var script = Path.Combine(root!.FullName, "scripts", "postgres.sh");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [script, action, directory])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"postgres.sh {action} failed: {await error}");
        return (await output).Trim();
    }

    [PostgresFact]
    public async Task In_the_cluster_profile_an_account_is_still_served_after_a_silo_is_killed()
    {
        // A database of its own: a cluster's silos mark their database as their cluster's (another cluster's, started by
        // a test beside this one, would be refused on it).
        await using var cluster = await Cluster.StartAsync((await TestDatabases.PostgresAsync()).ConnectionString, []);
        using var client = await cluster.ClientAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var account = await Api.OpenAccountAsync(client);
            await Api.PostEntryAsync(client, account, Api.Charge(250.00m));
            await Api.PostEntryAsync(client, account, Api.Payment(40.00m));
            accounts.Add(account);
        }

        cluster.Silo2.KillHard();

        foreach (var account in accounts)
        {
            var balance = await EventuallyAsync(async () =>
            {
                var response = await client.GetAsync(account);
                response.EnsureSuccessStatusCode();
                return (await response.JsonAsync()).GetProperty("balances").GetProperty("balance").GetDecimal();
            }, TimeSpan.FromSeconds(120));
            Assert.Equal(210.00m, balance);
        }
    }

    private static HttpClient Client(Uri baseAddress, string dataFolder)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var key = File.ReadAllText(Path.Combine(dataFolder, "admin-api-key")).Trim();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>
    /// The cluster profile (two silos and a gateway on PostgreSQL), with the gateway killed with SIGKILL in the middle of
    /// 64-way posting and started again: every acknowledged entry is there once with its audit record; every request
    /// without an answer, retried with its key, posts at most once; the KPI projection converges to its rebuild.
    /// </summary>
    [PostgresFact]
    public Task Killing_the_gateway_during_64_way_posting_keeps_every_acknowledged_entry_once_with_its_audit_record() =>
        KillDuringClusterPostingAsync(killGateway: true);

    /// <summary>As above, with one of the two silos killed instead: its accounts move to the other silo.</summary>
    [PostgresFact]
    public Task Killing_a_silo_during_64_way_posting_keeps_every_acknowledged_entry_once_with_its_audit_record() =>
        KillDuringClusterPostingAsync(killGateway: false);

    // A private server: the KPI rebuild at the end must not empty a view other tests are reading.
    private Task KillDuringClusterPostingAsync(bool killGateway) =>
        OnPrivatePostgresAsync((postgres, _) => KillDuringClusterPostingAsync(killGateway, postgres));

    private async Task KillDuringClusterPostingAsync(bool killGateway, string postgres)
    {
        await using var cluster = await Cluster.StartAsync(postgres, ["--Collections:Scoring:Enabled", "false"]);
        using var client = await cluster.ClientAsync();
        var accounts = await ChargedAccountsAsync(client);
        var load = PostingLoad.Start(client, accounts, cluster.ClusterId, keepGoing: true);
        await load.UntilAcknowledgedAsync(200);
        if (killGateway) cluster.Gateway.KillHard();
        else cluster.Silo2.KillHard();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();
        var (acknowledged, unanswered) = (load.Acknowledged, load.Unanswered);
        output.WriteLine($"{acknowledged.Count} acknowledged, {unanswered.Count} without a success when the {(killGateway ? "gateway" : "silo")} was killed");
        if (killGateway) await cluster.RestartGatewayAsync();

        // The client retries what never succeeded, with the same key: stored ones come back as replays, the rest post once.
        foreach (var (key, account) in unanswered)
            await EventuallyAsync(async () => (await Api.PostEntryAsync(client, account, Api.Payment(1.00m), key)).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(120));
        var everyKey = acknowledged.Concat(unanswered).ToDictionary(p => p.Key, p => p.Value);
        await AssertEveryAcknowledgedEntryOnceWithItsAuditRecordAsync(client, accounts, everyKey);
        await AssertKpisEqualTheirRebuildAsync(client);
    }

    /// <summary>The cluster profile as real processes: two silos and a gateway on one PostgreSQL server.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly string _postgres;
        private readonly string[] _gatewayArgs;
        private readonly Uri _gatewayHttp;

        private Cluster(string postgres, string clusterId, string[] gatewayArgs, Uri gatewayHttp)
        {
            _postgres = postgres;
            ClusterId = clusterId;
            _gatewayArgs = gatewayArgs;
            _gatewayHttp = gatewayHttp;
        }

        public string ClusterId { get; }
        public EngineProcess Silo1 { get; private set; } = null!;
        public EngineProcess Silo2 { get; private set; } = null!;
        public EngineProcess Gateway { get; private set; } = null!;

        public static async Task<Cluster> StartAsync(string postgres, string[] settings)
        {
            var clusterId = TestDatabases.NewServiceId();
            string[] Common() => ["--profile", "cluster", "--postgres", postgres, "--cluster-id", clusterId, "--Collections:ServiceId", clusterId,
                "--data", TestDatabases.NewFolder(), .. settings];
            var gatewayHttp = new Uri($"http://127.0.0.1:{Ports.Free()}");
            var cluster = new Cluster(postgres, clusterId, [.. Common(), "--urls", gatewayHttp.ToString()], gatewayHttp);
            try
            {
                cluster.Silo1 = await StartSiloAsync(Common());
                cluster.Silo2 = await StartSiloAsync(Common());
                cluster.Gateway = await EngineProcess.StartAsync("Gateway", gatewayHttp, cluster._gatewayArgs);
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        private static Task<EngineProcess> StartSiloAsync(string[] common)
        {
            var health = new Uri($"http://127.0.0.1:{Ports.Free()}");
            return EngineProcess.StartAsync("Silo", health, [.. common, "--urls", health.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()]);
        }

        /// <summary>A client of the gateway with an admin key of its own (the server may hold keys of other clusters).</summary>
        public async Task<HttpClient> ClientAsync()
        {
            var (_, adminKey) = await new Collections.Persistence.ApiKeyStore(Collections.Persistence.DatabaseOptions.Postgres(_postgres), TimeProvider.System)
                .CreateAsync("cluster kill test", Collections.Persistence.Roles.Admin, "test");
            var client = new HttpClient { BaseAddress = _gatewayHttp, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            return client;
        }

        public async Task RestartGatewayAsync()
        {
            Gateway.Dispose();
            Gateway = await EngineProcess.StartAsync("Gateway", _gatewayHttp, _gatewayArgs);
        }

        public ValueTask DisposeAsync()
        {
            Gateway?.Dispose();
            Silo2?.Dispose();
            Silo1?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> attempt, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }
}

public sealed class WatchdogStartupRaceTests
{
    private static Serilog.Events.LogEvent Warning(string source, TimeSpan stall) => new(
        DateTimeOffset.UtcNow, Serilog.Events.LogEventLevel.Warning, null,
        new Serilog.Parsing.MessageTemplateParser().Parse("Participant check thread has not completed for {TimeSinceLastTick}"),
        [
            new Serilog.Events.LogEventProperty("SourceContext", new Serilog.Events.ScalarValue(source)),
            new Serilog.Events.LogEventProperty("TimeSinceLastTick", new Serilog.Events.ScalarValue(stall)),
        ]);

    [Fact]
    public void A_watchdog_stall_longer_than_the_process_has_lived_is_dropped_and_a_real_one_is_kept()
    {
        static TimeSpan age() => TimeSpan.FromMinutes(2);
        Assert.True(Collections.Hosting.WatchdogStartupRace.IsImpossibleStall(Warning("Orleans.Runtime.Watchdog", TimeSpan.FromHours(8)), age));
        Assert.False(Collections.Hosting.WatchdogStartupRace.IsImpossibleStall(Warning("Orleans.Runtime.Watchdog", TimeSpan.FromSeconds(3)), age));
        Assert.False(Collections.Hosting.WatchdogStartupRace.IsImpossibleStall(Warning("Collections.Grains.Something", TimeSpan.FromHours(8)), age));
    }
}
