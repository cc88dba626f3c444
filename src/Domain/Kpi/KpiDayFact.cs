using Collections.Domain.Arrangements;
using Collections.Domain.Worklist;

namespace Collections.Domain.Kpi;

/// <summary>What a <see cref="KpiDayFact"/> counts.</summary>
public enum KpiMeasure
{
    /// <summary>Money received (a payment not reversed) on its effective date; the subject is the <see cref="PaymentChannel"/>.</summary>
    Cash,
    /// <summary>The account was placed with a collection agency that day.</summary>
    Placed,
    /// <summary>The account was recalled from the agency that day.</summary>
    Recalled,
    /// <summary>The patient's share was paid in full that day; the count is the days since the first statement.</summary>
    PaidInFull,
    /// <summary>The account holds a credit balance (the amount) that must be refunded by that day.</summary>
    RefundDue,
    /// <summary>Calls the agent (the subject) worked that day.</summary>
    AgentCalls,
    /// <summary>Of those, conversations with the guarantor (right-party contacts).</summary>
    AgentContacts,
    /// <summary>Promises to pay the agent took that day.</summary>
    AgentPromises,
    /// <summary>Promises the agent took that were kept that day.</summary>
    AgentPromisesKept,
    /// <summary>Payment plans the agent set up that day.</summary>
    AgentPlans,
    /// <summary>Patient payments received that day within <see cref="KpiDayFacts.AttributionDays"/> of the agent's conversation with the guarantor.</summary>
    AgentCollected,
    /// <summary>Worklist calls with a known handle time that day; the amount is their seconds.</summary>
    AgentHandled,
    /// <summary>Of the agent's calls, those the guarantor made (inbound).</summary>
    AgentInbound,
    /// <summary>
    /// Revenue deductions (adjustments not reversed: contractual allowances, charity, bad debt, small-balance and
    /// administrative write-offs) on their effective date; the subject is the adjustment's category. Gross charges less
    /// these are the net patient revenue days in A/R is measured against.
    /// </summary>
    RevenueDeduction,
}

/// <summary>One count on one day that an account contributes to the supervisors' daily figures.</summary>
[GenerateSerializer, Immutable, Alias("collections.KpiDayFact")]
public sealed record KpiDayFact(
    [property: Id(0)] KpiMeasure Measure,
    [property: Id(1)] DateOnly Day,
    /// <summary>The payment channel or the agent's key id; empty when the measure has none.</summary>
    [property: Id(2)] string Subject,
    [property: Id(3)] decimal Amount,
    [property: Id(4)] int Count);

/// <summary>
/// The daily facts an account contributes (cash by channel, revenue deductions, placements, recalls, paid in full, a
/// refund due, each agent's work), from its state: pure, so the live projection and a rebuild from the ledger agree.
/// </summary>
public static class KpiDayFacts
{
    /// <summary>A payment counts for the agent who last spoke with the guarantor within this many days before it.</summary>
    public const int AttributionDays = 30;

