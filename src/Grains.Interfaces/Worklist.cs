using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>
/// The account's answer to "may an agent call about it now?": its own worklist rules (something owed, no agency, no
/// pending promise, no active plan) and then the compliance gate on an agent call, evaluated now and recorded nowhere.
/// </summary>
/// <summary>How an agent's call went and, for a conversation, what was agreed: see <see cref="IPatientAccountGrain.RecordCallOutcome"/>.</summary>
[GenerateSerializer, Immutable, Alias("collections.CallOutcomeRequest")]
public sealed record CallOutcomeRequest
{
    [Id(0)] public required WorklistOutcome Outcome { get; init; }
    /// <summary>The agent's Idempotency-Key: the call is logged once per key.</summary>
    [Id(1)] public required string IdempotencyKey { get; init; }
    [Id(2)] public string? Note { get; init; }
    [Id(3)] public PromiseRequest? Promise { get; init; }
    /// <summary>For paymentPlanRequested with terms: the plan to start (without terms the request is only noted).</summary>
    [Id(4)] public PlanRequest? Plan { get; init; }
    /// <summary>Who started the call: the agent (a worklist call) or the guarantor (inbound, or a call they asked for).</summary>
    [Id(5)] public ContactInitiator Initiator { get; init; } = ContactInitiator.Agent;
    /// <summary>When the agent took the account off the worklist (its handle time runs from then); null for an inbound call.</summary>
    [Id(6)] public DateTimeOffset? LeasedAt { get; init; }
}

