using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>The cadence policies in force: every version is kept; the newest version of each policy applies.</summary>
[Alias("collections.ICadencePolicyBookGrain")]
public interface ICadencePolicyBookGrain : IGrainWithStringKey
{
    public const string Key = "policies";

    /// <summary>The newest version of every policy (the shipped defaults until a supervisor saves one).</summary>
    [Alias("GetActive"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<CadencePolicy>> GetActive();

    /// <summary>Every saved version of one policy, oldest first.</summary>
    [Alias("GetHistory"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<CadencePolicy>> GetHistory(string policyId);

    /// <summary>Validates and saves a policy as its next version; accounts use it at their next evaluation.</summary>
    [Alias("Save")]
    Task<Outcome<CadencePolicy>> Save(CadencePolicy policy);
}

/// <summary>A contact the account wants to make, sent to the guarantor's grain, which holds the person's whole contact history and decides.</summary>
[GenerateSerializer, Immutable, Alias("collections.ContactPermitRequest")]
public sealed record ContactPermitRequest
{
    /// <summary>Idempotency key (also the outbox message id): the same request twice contacts once.</summary>
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required AccountKey Account { get; init; }
    [Id(2)] public required OutreachAction Action { get; init; }
    [Id(3)] public ContactChannel? Channel { get; init; }
    [Id(4)] public required ContactInitiator Initiator { get; init; }
    [Id(5)] public IReadOnlyList<Hold> DebtHolds { get; init; } = [];
    [Id(6)] public required decimal PatientResponsibility { get; init; }
    [Id(7)] public DateTimeOffset? FirstStatementAt { get; init; }
    [Id(8)] public DateTimeOffset? FinalNoticeAt { get; init; }
    [Id(9)] public IReadOnlyList<StatementItem> StatementLines { get; init; } = [];
    [Id(10)] public DateOnly? DueDate { get; init; }
    [Id(11)] public string? PolicyReference { get; init; }
    /// <summary>Why (shown on call tasks): "standard v2, step call-45".</summary>
    [Id(12)] public string? Reason { get; init; }
    /// <summary>Set for a call an agent placed (or the patient asked for, or made): how it went. It is recorded, not queued.</summary>
    [Id(13)] public ContactOutcome? Outcome { get; init; }
    /// <summary>When the account was approved for financial assistance: no extraordinary collection action after it.</summary>
    [Id(14)] public DateTimeOffset? FinancialAssistanceApprovedAt { get; init; }
    // [Id(15)] was used briefly by an earlier build: not to be reused.
    /// <summary>
    /// When the first statement about the debt went (by the end of its day): a collection agency's validation notice,
    /// whether or not it started the 501(r) period (an interim bill during a stay does not). Null: none sent.
    /// </summary>
    [Id(16)] public DateTimeOffset? ValidationNoticeAt { get; init; }
    /// <summary>
    /// A logged call only: when it took place, if before it was logged. It is judged (the hours, the 7-in-7 limit) and
    /// recorded at that time, against the contacts before it. Null: as it is logged.
    /// </summary>
    [Id(17)] public DateTimeOffset? OccurredAt { get; init; }
}

/// <summary>A call about an account, logged by an agent.</summary>
[GenerateSerializer, Immutable, Alias("collections.CallLogRequest")]
public sealed record CallLogRequest
{
    [Id(0)] public ContactInitiator? Initiator { get; init; }
    [Id(1)] public ContactOutcome? Outcome { get; init; }
    [Id(2)] public ContactChannel? Channel { get; init; }
    [Id(3)] public string? IdempotencyKey { get; init; }
    /// <summary>When the call took place, for one logged afterwards (a dialer's file, a call made away from the console). Null: now.</summary>
    [Id(4)] public DateTimeOffset? CalledAt { get; init; }
}

/// <summary>One line of a patient statement (serializable twin of the outreach statement line).</summary>
[GenerateSerializer, Immutable, Alias("collections.StatementItem")]
public sealed record StatementItem(
    [property: Id(0)] DateOnly Date,
    [property: Id(1)] string Description,
    [property: Id(2)] decimal Amount,
    [property: Id(3)] EntryKind Kind);

[GenerateSerializer, Immutable, Alias("collections.ContactResult")]
public sealed record ContactResult
{
    [Id(0)] public required GateDecision Decision { get; init; }
    /// <summary>True when this request had already been allowed and carried out: nothing was done again.</summary>
    [Id(1)] public bool Replayed { get; init; }
}

/// <summary>What an account needs to know about its guarantor to run its cadence.</summary>
[GenerateSerializer, Immutable, Alias("collections.GuarantorContactSummary")]
public sealed record GuarantorContactSummary
{
    [Id(0)] public required bool Registered { get; init; }
    [Id(1)] public ContactChannel PreferredChannel { get; init; }
    [Id(2)] public bool OnHold { get; init; }
    /// <summary>ISO 639-1: which worklist queue (by language) the person's accounts go to.</summary>
    [Id(3)] public string PreferredLanguage { get; init; } = Domain.Languages.Default;
    /// <summary>The hold a recorded representative answers (contact goes to them despite it), if any.</summary>
    [Id(4)] public Domain.Compliance.HoldReason? HoldAnsweredByRepresentative { get; init; }
    /// <summary>The median-income band of the person's ZIP code area (for the fairness report; never the ZIP itself).</summary>
    [Id(5)] public string IncomeBand { get; init; } = "unknown";
    /// <summary>The person's time zone, or each plausible one when the address leaves it open: their days for promises and installments.</summary>
    [Id(6)] public IReadOnlyList<string> TimeZones { get; init; } = [];
    /// <summary>Any hold on the person is active, one a representative answers included: nothing is charged to their card meanwhile.</summary>
    [Id(7)] public bool AnyHold { get; init; }
}

/// <summary>An inbound text (or other reply) from a guarantor's phone.</summary>
[GenerateSerializer, Immutable, Alias("collections.InboundReply")]
public sealed record InboundReply
{
    [Id(0)] public required ContactChannel Channel { get; init; }
    [Id(1)] public required string Text { get; init; }
    [Id(2)] public required DateTimeOffset ReceivedAt { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.ReplyHandling")]
public sealed record ReplyHandling
{
    [Id(0)] public required bool OptedOut { get; init; }
    [Id(1)] public required bool ConfirmationSent { get; init; }
    [Id(2)] public string? Reason { get; init; }
}

/// <summary>A gate decision as the account keeps it: which step and policy asked, and what the gate said.</summary>
[GenerateSerializer, Immutable, Alias("collections.ContactDecisionRecord")]
public sealed record ContactDecisionRecord
{
    [Id(0)] public required DateTimeOffset At { get; init; }
    [Id(1)] public required string StepId { get; init; }
    [Id(2)] public required OutreachAction Action { get; init; }
    [Id(3)] public ContactChannel? Channel { get; init; }
    [Id(4)] public required string PolicyReference { get; init; }
    [Id(5)] public required GateDecision Decision { get; init; }
    /// <summary>The request it answered (a logged call's <c>{account}/call/{key}</c>): a retry with the key finds it.</summary>
    [Id(6)] public string? RequestId { get; init; }
    /// <summary>What that request asked (a logged call's outcome and agreement), amounts as sent: a retry with the key asking something else is refused.</summary>
    [Id(7)] public string? RequestFingerprint { get; init; }
    /// <summary>
    /// The same with amounts by value (50 and 50.00 alike), kept beside <see cref="RequestFingerprint"/>: a release
    /// before this field compares the one it knows, so a call logged here is still replayed there.
    /// </summary>
    [Id(8)] public string? RequestFingerprintByValue { get; init; }
}

public enum CallTaskKind
{
    Call,
    WriteOffReview,
}

public enum CallTaskStatus
{
    Open,
    Done,
}

/// <summary>Work for a person: call a guarantor about an account, or review a balance for write-off.</summary>
[GenerateSerializer, Immutable, Alias("collections.CallTask")]
public sealed record CallTask
{
    [Id(0)] public required string TaskId { get; init; }
    [Id(1)] public required CallTaskKind Kind { get; init; }
    [Id(2)] public required AccountKey Account { get; init; }
    [Id(3)] public required string GuarantorId { get; init; }
    [Id(4)] public required decimal PatientResponsibility { get; init; }
    [Id(5)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(6)] public string? Reason { get; init; }
    [Id(7)] public CallTaskStatus Status { get; init; }
    [Id(8)] public ContactOutcome? Outcome { get; init; }
    [Id(9)] public string? CompletedBy { get; init; }
    [Id(10)] public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>
    /// For an open call in a listing: the compliance gate's decision on an agent's call now (a hold, a promise, the
    /// hours, the 7-in-7 limit may have come since the task was made). Not stored with the task.
    /// </summary>
    [Id(11)] public Domain.Compliance.GateDecision? CallNow { get; init; }
}

/// <summary>The call tasks of one facility.</summary>
[Alias("collections.ICallTaskQueueGrain")]
public interface ICallTaskQueueGrain : IGrainWithStringKey
{
    /// <summary>Adds a task; a task with the same id is kept once.</summary>
    [Alias("Add")]
    Task Add(CallTask task);

    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<CallTask>> List(CallTaskStatus? status, int limit);

    [Alias("Find"), Orleans.Concurrency.ReadOnly]
    Task<CallTask?> Find(string taskId);

    /// <summary>
    /// Closes a task with how it went (done twice changes nothing). The call itself is recorded on the account before
    /// (<see cref="ICallTaskDeskGrain.Complete"/>): the queue calls no other grain, so a guarantor adding a task while
    /// a task is closed never waits on it.
    /// </summary>
    [Alias("MarkDone")]
    Task<Outcome<CallTask>> MarkDone(string taskId, ContactOutcome? outcome);
}

/// <summary>
/// Where agents work a facility's call tasks (a stateless worker: nothing calls it back). A listing says, for each open
/// call, whether the gate allows it now; closing a call task logs the call on its account first, through the gate
/// (a call that took place is recorded whatever the rules say, and a rule it broke is named for review).
/// </summary>
[Alias("collections.ICallTaskDeskGrain")]
public interface ICallTaskDeskGrain : IGrainWithStringKey
{
    [Alias("List")]
    Task<IReadOnlyList<CallTask>> List(CallTaskStatus? status, int limit);

    [Alias("Complete")]
    Task<Outcome<CallTask>> Complete(string taskId, ContactOutcome? outcome);
}

/// <summary>Which guarantors use a phone number: how an inbound text finds its sender.</summary>
[Alias("collections.IPhoneDirectoryGrain")]
public interface IPhoneDirectoryGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task Add(string guarantorId);

    [Alias("Find"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<string>> Find();
}

/// <summary>Where the account is in its follow-up, for the account view.</summary>
[GenerateSerializer, Immutable, Alias("collections.CadenceView")]
public sealed record CadenceView
{
    [Id(0)] public required CadenceStatus Status { get; init; }
    [Id(1)] public string? PolicyReference { get; init; }
    [Id(2)] public DateTimeOffset? NextActionAt { get; init; }
    [Id(3)] public required CadenceProgress Progress { get; init; }
    [Id(4)] public required IReadOnlyList<ContactDecisionRecord> Decisions { get; init; }
}