    public static IReadOnlyList<KpiDayFact> Of(
        IReadOnlyList<LedgerEntry> ledger, AccountBalances balances, DateOnly? firstPatientStatement,
        DateOnly? placedOn, DateOnly? recalledOn, DateOnly? refundDueBy,
        IEnumerable<PromiseToPay> promises, IEnumerable<PaymentPlan> plans, IReadOnlyList<AgentCall> calls,
        IEnumerable<EarlierPlacement>? earlierPlacements = null)
    {
        var sums = new Dictionary<(KpiMeasure Measure, DateOnly Day, string Subject), (decimal Amount, int Count)>();
        void Add(KpiMeasure measure, DateOnly day, string subject, decimal amount, int count)
        {
            var sum = sums.GetValueOrDefault((measure, day, subject));
            sums[(measure, day, subject)] = (sum.Amount + amount, sum.Count + count);
        }

        var reversed = Ledger.ReversedIds(ledger);
        var contacts = calls.Where(c => AgentTally.ReachedTheGuarantor(c.Outcome)).OrderBy(c => c.At).ToList();
        foreach (var e in ledger)
        {
            if (reversed.Contains(e.EntryId)) continue;
            if (e.Kind == EntryKind.Adjustment)
                Add(KpiMeasure.RevenueDeduction, e.EffectiveDate, e.Category is { } category ? Name(category) : "", e.Amount, 1);
            if (e.Kind is not (EntryKind.PatientPayment or EntryKind.InsurancePayment)) continue;
            Add(KpiMeasure.Cash, e.EffectiveDate, Name(PaymentChannels.Of(e)), e.Amount, 1);
            if (e.Kind == EntryKind.PatientPayment && ConversationBehind(contacts, e) is { } contact)
                Add(KpiMeasure.AgentCollected, e.EffectiveDate, contact.Agent, e.Amount, 1);
        }
        if (placedOn is { } placed) Add(KpiMeasure.Placed, placed, "", 0m, 1);
        if (recalledOn is { } recalled) Add(KpiMeasure.Recalled, recalled, "", 0m, 1);
        foreach (var earlier in earlierPlacements ?? [])
        {
            Add(KpiMeasure.Placed, DateOnly.FromDateTime(earlier.PlacedAt.UtcDateTime), "", 0m, 1);
            Add(KpiMeasure.Recalled, DateOnly.FromDateTime(earlier.RecalledAt.UtcDateTime), "", 0m, 1);
        }
        if (firstPatientStatement is { } statement && balances.PatientResponsibility <= 0 && balances.LastPatientPaymentDate is { } paidOn && paidOn >= statement)
            Add(KpiMeasure.PaidInFull, paidOn, "", 0m, paidOn.DayNumber - statement.DayNumber);
        if (refundDueBy is { } due && balances.CreditBalance > 0) Add(KpiMeasure.RefundDue, due, "", balances.CreditBalance, 1);

        foreach (var call in calls)
        {
            var day = Day(call.At);
            Add(KpiMeasure.AgentCalls, day, call.Agent, 0m, 1);
            if (AgentTally.ReachedTheGuarantor(call.Outcome)) Add(KpiMeasure.AgentContacts, day, call.Agent, 0m, 1);
            if (call.Outcome == WorklistOutcome.PromiseToPay) Add(KpiMeasure.AgentPromises, day, call.Agent, 0m, 1);
            if (call.Inbound) Add(KpiMeasure.AgentInbound, day, call.Agent, 0m, 1);
            if (call.HandleSeconds is { } seconds) Add(KpiMeasure.AgentHandled, day, call.Agent, seconds, 1);
        }
        // A promise or plan is the agent's when it was made on their call (same agent, same moment).
        var madeOnCalls = calls.Select(c => (c.Agent, c.At)).ToHashSet();
        foreach (var p in promises)
            if (p is { Status: PromiseStatus.Kept, ResolvedAt: { } keptAt } && madeOnCalls.Contains((p.CreatedBy, p.CreatedAt)))
                Add(KpiMeasure.AgentPromisesKept, Day(keptAt), p.CreatedBy, 0m, 1);
        foreach (var plan in plans)
            if (madeOnCalls.Contains((plan.CreatedBy, plan.CreatedAt)))
                Add(KpiMeasure.AgentPlans, Day(plan.CreatedAt), plan.CreatedBy, 0m, 1);

        return sums.OrderBy(s => s.Key.Measure).ThenBy(s => s.Key.Day).ThenBy(s => s.Key.Subject, StringComparer.Ordinal)
            .Select(s => new KpiDayFact(s.Key.Measure, s.Key.Day, s.Key.Subject, s.Value.Amount, s.Value.Count)).ToList();
    }

    /// <summary>
    /// The conversation a payment came from: the one during which it was taken (a payment taken on a call, by its
    /// channel or because that agent posted it, and a conversation recorded within <see cref="AgentCall.MaxHandleSeconds"/>
    /// after it was posted: an agent takes the card or check, then records how the call went), else the latest before
    /// it was posted, on or before its date and at most <see cref="AttributionDays"/> before. A check the mail brought,
    /// posted just before an agent's call, came from no conversation of that call.
    /// </summary>
    private static AgentCall? ConversationBehind(List<AgentCall> contacts, LedgerEntry payment)
    {
        var takenOnCall = PaymentChannels.Of(payment) == PaymentChannel.Agent;
        foreach (var c in contacts) // by time: past the handle window nothing later can match
        {
            if (c.At < payment.PostedAt) continue;
            if ((c.At - payment.PostedAt).TotalSeconds > AgentCall.MaxHandleSeconds) break;
            if (takenOnCall || payment.PostedBy == c.Agent) return c;
        }
        for (var i = contacts.Count - 1; i >= 0; i--)
        {
            var c = contacts[i];
            var day = Day(c.At);
            if (c.At > payment.PostedAt || day > payment.EffectiveDate) continue;
            return payment.EffectiveDate.DayNumber - day.DayNumber <= AttributionDays ? c : null;
        }
        return null;
    }

    /// <summary>A measure or a channel as the reporting tables and the API name it (camelCase).</summary>
    public static string Name<T>(T value) where T : struct, Enum =>
        CamelNames<T>.Known.TryGetValue(value, out var name) ? name : CamelNames<T>.Convert(value);

    /// <summary>
    /// Each defined value's name, made once: the KPI facts name every payment's channel at every command, and making
    /// the name each time allocated a boxed value and two strings per payment on the ledger.
    /// </summary>
    private static class CamelNames<T> where T : struct, Enum
    {
        public static readonly Dictionary<T, string> Known = Enum.GetValues<T>().Distinct().ToDictionary(v => v, Convert);

        public static string Convert(T value) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(value.ToString());
    }

    private static DateOnly Day(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);
}
