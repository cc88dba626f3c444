using Collections.Domain;

namespace Collections.Scoring;

/// <summary>What happened in the label window after a scoring time.</summary>
public sealed record LabelOutcome(bool Paid, decimal PatientBalance, decimal CollectedInWindow);

/// <summary>
/// The training label: did the patient pay the required share of the balance in the window after the scoring time?
/// Uses only what came after: patient payments posted in (asOf, asOf + window], less reversals of patient payments posted
/// in that window, compared with the patient balance known at asOf.
/// </summary>
public static class PaymentLabel
{
    /// <summary>Null when not labellable: no patient balance at <paramref name="asOf"/>, or the window has not ended by <paramref name="now"/>.</summary>
    public static bool? Of(AccountHistory history, DateTimeOffset asOf, LabelDefinition definition, DateTimeOffset now) =>
        Evaluate(history, asOf, definition, now)?.Paid;

    /// <summary>The label with the balance and the dollars collected in the window; null when not labellable.</summary>
    public static LabelOutcome? Evaluate(AccountHistory history, DateTimeOffset asOf, LabelDefinition definition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(definition);
        var end = WindowEnd(asOf, definition);
        if (end > now) return null;
        var balance = new KnownLedger(history.Entries, asOf, history.Calendar, history.GraceDays).Balances.PatientResponsibility;
        if (balance <= 0) return null;
        var collected = CollectedBetween(history.Entries, asOf, end);
        return new LabelOutcome(collected >= definition.PaidShare * balance, balance, collected);
    }

    public static DateTimeOffset WindowEnd(DateTimeOffset asOf, LabelDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return asOf.AddDays(definition.WindowDays);
    }

    /// <summary>Net patient payments posted in (<paramref name="after"/>, <paramref name="until"/>]: payments less reversals of patient payments posted then.</summary>
    public static decimal CollectedBetween(IReadOnlyList<LedgerEntry> entries, DateTimeOffset after, DateTimeOffset until)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var patientPayments = entries.Where(e => e.Kind == EntryKind.PatientPayment).ToDictionary(e => e.EntryId, StringComparer.Ordinal);
        var collected = 0m;
        foreach (var e in entries)
        {
            if (e.KnownAt <= after || e.KnownAt > until) continue;
            if (e.Kind == EntryKind.PatientPayment) collected += e.Amount;
            else if (e.Kind == EntryKind.Reversal && e.ReversesEntryId is { } target && patientPayments.TryGetValue(target, out var original)) collected -= original.Amount;
        }
        return collected;
    }
}
