using System.Data.Common;
using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;

namespace Collections.Grains.Tests;

/// <summary>One durable commit per account command: state, ledger, audit and events together or not at all.</summary>
public sealed class JournalTests
{
    [Fact]
    public Task A_posting_commits_its_entry_audit_record_and_events_together_on_sqlite() => PostingCommitsTogether(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_posting_commits_its_entry_audit_record_and_events_together_on_postgresql() => PostingCommitsTogether(TestDatabases.PostgresAsync);

    private static async Task PostingCommitsTogether(Func<Task<DatabaseOptions>> newDatabase)
    {
        var database = await newDatabase();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            var account = await Samples.OpenAccountAsync(cluster.Client);
            var id = account.GetPrimaryKeyString();
            var posted = await account.Post(Samples.Charge(120.00m, "c1"));
            var entryId = posted.Value!.Entry.EntryId;

            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_ledger WHERE account_id = @id", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM collections_audit_event WHERE resource_id = @id AND action = 'account.entry.post' AND detail LIKE '%" + entryId + "%'", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_event_log WHERE account_id = @id AND type = 'balanceChanged'", id));

            // A retry with the same key is a replay: nothing more is stored but its audit record.
            var replay = await account.Post(Samples.Charge(120.00m, "c1"));
            Assert.True(replay.Value!.IsReplay);
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_ledger WHERE account_id = @id", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_event_log WHERE account_id = @id AND type = 'balanceChanged'", id));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task An_account_stored_before_the_journal_is_carried_over_whole_on_its_first_activation()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            var guarantorId = Samples.NewId("G");
            Assert.True((await cluster.Client.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor())).Succeeded);
            // Written the old way: Orleans grain storage, the ledger inside the state.
            var account = cluster.Client.GetGrain<IPatientAccountGrain>(new AccountKey("LEGACY", "A" + Guid.NewGuid().ToString("N")[..8]).ToString());
            var id = account.GetPrimaryKeyString();
            var storage = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.StoredBefore);
            var openedAt = DateTimeOffset.UtcNow.AddDays(-40);
            var entry = (string entryId, EntryKind kind, decimal amount) => new LedgerEntry
            {
                EntryId = entryId, Kind = kind, Amount = amount, EffectiveDate = DateOnly.FromDateTime(openedAt.UtcDateTime), PostedAt = openedAt,
                Party = ResponsibleParty.Patient, IdempotencyKey = entryId, PostedBy = "before-the-journal",
            };
            await storage.WriteStateAsync(StorageNames.AccountState, account.GetGrainId(), new GrainState<AccountState>(new AccountState
            {
                IsOpen = true, GuarantorId = guarantorId, OpenedAt = openedAt, OpenedBy = "before-the-journal",
                Entries = [entry("e1", EntryKind.Charge, 200.00m), entry("e2", EntryKind.PatientPayment, 50.00m)],
            }));

            var view = await account.Get();
            Assert.Equal(150.00m, view!.Balances.Balance);
            Assert.Equal(2L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_ledger WHERE account_id = @id", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_stream WHERE account_id = @id", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM collections_audit_event WHERE resource_id = @id AND action = 'account.journal.carry-over'", id));

            // A retry under a key posted before the journal adds nothing (a replay or a key conflict); a new entry appends
            // after the carried ledger.
            await account.Post(new EntryRequest { Kind = EntryKind.PatientPayment, Amount = 50.00m, Method = PaymentMethod.Card, IdempotencyKey = "e2" });
            Assert.True((await account.Post(Samples.Charge(10.00m, "after"))).Succeeded);
            Assert.Equal(3L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_ledger WHERE account_id = @id", id));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task A_database_without_the_old_grain_storage_table_serves_new_guarantors_and_accounts()
    {
        var database = await TestDatabases.NewSqliteAsync();
        await using (var connection = await database.OpenAsync())
            await connection.Command("DROP TABLE OrleansStorage").ExecuteNonQueryAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            var account = await Samples.OpenAccountAsync(cluster.Client); // a new guarantor and a new account, neither stored before
            Assert.NotNull(await account.Get());
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task A_guarantor_stored_by_the_old_grain_storage_is_read_from_there_until_it_writes_and_concurrent_writes_to_one_version_are_refused()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var serviceId = TestDatabases.NewServiceId();
        var cluster = await TestClusters.StartAsync(database, serviceId);
        var templateId = Samples.NewId("G");
        var oldId = Samples.NewId("G");
        try
        {
            var services = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress);
            var before = services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.StoredBefore);
            // A registered guarantor's state, stored the old way under another id, as an earlier version left it.
            var template = cluster.Client.GetGrain<IGuarantorGrain>(templateId);
            Assert.True((await template.Register(Samples.Guarantor())).Succeeded);
            var state = new GrainState<GuarantorState>();
            await services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Collections).ReadStateAsync(StorageNames.GuarantorState, template.GetGrainId(), state);
            Assert.True(state.RecordExists);
            await before.WriteStateAsync(StorageNames.GuarantorState, cluster.Client.GetGrain<IGuarantorGrain>(oldId).GetGrainId(), new GrainState<GuarantorState>(state.State));
        }
        finally
        {
            await cluster.StopAsync();
        }

        // The upgraded engine starts on that database.
        cluster = await TestClusters.StartAsync(database, serviceId);
        try
        {
            var services = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress);
            var storage = services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Collections);
            var template = cluster.Client.GetGrain<IGuarantorGrain>(templateId);
            var old = cluster.Client.GetGrain<IGuarantorGrain>(oldId);

            Assert.NotNull(await old.Get()); // read from the old store
            Assert.Equal(0L, await ScalarAsync(database, "SELECT COUNT(*) FROM grain_state WHERE grain_id = @id", old.GetGrainId().ToString()));
            var account = await Samples.OpenAccountAsync(cluster.Client);
            Assert.True(await old.LinkAccount(AccountKey.Parse(account.GetPrimaryKeyString()))); // its first write moves it here
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM grain_state WHERE grain_id = @id", old.GetGrainId().ToString()));

            // Two writers that read the same version: the first commits, the second is refused.
            var first = new GrainState<GuarantorState>();
            var second = new GrainState<GuarantorState>();
            await storage.ReadStateAsync(StorageNames.GuarantorState, template.GetGrainId(), first);
            await storage.ReadStateAsync(StorageNames.GuarantorState, template.GetGrainId(), second);
            await storage.WriteStateAsync(StorageNames.GuarantorState, template.GetGrainId(), first);
            await Assert.ThrowsAsync<Orleans.Storage.InconsistentStateException>(() => storage.WriteStateAsync(StorageNames.GuarantorState, template.GetGrainId(), second));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    [Fact]
    public async Task A_commit_the_database_rolls_back_stores_nothing_of_the_command_and_says_so()
    {
        var database = await TestDatabases.NewSqliteAsync();
        // The audit table refuses one record: the transaction holding the entry, its audit record and its events rolls back.
        await ExecuteAsync(database, """
            CREATE TRIGGER refuse_one_audit BEFORE INSERT ON collections_audit_event
            WHEN NEW.detail LIKE '%amount=13.13%' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;
            """);
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            var account = await Samples.OpenAccountAsync(cluster.Client);
            var id = account.GetPrimaryKeyString();
            Assert.True((await account.Post(Samples.Charge(50.00m, "c1"))).Succeeded);

            await Assert.ThrowsAsync<CommandNotStoredException>(() => account.Post(Samples.Payment(13.13m, "p1")));

            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_ledger WHERE account_id = @id", id));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT COUNT(*) FROM collections_audit_event WHERE resource_id = @id AND detail LIKE '%13.13%'", id));
            Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM account_event_log WHERE account_id = @id AND type = 'balanceChanged'", id));
            var view = await account.Get(); // the activation was dropped: what is stored is what it shows
            Assert.Equal(50.00m, view!.Balances.Balance);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>
    /// Every projection reads the log in commit order many times a second: the read must walk the commit-order index,
    /// never sort the log. (An output column named <c>tx</c> once made <c>ORDER BY tx</c> sort the whole log by a cast:
    /// 50 ms a read at 120,000 events, growing with the log.) With sequential and bitmap scans off, a plan that still sorts is one
    /// the index cannot serve.
    /// </summary>
    [PostgresFact]
    public async Task Reading_the_event_log_in_commit_order_walks_its_index_and_sorts_nothing_on_postgresql()
    {
        var database = await TestDatabases.PostgresAsync();
        foreach (var sql in new[] { AccountEventLog.ReadSql(postgres: true, 0), AccountEventLog.ReadSql(postgres: true, 2), AccountEventLog.HeadSql(postgres: true) })
        {
            await using var connection = await database.OpenAsync();
            await using (var noSeqScan = connection.Command("SET enable_seqscan = off; SET enable_bitmapscan = off")) await noSeqScan.ExecuteNonQueryAsync();
            await using var explain = connection.Command("EXPLAIN " + sql);
            foreach (var (name, value) in new (string, object)[] { ("tx", "0"), ("position", 0L), ("limit", 500), ("t0", "balanceChanged"), ("t1", "paidInFull") })
                if (sql.Contains("@" + name, StringComparison.Ordinal)) explain.WithParameter(name, value);
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
                while (await reader.ReadAsync()) plan.Add(reader.GetString(0));

            Assert.Contains(plan, line => line.Contains("ix_account_event_log_commit_order", StringComparison.Ordinal));
            Assert.DoesNotContain(plan, line => line.Contains("Sort", StringComparison.Ordinal));
        }
    }

    [Fact]
    public Task A_stale_version_fails_that_commit_alone_and_the_rest_of_its_batch_commits_on_sqlite() => StaleVersionFailsAlone(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_stale_version_fails_that_commit_alone_and_the_rest_of_its_batch_commits_on_postgresql() => StaleVersionFailsAlone(TestDatabases.PostgresAsync);

    private static async Task StaleVersionFailsAlone(Func<Task<DatabaseOptions>> newDatabase)
    {
        var database = await newDatabase();
        await using var journal = new AccountJournal(database, NullLogger<AccountJournal>.Instance);
        AccountCommit Commit(string id, long version, int seq, string eventId) =>
            new(id, version, [1, 2, 3], seq, [[(byte)seq]], [], [new JournalEvent(eventId, "test", DateTimeOffset.UtcNow, [9])]);

        await journal.WriteAsync(Commit("T/1", 0, 0, "e1"));
        await journal.WriteAsync(Commit("T/2", 0, 0, "e2"));

        // Two commits in flight together: one from an activation that is a version behind (another wrote first).
        var stale = journal.WriteAsync(Commit("T/1", 0, 1, "e3"));
        var current = journal.WriteAsync(Commit("T/2", 1, 1, "e4"));
        await Assert.ThrowsAsync<AccountVersionConflictException>(() => stale);
        await current;

        Assert.Equal(1, (await journal.ReadAsync("T/1"))!.Version);
        Assert.Single((await journal.ReadAsync("T/1"))!.Entries);
        Assert.Equal(2, (await journal.ReadAsync("T/2"))!.Version);
        Assert.Equal(2, (await journal.ReadAsync("T/2"))!.Entries.Count);
        // On PostgreSQL the log shows a commit once every transaction older than it has ended; the test server is shared
        // with other tests' transactions, so wait (briefly) for the horizon to pass these commits.
        var events = new AccountEventLog(database);
        var log = await events.ReadAsync(LogPosition.Start, 10);
        for (var i = 0; i < 100 && log.Count < 3; i++)
        {
            await Task.Delay(50);
            log = await events.ReadAsync(LogPosition.Start, 10);
        }
        Assert.Equal(["e1", "e2", "e4"], log.Select(e => e.EventId));
    }

    [Fact]
    public Task Commits_under_way_together_keep_each_commits_rows_in_order_and_leave_out_only_the_stale_ones_on_sqlite() => TogetherKeepOrder(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Commits_under_way_together_keep_each_commits_rows_in_order_and_leave_out_only_the_stale_ones_on_postgresql() => TogetherKeepOrder(TestDatabases.PostgresAsync);

    private static async Task TogetherKeepOrder(Func<Task<DatabaseOptions>> newDatabase)
    {
        var database = await newDatabase();
        await using var journal = new AccountJournal(database, NullLogger<AccountJournal>.Instance);
        var run = Guid.NewGuid().ToString("N")[..8];
        string Account(int i) => $"G{run}/{i}";
        AuditEvent Audit(int i, byte commit, int k) => new(DateTimeOffset.UtcNow, "bench", "agent", $"step.{k}", "account", Account(i), "ok", null, null, k == 0 ? null : $"commit={commit}");
        // Each commit's event ids are its own, so a stale commit's events would show (not be hidden as duplicates).
        AccountCommit Commit(int i, long version, byte[]? snapshot, int firstSeq = 0)
        {
            var tag = snapshot?[0] ?? 0;
            return new(Account(i), version, snapshot, firstSeq, snapshot is null ? [] : [[1], [2], [3]],
                [Audit(i, tag, 0), Audit(i, tag, 1), Audit(i, tag, 2)],
                snapshot is null ? [] : [new JournalEvent($"{Account(i)}/{tag}/a", "first", DateTimeOffset.UtcNow, [1]), new JournalEvent($"{Account(i)}/{tag}/b", "second", DateTimeOffset.UtcNow, [2])]);
        }

        await journal.WriteAsync(Commit(0, 0, [100]));
        await journal.WriteAsync(Commit(21, 0, [101]));
        // Twenty-two commits under way together: new accounts; a stale new account (account 0 at version 0 again); two
        // updates of account 21 from version 1, of which one must lose; and two with no state (a read's audit records).
        var writes = Enumerable.Range(1, 20)
            .Select(i => (Account: i == 7 ? 0 : i, Tag: (byte)i, Write: journal.WriteAsync(i == 7 ? Commit(0, 0, [7]) : i % 9 == 0 ? Commit(i, 0, null) : Commit(i, 0, [(byte)i]))))
            .Append((Account: 21, Tag: (byte)121, Write: journal.WriteAsync(Commit(21, 1, [121], firstSeq: 3))))
            .Append((Account: 21, Tag: (byte)122, Write: journal.WriteAsync(Commit(21, 1, [122], firstSeq: 3))))
            .ToList();
        var lost = new List<byte>();
        foreach (var (_, tag, write) in writes)
        {
            try { await write; }
            catch (AccountVersionConflictException) { lost.Add(tag); }
        }
        Assert.Equal(2, lost.Count);
        Assert.Contains((byte)7, lost);
        var won = lost.Contains(121) ? (byte)122 : (byte)121;
        Assert.Contains(lost, t => t is 121 or 122);

        await using var connection = await database.OpenAsync();
        var audit = new List<(string Id, string? Detail, string Action)>();
        await using (var command = connection.Command($"SELECT resource_id, detail, action FROM collections_audit_event WHERE resource_id LIKE 'G{run}/%' ORDER BY id"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) audit.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2)));
        var events = new List<(string Id, string EventId, string Type)>();
        await using (var command = connection.Command($"SELECT account_id, event_id, type FROM account_event_log WHERE account_id LIKE 'G{run}/%' ORDER BY position"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) events.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));

        // Nothing of a stale commit: no audit record, no event, no ledger row, and the stored state is the winner's.
        foreach (var tag in lost)
        {
            Assert.DoesNotContain(audit, a => a.Detail == $"commit={tag}");
            Assert.DoesNotContain(events, e => e.EventId.Contains($"/{tag}/", StringComparison.Ordinal));
        }
        Assert.Equal([100], (await journal.ReadAsync(Account(0)))!.Snapshot);
        Assert.Equal(3, (await journal.ReadAsync(Account(0)))!.Entries.Count);
        Assert.Equal([won], (await journal.ReadAsync(Account(21)))!.Snapshot);
        Assert.Equal(6, (await journal.ReadAsync(Account(21)))!.Entries.Count);
        Assert.Equal([$"{Account(21)}/101/a", $"{Account(21)}/101/b", $"{Account(21)}/{won}/a", $"{Account(21)}/{won}/b"], events.Where(e => e.Id == Account(21)).Select(e => e.EventId));
        // Every other commit whole, its records and events in the order it gave them.
        foreach (var i in Enumerable.Range(0, 22).Where(i => i != 7))
        {
            Assert.Equal(i == 21 ? 6 : 3, audit.Count(a => a.Id == Account(i)));
            Assert.Equal(["step.0", "step.1", "step.2"], audit.Where(a => a.Id == Account(i)).Take(3).Select(a => a.Action));
            Assert.Equal(i % 9 == 0 && i != 0 ? [] : i == 21 ? ["first", "second", "first", "second"] : ["first", "second"], events.Where(e => e.Id == Account(i)).Select(e => e.Type));
        }
        Assert.Null(await journal.ReadAsync(Account(9)));
    }

    [Fact]
    public Task The_kpi_projection_applied_in_pieces_with_crashes_between_equals_its_rebuild() => KpiInPiecesAsync(viewsOnPostgres: false);

    /// <summary>The same, with the incremental and rebuilt views on PostgreSQL, whose writes skip rows that did not change.</summary>
    [PostgresFact]
    public Task The_kpi_projection_applied_in_pieces_with_crashes_between_equals_its_rebuild_on_postgres() => KpiInPiecesAsync(viewsOnPostgres: true);

    private static async Task KpiInPiecesAsync(bool viewsOnPostgres)
    {
        var database = await TestDatabases.NewSqliteAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            // Random commands on a few accounts: charges, payments, refunds of credit, reversals, promises, holds.
            var random = new Random(20261203);
            var accounts = new List<IPatientAccountGrain>();
            for (var i = 0; i < 6; i++) accounts.Add(await Samples.OpenAccountAsync(cluster.Client, "PROP"));
            for (var step = 0; step < 120; step++)
            {
                var account = accounts[random.Next(accounts.Count)];
                var key = $"k{step}";
                switch (random.Next(6))
                {
                    // Charges on one of three service days: a day's sum changes, and a day reversed away is deleted.
                    case 0 or 1: await account.Post(Samples.Charge(random.Next(1, 500) + 0.25m, key) with { ServiceDate = new DateOnly(2026, 10, 1 + random.Next(3)) }); break;
                    case 2: await account.Post(Samples.Payment(random.Next(1, 300) + 0.5m, key)); break;
                    case 3:
                        var view = (await account.Get())!;
                        var kind = random.Next(2) == 0 ? EntryKind.PatientPayment : EntryKind.Charge;
                        if (view.Entries.LastOrDefault(e => e.Kind == kind && view.Entries.All(r => r.ReversesEntryId != e.EntryId)) is { } entry)
                            await account.Post(new EntryRequest { Kind = EntryKind.Reversal, ReversesEntryId = entry.EntryId, IdempotencyKey = key });
                        break;
                    case 4: await account.MakePromise(new PromiseRequest { Amount = 10m, PromisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(5) }); break;
                    default: await account.PlaceHold(new HoldRequest { Reason = HoldReason.InsurancePending, Note = "claim resubmitted" }); break;
                }
            }
            await cluster.ProjectionsCaughtUpAsync();

            var services = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress);
            var serializer = services.GetRequiredService<Serializer>();
            var log = new AccountEventLog(database);

            // Incrementally, in random pieces, with "crashes": part of a batch applied, the checkpoint not moved.
            var incremental = viewsOnPostgres ? await TestDatabases.PostgresAsync() : await TestDatabases.NewSqliteAsync();
            await using (var store = new KpiStore(incremental, NullLogger<KpiStore>.Instance))
                await ApplyInPiecesWithCrashesAsync(new KpiProjection(store, serializer), await log.ReadAsync(LogPosition.Start, 100_000, null), random);
            // Rebuilt: the whole log in one pass into an empty view.
            var rebuilt = viewsOnPostgres ? await TestDatabases.PostgresAsync() : await TestDatabases.NewSqliteAsync();
            await using (var store = new KpiStore(rebuilt, NullLogger<KpiStore>.Instance))
                await new KpiProjection(store, serializer).ApplyAsync(await log.ReadAsync(LogPosition.Start, 100_000, [AccountProjectionFacts.EventType]), default);

            var live = await KpiRowsAsync(database);
            Assert.NotEmpty(live);
            Assert.Contains(live, r => r.StartsWith("day|", StringComparison.Ordinal)); // payments made day rows
            Assert.Equal(await KpiRowsAsync(rebuilt), await KpiRowsAsync(incremental));
            Assert.Equal(await KpiRowsAsync(rebuilt), live); // the live view is on SQLite: the same rows either way
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>
    /// The score-outcome and webhook projections, as the KPI one above: random commands (scoring on, so first scores
    /// are recorded), then the log applied in random pieces with crashes between (part of a batch applied, the
    /// checkpoint not moved) into empty views, compared with a rebuild in one pass and with the live view.
    /// </summary>
    [Fact]
    public async Task The_score_outcome_and_webhook_projections_applied_in_pieces_with_crashes_between_equal_their_rebuilds()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId(),
            settings: new Dictionary<string, string?> { ["Collections:Scoring:Enabled"] = "true", ["Collections:Webhooks:Enabled"] = "false" });
        try
        {
            var services = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress);
            var serializer = services.GetRequiredService<Serializer>();
            var scoringSettings = services.GetRequiredService<ScoringSettings>();
            using var signal = new Outreach.Webhooks.WebhookSignal();
            await new Outreach.Webhooks.SqlWebhookStore(database, TimeProvider.System, signal).CreateAsync("https://example.org/hook", [], "live", "test");
            var random = new Random(20261204);
            var accounts = new List<IPatientAccountGrain>();
            for (var i = 0; i < 5; i++) accounts.Add(await Samples.OpenAccountAsync(cluster.Client, "PROP2"));
            for (var step = 0; step < 80; step++)
            {
                var account = accounts[random.Next(accounts.Count)];
                var key = $"k{step}";
                switch (random.Next(5))
                {
                    case 0 or 1: await account.Post(Samples.Charge(random.Next(1, 500) + 0.25m, key)); break;
                    case 2 or 3: await account.Post(Samples.Payment(random.Next(1, 300) + 0.5m, key)); break;
                    default: await account.PlaceHold(new HoldRequest { Reason = HoldReason.InsurancePending, Note = "claim resubmitted" }); break;
                }
            }
            await cluster.ProjectionsCaughtUpAsync();
            var log = new AccountEventLog(database);

            async Task<List<string>> Outcomes(DatabaseOptions db) => await RowsAsync(db,
                "SELECT account_id, model_version, challenger, scored_at, probability, patient_balance_cents, window_ends_at FROM score_outcome ORDER BY account_id, model_version",
                "SELECT event_id, account_id, cents, paid_at FROM score_outcome_payment ORDER BY event_id");
            async Task<List<string>> Deliveries(DatabaseOptions db) => await RowsAsync(db,
                "SELECT event_id, event_type, facility, account_number, payload FROM webhook_delivery ORDER BY event_id");

            var outcomes = await CompareAsync(log, random,
                db => new ScoreOutcomeProjection(new ScoreOutcomeLog(db), scoringSettings, serializer), Outcomes);
            Assert.NotEmpty(outcomes.Live = await Outcomes(database));
            Assert.Equal(outcomes.Rebuilt, outcomes.Incremental);
            Assert.Equal(outcomes.Rebuilt, outcomes.Live);

            var deliveries = await CompareAsync(log, random, db =>
            {
                // Each view gets one subscription to every event, as the live database has.
                new Outreach.Webhooks.SqlWebhookStore(db, TimeProvider.System, signal).CreateAsync("https://example.org/hook", [], "copy", "test").GetAwaiter().GetResult();
                return new WebhookProjection(new Outreach.Webhooks.SqlWebhookStore(db, TimeProvider.System, signal), serializer);
            }, Deliveries);
            Assert.NotEmpty(deliveries.Live = await Deliveries(database));
            Assert.Equal(deliveries.Rebuilt, deliveries.Incremental);
            Assert.Equal(deliveries.Rebuilt, deliveries.Live);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>
    /// The grain-backed projections (the facility's credit-balance register, the worklist queue): the live cluster's log
    /// replayed into a second cluster in one pass (the rebuild) and into a third in random pieces with crashes between;
    /// the three registers and queues hold the same.
    /// </summary>
    [Fact]
    public async Task The_credit_balance_and_worklist_projections_replayed_with_crashes_into_other_clusters_equal_a_rebuild_and_the_live_views()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var live = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        var rebuilt = await TestClusters.StartAsync(await TestDatabases.NewSqliteAsync(), TestDatabases.NewServiceId());
        var pieces = await TestClusters.StartAsync(await TestDatabases.NewSqliteAsync(), TestDatabases.NewServiceId());
        try
        {
            const string facility = "PROP3";
            var random = new Random(20261205);
            var accounts = new List<IPatientAccountGrain>();
            for (var i = 0; i < 5; i++) accounts.Add(await Samples.OpenAccountAsync(live.Client, facility));
            for (var step = 0; step < 70; step++)
            {
                var account = accounts[random.Next(accounts.Count)];
                var key = $"k{step}";
                switch (random.Next(4))
                {
                    case 0: await account.Post(Samples.Charge(random.Next(50, 400) + 0.25m, key)); break;
                    case 1 or 2: await account.Post(Samples.Payment(random.Next(20, 300) + 0.5m, key)); break; // may overpay: a credit
                    default:
                        var view = (await account.Get())!;
                        if (view.Entries.LastOrDefault(e => e.Kind == EntryKind.PatientPayment) is { } payment && view.Entries.All(e => e.ReversesEntryId != payment.EntryId))
                            await account.Post(new EntryRequest { Kind = EntryKind.Reversal, ReversesEntryId = payment.EntryId, IdempotencyKey = key });
                        break;
                }
            }
            await live.ProjectionsCaughtUpAsync();
            var serializer = live.GetSiloServiceProvider(live.Silos[0].SiloAddress).GetRequiredService<Serializer>();
            var events = await new AccountEventLog(database).ReadAsync(LogPosition.Start, 100_000, null);

            IAccountProjection[] For(IGrainFactory grains) => [new CreditBalanceProjection(grains, serializer), new WorklistProjection(grains, serializer)];
            foreach (var projection in For(rebuilt.Client))
                await projection.ApplyAsync(events.Where(e => projection.EventTypes.Contains(e.Type)).ToList(), default);
            foreach (var projection in For(pieces.Client))
                await ApplyInPiecesWithCrashesAsync(projection, events, random);

            async Task<string> Register(IGrainFactory grains) =>
                System.Text.Json.JsonSerializer.Serialize(await grains.GetGrain<ICreditBalanceRegistryGrain>(facility).List());
            async Task<string> Queue(IGrainFactory grains)
            {
                var entries = new List<string>();
                foreach (var account in accounts)
                    entries.Add(System.Text.Json.JsonSerializer.Serialize(await grains.GetGrain<IWorklistQueueGrain>(facility).Get(AccountKey.Parse(account.GetPrimaryKeyString()))));
                return string.Join("\n", entries);
            }
            var liveRegister = await Register(live.Client);
            Assert.Contains("creditBalance", liveRegister, StringComparison.OrdinalIgnoreCase); // the run left some account in credit
            Assert.Equal(await Register(rebuilt.Client), await Register(pieces.Client));
            Assert.Equal(liveRegister, await Register(rebuilt.Client));
            var liveQueue = await Queue(live.Client);
            Assert.Contains("guarantorId", liveQueue, StringComparison.OrdinalIgnoreCase); // some account owes and is on the worklist
            Assert.Equal(await Queue(rebuilt.Client), await Queue(pieces.Client));
            Assert.Equal(liveQueue, await Queue(rebuilt.Client));
        }
        finally
        {
            foreach (var cluster in new[] { live, rebuilt, pieces })
            {
                await cluster.StopAsync();
            }
        }
    }

    /// <summary>
    /// Outbox reactions: random commands on a few accounts with the sender off (charges start cadences that queue
    /// statements; payments, holds and promises stop collection). The live outbox's messages, copied back to pending
    /// into fresh databases, then meet the log applied in random pieces with crashes between, and in one pass: every
    /// message ends as the live one did (cancelled exactly when a stop came at or after it was queued).
    /// </summary>
    [Fact]
    public async Task Outbox_reactions_applied_in_pieces_with_crashes_between_cancel_what_their_rebuild_and_the_live_engine_cancelled()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId(),
            settings: new Dictionary<string, string?> { ["Collections:Outreach:Sender:Enabled"] = "false" });
        try
        {
            const string facility = "PROP4";
            var random = new Random(20261206);
            var accounts = new List<IPatientAccountGrain>();
            for (var i = 0; i < 5; i++) accounts.Add(await Samples.OpenAccountAsync(cluster.Client, facility));
            for (var step = 0; step < 60; step++)
            {
                var account = accounts[random.Next(accounts.Count)];
                var key = $"k{step}";
                switch (random.Next(5))
                {
                    case 0 or 1: await account.Post(Samples.Charge(random.Next(50, 400) + 0.25m, key)); break;
                    case 2:
                        var owed = (await account.Get())!.Balances.PatientResponsibility;
                        if (owed > 0) await account.Post(Samples.Payment(random.Next(2) == 0 ? owed : Math.Round(owed / 2, 2), key)); // in full, or part
                        break;
                    case 3: await account.PlaceHold(new HoldRequest { Reason = HoldReason.InsurancePending, Note = "claim resubmitted" }); break;
                    default: await account.MakePromise(new PromiseRequest { Amount = 10m, PromisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(5) }); break;
                }
                await account.Get(); // the statement step a charge made due is taken before the next command
            }
            await cluster.ProjectionsCaughtUpAsync();
            var serializer = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<Serializer>();
            var events = await new AccountEventLog(database).ReadAsync(LogPosition.Start, 100_000, null);
            var live = await new Outreach.SqlOutboxStore(database, TimeProvider.System).QueryAsync(facility, null, null, 10_000);
            Assert.Contains(live, m => m.Status == Outreach.OutboxStatus.Cancelled); // the run stopped collection on some waiting message
            Assert.Contains(live, m => m.Status == Outreach.OutboxStatus.Pending); // and left others to go

            async Task<List<string>> Replay(bool inPieces)
            {
                var copy = await TestDatabases.NewSqliteAsync();
                var outbox = new Outreach.SqlOutboxStore(copy, TimeProvider.System);
                foreach (var message in live) await outbox.AddAsync(message with { Status = Outreach.OutboxStatus.Pending, LastError = null });
                var projection = new OutboxReactionProjection(outbox, serializer);
                if (inPieces) await ApplyInPiecesWithCrashesAsync(projection, events, random);
                else await projection.ApplyAsync(events.Where(e => projection.EventTypes.Contains(e.Type)).ToList(), default);
                return (await outbox.QueryAsync(facility, null, null, 10_000)).OrderBy(m => m.MessageId, StringComparer.Ordinal).Select(m => $"{m.MessageId}|{m.Status}").ToList();
            }
            var liveStatuses = live.OrderBy(m => m.MessageId, StringComparer.Ordinal).Select(m => $"{m.MessageId}|{m.Status}").ToList();
            // The rule itself: a collection message is cancelled exactly when its account stopped collection at or after it was queued.
            var stops = events.Where(e => e.Type == AccountProjectionFacts.EventType).Select(e => serializer.Deserialize<AccountProjectionFacts>(e.Payload)!)
                .Where(f => f.CollectionStopped is not null).ToList();
            var expected = live.OrderBy(m => m.MessageId, StringComparer.Ordinal).Select(m =>
                $"{m.MessageId}|{(stops.Any(f => f.Account.AccountNumber == m.AccountNumber && f.At >= m.CreatedAt) ? Outreach.OutboxStatus.Cancelled : Outreach.OutboxStatus.Pending)}").ToList();
            Assert.Equal(expected, liveStatuses);
            var rebuilt = await Replay(inPieces: false);
            Assert.Equal(rebuilt, await Replay(inPieces: true));
            Assert.Equal(liveStatuses, rebuilt);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>
    /// The placement register: random placement histories (placed, recalled, placed again) for a few accounts as the
    /// accounts' facts events, applied to one facility's register in one pass (the rebuild), to another's in random
    /// pieces with crashes between, and to a third one event at a time as the live runner does; each equals what the
    /// histories say. (Histories are generated, not walked through 120-day cadences; the cadence tests prove the live
    /// placements.)
    /// </summary>
    [Fact]
    public async Task The_placement_register_applied_in_pieces_with_crashes_between_equals_its_rebuild_and_the_histories()
    {
        var cluster = await TestClusters.StartAsync(await TestDatabases.NewSqliteAsync(), TestDatabases.NewServiceId());
        try
        {
            var serializer = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<Serializer>();
            var random = new Random(20261207);
            var start = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
            var accounts = Enumerable.Range(1, 6).Select(i => $"A{i:000}").ToList();
            var placed = accounts.ToDictionary(a => a, _ => false);
            var facts = new List<(string Account, DateTimeOffset At, AgencyPlacement? Placement, PlacementRecall? Recall)>();
            for (var step = 0; step < 80; step++)
            {
                var account = accounts[random.Next(accounts.Count)];
                var at = start.AddHours(step);
                if (!placed[account])
                {
                    facts.Add((account, at, new AgencyPlacement
                    {
                        Account = new AccountKey("X", account), GuarantorId = $"G-{account}", BalancePlaced = random.Next(100, 900) + 0.5m,
                        PlacedAt = at, FirstStatementAt = at.AddDays(-130), PolicyReference = "standard v1",
                    }, null));
                    placed[account] = true;
                }
                else if (random.Next(3) == 0)
                {
                    facts.Add((account, at, null, new PlacementRecall { Reason = $"recall {step}", At = at }));
                    placed[account] = false;
                }
            }

            // The same history, logged for three facilities (three registers): rebuild, pieces with crashes, live.
            List<LoggedEvent> LogFor(string facility) => facts.Select((f, i) => new LoggedEvent(new LogPosition(0, i + 1), $"{facility}/{f.Account}", $"e{i}",
                AccountProjectionFacts.EventType, f.At, serializer.SerializeToArray(new AccountProjectionFacts
                {
                    Account = new AccountKey(facility, f.Account), At = f.At,
                    Placement = f.Placement is null ? null : f.Placement with { Account = new AccountKey(facility, f.Account) }, Recall = f.Recall,
                }))).ToList();
            var projection = new PlacementProjection(cluster.Client, serializer);
            await projection.ApplyAsync(LogFor("REBUILT"), default);
            await ApplyInPiecesWithCrashesAsync(projection, LogFor("PIECES"), random);
            foreach (var logged in LogFor("LIVE")) await projection.ApplyAsync([logged], default);

            // What the histories say: each account's last placement, recalled if a recall came after it.
            var expected = accounts.Where(a => facts.Any(f => f.Account == a && f.Placement is not null)).Select(a =>
            {
                var last = facts.Last(f => f.Account == a && f.Placement is not null);
                var recall = facts.LastOrDefault(f => f.Account == a && f.Recall is not null && f.At > last.At).Recall;
                return $"{a}|{last.Placement!.PlacedAt:O}|{last.Placement.BalancePlaced}|{(recall is null ? PlacementStatus.Placed : PlacementStatus.Recalled)}|{recall?.At:O}|{recall?.Reason}";
            }).Order(StringComparer.Ordinal).ToList();
            Assert.Contains(expected, e => e.Contains("|Recalled|", StringComparison.Ordinal));
            Assert.Contains(expected, e => e.Contains("|Placed|", StringComparison.Ordinal));
            async Task<List<string>> Register(string facility) =>
                (await cluster.Client.GetGrain<IPlacementRegisterGrain>(facility).List(null))
                    .Select(p => $"{p.Account.AccountNumber}|{p.PlacedAt:O}|{p.BalancePlaced}|{p.Status}|{p.RecalledAt:O}|{p.RecallReason}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, await Register("REBUILT"));
            Assert.Equal(expected, await Register("PIECES"));
            Assert.Equal(expected, await Register("LIVE"));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>
    /// Applies the log as the runner would, in batches of random size, with "crashes": now and then part of a batch is
    /// applied and its checkpoint not moved, so the next batch starts over from the same place.
    /// </summary>
    private static async Task ApplyInPiecesWithCrashesAsync(IAccountProjection projection, IReadOnlyList<LoggedEvent> events, Random random)
    {
        var at = 0;
        while (at < events.Count)
        {
            var size = Math.Min(random.Next(1, 12), events.Count - at);
            var mine = events.Skip(at).Take(size).Where(e => projection.EventTypes.Contains(e.Type)).ToList();
            if (random.Next(4) == 0 && mine.Count > 0)
            {
                await projection.ApplyAsync(mine.Take(random.Next(mine.Count + 1)).ToList(), default); // crashed before its checkpoint
                continue;
            }
            if (mine.Count > 0) await projection.ApplyAsync(mine, default);
            at += size;
        }
    }

    private sealed class Views
    {
        public required List<string> Incremental { get; init; }
        public required List<string> Rebuilt { get; init; }
        public List<string> Live { get; set; } = [];
    }

    /// <summary>The projection applied to a fresh database in random pieces with crashes, and to another in one pass.</summary>
    private static async Task<Views> CompareAsync(AccountEventLog log, Random random, Func<DatabaseOptions, IAccountProjection> make, Func<DatabaseOptions, Task<List<string>>> dump)
    {
        var events = await log.ReadAsync(LogPosition.Start, 100_000, null);
        var incremental = await TestDatabases.NewSqliteAsync();
        await ApplyInPiecesWithCrashesAsync(make(incremental), events, random);
        var rebuilt = await TestDatabases.NewSqliteAsync();
        var once = make(rebuilt);
        await once.ApplyAsync(events.Where(e => once.EventTypes.Contains(e.Type)).ToList(), default);
        return new Views { Incremental = await dump(incremental), Rebuilt = await dump(rebuilt) };
    }

    private static async Task<List<string>> RowsAsync(DatabaseOptions database, params string[] queries)
    {
        await using var connection = await database.OpenAsync();
        var rows = new List<string>();
        foreach (var sql in queries)
        {
            await using var command = connection.Command(sql);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : reader.GetValue(i) switch
                {
                    // Read the same on both databases: SQLite gives dates as text and booleans as 0/1.
                    DateTime date => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    DateOnly date => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    bool flag => flag ? "1" : "0",
                    double number => number.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                })));
        }
        return rows;
    }

    [Fact]
    public async Task Paying_in_full_cancels_collection_messages_still_waiting_and_insurance_paying_late_stops_collection_and_opens_a_refund()
    {
        var database = await TestDatabases.NewSqliteAsync();
        // No sender: messages stay in the outbox, as they would behind a slow vendor.
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId(),
            settings: new Dictionary<string, string?> { ["Collections:Outreach:Sender:Enabled"] = "false" });
        try
        {
            var outbox = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<Outreach.IOutboxStore>();

            // 1. A payment in full: the statement queued for 120.00 is cancelled, never sent.
            var paid = await Samples.OpenAccountAsync(cluster.Client, "REACT");
            var paidKey = AccountKey.Parse(paid.GetPrimaryKeyString());
            Assert.True((await paid.Post(Samples.Charge(120.00m, "c1"))).Succeeded);
            await paid.Get(); // after the statement step the charge made due
            var statement = Assert.Single(await outbox.QueryAsync(paidKey.Facility, paidKey.AccountNumber, null, 10));
            Assert.Equal((Outreach.OutboxStatus.Pending, 120.00m), (statement.Status, statement.AmountDue));
            Assert.True((await paid.Post(Samples.Payment(120.00m, "p1"))).Succeeded);
            await cluster.ProjectionsCaughtUpAsync();
            Assert.Equal(Outreach.OutboxStatus.Cancelled, (await outbox.GetAsync(statement.MessageId))!.Status);

            // 2. The patient paid 100.00 of a 300.00 share, then insurance paid 300.00: the account is 100.00 in credit.
            var guarantorId = Samples.NewId("G");
            Assert.True((await cluster.Client.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor())).Succeeded);
            var key = new AccountKey("REACT", Samples.NewId("A"));
            var insured = cluster.Client.GetGrain<IPatientAccountGrain>(key.ToString());
            Assert.True((await insured.Open(new OpenAccountRequest { GuarantorId = guarantorId, PrimaryPayer = "Acme Health" })).Succeeded);
            Assert.True((await insured.Post(Samples.Charge(300.00m, "c1") with { Party = ResponsibleParty.Insurance })).Succeeded);
            Assert.True((await insured.Post(new EntryRequest { Kind = EntryKind.Transfer, Amount = 300.00m, Direction = TransferDirection.InsuranceToPatient, ReasonCode = "PR-1", IdempotencyKey = "t1" })).Succeeded);
            Assert.Equal(Domain.Cadence.CadenceStatus.Active, (await insured.Get())!.Cadence!.Status);
            Assert.True((await insured.Post(Samples.Payment(100.00m, "p1"))).Succeeded);
            Assert.True((await insured.Post(new EntryRequest { Kind = EntryKind.InsurancePayment, Amount = 300.00m, Payer = "Acme Health", IdempotencyKey = "i1" })).Succeeded);

            var view = (await insured.Get())!;
            Assert.Equal((0m, 100.00m), (view.Balances.PatientResponsibility, view.Balances.CreditBalance));
            Assert.Equal(Domain.Cadence.CadenceStatus.Idle, view.Cadence!.Status);
            Assert.Null(view.Cadence.NextActionAt);
            await cluster.ProjectionsCaughtUpAsync();
            var credit = Assert.Single(await cluster.Client.GetGrain<ICreditBalanceRegistryGrain>("REACT").List(), c => c.Account == key);
            Assert.Equal(100.00m, credit.CreditBalance);
            Assert.DoesNotContain(await outbox.QueryAsync(key.Facility, key.AccountNumber, Outreach.OutboxStatus.Pending, 10), m => true);
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>Every KPI row and charge row, as text, without the time it was written.</summary>
    private static Task<List<string>> KpiRowsAsync(DatabaseOptions database) => RowsAsync(database,
        "SELECT 'kpi', facility, account_number, patient_balance_cents, insurance_balance_cents, credit_balance_cents, aging_basis_date, patient_responsibility_cents, patient_paid_cents, promises_kept, promises_broken, placed_with_agency FROM account_kpi ORDER BY facility, account_number",
        "SELECT 'charge', facility, account_number, effective_date, amount_cents FROM account_kpi_charge ORDER BY facility, account_number, effective_date",
        "SELECT 'day', facility, account_number, measure, day, subject, amount_cents, quantity FROM account_kpi_day ORDER BY facility, account_number, measure, day, subject",
        "SELECT 'treatment', facility, account_number, policy_id, control, assigned_on, score_band, owed_cents, collected_cents, steps FROM account_treatment ORDER BY facility, account_number",
        "SELECT 'fairness', facility, account_number, language, income_band, score, outreach_contacts, calls FROM account_fairness ORDER BY facility, account_number");

    private static async Task<long> ScalarAsync(DatabaseOptions database, string sql, string id)
    {
        await using var connection = await database.OpenAsync();
        return Convert.ToInt64(await connection.Command(sql).WithParameter("id", id).ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DatabaseOptions database, string sql)
    {
        await using DbConnection connection = await database.OpenAsync();
        await connection.Command(sql).ExecuteNonQueryAsync();
    }
}
