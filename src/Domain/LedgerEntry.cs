namespace Collections.Domain;

/// <summary>What a ledger entry records.</summary>
public enum EntryKind
{
    Charge,
    InsurancePayment,
    PatientPayment,
    Adjustment,
    Transfer,
    Refund,
    Reversal,
}

/// <summary>Who is expected to pay a share of the balance.</summary>
public enum ResponsibleParty
{
    Insurance,
    Patient,
}

/// <summary>Why a balance was reduced without a payment.</summary>
public enum AdjustmentCategory
{
    /// <summary>The difference between billed charges and what the payer's contract allows.</summary>
    Contractual,
    /// <summary>Financial assistance (charity care) granted under the hospital's policy.</summary>
    Charity,
    /// <summary>A balance too small to be worth collecting.</summary>
    SmallBalance,
    /// <summary>A balance judged uncollectible and written off as bad debt.</summary>
    BadDebt,
    /// <summary>A correction or courtesy decided by staff.</summary>
    Administrative,
}

/// <summary>How a patient paid or was refunded.</summary>
public enum PaymentMethod
{
    Cash,
    Check,
    Card,
    Ach,
    Other,
}

/// <summary>
/// How money reached the hospital, for the supervisors' cash-per-day figures: an agent on a call (a card on the
/// processor's page, a check or cash recorded in the console), the patient's self-service page (and autopay), the
/// mail (a check to the lockbox), a collection agency's remittance, or an insurer's remittance (835 or EOB).
/// </summary>
public enum PaymentChannel
{
    Agent,
    PatientPage,
    Mail,
    Agency,
    Remittance,
    Other,
}

/// <summary>Which way a transfer moves responsibility.</summary>
public enum TransferDirection
{
    /// <summary>Insurance has decided the patient owes this share (deductible, coinsurance, copay, denial).</summary>
    InsuranceToPatient,
    /// <summary>The share goes back to insurance (for example a claim re-billed to a newly found payer).</summary>
    PatientToInsurance,
}

/// <summary>
/// One immutable line of an account's ledger. Entries are never edited or deleted: a mistake is undone by a
/// <see cref="EntryKind.Reversal"/> that names the entry it reverses. The amount is always positive; the kind (and
/// for charges, adjustments and refunds the <see cref="Party"/>) says which balance it moves and which way.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.LedgerEntry")]
public sealed record LedgerEntry
{
    [Id(0)] public required string EntryId { get; init; }
    [Id(1)] public required EntryKind Kind { get; init; }
    [Id(2)] public required decimal Amount { get; init; }
    /// <summary>The day the money movement takes effect (service date for a charge, deposit date for a payment).</summary>
    [Id(3)] public required DateOnly EffectiveDate { get; init; }
    /// <summary>When the engine recorded the entry.</summary>
    [Id(4)] public required DateTimeOffset PostedAt { get; init; }
    /// <summary>The balance a charge, adjustment or refund moves; for payments and transfers it follows from the kind.</summary>
    [Id(5)] public ResponsibleParty? Party { get; init; }
    [Id(6)] public DateOnly? ServiceDate { get; init; }
    /// <summary>Procedure or revenue code of a charge (CPT, HCPCS, revenue code).</summary>
    [Id(7)] public string? Code { get; init; }
    [Id(8)] public string? Description { get; init; }
    [Id(9)] public string? Payer { get; init; }
    [Id(10)] public string? ClaimReference { get; init; }
    [Id(11)] public PaymentMethod? Method { get; init; }
    /// <summary>Check number, card authorisation, bank trace: whatever identifies the money movement outside the engine.</summary>
    [Id(12)] public string? Reference { get; init; }
    [Id(13)] public AdjustmentCategory? Category { get; init; }
    /// <summary>Reason code of an adjustment or transfer (for example a CARC such as 45, or PR-1 for a deductible).</summary>
    [Id(14)] public string? ReasonCode { get; init; }
    [Id(15)] public TransferDirection? Direction { get; init; }
    [Id(16)] public string? ReversesEntryId { get; init; }
    /// <summary>Free-text note (for example why an entry was reversed). Staff must not put clinical details here.</summary>
    [Id(17)] public string? Note { get; init; }
    /// <summary>The caller's idempotency key: a retry with the same key returns this entry instead of posting again.</summary>
    [Id(18)] public required string IdempotencyKey { get; init; }
    /// <summary>A hash of the request that created the entry, to tell a true retry from a reused key.</summary>
    [Id(19), System.Text.Json.Serialization.JsonIgnore] public string RequestFingerprint { get; init; } = "";
    /// <summary>Who posted it (an API key id or a system process name; never a person's name).</summary>
    [Id(20)] public required string PostedBy { get; init; }
    /// <summary>How a payment came in (payments only; null on entries posted before channels were recorded: see <see cref="PaymentChannels.Of"/>).</summary>
    [Id(21)] public PaymentChannel? Channel { get; init; }
    /// <summary>
    /// For an entry of an imported history: since when the hospital knew it (the start of its effective date), which the
    /// payment model's point-in-time view uses instead of <see cref="PostedAt"/>, the day the import ran. Null for entries
    /// posted as they happened.
    /// </summary>
    [Id(22), System.Text.Json.Serialization.JsonIgnore] public DateTimeOffset? KnownFrom { get; init; }

    /// <summary>When the hospital knew of the entry: <see cref="KnownFrom"/> for imported history, else <see cref="PostedAt"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public DateTimeOffset KnownAt => KnownFrom ?? PostedAt;

    /// <summary>The entry as part of an imported history: known from the start of its effective date (never after it was posted).</summary>
    public LedgerEntry AsImported()
    {
        var start = new DateTimeOffset(EffectiveDate.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return this with { KnownFrom = start < PostedAt ? start : PostedAt };
    }
}

/// <summary>Questions asked of a whole ledger by several rules.</summary>
public static class Ledger
{
    /// <summary>The ids of the entries a reversal in <paramref name="ledger"/> undoes (they count for nothing).</summary>
    public static HashSet<string> ReversedIds(IEnumerable<LedgerEntry> ledger)
    {
        // A loop: several rules ask this at every post, and an empty set allocates no buckets.
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in ledger)
            if (e.ReversesEntryId is { } id) ids.Add(id);
        return ids;
    }

    /// <summary>What an entry adds to the patient's net payments: a patient payment its amount, a refund to the patient its amount taken back.</summary>
    public static decimal PatientPaid(LedgerEntry entry) => entry switch
    {
        { Kind: EntryKind.PatientPayment } => entry.Amount,
        { Kind: EntryKind.Refund } when entry.Party != ResponsibleParty.Insurance => -entry.Amount,
        _ => 0m,
    };

    /// <summary>What the patient has paid on the account and not had back (reversed payments and refunds excluded), never below zero.</summary>
    public static decimal NetPatientPaid(IReadOnlyList<LedgerEntry> ledger)
    {
        var reversed = ReversedIds(ledger);
        return Math.Max(ledger.Where(e => e.ReversesEntryId is null && !reversed.Contains(e.EntryId)).Sum(PatientPaid), 0m);
    }
}

