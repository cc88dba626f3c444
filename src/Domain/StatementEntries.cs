namespace Collections.Domain;

/// <summary>One line of a patient statement as the ledger gives it: charges positive, what reduces them negative.</summary>
public sealed record StatementEntry(DateOnly Date, string Description, decimal Amount, EntryKind Kind);

/// <summary>The lines a statement prints for a ledger (reversed entries and their reversals left out). Pure.</summary>
public static class StatementEntries
{
    public static IReadOnlyList<StatementEntry> From(IReadOnlyList<LedgerEntry> ledger)
    {
        var reversed = Ledger.ReversedIds(ledger);
        return ledger
            .Where(e => !reversed.Contains(e.EntryId) && e.Kind is EntryKind.Charge or EntryKind.InsurancePayment or EntryKind.Adjustment or EntryKind.PatientPayment or EntryKind.Refund)
            .Select(e => e.Kind switch
            {
                EntryKind.Charge => new StatementEntry(e.ServiceDate ?? e.EffectiveDate, e.Description ?? $"Service {e.Code}", e.Amount, e.Kind),
                EntryKind.InsurancePayment => new StatementEntry(e.EffectiveDate, $"Insurance payment {e.Payer}", -e.Amount, e.Kind),
                EntryKind.Adjustment => new StatementEntry(e.EffectiveDate, $"Adjustment ({e.Category})", -e.Amount, e.Kind),
                EntryKind.Refund => new StatementEntry(e.EffectiveDate, "Refund", e.Amount, EntryKind.PatientPayment),
                _ => new StatementEntry(e.EffectiveDate, "Your payment - thank you", -e.Amount, e.Kind),
            }).ToList();
    }
}
