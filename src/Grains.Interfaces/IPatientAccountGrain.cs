using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>One billed encounter or episode with its ledger. Keyed by <c>facility/accountNumber</c> (see <see cref="AccountKey"/>).</summary>
[Alias("collections.IPatientAccountGrain")]
public interface IPatientAccountGrain : IGrainWithStringKey
{
    /// <summary>Opens the account for a registered guarantor; refused with a conflict if it is already open.</summary>
    [Alias("Open")]
    Task<Outcome<AccountView>> Open(OpenAccountRequest request);

    /// <summary>The account with its balances, aging and ledger; null if it was never opened.</summary>
    [Alias("Get")]
    Task<AccountView?> Get();

    /// <summary>Posts one ledger entry. The same idempotency key with the same request returns the first result.</summary>
    [Alias("Post")]
    Task<Outcome<PostingReceipt>> Post(EntryRequest request);

    /// <summary>
    /// Posts several entries together (a remittance claim: payment, adjustments, patient share): all of them or, if any
    /// is refused, none. Entries already posted with the same idempotency keys are returned as replays.
    /// </summary>
    /// <summary>
    /// Posts entries together: all of them or none, in one commit. <paramref name="settleImport"/>: these were the
    /// last of an imported history, and the cadence may now start from the account's state (see <see cref="SettleImport"/>).
    /// </summary>
    [Alias("PostBatch")]
    Task<Outcome<IReadOnlyList<PostingReceipt>>> PostBatch(IReadOnlyList<EntryRequest> requests, bool settleImport = false);

    /// <summary>
    /// The account's imported history is complete: its cadence starts now from the state the history left (a paid
    /// claim contacts nobody). Nothing happens for an account that was not opened as an import.
    /// </summary>
    [Alias("SettleImport")]
    Task<Outcome<AccountView>> SettleImport();

    /// <summary>
    /// Records the account's discharge date after it was opened (a stay that ended later, or a correction). A statement
    /// sent before that date was an interim bill: it no longer starts the 501(r) notification period, and an account
    /// left without a post-discharge statement starts its cadence again from one. The same date again changes nothing.
    /// </summary>
    [Alias("RecordDischarge")]
    Task<Outcome<AccountView>> RecordDischarge(DateOnly? dischargeDate);

    /// <summary>A supervisor approves the refund of the account's credit balance: the refund is posted to the ledger.</summary>
    [Alias("ApproveRefund")]
    Task<Outcome<PostingReceipt>> ApproveRefund(RefundApproval approval);

    /// <summary>
    /// Records the decision on a financial-assistance application: releases the account's financial-assistance holds;
    /// an approval posts the discount as a charity adjustment and reverses extraordinary collection actions (501(r)):
    /// an agency placement is recalled, and none is taken again.
    /// </summary>
    [Alias("DecideFinancialAssistance")]
    Task<Outcome<AccountView>> DecideFinancialAssistance(FinancialAssistanceDecision decision);

    /// <summary>Recalls the account from the collection agency (placement ends; the account stays with the hospital).</summary>
    [Alias("RecallPlacement")]
    Task<Outcome<AccountView>> RecallPlacement(string? reason);

    /// <summary>Stops every contact and action on the account at once, until released.</summary>
    [Alias("PlaceHold")]
    Task<Outcome<AccountView>> PlaceHold(HoldRequest request);

    /// <summary>Releases a hold (a dispute needs the verification note); the cadence resumes where it was.</summary>
    [Alias("ReleaseHold")]
    Task<Outcome<AccountView>> ReleaseHold(string holdId, string? note);

    /// <summary>Adds a note staff wrote (text, Idempotency-Key), audited; a retry with the key adds nothing and says so.</summary>
    [Alias("AddNote")]
    Task<Outcome<NoteAdded>> AddNote(string? text, string? idempotencyKey);

    /// <summary>Records a promise to pay: collection contact pauses until the promised date.</summary>
    [Alias("MakePromise")]
    Task<Outcome<AccountView>> MakePromise(PromiseRequest request);

    /// <summary>Starts a payment plan: installment reminders replace the cadence.</summary>
    [Alias("StartPlan")]
    Task<Outcome<AccountView>> StartPlan(PlanRequest request);

    /// <summary>
    /// Logs a call about the account. A call we place passes the compliance gate first (7 in 7 days, not within 7
    /// days of a conversation, local hours, holds, consent); refused, it is not recorded and the decision says why and
    /// until when. Calls the patient asked for, and calls from the patient, are recorded as they are.
    /// </summary>
    [Alias("LogCall")]
    Task<Outcome<Domain.Compliance.GateDecision>> LogCall(CallLogRequest request);

