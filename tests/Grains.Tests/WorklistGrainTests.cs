using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>A cluster on a fake clock for the worklist tests (each test works in a facility, and so a queue, of its own).</summary>
public sealed class WorklistClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(FakeClockClusterFixture.Start);
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync() =>
        Cluster = await TestClusters.StartAsync(await TestDatabases.NewSqliteAsync(), TestDatabases.NewServiceId(), clock: Clock);

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class WorklistClusterCollection : ICollectionFixture<WorklistClusterFixture>
{
    public const string Name = "worklist cluster";
}

/// <summary>
/// The worklist on real accounts, guarantors and the compliance gate, with a fake clock. Monday 15:00 UTC is 09:00 in
/// Austin (the sample guarantor) and midnight in Tokyo.
/// </summary>
[Collection(WorklistClusterCollection.Name)]
public sealed class WorklistGrainTests(WorklistClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;
    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string NewFacility() => "WL" + Guid.NewGuid().ToString("N")[..10];

    private IWorklistQueueGrain Queue(string queueId) => Grains.GetGrain<IWorklistQueueGrain>(queueId);

    /// <summary>The worklist is a projection of the accounts' committed events: wait for it to apply them.</summary>
    private Task Synced() => fixture.Cluster.ProjectionsCaughtUpAsync();

    /// <summary>Moves the clock on to the next 15:00 UTC on a weekday (earlier tests may have left it anywhere).</summary>
    private void AtAustinMorning()
    {
        var now = Now;
        var target = new DateTimeOffset(now.Year, now.Month, now.Day, 15, 0, 0, TimeSpan.Zero);
        while (target <= now || target.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) target = target.AddDays(1);
        fixture.Clock.Advance(target - now);
    }

    private async Task<(IPatientAccountGrain Account, AccountKey Key, IGuarantorGrain Guarantor)> OpenAsync(string facility, decimal charge, GuarantorDetails? details = null)
    {
        var guarantorId = Samples.NewId("G");
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        var registered = await guarantor.Register(details ?? Samples.Guarantor());
        Assert.True(registered.Succeeded, string.Join("; ", registered.Errors.Select(e => e.Message)));
        var key = new AccountKey(facility, Samples.NewId("A"));
        var account = Grains.GetGrain<IPatientAccountGrain>(key.ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        var charged = await account.Post(Samples.Charge(charge, "c1") with { ServiceDate = DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-2) });
        Assert.True(charged.Succeeded, string.Join("; ", charged.Errors.Select(e => e.Message)));
        await account.Get(); // answered after the statement the charge made due (a command of its own, queued first)
        await Synced();
        return (account, key, guarantor);
    }

    private Task<Outcome<GateDecision>> LogAgentCall(IPatientAccountGrain account, ContactOutcome outcome) =>
        account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = outcome, IdempotencyKey = Guid.NewGuid().ToString() });

    [Fact]
    public async Task Fifty_agents_asking_at_the_same_moment_are_leased_fifty_different_accounts()
    {
        AtAustinMorning();
        var facility = NewFacility();
        for (var batch = 0; batch < 6; batch++)
            await Task.WhenAll(Enumerable.Range(0, 10).Select(i => OpenAsync(facility, 100m + batch * 10 + i)));
        var queue = Queue(facility);
        Assert.Equal(60, (await queue.Stats(null)).CallableNow);

        var offers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => queue.Next($"agent-{i}")));

        Assert.All(offers, Assert.NotNull);
        Assert.Equal(50, offers.Select(o => o!.Lease.Entry.Account).Distinct().Count());
        for (var i = 0; i < 50; i++)
            Assert.Equal($"agent-{i}", (await queue.Holder(offers[i]!.Lease.Entry.Account))!.Agent);
        var stats = await queue.Stats(null);
        Assert.Equal((60, 50, 10), (stats.Depth, stats.Leased, stats.CallableNow));
        // The fifty best went out: every account still callable owes less than every account leased.
        var leasedBalances = offers.Select(o => o!.Lease.Entry.PatientBalance).ToList();
        Assert.Equal(100m + 10 * 5 + 9, leasedBalances.Max());
        Assert.Equal(110m, leasedBalances.Min());
    }

    [Fact]
    public async Task A_lease_that_runs_out_goes_to_the_next_agent_and_the_first_may_no_longer_record_the_outcome()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var (_, key, _) = await OpenAsync(facility, 250m);
        var queue = Queue(facility);

        var first = await queue.Next("jane");
        Assert.Equal(key, first!.Lease.Entry.Account);
        Assert.Equal(Now.AddMinutes(WorklistQueueRules.DefaultLeaseMinutes), first.Lease.ExpiresAt);
        Assert.Null(await queue.Next("omar"));

        fixture.Clock.Advance(TimeSpan.FromMinutes(WorklistQueueRules.DefaultLeaseMinutes));
        Assert.Equal(new LeaseHolding { Agent = "jane", Active = false }, await queue.Holder(key)); // ran out; nobody took it yet

        var second = await queue.Next("omar");
        Assert.Equal(key, second!.Lease.Entry.Account);
        Assert.False(await queue.Complete(key, "jane", WorklistOutcome.NoAnswer, "k1"));
        Assert.True(await queue.Complete(key, "omar", WorklistOutcome.NoAnswer, "k2"));
        Assert.Equal(WorklistOutcome.NoAnswer, (await queue.FindWorked("omar", key, "k2"))!.Outcome);
        Assert.Null(await queue.Next("lee")); // an unanswered call waits the retry time (four hours by default)
        fixture.Clock.Advance(TimeSpan.FromMinutes(WorklistQueueRules.DefaultRetryMinutes));
        Assert.Equal(key, (await queue.Next("lee"))!.Lease.Entry.Account);
    }

    [Fact]
    public async Task The_worklist_never_offers_an_account_the_gate_would_deny_now_even_from_a_stale_entry()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var queue = Queue(facility);
        var (callable, callableKey, _) = await OpenAsync(facility, 100m);

        // At the limit of 7 calls in 7 days: the 8th waits until the first falls out of the window.
        var (sevenCalls, sevenKey, _) = await OpenAsync(facility, 900m);
        for (var i = 0; i < 7; i++) Assert.Equal(GateVerdict.Allow, (await LogAgentCall(sevenCalls, ContactOutcome.NoAnswer)).Value!.Verdict);
        var sevenAt = Now;
        // A conversation today: no call about this debt for 7 days.
        var (talked, talkedKey, _) = await OpenAsync(facility, 800m);
        Assert.Equal(GateVerdict.Allow, (await LogAgentCall(talked, ContactOutcome.RightPartyContact)).Value!.Verdict);
        // In Tokyo it is midnight: outside 08:00-21:00 local time.
        var (night, nightKey, _) = await OpenAsync(facility, 700m, Samples.Guarantor() with { TimeZone = "Asia/Tokyo" });
        // On hold: a dispute on the account, and a hold on another guarantor.
        var (disputed, disputedKey, _) = await OpenAsync(facility, 600m);
        var (personHeld, personHeldKey, personHeldGuarantor) = await OpenAsync(facility, 500m);
        Assert.True((await disputed.PlaceHold(new HoldRequest { Reason = HoldReason.Dispute, Note = "Patient disputes the charge" })).Succeeded);
        Assert.True((await personHeldGuarantor.PlaceHold(new HoldRequest { Reason = HoldReason.Bankruptcy, Note = "Chapter 7 notice received" })).Succeeded);
        for (var i = 0; i < 200 && (await personHeld.Get())!.Cadence!.Status != CadenceStatus.OnHold; i++) await Task.Delay(25); // told one-way
        await Synced();

        // What the accounts themselves say now.
        Assert.Equal("calls.7-in-7", (await sevenCalls.CheckCall()).Decision.Rule);
        Assert.Equal("calls.after-conversation", (await talked.CheckCall()).Decision.Rule);
        Assert.Equal("window.local-time", (await night.CheckCall()).Decision.Rule);
        Assert.Equal("hold.dispute", (await disputed.CheckCall()).Decision.Rule);
        Assert.Equal("hold.bankruptcy", (await personHeld.CheckCall()).Decision.Rule);
        Assert.Equal(GateVerdict.Allow, (await callable.CheckCall()).Decision.Verdict);

        // Make every entry stale (callable now, and back in the queue), as if no account had told the queue anything.
        var stale = new[] { sevenKey, talkedKey, nightKey, disputedKey, personHeldKey }
            .Select((key, i) => new WorklistEntry { Account = key, GuarantorId = "G", PatientBalance = 900m - i * 100, ExpectedRecovery = 450m - i * 50, UpdatedAt = Now })
            .ToList();
        await queue.UpsertMany(stale);

        var offer = await queue.Next("jane");

        Assert.Equal(callableKey, offer!.Lease.Entry.Account);
        Assert.Null(await queue.Next("omar"));
        Assert.Equal(sevenAt.AddDays(7), (await queue.Get(sevenKey))!.CallableFrom);
        Assert.Equal(Now.AddDays(7), (await queue.Get(talkedKey))!.CallableFrom);
        Assert.Equal(Now.AddHours(8), (await queue.Get(nightKey))!.CallableFrom); // 08:00 in Tokyo is 23:00 UTC
        Assert.Null(await queue.Get(disputedKey));
        Assert.Null(await queue.Get(personHeldKey));
        var stats = await queue.Stats(null);
        Assert.Equal((4, 3, 1, 0), (stats.Depth, stats.Deferred, stats.Leased, stats.CallableNow));
    }

    [Fact]
    public async Task An_account_keeps_its_entry_current_and_leaves_the_queue_when_paid()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var queue = Queue(facility);
        var (account, key, _) = await OpenAsync(facility, 300m);

        var entry = await queue.Get(key);
        Assert.NotNull(entry);
        Assert.Equal((300m, null, 150m, (DateTimeOffset?)null), (entry.PatientBalance, entry.Probability, entry.ExpectedRecovery, entry.CallableFrom));
        Assert.Equal(DateOnly.FromDateTime(Now.UtcDateTime), entry.OldestBalanceDate); // aging counts from the first statement

        await account.Post(Samples.Payment(100m, "p1"));
        await Synced();
        Assert.Equal((200m, 100m), ((await queue.Get(key))!.PatientBalance, (await queue.Get(key))!.ExpectedRecovery));

        await account.Post(Samples.Payment(200m, "p2"));
        await Synced();
        Assert.Null(await queue.Get(key));
        Assert.Equal(0, (await queue.Stats(null)).Depth);
    }

    [Fact]
    public async Task A_promise_to_pay_takes_the_account_off_the_worklist_and_a_broken_promise_brings_it_back()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var queue = Queue(facility);
        var (account, key, _) = await OpenAsync(facility, 400m);
        Assert.NotNull(await queue.Get(key));

        var promised = await account.MakePromise(new PromiseRequest { Amount = 150m, PromisedDate = DateOnly.FromDateTime(Now.UtcDateTime).AddDays(10) });
        Assert.Equal(CadenceStatus.PromisePending, promised.Value!.Cadence!.Status);
        await Synced();
        Assert.Null(await queue.Get(key));
        Assert.Equal(GateVerdict.Deny, (await account.CheckCall()).Decision.Verdict);

        // Nothing is paid: at the promised date plus the grace days the promise breaks and the account is back.
        for (var step = 0; step < 200 && await queue.Get(key) is null; step++)
        {
            var next = (await account.Get())!.Cadence!.NextActionAt;
            if (next is { } at && at > Now) fixture.Clock.Advance(at - Now);
            else await Task.Delay(25);
        }
        await Synced();
        var view = (await account.Get())!;
        Assert.Equal(PromiseStatus.Broken, view.Promises.Single().Status);
        Assert.NotNull(await queue.Get(key));
    }

    [Fact]
    public async Task Accounts_route_to_the_queue_for_their_facility_and_guarantors_language()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var directory = Grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key);
        var spanish = $"{facility}-ES";
        var saved = await directory.Save(spanish, new WorklistQueueRequest { Name = "Spanish line", Facility = facility, Language = "es", Agents = ["ana"], Ordering = WorklistOrdering.Balance });
        Assert.True(saved.Succeeded);

        var (_, englishKey, _) = await OpenAsync(facility, 200m);
        var (_, spanishKey, _) = await OpenAsync(facility, 300m, Samples.Guarantor() with { PreferredLanguage = "ES" });

        Assert.NotNull(await Queue(facility).Get(englishKey));
        Assert.Null(await Queue(facility).Get(spanishKey));
        Assert.NotNull(await Queue(spanish).Get(spanishKey));
        Assert.Contains(spanish, await directory.QueuesOf("ana"));
        Assert.Equal("es", (await Grains.GetGrain<IGuarantorGrain>(Samples.NewId("G")).Register(Samples.Guarantor() with { PreferredLanguage = "es" })).Value!.Profile.PreferredLanguage);
        var refused = await Grains.GetGrain<IGuarantorGrain>(Samples.NewId("G")).Register(Samples.Guarantor() with { PreferredLanguage = "Spanish" });
        Assert.Equal("preferredLanguage", Assert.Single(refused.Errors).Field);
    }

    [Fact]
    public async Task A_deferral_found_at_offer_time_is_kept_on_the_queue_and_sent_again_by_the_account_only_when_it_changes()
    {
        AtAustinMorning();
        var facility = NewFacility();
        var queue = Queue(facility);
        var (account, key, _) = await OpenAsync(facility, 350m);
        Assert.Equal(GateVerdict.Allow, (await LogAgentCall(account, ContactOutcome.RightPartyContact)).Value!.Verdict);
        await Synced();

        Assert.Null(await queue.Next("jane")); // the entry was stale; the gate says not for 7 days
        Assert.Equal(Now.AddDays(7), (await queue.Get(key))!.CallableFrom);

        await account.Reevaluate(); // nothing about the account changed: it publishes nothing, and the queue keeps its not-before
        await account.Get();
        await Synced();
        Assert.Equal(Now.AddDays(7), (await queue.Get(key))!.CallableFrom);
        fixture.Clock.Advance(TimeSpan.FromDays(7));
        Assert.Equal(key, (await queue.Next("jane"))!.Lease.Entry.Account);
    }
}
