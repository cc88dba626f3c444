using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Domain.Worklist;

namespace Collections.Grains;

/// <summary>
/// What an account command changed for the views downstream, committed with the command as one event of the journal's
/// log (type <see cref="EventType"/>). Each part is present only when it changed; the projections apply it.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AccountProjectionFacts")]
public sealed record AccountProjectionFacts
{
    public const string EventType = "account.facts";

    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    /// <summary>The account's row in the supervisors' KPI tables.</summary>
    [Id(2)] public AccountKpiFacts? Kpi { get; init; }
    /// <summary>The account's worklist entry, or its removal.</summary>
    [Id(3)] public WorklistFact? Worklist { get; init; }
    /// <summary>The account entered, changed or left credit.</summary>
    [Id(4)] public CreditFact? Credit { get; init; }
    [Id(5)] public AgencyPlacement? Placement { get; init; }
    [Id(6)] public PlacementRecall? Recall { get; init; }
    /// <summary>The first score a model version gave the account (champion/challenger outcomes).</summary>
    [Id(7)] public AccountScore? FirstScore { get; init; }
    /// <summary>Patient payments posted by the command, in cents.</summary>
    [Id(8)] public long PatientPaymentCents { get; init; }
    /// <summary>Why collection contact stopped (paid, credit, hold, promise, plan): messages still waiting to go are cancelled.</summary>
    [Id(9)] public string? CollectionStopped { get; init; }
    /// <summary>Card payments (the engine's payment ids) whose shares the command posted: their receipts are due.</summary>
    [Id(10)] public IReadOnlyList<string> CardPayments { get; init; } = [];
    /// <summary>The compliance gate's decisions the command made or recorded (the supervisors' compliance view counts them).</summary>
    [Id(11)] public IReadOnlyList<ContactDecisionRecord> Decisions { get; init; } = [];
    /// <summary>Checks and cash an agent took on a call, posted by the command: their receipts are due (card payments' come with <see cref="CardPayments"/>).</summary>
    [Id(12)] public IReadOnlyList<ReceiptDue> Receipts { get; init; } = [];
    /// <summary>The features <see cref="FirstScore"/> was computed from, in <c>PaymentFeatures.Names</c> order (per-feature drift).</summary>
    [Id(13)] public IReadOnlyList<float> FirstScoreFeatures { get; init; } = [];
    /// <summary>The account's guarantor (the caller index finds them by name and date of birth); not a fact of its own.</summary>
    [Id(14)] public string? GuarantorId { get; init; }

    public bool IsEmpty => Kpi is null && Worklist is null && Credit is null && Placement is null && Recall is null
                           && FirstScore is null && PatientPaymentCents == 0 && CollectionStopped is null && CardPayments.Count == 0 && Decisions.Count == 0 && Receipts.Count == 0;
}

[GenerateSerializer, Immutable, Alias("collections.WorklistFact")]
public sealed record WorklistFact
{
    /// <summary>The entry to keep in the queue, or null to take the account out.</summary>
    [Id(0)] public WorklistEntry? Entry { get; init; }
    /// <summary>The guarantor's language, which routes the entry to a queue.</summary>
    [Id(1)] public required string Language { get; init; }
    /// <summary>The language it was routed by before, when that changed (its old queue drops it).</summary>
    [Id(2)] public string? PreviousLanguage { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.CreditFact")]
public sealed record CreditFact
{
    /// <summary>The account's credit balance, or null once it has none.</summary>
    [Id(0)] public CreditBalanceItem? Item { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PlacementRecall")]
public sealed record PlacementRecall
{
    [Id(0)] public required string Reason { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
}

/// <summary>A payment taken on a call (check or cash) whose receipt the patient is to get.</summary>
[GenerateSerializer, Immutable, Alias("collections.ReceiptDue")]
public sealed record ReceiptDue
{
    [Id(0)] public required string EntryId { get; init; }
    [Id(1)] public required decimal Amount { get; init; }
    [Id(2)] public required string GuarantorId { get; init; }
}
