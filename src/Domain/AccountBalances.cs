namespace Collections.Domain;

/// <summary>
/// The balances of an account, derived from its ledger (never stored). The insurance and patient balances are signed:
/// a negative patient balance means the patient paid more than their share.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AccountBalances")]
public sealed record AccountBalances
{
    [Id(0)] public decimal InsuranceBalance { get; init; }
    [Id(1)] public decimal PatientBalance { get; init; }
    [Id(2)] public DateOnly? LastPatientPaymentDate { get; init; }
    [Id(3)] public decimal TotalCharges { get; init; }

    /// <summary>What is still owed on the account, by anyone; negative when it is in credit.</summary>
    public decimal Balance => InsuranceBalance + PatientBalance;

    /// <summary>What the engine is still waiting for insurance to pay.</summary>
    public decimal InsurancePending => Math.Max(InsuranceBalance, 0m);

    /// <summary>
    /// What the patient (guarantor) owes: the amount collections works on. Decided on the whole account: never more
    /// than the account's own balance, so a credit from either party (insurance paying late after the patient paid
    /// part of their share) leaves the patient owing nothing, and the credit goes to the refund workflow.
    /// </summary>
    public decimal PatientResponsibility => Math.Max(Math.Min(PatientBalance, Balance), 0m);

    /// <summary>Money owed back because payments and adjustments exceed charges; excluded from A/R.</summary>
    public decimal CreditBalance => Math.Max(-Balance, 0m);

    public static AccountBalances Of(IReadOnlyList<LedgerEntry> ledger)
    {
        decimal insurance = 0m, patient = 0m, charges = 0m;
        var byId = new Dictionary<string, LedgerEntry>(ledger.Count);
        var reversed = new HashSet<string>();
        foreach (var entry in ledger)
        {
            byId[entry.EntryId] = entry;
            if (entry.ReversesEntryId is { } target) reversed.Add(target);
        }
        DateOnly? lastPatientPayment = null;
        foreach (var entry in ledger)
        {
            var (ins, pat) = Effect(entry, byId);
            insurance += ins;
            patient += pat;
            if (entry.Kind == EntryKind.Charge) charges += entry.Amount;
            if (entry.Kind == EntryKind.Reversal && byId.TryGetValue(entry.ReversesEntryId!, out var t) && t.Kind == EntryKind.Charge)
                charges -= t.Amount;
            if (entry.Kind == EntryKind.PatientPayment && !reversed.Contains(entry.EntryId)
                && (lastPatientPayment is null || entry.EffectiveDate > lastPatientPayment))
                lastPatientPayment = entry.EffectiveDate;
        }
        return new AccountBalances { InsuranceBalance = insurance, PatientBalance = patient, LastPatientPaymentDate = lastPatientPayment, TotalCharges = charges };
    }

    /// <summary>
    /// The balances once the entries from index <paramref name="from"/> on were appended to a ledger whose first
    /// <paramref name="from"/> entries gave <paramref name="before"/>: a command on a long-lived account adds its entries'
    /// effects instead of walking the whole ledger again. A reversal among them (rare) is worked out from the whole ledger.
    /// </summary>
    public static AccountBalances After(AccountBalances before, IReadOnlyList<LedgerEntry> ledger, int from)
    {
        decimal insurance = before.InsuranceBalance, patient = before.PatientBalance, charges = before.TotalCharges;
        var lastPatientPayment = before.LastPatientPaymentDate;
        for (var i = from; i < ledger.Count; i++)
        {
            var entry = ledger[i];
            if (entry.Kind == EntryKind.Reversal || entry.ReversesEntryId is not null) return Of(ledger);
            var (ins, pat) = Effect(entry, NoEntries);
            insurance += ins;
            patient += pat;
            if (entry.Kind == EntryKind.Charge) charges += entry.Amount;
            if (entry.Kind == EntryKind.PatientPayment && (lastPatientPayment is null || entry.EffectiveDate > lastPatientPayment))
                lastPatientPayment = entry.EffectiveDate;
        }
        return new AccountBalances { InsuranceBalance = insurance, PatientBalance = patient, LastPatientPaymentDate = lastPatientPayment, TotalCharges = charges };
    }

    private static readonly IReadOnlyDictionary<string, LedgerEntry> NoEntries = new Dictionary<string, LedgerEntry>();

    /// <summary>How one entry moves the (insurance, patient) balances.</summary>
    public static (decimal Insurance, decimal Patient) Effect(LedgerEntry entry, IReadOnlyDictionary<string, LedgerEntry> byId)
    {
        var a = entry.Amount;
        return entry.Kind switch
        {
            EntryKind.Charge => OnParty(entry.Party, a),
            EntryKind.InsurancePayment => (-a, 0m),
            EntryKind.PatientPayment => (0m, -a),
            EntryKind.Adjustment => OnParty(entry.Party, -a),
            EntryKind.Transfer => entry.Direction == TransferDirection.InsuranceToPatient ? (-a, a) : (a, -a),
            EntryKind.Refund => OnParty(entry.Party, a),
            EntryKind.Reversal when byId.TryGetValue(entry.ReversesEntryId ?? "", out var original) => Negate(Effect(original, byId)),
            _ => (0m, 0m),
        };

        static (decimal, decimal) OnParty(ResponsibleParty? party, decimal amount) =>
            party == ResponsibleParty.Insurance ? (amount, 0m) : (0m, amount);

        static (decimal, decimal) Negate((decimal Insurance, decimal Patient) e) => (-e.Insurance, -e.Patient);
    }
}
