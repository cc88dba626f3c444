// Cadences at scale (issue 3): N accounts with armed follow-up cadences on one in-process silo.
//
//   dotnet run -c Release --project bench/Collections.Bench -- --mode cadence --accounts 100000 [--postgres "Host=..."] [--skip-sqlite]
//   bench/run.sh --mode cadence --accounts 100000
//
// What it does, per database (see docs/benchmarks.md, "Follow-up cadences (issue 3)"):
//  1. Starts the engine as `dotnet run --project src/Silo` would, with a cadence day of 5 seconds
//     (Collections:Cadence:DayLength 00:00:05), the contact window opened to the whole day (so the run does not depend
//     on the hour it runs at; the window check still runs), and the outbox sender off (messages are still written to the
//     outbox by the cadence, only their delivery is skipped).
//  2. Saves a policy "bench" (priority 100): statement at day 0, an email reminder at day 3650 (five hours away).
//  3. Arms N cadences: for each account, registers a guarantor, opens the account and posts a self-pay charge; the
//     posting starts the cadence (statement through the gate into the outbox, reminder armed). Times it. Then reports
//     how far the projections (worklist, KPIs, caller index, ...) were behind the log when arming ended, and waits
//     until they have caught up. On PostgreSQL it then prints the database's own count of the work per account armed
//     (transactions committed, rows written, WAL bytes; projections included), and on both databases it measures the
//     ceiling in the same state: the raw single-row INSERT loop at the same concurrency (the posting bench's ceiling),
//     printed last as `arming-vs-raw <database> <in-flight> <accounts armed per s> <raw INSERTs per s> <ratio>`.
//  4. Counts the rows of the reminders table, times reading them all (the reminder service's range read), and measures
//     the process working set and the managed heap after a full GC (every account and guarantor still active).
//  5. Times Reevaluate() on every account with nothing due (the floor of one pass over the portfolio).
//  6. Saves "bench" v2 with a follow-up email reminder at day 1 (due now for every account: the statement is more than
//     one cadence day old) and the last step moved to day 3600, then times Reevaluate() on every account: each takes
//     the follow-up through the gate (guarantor contact history written, email written to the outbox, audit events)
//     and re-arms its reminder. That is one business day in which every account has a follow-up due.
//
// --send [--latency-ms 200] [--slow-share 0.02] [--slow-ms 2000] [--sender-in-flight 32]: the outbox sender on (with
// Sender:MaxInFlight as given), every channel going to a vendor
// that answers in --latency-ms (a share in --slow-ms), as the sending bench's; each message with its last look at the
// account and the person (two grain calls). Arming then waits until every statement is sent, and the due day until
// every follow-up is sent; the ceiling, measured after it: the same vendor alone at the most requests the sender had on
// their way at once, printed last as `due-day-sending-vs-raw <database> <at once> <sent per s> <vendor alone per s> <ratio>`.
//
// The million-account run (issue 9: peak memory, and the time from restart to ready), as a silo in a 4 GiB container
// runs (.NET's heap limit there is 75 % of the container's memory; the silo uses server GC):
//   DOTNET_gcServer=1 DOTNET_GCHeapHardLimit=0xC0000000 dotnet run -c Release --project bench/Collections.Bench -- \
//     --mode cadence --accounts 1000000 --skip-sqlite --skip-idle-pass --skip-due-day --restart --postgres "Host=..."
// --skip-idle-pass and --skip-due-day leave out steps 5 and 6; --restart then stops the engine, starts it again on the
// same database, times it to /health/ready, and times calls to 10,000 accounts read back from the database. The peak
// working set of the whole run is printed last.
using System.Diagnostics;
using Collections.Domain;
using Collections.Domain.Cadence;
using Collections.Grains;
using Collections.Hosting;
using Collections.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Collections.Bench;

