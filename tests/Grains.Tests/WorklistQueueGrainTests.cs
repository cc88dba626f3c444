using System.Collections.Concurrent;
using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>A call check that answers from a script, a little later (as an account would), remembering its last answer for each account.</summary>
public sealed class ScriptedCallCheck : IWorklistCallCheck
{
    private readonly ConcurrentDictionary<AccountKey, int> _asked = new();
    public ConcurrentDictionary<AccountKey, GateDecision> LastAnswer { get; } = new();
    public Func<AccountKey, int, GateDecision> Script { get; set; } = (_, _) => GateDecision.Allowed;

    public async Task<CallCheck> CheckAsync(AccountKey account)
    {
        await Task.Delay(Random.Shared.Next(0, 3));
        var decision = Script(account, _asked.AddOrUpdate(account, 1, (_, n) => n + 1));
        LastAnswer[account] = decision;
        return new CallCheck { Decision = decision, PatientBalance = 1m };
    }
}

/// <summary>A cluster whose queues ask a scripted check instead of real accounts: the queue grain's own behaviour, in isolation.</summary>
public sealed class ScriptedCheckClusterFixture : IAsyncLifetime
{
    public ScriptedCallCheck Check { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync() =>
        Cluster = await TestClusters.StartAsync(await TestDatabases.NewSqliteAsync(), TestDatabases.NewServiceId(),
            services: s => s.AddSingleton<IWorklistCallCheck>(Check));

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class WorklistQueueGrainTests(ScriptedCheckClusterFixture fixture) : IClassFixture<ScriptedCheckClusterFixture>
{
    private static WorklistEntry Entry(string queue, int i, decimal balance) => new()
    {
        Account = new AccountKey(queue, $"A{i}"), GuarantorId = $"G{i}", PatientBalance = balance, Probability = (i % 10) / 10d,
        ExpectedRecovery = WorklistEntry.ExpectedRecoveryOf((i % 10) / 10d, balance), UpdatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task Agents_racing_for_accounts_whose_checks_say_yes_not_yet_or_no_are_only_ever_offered_an_account_just_allowed_and_never_one_another_holds()
    {
        var queueId = "RND" + Guid.NewGuid().ToString("N")[..8];
        var queue = fixture.Grains.GetGrain<IWorklistQueueGrain>(queueId);
        var notBefore = DateTimeOffset.UtcNow.AddHours(3);
        // Deterministic per account and question: about 70% allow, 20% not yet, 10% no.
        fixture.Check.Script = (account, asked) => ((HashCode.Combine(account.AccountNumber, asked) & 0x7fffffff) % 10) switch
        {
            < 7 => GateDecision.Allowed,
            < 9 => GateDecision.Defer("calls.7-in-7", "not yet", notBefore),
            _ => GateDecision.Deny("hold.dispute", "no"),
        };
        await queue.UpsertMany(Enumerable.Range(0, 400).Select(i => Entry(queueId, i, 100m + i)).ToList());

        var holding = new ConcurrentDictionary<AccountKey, string>();
        var offers = 0;
        var violations = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 30).Select(async a =>
        {
            var agent = $"agent-{a}";
            for (var round = 0; round < 30; round++)
            {
                var offer = await queue.Next(agent);
                if (offer is null) return;
                var account = offer.Lease.Entry.Account;
                Interlocked.Increment(ref offers);
                if (fixture.Check.LastAnswer[account].Verdict != GateVerdict.Allow) violations.Add($"{account} offered after {fixture.Check.LastAnswer[account].Rule}");
                if (!holding.TryAdd(account, agent)) violations.Add($"{account} offered to {agent} while {holding[account]} held it");
                holding.TryRemove(account, out _);
                Assert.True(await queue.Complete(account, agent, WorklistOutcome.RightPartyContact, $"{agent}-{round}"));
            }
        }));

        Assert.Empty(violations);
        Assert.True(offers > 300, $"only {offers} offers");
        foreach (var (account, answer) in fixture.Check.LastAnswer.Where(a => a.Key.Facility == queueId))
        {
            var entry = await queue.Get(account);
            if (answer.Verdict == GateVerdict.Deny) Assert.Null(entry);
            else if (answer.Verdict == GateVerdict.Defer) Assert.Equal(notBefore, entry!.CallableFrom);
            else Assert.NotNull(entry);
        }
    }

    [Fact]
    public async Task The_same_agent_asking_twice_at_once_gets_one_account()
    {
        var queueId = "TWICE" + Guid.NewGuid().ToString("N")[..8];
        fixture.Check.Script = (_, _) => GateDecision.Allowed;
        var queue = fixture.Grains.GetGrain<IWorklistQueueGrain>(queueId);
        await queue.UpsertMany(Enumerable.Range(0, 5).Select(i => Entry(queueId, i, 100m * (i + 1))).ToList());

        var both = await Task.WhenAll(queue.Next("jane"), queue.Next("jane"));

        Assert.Equal(both[0]!.Lease.Entry.Account, both[1]!.Lease.Entry.Account);
        Assert.Equal(1, (await queue.Stats(null)).Leased);
    }

    [Fact]
    public async Task A_queue_definition_reorders_its_queue_and_sets_its_lease_time()
    {
        var queueId = "ORD" + Guid.NewGuid().ToString("N")[..8];
        fixture.Check.Script = (_, _) => GateDecision.Allowed;
        var queue = fixture.Grains.GetGrain<IWorklistQueueGrain>(queueId);
        await queue.UpsertMany([Entry(queueId, 9, 100m), Entry(queueId, 1, 500m)]); // A9: 0.9 x 100 = 90; A1: 0.1 x 500 = 50
        Assert.Equal("A9", (await queue.Peek("x")).Best!.Account.AccountNumber);

        var saved = await fixture.Grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key)
            .Save(queueId, new WorklistQueueRequest { Name = "by balance", Ordering = WorklistOrdering.Balance, LeaseMinutes = 5 });
        Assert.True(saved.Succeeded);

        var offer = await queue.Next("jane");
        Assert.Equal("A1", offer!.Lease.Entry.Account.AccountNumber);
        Assert.Equal(offer.Lease.LeasedAt.AddMinutes(5), offer.Lease.ExpiresAt);
    }
}