/// <summary>The gate's decision on the call and, when it went through, the account after it.</summary>
[GenerateSerializer, Immutable, Alias("collections.CallOutcomeResult")]
public sealed record CallOutcomeResult
{
    [Id(0)] public required GateDecision Call { get; init; }
    [Id(1)] public AccountView? Account { get; init; }
    /// <summary>The call was logged before under the same key: nothing was recorded again.</summary>
    [Id(2)] public bool Replayed { get; init; }
    /// <summary>Why the outcome's note was not added to the account's notes (they are full); the call itself was recorded.</summary>
    [Id(3)] public string? NoteNotKept { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.CallCheck")]
public sealed record CallCheck
{
    [Id(0)] public required GateDecision Decision { get; init; }
    /// <summary>What the patient owes now.</summary>
    [Id(1)] public decimal PatientBalance { get; init; }
    /// <summary>The account's latest score (probability, model version, reasons), if it has one.</summary>
    [Id(2)] public AccountScore? Score { get; init; }
}

/// <summary>An account offered to an agent: leased to them until the lease's expiry.</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistOffer")]
public sealed record WorklistOffer
{
    [Id(0)] public required string QueueId { get; init; }
    [Id(1)] public required WorklistLease Lease { get; init; }
    /// <summary>The account's own check at the moment of the offer (current balance and score).</summary>
    [Id(2)] public required CallCheck Check { get; init; }
}

/// <summary>A glance at a queue for one agent: the lease they hold there, and the best account callable now.</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistPeek")]
public sealed record WorklistPeek
{
    [Id(0)] public required string QueueId { get; init; }
    [Id(1)] public WorklistLease? Held { get; init; }
    [Id(2)] public WorklistEntry? Best { get; init; }
}

/// <summary>
/// One queue's worklist, keyed by queue id. Every method interleaves: each changes the in-memory index synchronously,
/// in one turn, before its first await (the write to the database, the account's check), so no two calls ever see a
/// half-made change, two agents are never leased the same account, and many concurrent upserts share one transaction.
/// </summary>
[Alias("collections.IWorklistQueueGrain")]
public interface IWorklistQueueGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces an account's entry (the account calls it when its entry materially changed).</summary>
    [Alias("Upsert")]
    Task Upsert(WorklistEntry entry);

    /// <summary>Adds or replaces many entries in one call and one transaction (loading, re-routing).</summary>
    [Alias("UpsertMany")]
    Task UpsertMany(IReadOnlyList<WorklistEntry> entries);

    /// <summary>Drops an account (it no longer belongs on a worklist). A lease on it lasts until its agent records the outcome.</summary>
    [Alias("Remove")]
    Task Remove(AccountKey account);

    /// <summary>
    /// The best account callable now, leased to the agent for the queue's lease time, after the account itself
    /// confirmed that the compliance gate allows a call now (a "not yet" defers it, a "no" drops it, and the next one
    /// is tried). An agent who already holds a lease here is offered that account again (checked again). Null: nothing
    /// is callable.
    /// </summary>
    [Alias("Next")]
    Task<WorklistOffer?> Next(string agent);

    [Alias("Peek")]
    Task<WorklistPeek> Peek(string agent);

    /// <summary>Who may record the account's outcome: its lease holder, or the agent whose lease ran out while nobody else took it.</summary>
    [Alias("Holder")]
    Task<LeaseHolding?> Holder(AccountKey account);

    /// <summary>The outcome this agent already recorded for the account under this Idempotency-Key (a retry), if any.</summary>
    [Alias("FindWorked")]
    Task<WorkedAccount?> FindWorked(string agent, AccountKey account, string idempotencyKey);

    /// <summary>Ends the agent's lease with an outcome; after an attempt that reached nobody the account waits the queue's retry time. False if the agent may not.</summary>
    [Alias("Complete")]
    Task<bool> Complete(AccountKey account, string agent, WorklistOutcome outcome, string? idempotencyKey);

    /// <summary>Gives the account back without an outcome. False if the agent may not.</summary>
    [Alias("Release")]
    Task<bool> Release(AccountKey account, string agent);

    /// <summary>Depth, callable now, deferred, leased, the score histogram, and each agent's lease and worked accounts since <paramref name="since"/> (default: the last 24 hours).</summary>
    [Alias("Stats")]
    Task<WorklistStats> Stats(DateTimeOffset? since);

    /// <summary>The account's entry, if the queue holds it.</summary>
    [Alias("Get")]
    Task<WorklistEntry?> Get(AccountKey account);

    /// <summary>
    /// The queue's definition changed (ordering, lease and retry times). One-way: the directory that saved it does not
    /// wait, since a queue that activates asks the directory for its definition (no chain comes back to a waiting grain).
    /// </summary>
    [Alias("Configure"), OneWay]
    Task Configure(WorklistQueueDefinition definition);
}

/// <summary>The queue definitions, and routing: which queue an account goes to, which queues an agent works. One grain (<see cref="Key"/>).</summary>
[Alias("collections.IWorklistDirectoryGrain")]
public interface IWorklistDirectoryGrain : IGrainWithStringKey
{
    public const string Key = "worklists";

    /// <summary>Creates or replaces a queue definition (validated; a new version). Accounts follow a routing change at their next publication.</summary>
    [Alias("Save")]
    Task<Outcome<WorklistQueueDefinition>> Save(string queueId, WorklistQueueRequest request);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<WorklistQueueDefinition>> List();

    /// <summary>The queue's definition, or null if none was saved.</summary>
    [Alias("Get"), AlwaysInterleave]
    Task<WorklistQueueDefinition?> Get(string queueId);

    /// <summary>The queue's definition, or the implicit one of a facility's default queue.</summary>
    [Alias("Definition"), AlwaysInterleave]
    Task<WorklistQueueDefinition> Definition(string queueId);

    /// <summary>The queue an account of this facility, whose guarantor prefers this language, belongs to.</summary>
    [Alias("Route"), AlwaysInterleave]
    Task<string> Route(string facility, string? language);

    /// <summary>The queues listing this agent, most specific first.</summary>
    [Alias("QueuesOf"), AlwaysInterleave]
    Task<IReadOnlyList<string>> QueuesOf(string agent);
}