internal static class CadenceBench
{
    public static async Task RunAsync(int accounts, int inFlight, string? postgres, bool skipSqlite, bool skipIdlePass, bool skipDueDay, bool restart, Func<int> freePort,
        BenchVendor? vendor = null, int? senderInFlight = null)
    {
        _vendor = vendor;
        _senderInFlight = senderInFlight;
        _skipIdlePass = skipIdlePass;
        _skipDueDay = skipDueDay;
        _restart = restart;
        Console.WriteLine($"Collections cadence benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {accounts:N0} accounts, {inFlight} calls in flight");
        Console.WriteLine();
        var rows = new List<string>();
        if (!skipSqlite) rows.Add(await RunOneAsync("SQLite", [], accounts, inFlight, freePort));
        if (postgres is not null) rows.Add(await RunOneAsync("PostgreSQL", ["--postgres", postgres], accounts, inFlight, freePort));
        Console.WriteLine();
        Console.WriteLine("| database | accounts | arm N cadences | arms/s | reminder rows | read all reminder rows | working set | managed heap (after full GC) | Reevaluate all, nothing due | Reevaluate all, one step due each | steps/s |" + (restart ? " after a restart |" : ""));
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (restart ? "---|" : ""));
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("arming-vs-raw <database> <in-flight> <accounts armed per s> <raw INSERTs per s> <ratio>");
        _ratios.ForEach(Console.WriteLine);
        if (_sendingRatios.Count > 0)
        {
            Console.WriteLine("due-day-sending-vs-raw <database> <vendor requests at once> <follow-ups sent per s, from the day's start> <the vendor alone per s> <ratio>");
            _sendingRatios.ForEach(Console.WriteLine);
        }
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine();
        Console.WriteLine($"peak working set of the run: {process.PeakWorkingSet64 / 1048576.0:N0} MiB (GC memory limit {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1048576.0:N0} MiB, server GC {System.Runtime.GCSettings.IsServerGC})");
    }

    private static bool _skipIdlePass, _skipDueDay, _restart;
    private static BenchVendor? _vendor;
    private static int? _senderInFlight;
    private static readonly List<string> _sendingRatios = [];
    private static readonly List<string> _ratios = [];

    /// <summary>What PostgreSQL did, from its own counters: transactions committed (reads included), rows written, WAL bytes.</summary>
    private sealed record DatabaseWork(long Commits, long RowsWritten, long WalBytes)
    {
        public static DatabaseWork operator -(DatabaseWork after, DatabaseWork before) =>
            new(after.Commits - before.Commits, after.RowsWritten - before.RowsWritten, after.WalBytes - before.WalBytes);

        public string Per(int accounts) =>
            $"{(double)Commits / accounts:0.0} transactions committed, {(double)RowsWritten / accounts:0.0} rows written, {WalBytes / 1024.0 / accounts:0.0} KiB of WAL";
    }

    private static async Task<DatabaseWork?> DatabaseWorkAsync(DatabaseOptions database)
    {
        if (database.Provider != DatabaseProvider.PostgreSql) return null;
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, pg_current_wal_lsn() - '0/0'::pg_lsn FROM pg_stat_database WHERE datname = current_database()";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new DatabaseWork(reader.GetInt64(0), reader.GetInt64(1), (long)reader.GetDecimal(2));
    }

    private static async Task<string> RunOneAsync(string name, string[] extra, int accounts, int inFlight, Func<int> freePort)
    {
        var data = Path.Combine(Path.GetTempPath(), "collections-bench", Guid.NewGuid().ToString("N")[..8]);
        var serviceId = "bench-cadence-" + Guid.NewGuid().ToString("N")[..8];
        var httpPort = 0;
        WebApplication Engine()
        {
            httpPort = freePort();
            return EngineHost.Build([.. extra, "--data", data, "--urls", $"http://127.0.0.1:{httpPort}", "--silo-port", freePort().ToString(),
                "--gateway-port", freePort().ToString(), "--Collections:ServiceId", serviceId, "--Serilog:MinimumLevel:Default", "Warning",
                "--Collections:Cadence:DayLength", "00:00:05", "--Collections:Outreach:Sender:Enabled", _vendor is null ? "false" : "true",
                "--Collections:Compliance:WindowStart", "00:00", "--Collections:Compliance:WindowEnd", "23:59:59",
                "--Collections:Outreach:Sender:MaxInFlight", (_senderInFlight ?? 32).ToString(System.Globalization.CultureInfo.InvariantCulture)],
                builder =>
                {
                    if (_vendor is null) return;
                    // --send: every channel goes to the bench's vendor (standing in for the sandbox, the default transport).
                    builder.Services.RemoveAll<Collections.Outreach.IMessageTransport>();
                    builder.Services.AddSingleton<Collections.Outreach.IMessageTransport>(_vendor);
                });
        }
        WebApplication? app = Engine();
        await app.StartAsync();
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var database = app.Services.GetRequiredService<DatabaseOptions>();
            var book = grains.GetGrain<ICadencePolicyBookGrain>(ICadencePolicyBookGrain.Key);
            Check(await book.Save(Policy(followUp: false)));

            Console.WriteLine($"{name}: arming {accounts:N0} cadences ...");
            // Counted against what the outbox held before (a PostgreSQL server kept between runs holds earlier runs' messages).
            const string statements = "SELECT COUNT(*) FROM outreach_outbox WHERE facility = 'BENCH' AND action = 'PatientStatement'";
            const string followUpEmails = "SELECT COUNT(*) FROM outreach_outbox WHERE facility = 'BENCH' AND action = 'EmailReminder'";
            var statementsBefore = await ScalarAsync(database, statements, null);
            var followUpsBefore = await ScalarAsync(database, followUpEmails, null);
            var workBefore = await DatabaseWorkAsync(database);
            var armClock = Stopwatch.StartNew();
            await Timed(accounts, inFlight, i => ArmAsync(grains, i), name, "charged");
            // The statement is a command of its own after the charge's commit (one-way to itself), and it arms the
            // reminder for the next step: a cadence is armed once its statement is in the outbox.
            while (await ScalarAsync(database, statements, null) - statementsBefore < accounts && armClock.Elapsed < Patience(accounts)) await Task.Delay(100);
            var arm = armClock.Elapsed;
            Console.WriteLine($"{name}: {accounts:N0} armed (every statement in the outbox) in {arm.TotalSeconds:N1} s");
            if (_vendor is not null)
            {
                const string statementsSent = "SELECT COUNT(*) FROM outreach_outbox WHERE facility = 'BENCH' AND action = 'PatientStatement' AND status = 'sent'";
                while (await ScalarAsync(database, statementsSent, null) - statementsBefore < accounts && armClock.Elapsed < Patience(accounts)) await Task.Delay(200);
                Console.WriteLine($"{name}: every statement sent {armClock.Elapsed.TotalSeconds:N1} s after arming began ({_vendor.Duplicates} delivered twice)");
            }
            Console.WriteLine($"{name}: {ArmingBreakdown()}");
            // The projections (worklist, KPIs, caller index, ...) follow the log off the command path: how far behind
            // the arming left them, and how long they took to catch up once it stopped.
            var runner = app.Services.GetRequiredService<Collections.Grains.ProjectionRunner>();
            var furthest = (await runner.LagAsync()).MaxBy(l => l.Lag)!;
            var catchUp = Stopwatch.StartNew();
            await runner.CatchUpAsync(Patience(accounts));
            var projections = $"{furthest.Lag.TotalSeconds:N1} s (about {Math.Max(0, furthest.Head.Position - furthest.Checkpoint.Position):N0} events), caught up in {catchUp.Elapsed.TotalSeconds:N1} s";
            Console.WriteLine($"{name}: projections at the end of arming: {furthest.Name} furthest behind, by {projections}");
            if (workBefore is not null)
            {
                await Task.Delay(TimeSpan.FromSeconds(11)); // a PostgreSQL session reports its counts within 10 s of going idle
                var work = (await DatabaseWorkAsync(database))! - workBefore;
                Console.WriteLine($"{name}: the database's work per account armed (projections included): {work.Per(accounts)}");
            }
            // The ceiling, on the same database in the same state: the raw single-row INSERT loop at the same concurrency.
            var rawCount = Math.Min(accounts, 20_000);
            await RawInsertCeiling.EnsureTableAsync(database);
            await Timed(Math.Min(2_000, rawCount), inFlight, i => RawInsertCeiling.InsertAsync(database, i), name, "raw INSERTs (warm-up)");
            var raw = await Timed(rawCount, inFlight, i => RawInsertCeiling.InsertAsync(database, i), name, "raw INSERTs (ceiling)");
            double armed = accounts / arm.TotalSeconds, rawRate = rawCount / raw.TotalSeconds;
            _ratios.Add($"arming-vs-raw {name.ToLowerInvariant()} {inFlight} {armed:0} {rawRate:0} {armed / rawRate:0.000} (an account armed costs {rawRate / armed:0.0} raw INSERTs' time)");

            var reminders = await ScalarAsync(database, "SELECT COUNT(*) FROM OrleansRemindersTable WHERE ServiceId = @s", serviceId);
            var read = Stopwatch.StartNew();
            var rowsRead = await ReadAllRemindersAsync(database, serviceId);
            read.Stop();
            var outboxAfterArm = await ScalarAsync(database, statements, null) - statementsBefore;
            Console.WriteLine($"{name}: {reminders:N0} reminder rows (read {rowsRead:N0} in {read.Elapsed.TotalMilliseconds:N0} ms), {outboxAfterArm:N0} statements in the outbox");

            var heap = GC.GetTotalMemory(forceFullCollection: true);
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var workingSet = process.WorkingSet64;
            var activations = await grains.GetGrain<IManagementGrain>(0).GetTotalActivationCount();
            Console.WriteLine($"{name}: working set {workingSet / 1048576.0:N0} MiB, managed heap after full GC {heap / 1048576.0:N0} MiB, {activations:N0} activations in memory");

            // Reevaluate is one-way (a guarantor's fan-out must never wait on its accounts); CollectionStop after it (a read of
            // the account that records nothing) answers once the account has processed it: an activation takes one call at a
            // time. (CheckCall, used before, also committed: the bench guarantors have no phone, so the gate refuses a call and
            // the account drops its worklist entry, a second commit per account that no reminder makes.)
            var idle = _skipIdlePass ? TimeSpan.Zero : await Timed(accounts, inFlight, i => ReevaluatedAsync(grains, i), name, "re-evaluated (nothing due)");
            string Idle() => _skipIdlePass ? "(not run)" : $"{idle.TotalSeconds:N1} s";

            if (_skipDueDay)
            {
                var restarted = _restart ? await RestartAsync() : "";
                return $"| {name} | {accounts:N0} | {arm.TotalSeconds:N0} s | {accounts / arm.TotalSeconds:N0} | {reminders:N0} | {read.Elapsed.TotalMilliseconds:N0} ms | {workingSet / 1048576.0:N0} MiB | {heap / 1048576.0:N0} MiB | {Idle()} | (not run) | (not run) |{restarted}";
            }

            await Task.Delay(TimeSpan.FromSeconds(6)); // one cadence day after the last statement: the day-1 step is due for everyone
            Check(await book.Save(Policy(followUp: true)));
            _vendor?.Reset(); // its peak during the day, not the statements'
            var dueClock = Stopwatch.StartNew();
            await Timed(accounts, inFlight, i => ReevaluatedAsync(grains, i), name, "re-evaluated (one step due)");
            // Each step is a command of its own after the re-evaluation's commit (one-way to itself): done when every
            // follow-up is in the outbox.
            long followUps;
            while ((followUps = await ScalarAsync(database, followUpEmails, null) - followUpsBefore) < accounts && dueClock.Elapsed < Patience(accounts))
                await Task.Delay(200);
            var due = dueClock.Elapsed;
            Console.WriteLine($"{name}: every follow-up in the outbox after {due.TotalSeconds:N1} s");
            Console.WriteLine($"{name}: {followUps:N0} follow-up emails written to the outbox");
            if (followUps != accounts) Console.WriteLine($"{name}: WARNING: expected {accounts:N0} follow-ups, found {followUps:N0}");
            if (_vendor is not null) await DueDaySentAsync(name, database, accounts, dueClock);

            var again = _restart ? await RestartAsync() : "";
            return $"| {name} | {accounts:N0} | {arm.TotalSeconds:N0} s | {accounts / arm.TotalSeconds:N0} | {reminders:N0} | {read.Elapsed.TotalMilliseconds:N0} ms | {workingSet / 1048576.0:N0} MiB | {heap / 1048576.0:N0} MiB | {Idle()} | {due.TotalSeconds:N1} s | {followUps / due.TotalSeconds:N0} |{again}";

            // Stops the engine and starts it again on the same database: the time to /health/ready, what it then holds in
            // memory, and calls to 10,000 accounts spread over the portfolio (each read back from its snapshot and journal).
            async Task<string> RestartAsync()
            {
                await app.StopAsync();
                await app.DisposeAsync();
                app = null; // a failed start below is then reported as itself, not as a second stop of this host
                GC.Collect();
                Console.WriteLine($"{name}: engine stopped; starting it again on the same database ...");
                var clock = Stopwatch.StartNew();
                app = Engine();
                await app.StartAsync();
                var started = clock.Elapsed;
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
                var answered = false;
                while (!answered && clock.Elapsed < TimeSpan.FromMinutes(10))
                {
                    try { if (answered = (await http.GetAsync("/health/ready")).IsSuccessStatusCode) break; }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                    await Task.Delay(50);
                }
                var ready = clock.Elapsed;
                if (!answered) throw new TimeoutException($"{name}: /health/ready did not answer 200 within 10 minutes of the restart");
                Console.WriteLine($"{name}: host started in {started.TotalSeconds:N1} s, /health/ready answered 200 after {ready.TotalSeconds:N1} s");
                await Task.Delay(TimeSpan.FromSeconds(30)); // the reminder service reads its range in the background
                process.Refresh();
                var restartedWorkingSet = process.WorkingSet64;
                var restartedHeap = GC.GetTotalMemory(forceFullCollection: true);
                Console.WriteLine($"{name}: 30 s after ready: working set {restartedWorkingSet / 1048576.0:N0} MiB, managed heap after full GC {restartedHeap / 1048576.0:N0} MiB");
                var restartedGrains = app.Services.GetRequiredService<IGrainFactory>();
                var sample = Math.Min(10_000, accounts);
                var cold = await Timed(sample, inFlight, i => restartedGrains.GetGrain<IPatientAccountGrain>(Key((int)((long)i * accounts / sample))).CheckCall(), name, "accounts read back after the restart");
                return $" restart: ready in {ready.TotalSeconds:N1} s; working set then {restartedWorkingSet / 1048576.0:N0} MiB; {sample / cold.TotalSeconds:N0} cold accounts/s |";
            }
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// --send: waits until every follow-up has gone through the vendor (the sender's last look at the account and the
    /// person included), then measures the ceiling: the same vendor alone at the most requests the sender had on their
    /// way at once during the day, with nothing stored or checked.
    /// </summary>
    private static async Task DueDaySentAsync(string name, DatabaseOptions database, int accounts, Stopwatch dueClock)
    {
        var vendor = _vendor!;
        const string sentSql = "SELECT COUNT(*) FROM outreach_outbox WHERE facility = 'BENCH' AND action = 'EmailReminder' AND status = 'sent'";
        long sent;
        while ((sent = await ScalarAsync(database, sentSql, null)) < accounts && dueClock.Elapsed < Patience(accounts)) await Task.Delay(500);
        var day = dueClock.Elapsed;
        var peak = vendor.Peak;
        Console.WriteLine($"{name}: {sent:N0} follow-ups sent {day.TotalSeconds:N1} s after the day began ({sent / day.TotalSeconds:N0}/s), " +
                          $"at most {peak} at the vendor at once, {vendor.Duplicates} delivered twice");
        if (sent != accounts || vendor.Duplicates != 0) Console.WriteLine($"{name}: WARNING: every follow-up must be sent exactly once");
        var count = Math.Min(accounts, 20_000); // as many as the day (up to 20,000): the slow share's tail weighs the same
        var now = DateTimeOffset.UtcNow;
        var raw = await Timed(count, Math.Max(1, peak), i => vendor.DeliverAsync(CeilingMessage(i, now), CancellationToken.None), name, "sent by the vendor alone (ceiling)");
        double engine = sent / day.TotalSeconds, alone = count / raw.TotalSeconds;
        _sendingRatios.Add($"due-day-sending-vs-raw {name.ToLowerInvariant()} {peak} {engine:0} {alone:0} {engine / alone:0.00}");
    }

    private static Collections.Outreach.OutboxMessage CeilingMessage(int i, DateTimeOffset now) => new()
    {
        MessageId = $"BENCH/ceiling-{Run}-{i}/email", Channel = ContactChannel.Email, Action = OutreachAction.EmailReminder, Facility = "BENCH",
        AccountNumber = $"ceiling-{i}", GuarantorId = $"ceiling-{i}", RecipientName = "Bench Patient", Recipient = $"ceiling{i}@example.org",
        AmountDue = 250m, Body = "A reminder.", TemplateId = "email/emailReminder", TemplateVersion = 0, Status = Collections.Outreach.OutboxStatus.Pending,
        Attempts = 1, CreatedAt = now, UpdatedAt = now,
    };

    // How long to wait for the one-way steps to land: half an hour, or longer for a larger run (100 accounts a second).
    private static TimeSpan Patience(int accounts) => TimeSpan.FromSeconds(Math.Max(1800, accounts / 100));

    // Unique per run: a second run against the same PostgreSQL database must not find the first run's accounts open.
    private static readonly string Run = Guid.NewGuid().ToString("N")[..6];

    private static string Key(int i) => $"BENCH/C{Run}-{i}";

    private static CadencePolicy Policy(bool followUp) => new()
    {
        PolicyId = "bench",
        Name = "Cadence benchmark",
        Priority = 100,
        Steps = followUp
            ?
            [
                new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "follow-up", Day = 1, Action = OutreachAction.EmailReminder, Channel = ContactChannel.Email },
                new CadenceStep { StepId = "later", Day = 3600, Action = OutreachAction.EmailReminder, Channel = ContactChannel.Email },
            ]
            :
            [
                new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "later", Day = 3650, Action = OutreachAction.EmailReminder, Channel = ContactChannel.Email },
            ],
    };

    private static async Task ArmAsync(IGrainFactory grains, int i)
    {
        var guarantorId = $"BG{Run}-{i}";
        var t0 = Stopwatch.GetTimestamp();
        var registered = await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(new GuarantorDetails
        {
            FirstName = "Bench", LastName = "Patient", DateOfBirth = new DateOnly(1970, 1, 1),
            Address = new PostalAddress { Line1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701" },
            Email = $"patient{i}@example.org", PreferredChannel = ContactChannel.Email,
        });
        Check(registered);
        var t1 = Stopwatch.GetTimestamp();
        var account = grains.GetGrain<IPatientAccountGrain>(Key(i));
        Check(await account.Open(new OpenAccountRequest { GuarantorId = guarantorId }));
        var t2 = Stopwatch.GetTimestamp();
        Check(await account.Post(new EntryRequest
        {
            Kind = EntryKind.Charge, Amount = 250.00m, ServiceDate = new DateOnly(2026, 1, 1), Code = "99213", Description = "Office visit", IdempotencyKey = "charge",
        }));
        var t3 = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _register, t1 - t0);
        Interlocked.Add(ref _open, t2 - t1);
        Interlocked.Add(ref _post, t3 - t2);
        Interlocked.Increment(ref _armed);
    }

    // Where arming's time goes: the mean latency of each of its three calls at the run's concurrency.
    private static long _armed, _register, _open, _post;

    private static string ArmingBreakdown()
    {
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / Math.Max(1, _armed);
        var line = $"mean per call: register guarantor {Ms(_register):N1} ms, open account {Ms(_open):N1} ms, post the charge (starts the cadence) {Ms(_post):N1} ms";
        _armed = _register = _open = _post = 0;
        return line;
    }

    private static async Task ReevaluatedAsync(IGrainFactory grains, int i)
    {
        var account = grains.GetGrain<IPatientAccountGrain>(Key(i));
        await account.Reevaluate();
        await account.CollectionStop(OutreachAction.EmailReminder);
    }

    private static void Check<T>(Outcome<T> outcome)
    {
        if (!outcome.Succeeded) throw new InvalidOperationException($"{outcome.Errors[0].Code}: {outcome.Errors[0].Message}");
    }

    private static async Task<TimeSpan> Timed(int count, int inFlight, Func<int, Task> call, string name, string what)
    {
        var done = 0;
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (i, _) =>
        {
            await call(i);
            var n = Interlocked.Increment(ref done);
            if (n % 10_000 == 0) Console.WriteLine($"{name}: {n:N0} {what} ({stopwatch.Elapsed.TotalSeconds:N0} s)");
        });
        stopwatch.Stop();
        Console.WriteLine($"{name}: {count:N0} {what} in {stopwatch.Elapsed.TotalSeconds:N1} s");
        return stopwatch.Elapsed;
    }

    private static async Task<long> ScalarAsync(DatabaseOptions database, string sql, string? serviceId)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (serviceId is not null)
        {
            var p = command.CreateParameter();
            p.ParameterName = "s";
            p.Value = serviceId;
            command.Parameters.Add(p);
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> ReadAllRemindersAsync(DatabaseOptions database, string serviceId)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable WHERE ServiceId = @s";
        var p = command.CreateParameter();
        p.ParameterName = "s";
        p.Value = serviceId;
        command.Parameters.Add(p);
        await using var reader = await command.ExecuteReaderAsync();
        long rows = 0;
        while (await reader.ReadAsync()) rows++;
        return rows;
    }
}