    /// <summary>
    /// Why a collection message queued earlier must not go out now (nothing owed, in credit, on hold, a promise pending),
    /// or null when it may. The outbox sender asks just before sending; nothing is recorded.
    /// </summary>
    [Alias("CollectionStop")]
    Task<string?> CollectionStop(OutreachAction action);

    /// <summary>
    /// Looks at the cadence again now (after a change elsewhere: a guarantor hold, a new policy). One-way: the caller
    /// never waits for it, so a guarantor that tells its accounts about a hold cannot wait on an account that is itself
    /// asking that guarantor for a contact (no call chain comes back to its caller).
    /// </summary>
    [Alias("Reevaluate"), Orleans.Concurrency.OneWay]
    Task Reevaluate();

    /// <summary>
    /// Recomputes the payment-likelihood score if it is stale or was not made by the live model of
    /// <paramref name="generation"/> (or a later one); the cadence then re-evaluates, since policies branch on score bands.
    /// </summary>
    [Alias("Rescore")]
    Task Rescore(long generation);

    /// <summary>
    /// What the account's KPI facts on past days follow from (ledger amounts, kinds, dates and parties; promises; first
    /// statement; placement), for the trend backfill. Entries come without their descriptions, notes, codes, payers and
    /// references, and nothing names the person; null if never opened.
    /// </summary>
    [Alias("GetKpiHistory"), Orleans.Concurrency.ReadOnly]
    Task<Domain.Kpi.AccountKpiHistory?> GetKpiHistory();

    /// <summary>The account's history as a training export needs it (audited as a read of the account); null if never opened.</summary>
    [Alias("GetScoringHistory")]
    Task<AccountScoringHistory?> GetScoringHistory();

    /// <summary>
    /// Whether an agent may call about the account now: the worklist's own rules (something owed, not with an agency,
    /// no pending promise, no active plan), then the compliance gate exactly as <see cref="LogCall"/> would run it for
    /// an agent's call, without recording any contact. The worklist asks it before offering the account.
    /// </summary>
    [Alias("CheckCall")]
    Task<CallCheck> CheckCall();

    /// <summary>
    /// An agent's worked call, as one command: the call through the gate (once per idempotency key) and what the
    /// guarantor said (a promise, a hold for a dispute or a financial-assistance request, a plan) commit together. The
    /// consequence is checked before the call is logged, so a bad promise or plan logs nothing; a call the gate refuses
    /// records only the refusal.
    /// </summary>
    [Alias("RecordCallOutcome")]
    Task<Outcome<CallOutcomeResult>> RecordCallOutcome(CallOutcomeRequest request);

    /// <summary>
    /// How a worked call's request compares with the call this account logged under the same idempotency key: the
    /// same request (a retry), another one (the key reused), or a call the account no longer keeps. Records nothing.
    /// The worklist asks it when the lease already says the key was worked, so that a retry is told apart from
    /// another call by all it asks (its words, a promise's or a plan's terms), not by its outcome alone.
    /// </summary>
    [Alias("CompareLoggedCall")]
    Task<LoggedCallComparison> CompareLoggedCall(CallOutcomeRequest request);
}

/// <summary>A worked call's request against the call logged under its key (<see cref="IPatientAccountGrain.CompareLoggedCall"/>).</summary>
[GenerateSerializer, Alias("collections.LoggedCallComparison")]
public enum LoggedCallComparison
{
    /// <summary>The account no longer keeps a call under this key (it keeps the newest contact decisions only).</summary>
    NotKept = 0,
    /// <summary>The same request: a retry.</summary>
    Same = 1,
    /// <summary>Another request under the same key.</summary>
    Different = 2,
}

