using Collections.Domain.Arrangements;

namespace Collections.Domain.Payments;

/// <summary>How autopay retries a declined installment (<c>Collections:Portal:Autopay</c>).</summary>
public sealed record AutopayRules
{
    /// <summary>Charges of one installment before autopay gives up on it (the plan then defaults by its own rules if unpaid).</summary>
    public int MaxAttempts { get; init; } = 2;
    /// <summary>Days between a decline and the next try.</summary>
    public int RetryDays { get; init; } = 3;
}

/// <summary>What a plan's autopay charges on a given day. Pure.</summary>
public static class Autopay
{
    /// <summary>
    /// The earliest installment due by <paramref name="today"/> that payments since the plan began do not cover, and
    /// what is left of it (never more than the patient owes); null when nothing is due.
    /// </summary>
    public static (Installment Installment, decimal Amount)? Due(PaymentPlan plan, IReadOnlyList<LedgerEntry> ledger, decimal patientResponsibility, DateOnly today)
    {
        if (plan.Status != PlanStatus.Active || patientResponsibility <= 0) return null;
        var paid = ArrangementRulesLogic.PaidSince(ledger, plan.CreatedAt);
        var scheduled = plan.DownPayment;
        foreach (var installment in plan.Installments.OrderBy(i => i.Number))
        {
            scheduled += installment.Amount;
            if (installment.DueDate > today) return null;
            if (paid < scheduled) return (installment, Math.Min(scheduled - paid, patientResponsibility));
        }
        return null;
    }

    /// <summary>Whether autopay may charge the installment now, after the attempts already made (when each was).</summary>
    public static bool MayCharge(IReadOnlyList<DateTimeOffset> attempts, AutopayRules rules, DateTimeOffset now) =>
        attempts.Count < rules.MaxAttempts && (attempts.Count == 0 || now >= attempts.Max().AddDays(rules.RetryDays));
}
