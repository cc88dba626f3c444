using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Scoring;

/// <summary>
/// Everything the engine knows about one account and its guarantor, each item with its own time (ledger entries by
/// <see cref="LedgerEntry.KnownAt"/> (when posted, or for an imported history its effective date), contacts by <see cref="ContactAttempt.At"/>, holds, promises and plans by their
/// creation and end times). Features at a point in time read only the items known by then; the guarantor attributes
/// (<see cref="GuarantorDateOfBirth"/>, <see cref="HasEmail"/>, ...) are taken as static.
/// </summary>
public sealed record AccountHistory
{
    /// <summary>"FACILITY/NUMBER".</summary>
    public required string AccountId { get; init; }
    /// <summary>The primary insurance payer's name; null for a self-pay account.</summary>
    public string? PrimaryPayer { get; init; }
    public required DateTimeOffset OpenedAt { get; init; }
    public DateOnly? GuarantorDateOfBirth { get; init; }
    public bool HasEmail { get; init; }
    public bool HasMobilePhone { get; init; }
    public bool HasTextConsent { get; init; }
    public IReadOnlyList<LedgerEntry> Entries { get; init; } = [];
    public IReadOnlyList<ContactAttempt> Contacts { get; init; } = [];
    public IReadOnlyList<Hold> Holds { get; init; } = [];
    public IReadOnlyList<PromiseToPay> Promises { get; init; } = [];
    public IReadOnlyList<PaymentPlan> Plans { get; init; } = [];
    /// <summary>
    /// The patient's time zones (the account's copy of the guarantor's): promised dates and installments are their days,
    /// as the account itself reads them. Empty: UTC days.
    /// </summary>
    public IReadOnlyList<string> TimeZones { get; init; } = [];

    /// <summary>
    /// The engine's grace days (<c>Collections:Arrangements:GraceDays</c>) when the history was taken, so that a
    /// promise or an installment counts as missed in the features as it did for the account; null: the default.
    /// </summary>
    public int? GraceDays { get; init; }

    /// <summary>
    /// The balances of all of <see cref="Entries"/> when the caller has them (the account's own), so the view as of now
    /// need not work them out again. Set after <see cref="Entries"/>; a copy with other entries (<c>with { Entries = … }</c>)
    /// has none.
    /// </summary>
    public AccountBalances? Balances
    {
        get => ReferenceEquals(_balancesOf, Entries) ? _balances : null;
        init
        {
            _balances = value;
            _balancesOf = Entries;
        }
    }

    private readonly AccountBalances? _balances;
    private readonly IReadOnlyList<LedgerEntry>? _balancesOf;

    /// <summary>The patient's calendar for promise and plan days.</summary>
    public PatientCalendar Calendar => TimeZones.Count > 0 ? new PatientCalendar(TimeZones) : PatientCalendar.Utc;
    /// <summary>"control" or "treated" under the account's policy's control share; null when never assigned, or assigned under a policy without one.</summary>
    public string? TreatmentGroup { get; init; }
    /// <summary>When the group was assigned: rows scored before it carry no group.</summary>
    public DateTimeOffset? TreatmentAssignedAt { get; init; }
}