/// <summary>The patient who received care, when it is not the guarantor.</summary>
[GenerateSerializer, Immutable, Alias("collections.PatientDetails")]
public sealed record PatientDetails
{
    [Id(0)] public string? FirstName { get; init; }
    [Id(1)] public string? LastName { get; init; }
    [Id(2)] public DateOnly? DateOfBirth { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.OpenAccountRequest")]
public sealed record OpenAccountRequest
{
    [Id(0)] public string? GuarantorId { get; init; }
    [Id(1)] public PatientDetails? Patient { get; init; }
    /// <summary>The primary insurance payer, if any; null for self-pay.</summary>
    [Id(2)] public string? PrimaryPayer { get; init; }
    [Id(3)] public DateOnly? AdmitDate { get; init; }
    [Id(4)] public DateOnly? DischargeDate { get; init; }
    /// <summary>
    /// The account's history is being imported: no contact until it is settled (by the importer, or by itself after a
    /// day), so nobody hears about a balance the next rows of the same history pay.
    /// </summary>
    [Id(5)] public bool Importing { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.AccountView")]
public sealed record AccountView
{
    [Id(0)] public required string Facility { get; init; }
    [Id(1)] public required string AccountNumber { get; init; }
    [Id(2)] public required string GuarantorId { get; init; }
    [Id(3)] public PatientDetails? Patient { get; init; }
    [Id(4)] public string? PrimaryPayer { get; init; }
    [Id(5)] public DateOnly? AdmitDate { get; init; }
    [Id(6)] public DateOnly? DischargeDate { get; init; }
    [Id(7)] public required DateTimeOffset OpenedAt { get; init; }
    [Id(8)] public DateOnly? FirstPatientStatementDate { get; init; }
    [Id(9)] public required AccountBalances Balances { get; init; }
    [Id(10)] public required AccountAge Age { get; init; }
    [Id(11)] public required IReadOnlyList<LedgerEntry> Entries { get; init; }
    [Id(12)] public CadenceView? Cadence { get; init; }
    [Id(13)] public IReadOnlyList<Hold> Holds { get; init; } = [];
    [Id(14)] public IReadOnlyList<PromiseToPay> Promises { get; init; } = [];
    [Id(15)] public IReadOnlyList<PaymentPlan> Plans { get; init; } = [];
    [Id(16)] public DateTimeOffset? FirstStatementAt { get; init; }
    [Id(17)] public DateTimeOffset? FinalNoticeAt { get; init; }
    [Id(18)] public DateTimeOffset? PlacedWithAgencyAt { get; init; }
    /// <summary>Since when the account has held a credit balance (null: none), and when its refund is due.</summary>
    [Id(19)] public DateTimeOffset? CreditBalanceSince { get; init; }
    [Id(20)] public DateOnly? RefundDueBy { get; init; }
    [Id(21)] public DateTimeOffset? RecalledFromAgencyAt { get; init; }
    /// <summary>The latest payment-likelihood score, its model version and reason codes.</summary>
    [Id(22)] public AccountScore? Score { get; init; }
    /// <summary>When financial assistance was approved (a decision, or a charity adjustment posted): 501(r) applies.</summary>
    [Id(23)] public DateTimeOffset? FinancialAssistanceApprovedAt { get; init; }
    /// <summary>Set while an imported history is not settled: no contact before then.</summary>
    [Id(24)] public DateTimeOffset? ImportHoldUntil { get; init; }
    /// <summary>Notes staff wrote on the account, oldest first.</summary>
    [Id(25)] public IReadOnlyList<AccountNote> Notes { get; init; } = [];
    /// <summary>The account's group under its policy's control share (null until its cadence first ran).</summary>
    [Id(26)] public Domain.Cadence.TreatmentAssignment? Treatment { get; init; }
    /// <summary>When the cadence's credit-reporting step was taken, and when that report was withdrawn (assistance approved, or paid).</summary>
    [Id(27)] public DateTimeOffset? CreditReportedAt { get; init; }
    [Id(28)] public DateTimeOffset? CreditReportWithdrawnAt { get; init; }
}

/// <summary>The hospital's decision on a financial-assistance application for the account.</summary>
[GenerateSerializer, Immutable, Alias("collections.FinancialAssistanceDecision")]
public sealed record FinancialAssistanceDecision
{
    /// <summary>True: approved (the discount posts as a charity adjustment, extraordinary actions are reversed). False: denied.</summary>
    [Id(0)] public bool? Approved { get; init; }
    /// <summary>The discount: defaults to all the patient owes (full assistance).</summary>
    [Id(1)] public decimal? Amount { get; init; }
    [Id(2)] public string? Note { get; init; }
    [Id(3)] public string? IdempotencyKey { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PostingReceipt")]
public sealed record PostingReceipt
{
    [Id(0)] public required LedgerEntry Entry { get; init; }
    /// <summary>True when the entry was already posted by an earlier request with the same idempotency key.</summary>
    [Id(1)] public required bool IsReplay { get; init; }
    [Id(2)] public required AccountBalances Balances { get; init; }
}

/// <summary>Answers when the cluster is up: the gateway's readiness probe calls it.</summary>
[Alias("collections.IClusterProbeGrain")]
public interface IClusterProbeGrain : IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task<string> Ping();
}

/// <summary>The note a command added, or found already added under its key (<see cref="Replayed"/>).</summary>
[GenerateSerializer, Immutable, Alias("collections.NoteAdded")]
public sealed record NoteAdded([property: Id(0)] AccountNote Note, [property: Id(1)] bool Replayed);
