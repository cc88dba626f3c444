using Collections.Domain.Worklist;

namespace Collections.Domain.Tests;

public sealed class WorklistQueueTests
{
    internal static readonly DateTimeOffset T0 = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(15);

    internal static WorklistEntry Entry(string number, decimal balance, double? probability = null, DateTimeOffset? callableFrom = null,
        DateOnly? oldest = null, string facility = "MAIN") => new()
    {
        Account = new AccountKey(facility, number), GuarantorId = "G" + number, PatientBalance = balance, Probability = probability,
        ExpectedRecovery = WorklistEntry.ExpectedRecoveryOf(probability, balance), OldestBalanceDate = oldest, CallableFrom = callableFrom,
        ModelVersion = probability is null ? null : "m1", UpdatedAt = T0,
    };

    private static AccountKey Key(string number) => new("MAIN", number);

    private static List<string> Drain(WorklistQueue queue, DateTimeOffset now)
    {
        var offered = new List<string>();
        var agent = 0;
        while (queue.Next($"agent{agent++}", now, Lease) is { } lease) offered.Add(lease.Entry.Account.AccountNumber);
        return offered;
    }

    [Fact]
    public void Next_offers_the_highest_expected_recovery_first_and_ties_go_to_the_larger_balance_then_the_account_number()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 1000m, 0.10), T0);  // 100.00
        queue.Upsert(Entry("B", 300m, 0.90), T0);   // 270.00
        queue.Upsert(Entry("C", 200m), T0);         // unscored: 0.5 prior, 100.00, smaller balance than A
        queue.Upsert(Entry("D", 540m, 0.50), T0);   // 270.00, larger balance than B
        queue.Upsert(Entry("E", 1000m, 0.10), T0);  // 100.00, same as A: account number decides

        Assert.Equal(["D", "B", "A", "E", "C"], Drain(queue, T0));
    }

    [Theory]
    [InlineData(WorklistOrdering.Probability, "B,D,C,A")]
    [InlineData(WorklistOrdering.Balance, "A,D,B,C")]
    [InlineData(WorklistOrdering.Oldest, "C,A,B,D")]
    [InlineData(WorklistOrdering.ExpectedRecovery, "D,B,A,C")]
    public void Each_ordering_offers_in_its_own_order(WorklistOrdering ordering, string expected)
    {
        var queue = new WorklistQueue(ordering);
        queue.Upsert(Entry("A", 1000m, 0.20, oldest: new DateOnly(2026, 1, 10)), T0);
        queue.Upsert(Entry("B", 300m, 0.90, oldest: new DateOnly(2026, 2, 1)), T0);
        queue.Upsert(Entry("C", 100m, null, oldest: new DateOnly(2025, 12, 1)), T0);  // unscored orders as 0.5
        queue.Upsert(Entry("D", 600m, 0.50, oldest: null), T0);                         // no date: oldest-first puts it last

        Assert.Equal(expected.Split(','), Drain(queue, T0));
    }

    [Fact]
    public void Two_agents_asking_one_after_the_other_get_different_accounts_and_each_is_leased_to_its_agent()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 500m), T0);
        queue.Upsert(Entry("B", 400m), T0);

        var first = queue.Next("jane", T0, Lease)!;
        var second = queue.Next("omar", T0, Lease)!;

        Assert.NotEqual(first.Entry.Account, second.Entry.Account);
        Assert.Equal("jane", queue.Holder(first.Entry.Account, T0)!.Agent);
        Assert.Equal("omar", queue.Holder(second.Entry.Account, T0)!.Agent);
        Assert.Equal(T0 + Lease, first.ExpiresAt);
        Assert.Null(queue.Next("lee", T0, Lease));
    }

    [Fact]
    public void An_agent_who_still_holds_a_lease_is_offered_the_same_account_again()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 500m), T0);
        queue.Upsert(Entry("B", 400m), T0);

        var first = queue.Next("jane", T0, Lease)!;
        var again = queue.Next("jane", T0.AddMinutes(5), Lease)!;

        Assert.Equal(first.Entry.Account, again.Entry.Account);
        Assert.True(again.Reoffered);
        Assert.Equal(first.ExpiresAt, again.ExpiresAt);
        Assert.Equal(1, queue.Stats(T0.AddMinutes(5)).Leased);
    }

    [Fact]
    public void A_lease_that_runs_out_returns_the_account_and_its_agent_may_still_record_the_outcome_until_someone_else_takes_it()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 500m), T0);
        queue.Next("jane", T0, Lease);

        Assert.Null(queue.Next("omar", T0 + Lease - TimeSpan.FromTicks(1), Lease));
        var expired = queue.Holder(Key("A"), T0 + Lease)!;
        Assert.Equal(("jane", false), (expired.Agent, expired.Active));
        Assert.Equal(1, queue.Stats(T0 + Lease).CallableNow);

        var taken = queue.Next("omar", T0 + Lease, Lease)!;
        Assert.Equal("A", taken.Entry.Account.AccountNumber);
        Assert.False(queue.Complete(Key("A"), "jane", WorklistOutcome.NoAnswer, T0 + Lease));
        Assert.True(queue.Complete(Key("A"), "omar", WorklistOutcome.NoAnswer, T0 + Lease));
    }

    [Fact]
    public void The_agent_of_an_expired_lease_completes_it_and_the_account_leaves_the_callable_set_until_its_retry_time()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 500m), T0);
        queue.Next("jane", T0, Lease);

        var later = T0 + Lease + TimeSpan.FromMinutes(1);
        Assert.True(queue.Complete(Key("A"), "jane", WorklistOutcome.LeftMessage, later, retryAfter: later.AddHours(4)));

        Assert.Null(queue.Next("omar", later.AddHours(4) - TimeSpan.FromTicks(1), Lease));
        Assert.Equal("A", queue.Next("omar", later.AddHours(4), Lease)!.Entry.Account.AccountNumber);
    }

    [Fact]
    public void An_account_not_callable_yet_is_deferred_and_offered_once_its_time_comes()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m, callableFrom: T0.AddHours(2)), T0);
        queue.Upsert(Entry("B", 100m), T0);

        Assert.Equal(["B"], Drain(queue, T0));
        var stats = queue.Stats(T0.AddMinutes(10));
        Assert.Equal((2, 0, 1, 1), (stats.Depth, stats.CallableNow, stats.Deferred, stats.Leased));
        Assert.Equal("A", queue.Next("omar", T0.AddHours(2), Lease)!.Entry.Account.AccountNumber);
    }

    [Fact]
    public void Deferring_a_leased_account_ends_the_lease_without_a_holder_and_hides_it_until_then()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m), T0);
        queue.Upsert(Entry("B", 100m), T0);
        var lease = queue.Next("jane", T0, Lease)!;

        Assert.True(queue.Defer(lease.Entry.Account, T0.AddDays(1), T0));

        Assert.Null(queue.Holder(lease.Entry.Account, T0));
        Assert.Equal("B", queue.Next("jane", T0, Lease)!.Entry.Account.AccountNumber);
        Assert.Equal(T0.AddDays(1), queue.Get(Key("A"))!.CallableFrom);
        Assert.Equal("A", queue.Next("omar", T0.AddDays(1), Lease)!.Entry.Account.AccountNumber);
    }

    [Fact]
    public void Removing_a_leased_account_keeps_the_lease_for_its_outcome_but_never_offers_it_again()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m), T0);
        queue.Next("jane", T0, Lease);

        Assert.True(queue.Remove(Key("A")));

        Assert.Equal(0, queue.Count);
        Assert.Equal("jane", queue.Holder(Key("A"), T0)!.Agent);
        Assert.True(queue.Complete(Key("A"), "jane", WorklistOutcome.PromiseToPay, T0.AddMinutes(3)));
        Assert.Null(queue.Holder(Key("A"), T0.AddMinutes(3)));
        Assert.Null(queue.Next("omar", T0.AddHours(1), Lease));
        Assert.Null(queue.Get(Key("A")));
    }

    [Fact]
    public void An_agent_whose_leased_account_left_the_worklist_gets_a_new_one()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m), T0);
        queue.Upsert(Entry("B", 100m), T0);
        queue.Next("jane", T0, Lease);
        queue.Remove(Key("A"));

        var next = queue.Next("jane", T0, Lease)!;

        Assert.Equal("B", next.Entry.Account.AccountNumber);
        Assert.False(next.Reoffered);
    }

    [Fact]
    public void Only_the_holder_completes_or_releases_a_lease()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m), T0);
        queue.Next("jane", T0, Lease);

        Assert.False(queue.Complete(Key("A"), "omar", WorklistOutcome.NoAnswer, T0));
        Assert.False(queue.Release(Key("A"), "omar", T0));
        Assert.False(queue.Complete(Key("Z"), "jane", WorklistOutcome.NoAnswer, T0));
        Assert.True(queue.Release(Key("A"), "jane", T0));
        Assert.False(queue.Release(Key("A"), "jane", T0));
        Assert.Equal("A", queue.Next("omar", T0, Lease)!.Entry.Account.AccountNumber);
    }

    [Fact]
    public void Updating_an_entry_moves_it_in_the_order_and_a_leased_account_keeps_its_lease()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m), T0);
        queue.Upsert(Entry("B", 100m), T0);
        queue.Upsert(Entry("A", 50m), T0);     // a payment brought A down
        Assert.Equal("B", queue.Peek(T0)!.Account.AccountNumber);

        var lease = queue.Next("jane", T0, Lease)!;
        queue.Upsert(Entry("B", 80m), T0);
        Assert.Equal("jane", queue.Holder(lease.Entry.Account, T0)!.Agent);
        Assert.Equal(80m, queue.Next("jane", T0, Lease)!.Entry.PatientBalance);
    }

    [Fact]
    public void Time_given_earlier_than_before_does_not_undo_what_time_already_did()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 900m, callableFrom: T0.AddHours(1)), T0);
        Assert.Equal("A", queue.Peek(T0.AddHours(1))!.Account.AccountNumber);

        Assert.Equal("A", queue.Next("jane", T0, Lease)!.Entry.Account.AccountNumber);
        Assert.Equal(T0.AddHours(1) + Lease, queue.Holder(Key("A"), T0)!.ExpiresAt);
    }

    [Fact]
    public void Stats_count_depth_callable_deferred_leased_bin_scores_and_list_each_agents_work()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 100m, 0.05), T0);
        queue.Upsert(Entry("B", 100m, 0.95), T0);
        queue.Upsert(Entry("C", 100m, 1.0), T0);
        queue.Upsert(Entry("D", 100m, 0.5), T0);
        queue.Upsert(Entry("E", 100m), T0);
        queue.Upsert(Entry("F", 100m, 0.31, callableFrom: T0.AddDays(1)), T0);
        queue.Next("jane", T0, Lease);                                        // B or C
        var worked = queue.Next("omar", T0, Lease)!;
        queue.Complete(worked.Entry.Account, "omar", WorklistOutcome.RightPartyContact, T0.AddMinutes(2), idempotencyKey: "k1");

        var stats = queue.Stats(T0.AddMinutes(3));

        Assert.Equal((6, 4, 1, 1), (stats.Depth, stats.CallableNow, stats.Deferred, stats.Leased));
        Assert.Equal([1, 0, 0, 1, 0, 1, 0, 0, 0, 2], stats.Histogram.Select(b => b.Count));
        Assert.Equal((0.3, 0.4), (stats.Histogram[3].From, stats.Histogram[3].To));
        Assert.Equal(1, stats.Unscored);
        Assert.Equal(["jane", "omar"], stats.Agents.Select(a => a.Agent));
        Assert.NotNull(stats.Agents[0].Leased);
        var omar = stats.Agents[1];
        Assert.Null(omar.Leased);
        Assert.Equal(WorklistOutcome.RightPartyContact, Assert.Single(omar.Worked).Outcome);
        Assert.DoesNotContain(queue.Stats(T0.AddMinutes(3), since: T0.AddMinutes(2).AddTicks(1)).Agents, a => a.Agent == "omar");
        Assert.Equal(worked.Entry.Account, queue.FindWorked("omar", worked.Entry.Account, "k1")!.Account);
        Assert.Null(queue.FindWorked("omar", worked.Entry.Account, "k2"));
    }

    [Fact]
    public void Each_agent_keeps_only_the_newest_worked_accounts()
    {
        var queue = new WorklistQueue();
        for (var i = 0; i < WorklistQueue.WorkedKeptPerAgent + 20; i++)
            queue.RestoreWorked(new WorkedAccount { Agent = "jane", Account = Key($"A{i}"), Outcome = WorklistOutcome.NoAnswer, At = T0.AddMinutes(i) });

        var worked = queue.Stats(T0.AddDays(1)).Agents.Single().Worked;

        Assert.Equal(WorklistQueue.WorkedKeptPerAgent, worked.Count);
        Assert.Equal($"A{WorklistQueue.WorkedKeptPerAgent + 19}", worked[0].Account.AccountNumber);
    }

    [Fact]
    public void Reordering_rebuilds_the_order()
    {
        var queue = new WorklistQueue();
        queue.Upsert(Entry("A", 1000m, 0.1), T0);
        queue.Upsert(Entry("B", 300m, 0.9), T0);
        Assert.Equal("B", queue.Peek(T0)!.Account.AccountNumber);

        queue.Reorder(WorklistOrdering.Balance);

        Assert.Equal(WorklistOrdering.Balance, queue.Ordering);
        Assert.Equal(["A", "B"], Drain(queue, T0));
    }

    [Fact]
    public void A_restored_queue_keeps_retry_times_and_unexpired_leases_and_drops_expired_ones()
    {
        var queue = new WorklistQueue();
        queue.Restore(Entry("A", 900m), T0.AddHours(1), T0);
        queue.Restore(Entry("B", 800m), null, T0);
        queue.Restore(Entry("C", 700m), null, T0);
        Assert.True(queue.RestoreLease(Key("B"), "jane", T0.AddMinutes(-5), T0.AddMinutes(10), T0));
        Assert.False(queue.RestoreLease(Key("C"), "omar", T0.AddMinutes(-30), T0.AddMinutes(-15), T0));

        Assert.Equal("B", queue.Next("jane", T0, Lease)!.Entry.Account.AccountNumber);
        Assert.Equal(["C"], Drain(queue, T0));
        Assert.Equal("A", queue.Next("lee", T0.AddHours(1), Lease)!.Entry.Account.AccountNumber);
    }

    [Fact]
    public void A_lease_must_last_a_positive_time()
    {
        var queue = new WorklistQueue();
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Next("jane", T0, TimeSpan.Zero));
    }

    [Fact]
    public void The_supervisors_view_names_the_oldest_balance_on_the_list_leased_or_not()
    {
        var queue = new WorklistQueue();
        Assert.Null(queue.Stats(T0).OldestBalanceDate);
        queue.Upsert(Entry("A1", 100m, oldest: new DateOnly(2026, 6, 1)), T0);
        queue.Upsert(Entry("A2", 900m, oldest: new DateOnly(2026, 3, 15)), T0);
        queue.Upsert(Entry("A3", 50m), T0);
        Assert.NotNull(queue.Next("agent", T0, Lease)); // the 900.00 account goes to an agent: still on the list

        Assert.Equal(new DateOnly(2026, 3, 15), queue.Stats(T0).OldestBalanceDate);

        queue.Upsert(Entry("A2", 900m, oldest: new DateOnly(2026, 7, 1)), T0);   // its entry replaced: a newer date
        Assert.Equal(new DateOnly(2026, 6, 1), queue.Stats(T0).OldestBalanceDate);
        queue.Remove(Key("A1"));
        Assert.Equal(new DateOnly(2026, 7, 1), queue.Stats(T0).OldestBalanceDate);
    }
}
