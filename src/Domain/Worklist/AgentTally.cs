namespace Collections.Domain.Worklist;

/// <summary>
/// What an agent worked in a period, counted from the outcomes they recorded: calls, conversations with the guarantor
/// (right-party contacts, which every promise, plan request, dispute and assistance request also is), promises and
/// plans asked for. The agent's own tally and the supervisor's per-agent figures both count this way.
/// </summary>
public sealed record AgentTally(int Calls, int Reached, int Promises, int PlansRequested, int Disputes, int AssistanceRequested)
{
    public static readonly AgentTally None = new(0, 0, 0, 0, 0, 0);

    public static bool ReachedTheGuarantor(WorklistOutcome outcome) => outcome is WorklistOutcome.RightPartyContact or WorklistOutcome.PromiseToPay
        or WorklistOutcome.PaymentPlanRequested or WorklistOutcome.Dispute or WorklistOutcome.FinancialAssistanceRequested;

    /// <summary>The tally of <paramref name="worked"/>; one call counted once even if two queues kept it.</summary>
    public static AgentTally Of(IEnumerable<WorkedAccount> worked)
    {
        var calls = worked.DistinctBy(w => (w.Account, w.At, w.Outcome)).ToList();
        return new AgentTally(
            calls.Count,
            calls.Count(w => ReachedTheGuarantor(w.Outcome)),
            calls.Count(w => w.Outcome == WorklistOutcome.PromiseToPay),
            calls.Count(w => w.Outcome == WorklistOutcome.PaymentPlanRequested),
            calls.Count(w => w.Outcome == WorklistOutcome.Dispute),
            calls.Count(w => w.Outcome == WorklistOutcome.FinancialAssistanceRequested));
    }
}
