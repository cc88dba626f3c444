using Collections.Domain.Cadence;
using Collections.Domain.Worklist;

namespace Collections.Domain.Tests;

public sealed class WorklistRulesTests
{
    private static readonly DateTimeOffset Now = WorklistQueueTests.T0;

    private static WorklistQueueDefinition Queue(string id, string facility = "*", string? language = null) =>
        new() { QueueId = id, Name = id, Facility = facility, Language = language };

    [Fact]
    public void An_account_routes_to_the_most_specific_matching_queue_and_without_one_to_its_facilitys_own_queue()
    {
        WorklistQueueDefinition[] queues = [Queue("ALL"), Queue("SPANISH", language: "es"), Queue("MAIN-ALL", "MAIN"), Queue("MAIN-ES", "MAIN", "es"), Queue("EAST-VI", "EAST", "vi")];

        Assert.Equal("MAIN-ES", WorklistRouting.Route(queues, "MAIN", "es"));
        Assert.Equal("MAIN-ALL", WorklistRouting.Route(queues, "MAIN", "en"));
        Assert.Equal("SPANISH", WorklistRouting.Route(queues, "EAST", "ES"));
        Assert.Equal("EAST-VI", WorklistRouting.Route(queues, "EAST", "vi"));
        Assert.Equal("ALL", WorklistRouting.Route(queues, "WEST", null));
        Assert.Equal("WEST", WorklistRouting.Route([Queue("SPANISH", language: "es")], "WEST", "en"));
        Assert.Equal("WEST", WorklistRouting.Route([], "WEST", "es"));
    }

    [Fact]
    public void Equally_specific_queues_route_to_the_smallest_queue_id()
    {
        Assert.Equal("A", WorklistRouting.Route([Queue("B", "MAIN"), Queue("A", "MAIN")], "MAIN", "en"));
    }

    [Fact]
    public void A_queue_definition_is_normalised_and_gets_its_defaults()
    {
        var (queue, errors) = WorklistQueueRules.Validate("MAIN-ES", new WorklistQueueRequest { Name = " Spanish line ", Facility = "MAIN", Language = "ES", Agents = ["0a1b2c3d4e5f", " 99aa "] });

        Assert.Empty(errors);
        Assert.Equal(("Spanish line", "MAIN", "es", WorklistOrdering.ExpectedRecovery, 15, 240), (queue!.Name, queue.Facility, queue.Language, queue.Ordering, queue.LeaseMinutes, queue.RetryMinutes));
        Assert.Equal(["0a1b2c3d4e5f", "99aa"], queue.Agents);
        Assert.Equal("*", WorklistQueueRules.Validate("ANY", new WorklistQueueRequest { Name = "any" }).Definition!.Facility);
    }

    [Fact]
    public void Every_mistake_in_a_queue_definition_is_named_with_its_field()
    {
        var (queue, errors) = WorklistQueueRules.Validate("bad id!", new WorklistQueueRequest
        {
            Name = " ", Facility = "MA IN", Language = "spanish", Team = new string('x', 101), Agents = ["ok", "ok", "bad agent", null],
            LeaseMinutes = 0, RetryMinutes = -1,
        });

        Assert.Null(queue);
        Assert.Equal(["queueId", "name", "facility", "language", "team", "agents[1]", "agents[2]", "agents[3]", "leaseMinutes", "retryMinutes"], errors.Select(e => e.Field));
        Assert.Equal("agent.duplicate", errors.Single(e => e.Field == "agents[1]").Code);
    }

    [Theory]
    [InlineData("es", "es")]
    [InlineData(" VI ", "vi")]
    [InlineData("en", "en")]
    [InlineData("xx", null)]
    [InlineData("spa", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Languages_are_iso_639_1_codes(string? given, string? normalised) => Assert.Equal(normalised, Languages.Normalize(given));

    [Fact]
    public void Only_an_account_with_something_owed_no_hold_no_agency_no_promise_no_plan_and_a_running_cadence_belongs_on_a_worklist()
    {
        static string? Rule(decimal owed = 100m, bool hold = false, bool placed = false, bool recalled = false, bool promise = false, bool plan = false, CadenceStatus status = CadenceStatus.Active) =>
            WorklistEligibility.Refusal(owed, hold, placed, recalled, promise, plan, status)?.Rule;

        Assert.Null(Rule());
        Assert.Null(Rule(status: CadenceStatus.Finished));
        Assert.Null(Rule(placed: true, recalled: true));
        Assert.Equal("worklist.nothing-owed", Rule(owed: 0m));
        Assert.Equal("worklist.nothing-owed", Rule(owed: -5m));
        Assert.Equal("worklist.on-hold", Rule(hold: true));
        Assert.Equal("worklist.placed", Rule(placed: true));
        Assert.Equal("worklist.promise-pending", Rule(promise: true));
        Assert.Equal("worklist.payment-plan", Rule(plan: true));
        Assert.Equal("worklist.no-cadence", Rule(status: CadenceStatus.Idle));
        Assert.Equal(Compliance.GateVerdict.Deny, WorklistEligibility.Refusal(0m, false, false, false, false, false, CadenceStatus.Active)!.Verdict);
    }

    [Fact]
    public void Expected_recovery_is_the_probability_or_the_prior_times_the_balance_in_cents()
    {
        Assert.Equal(123.46m, WorklistEntry.ExpectedRecoveryOf(0.5, 246.91m));
        Assert.Equal(50.00m, WorklistEntry.ExpectedRecoveryOf(null, 100m));
        Assert.Equal(100m, WorklistEntry.ExpectedRecoveryOf(1.7, 100m));
        Assert.Equal(0m, WorklistEntry.ExpectedRecoveryOf(-0.2, 100m));
    }

    [Fact]
    public void Entries_are_the_same_when_only_the_update_time_differs_or_both_are_callable_now()
    {
        var entry = WorklistQueueTests.Entry("A", 100m, 0.4);
        Assert.True(entry.SameAs(entry with { UpdatedAt = Now.AddDays(1) }, Now));
        Assert.True(entry.SameAs(entry with { CallableFrom = Now.AddMinutes(-5) }, Now));
        Assert.True((entry with { CallableFrom = Now }).SameAs(entry with { CallableFrom = Now.AddHours(-2) }, Now));
        Assert.False(entry.SameAs(entry with { CallableFrom = Now.AddMinutes(5) }, Now));
        Assert.False(entry.SameAs(entry with { PatientBalance = 99m }, Now));
        Assert.False(entry.SameAs(entry with { Probability = 0.41 }, Now));
        Assert.False(entry.SameAs(entry with { ModelVersion = "m2" }, Now));
        Assert.False(entry.SameAs(entry with { OldestBalanceDate = new DateOnly(2026, 1, 1) }, Now));
    }
}
