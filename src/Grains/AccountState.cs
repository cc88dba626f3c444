using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>
/// A patient account's state. The journal stores it as a snapshot without <see cref="Entries"/> (the ledger has a
/// table of its own, appended to) at a version that guards against a second activation writing over it.
/// </summary>
[GenerateSerializer, Alias("collections.AccountState")]
public sealed class AccountState
{
    [Id(0)] public bool IsOpen { get; set; }
    [Id(1)] public string GuarantorId { get; set; } = "";
    [Id(2)] public PatientDetails? Patient { get; set; }
    [Id(3)] public string? PrimaryPayer { get; set; }
    [Id(4)] public DateOnly? AdmitDate { get; set; }
    [Id(5)] public DateOnly? DischargeDate { get; set; }
    [Id(6)] public DateTimeOffset OpenedAt { get; set; }
    [Id(7)] public string? OpenedBy { get; set; }
    /// <summary>Set when the first statement goes to the patient; aging counts from it.</summary>
    [Id(8)] public DateOnly? FirstPatientStatementDate { get; set; }
    /// <summary>
    /// The append-only ledger, oldest first. Stored row by row in the journal's ledger table, never in the snapshot:
    /// a command appends its new entries and rewrites nothing.
    /// </summary>
    [Id(9)] public List<LedgerEntry> Entries { get; set; } = [];
    [Id(10)] public DateTimeOffset? FirstStatementAt { get; set; }
    [Id(11)] public DateTimeOffset? FinalNoticeAt { get; set; }
    [Id(12)] public DateTimeOffset? PlacedWithAgencyAt { get; set; }
    [Id(13)] public CadenceProgress Cadence { get; set; } = new();
    [Id(14)] public CadenceStatus CadenceStatus { get; set; }
    [Id(15)] public string? PolicyReference { get; set; }
    /// <summary>When the cadence is next due (null: nothing due). Committed with the state; the Orleans reminder is a wake-up derived from it.</summary>
    [Id(16)] public DateTimeOffset? ReminderDueAt { get; set; }
    [Id(17)] public List<Hold> Holds { get; set; } = [];
    [Id(18)] public List<PromiseToPay> Promises { get; set; } = [];
    [Id(19)] public List<PaymentPlan> Plans { get; set; } = [];
    /// <summary>The latest compliance decisions about this account, newest last (trimmed).</summary>
    [Id(20)] public List<ContactDecisionRecord> Decisions { get; set; } = [];
    /// <summary>Since when the account has held a credit balance; null when it has none.</summary>
    [Id(21)] public DateTimeOffset? CreditBalanceSince { get; set; }
    [Id(22)] public DateTimeOffset? RecalledFromAgencyAt { get; set; }
    /// <summary>How many times the cadence status has changed (numbers the statusChanged events).</summary>
    [Id(23)] public int StatusChanges { get; set; }
    // Id 24 held events waiting for the event sink; events now commit with the state in the journal's event log.
    /// <summary>The latest payment-likelihood score (null until the account is first scored).</summary>
    [Id(25)] public AccountScore? Score { get; set; }
    /// <summary>What the score was computed from (model, challenger side, a fingerprint of the inputs): unchanged means no rescore.</summary>
    [Id(26)] public string? ScoreBasis { get; set; }
    /// <summary>The worklist entry last published for the worklist projection (null: the account is in no queue).</summary>
    [Id(40)] public WorklistPublication? Worklist { get; set; }
    /// <summary>The fingerprint of the KPI facts last published for the KPI projection (null: none yet).</summary>
    [Id(41)] public string? KpiFingerprint { get; set; }
    /// <summary>The credit-balance item last published for the facility's registry (null: none).</summary>
    [Id(42)] public CreditBalanceItem? PublishedCredit { get; set; }
    /// <summary>When financial assistance was approved: no extraordinary collection action from then on (501(r)).</summary>
    [Id(43)] public DateTimeOffset? FinancialAssistanceApprovedAt { get; set; }
    /// <summary>An imported history not yet settled: the cadence waits until then (or until the importer settles it).</summary>
    [Id(44)] public DateTimeOffset? ImportHoldUntil { get; set; }
    /// <summary>Notes staff wrote on the account, oldest first.</summary>
    [Id(45)] public List<AccountNote> Notes { get; set; } = [];
    /// <summary>The calls agents worked on the account, oldest first (at most <see cref="Domain.Worklist.AgentCall.Kept"/>).</summary>
    [Id(46)] public List<Domain.Worklist.AgentCall> AgentCalls { get; set; } = [];
    /// <summary>The account's group (control or treated) under its policy's control share.</summary>
    [Id(47)] public TreatmentAssignment? Treatment { get; set; }
    /// <summary>The guarantor's language and ZIP income band as the last cadence run read them (for the fairness report).</summary>
    [Id(48)] public string? GuarantorLanguage { get; set; }
    [Id(49)] public string? GuarantorIncomeBand { get; set; }
    /// <summary>The cadence cycle <see cref="FinalNoticeAt"/> was sent in (null: before this was kept): a notice about an earlier debt does not let this one's extraordinary actions go.</summary>
    [Id(50)] public int? FinalNoticeCycle { get; set; }
    /// <summary>The guarantor's time zones as last read (one, or each plausible one): promised dates and installments are their days.</summary>
    [Id(53)] public List<string>? GuarantorZones { get; set; }
    /// <summary>Placements recalled before the current one (<see cref="PlacedWithAgencyAt"/>): their days stay in the daily figures.</summary>
    [Id(54)] public List<Domain.Kpi.EarlierPlacement>? EarlierPlacements { get; set; }
    /// <summary>When the cadence's credit-reporting step was taken (null: never), and when that report was withdrawn, and why.</summary>
    [Id(55)] public DateTimeOffset? CreditReportedAt { get; set; }
    [Id(56)] public DateTimeOffset? CreditReportWithdrawnAt { get; set; }
    [Id(57)] public string? CreditReportWithdrawnReason { get; set; }
}