/// <summary>A queue's entries, leases and recorded outcomes are on disk: a new cluster on the same database finds them.</summary>
public sealed class WorklistDurabilityTests
{
    [Fact]
    public Task A_queue_is_rebuilt_from_its_rows_after_a_full_restart_on_sqlite() => QueueSurvivesRestart(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_queue_is_rebuilt_from_its_rows_after_a_full_restart_on_postgresql() => QueueSurvivesRestart(TestDatabases.PostgresAsync);

    private static async Task QueueSurvivesRestart(Func<Task<DatabaseOptions>> database)
    {
        var db = await database();
        var queueId = "DUR" + Guid.NewGuid().ToString("N")[..8];
        var check = new ScriptedCallCheck();
        check.Script = (account, _) => account.AccountNumber == "A3"
            ? GateDecision.Defer("window.local-time", "night", new DateTimeOffset(2100, 1, 1, 14, 0, 0, TimeSpan.Zero))
            : GateDecision.Allowed;
        var now = new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        WorklistEntry Entry(int i) => new()
        {
            Account = new AccountKey(queueId, $"A{i}"), GuarantorId = $"G{i}", PatientBalance = 100.25m * i, Probability = i == 2 ? null : 0.1 * i,
            ExpectedRecovery = WorklistEntry.ExpectedRecoveryOf(i == 2 ? null : 0.1 * i, 100.25m * i), OldestBalanceDate = new DateOnly(2026, 1, i),
            ModelVersion = i == 2 ? null : "m7", UpdatedAt = now,
        };

        WorklistLease lease;
        var cluster = await TestClusters.StartAsync(db, TestDatabases.NewServiceId(), services: s => s.AddSingleton<IWorklistCallCheck>(check));
        try
        {
            var queue = cluster.Client.GetGrain<IWorklistQueueGrain>(queueId);
            await queue.UpsertMany([Entry(1), Entry(2), Entry(3), Entry(4), Entry(5)]);
            await queue.Remove(new AccountKey(queueId, "A5"));
            // Expected recovery: A4 160.40, A2 100.25 (unscored: the 0.5 prior), A3 90.23, A1 10.03.
            lease = (await queue.Next("jane"))!.Lease;                       // A4
            var worked = (await queue.Next("omar"))!.Lease.Entry.Account;      // A2
            Assert.True(await queue.Complete(worked, "omar", WorklistOutcome.LeftMessage, "key-1")); // waits its retry time
            var lee = (await queue.Next("lee"))!.Lease.Entry.Account;          // A3's check says not yet: deferred; A1
            Assert.Equal("A1", lee.AccountNumber);
            Assert.True(await queue.Release(lee, "lee"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        cluster = await TestClusters.StartAsync(db, TestDatabases.NewServiceId(), services: s => s.AddSingleton<IWorklistCallCheck>(check));
        try
        {
            var queue = cluster.Client.GetGrain<IWorklistQueueGrain>(queueId);
            var stats = await queue.Stats(now.AddHours(-1));
            Assert.Equal((4, 1, 2, 1), (stats.Depth, stats.CallableNow, stats.Deferred, stats.Leased)); // A1 callable; A2 waits its retry, A3 is deferred; A4 leased
            Assert.Equal(Entry(4), lease.Entry);
            var holder = (await queue.Holder(lease.Entry.Account))!;
            Assert.Equal(("jane", true), (holder.Agent, holder.Active));
            Assert.Equal(Microseconds(lease.ExpiresAt), Microseconds(holder.ExpiresAt!.Value)); // PostgreSQL keeps microseconds
            Assert.Equal(Entry(2), await queue.Get(new AccountKey(queueId, "A2")));
            Assert.Equal(new DateTimeOffset(2100, 1, 1, 14, 0, 0, TimeSpan.Zero), (await queue.Get(new AccountKey(queueId, "A3")))!.CallableFrom);
            Assert.Null(await queue.Get(new AccountKey(queueId, "A5")));
            var omar = stats.Agents.Single(a => a.Agent == "omar");
            Assert.Equal(WorklistOutcome.LeftMessage, Assert.Single(omar.Worked).Outcome);
            Assert.NotNull(await queue.FindWorked("omar", new AccountKey(queueId, "A2"), "key-1"));
            Assert.Equal("A1", (await queue.Next("lee"))!.Lease.Entry.Account.AccountNumber);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static long Microseconds(DateTimeOffset t) => t.UtcTicks / 10;
}
