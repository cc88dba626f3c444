using Collections.Domain;
using Collections.Domain.Arrangements;

namespace Collections.Scoring;

/// <summary>What an arrangement's state was at a point in time, recomputed from the payments known then.</summary>
public enum ArrangementState
{
    Pending,
    Kept,
    Broken,
}

/// <summary>
/// The ledger as it was known at one instant: entries posted at or before it, with reversals taken into account only
/// once they were posted too. Promise and plan outcomes are recomputed from it (their stored status is as of now).
/// </summary>
public sealed class KnownLedger
{
    /// <summary>The engine's default grace days (<see cref="ArrangementRules.GraceDays"/>), for histories that carry none.</summary>
    public static int DefaultGraceDays { get; } = new ArrangementRules().GraceDays;

    /// <summary>Days after a due date before an unpaid promise or installment counts as missed: the engine's setting when the history was taken.</summary>
    public int GraceDays { get; }

    public DateTimeOffset AsOf { get; }
    public IReadOnlyList<LedgerEntry> Entries { get; }
    public IReadOnlySet<string> Reversed { get; }
    /// <summary>Patient payments not reversed (as known), by posting time.</summary>
    public IReadOnlyList<LedgerEntry> PatientPayments { get; }
    public AccountBalances Balances { get; }
    /// <summary>The patient's days, in which promised dates and installments fall due (as the account reads them).</summary>
    public PatientCalendar Calendar { get; }

    public KnownLedger(IReadOnlyList<LedgerEntry> all, DateTimeOffset asOf, PatientCalendar? calendar = null, int? graceDays = null, AccountBalances? allBalances = null)
    {
        ArgumentNullException.ThrowIfNull(all);
        AsOf = asOf;
        GraceDays = graceDays ?? DefaultGraceDays;
        Calendar = calendar ?? PatientCalendar.Utc;
        var allKnown = true;
        foreach (var e in all)
            if (e.KnownAt > asOf)
            {
                allKnown = false;
                break;
            }
        // Scoring now, every entry is known: the ledger itself, not a copy (which the caller leaves as it is meanwhile).
        var entries = allKnown ? all : all.Where(e => e.KnownAt <= asOf).ToList();
        Entries = entries;
        var reversed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
            if (e.Kind == EntryKind.Reversal && e.ReversesEntryId is { } target) reversed.Add(target);
        Reversed = reversed;
        PatientPayments = InPostingOrder(entries.Where(e => e.Kind == EntryKind.PatientPayment && !reversed.Contains(e.EntryId)).ToList());
        Balances = allBalances is not null && entries.Count == all.Count ? allBalances : AccountBalances.Of(entries);
    }

    /// <summary>
    /// The entries by posting time (<see cref="LedgerEntry.KnownAt"/>, ties in their order): the same list when it is in
    /// that order already, as a ledger posted live is; a sorted copy when it is not (an imported history).
    /// </summary>
    public static IReadOnlyList<LedgerEntry> InPostingOrder(IReadOnlyList<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (var i = 1; i < entries.Count; i++)
            if (entries[i - 1].KnownAt > entries[i].KnownAt) return [.. entries.OrderBy(e => e.KnownAt)];
        return entries;
    }

    /// <summary>When the payments posted at or after <paramref name="since"/> first added up to <paramref name="amount"/> (null: not yet).</summary>
    public DateTimeOffset? PaidUpTo(DateTimeOffset since, decimal amount)
    {
        if (amount <= 0) return since;
        var paid = 0m;
        foreach (var p in PatientPayments)
        {
            if (p.KnownAt < since) continue;
            paid += p.Amount;
            if (paid >= amount) return p.KnownAt;
        }
        return null;
    }

    /// <summary>
    /// The promises' states as known then (by index): kept when the promised amount was paid in time as known then
    /// (<see cref="ArrangementRulesLogic.InTimeFor"/>, the engine's own rule, each payment toward one promise at most,
    /// the earliest made first); broken once the deadline passed without it; pending before.
    /// </summary>
    public ArrangementState[] StatesOf(IReadOnlyList<PromiseToPay> promises)
    {
        ArgumentNullException.ThrowIfNull(promises);
        if (promises.Count == 0) return [];
        var payments = PatientPayments.Select(p => new PromisePayment(p.KnownAt, p.EffectiveDate, PaymentChannels.Of(p), p.Amount, p.PostedBy)).ToList();
        var kept = ArrangementRulesLogic.KeptBy(promises, payments, GraceDays, Calendar, keptStaysKept: false);
        return [.. promises.Select((promise, i) => kept[i] ? ArrangementState.Kept
            : AsOf >= ArrangementRulesLogic.Deadline(promise.PromisedDate, GraceDays, Calendar) ? ArrangementState.Broken
            : ArrangementState.Pending)];
    }

    /// <summary>
    /// Kept (completed) when the plan total was paid before any installment was missed; broken (defaulted) when the down
    /// payment or an installment was not covered by the end of its grace period, counting money posted later but
    /// deposited in time (<see cref="ArrangementRulesLogic.DepositedInTime"/>, the engine's rule that reinstates a plan)
    /// once it is known and before <paramref name="nextPlanAt"/> (a later plan, which the engine keeps instead); pending
    /// (active) otherwise.
    /// </summary>
    public ArrangementState StateOf(PaymentPlan plan, DateTimeOffset? nextPlanAt = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var completedAt = PaidUpTo(plan.CreatedAt, plan.Total);
        DateTimeOffset? defaultedAt = null;
        // The plan's payments, read once for all its deadlines.
        var payments = PatientPayments.Where(p => p.KnownAt >= plan.CreatedAt)
            .Select(p => new PromisePayment(p.KnownAt, p.EffectiveDate, PaymentChannels.Of(p), p.Amount, p.PostedBy)).ToList();
        foreach (var (due, required) in ArrangementRulesLogic.Deadlines(plan, Calendar))
        {
            var deadline = ArrangementRulesLogic.Deadline(due, GraceDays, Calendar);
            if (deadline > AsOf) break;
            var paid = 0m;
            foreach (var p in payments)
                if (p.KnownAt < deadline
                    || (p.KnownAt < (nextPlanAt ?? DateTimeOffset.MaxValue) && ArrangementRulesLogic.DepositedInTime(p, due, deadline, GraceDays, plan.CreatedBy)))
                    paid += p.Amount;
            if (paid < required)
            {
                defaultedAt = deadline;
                break;
            }
        }
        if (completedAt is { } done && (defaultedAt is null || done < defaultedAt)) return ArrangementState.Kept;
        return defaultedAt is null ? ArrangementState.Pending : ArrangementState.Broken;
    }
}
