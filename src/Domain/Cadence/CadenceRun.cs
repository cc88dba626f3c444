using Collections.Domain.Compliance;

namespace Collections.Domain.Cadence;

/// <summary>One contact the cadence is about to make for a step: what, by which channel.</summary>
/// <param name="Cycle">The cadence cycle it belongs to (a cadence that ends and starts again is a new cycle): part of the contact's idempotency key.</param>
public sealed record CadenceAttempt(CadenceStep Step, OutreachAction Action, ContactChannel? Channel, int Cycle);

/// <summary>What a cadence run decided: the evaluation it ended on, and whether a step is due but was left to be taken.</summary>
public sealed record CadenceRunResult(CadenceEvaluation Evaluation, bool StepLeftDue);

/// <summary>
/// The cadence run: ask the engine what is due now, take each due step through the gate (its channels in order, a
/// closed channel falling back to the next), record the outcome, and ask again, until nothing is due. Pure: time comes
/// in as <c>now</c>, and the gate and what an allowed contact changes are the caller's (the account grain asks the
/// guarantor's gate and queues the message; the simulator asks the same gate on its own facts). The one loop both use.
/// </summary>
public static class CadenceRun
{
    /// <summary>At most this many steps in one run (steps are a day apart, so more means a fault, not a backlog).</summary>
    public const int MaxStepsPerRun = 20;

    /// <param name="takeSteps">False: stop at the first due step and report it (the caller takes it as a command of its own).</param>
    /// <param name="gate">The compliance gate's decision on an attempt; an allowed contact is made by it.</param>
    /// <param name="allowed">Called at once for each allowed attempt, before the next step is considered (a statement sets the aging date the next step's gate reads).</param>
    /// <param name="belowMinimum">Called for a step skipped because the patient owes less than its minimum.</param>
    public static async ValueTask<CadenceRunResult> RunAsync(
        CadenceProgress progress, CadencePolicy policy, CadenceSituation situation, ContactChannel preferredChannel, TimeSpan dayLength, DateTimeOffset now,
        bool takeSteps, Func<CadenceAttempt, ValueTask<GateDecision>> gate, Action<CadenceAttempt, GateDecision> allowed, Action<CadenceStep>? belowMinimum = null)
    {
        CadenceEvaluation evaluation;
        for (var taken = 0; ; taken++)
        {
            evaluation = CadenceEngine.Evaluate(progress, policy, situation, dayLength, now);
            progress = evaluation.Progress;
            if (evaluation.DueStep is not { } step || taken >= MaxStepsPerRun) return new CadenceRunResult(evaluation, false);
            if (!takeSteps) return new CadenceRunResult(evaluation, true);
            progress = await TakeStepAsync(progress, policy, step, situation, preferredChannel, now, gate, allowed, belowMinimum);
        }
    }

    private static async ValueTask<CadenceProgress> TakeStepAsync(CadenceProgress progress, CadencePolicy policy, CadenceStep step, CadenceSituation situation,
        ContactChannel preferredChannel, DateTimeOffset now, Func<CadenceAttempt, ValueTask<GateDecision>> gate, Action<CadenceAttempt, GateDecision> allowed,
        Action<CadenceStep>? belowMinimum)
    {
        StepRecord Record(StepOutcome outcome, OutreachAction action, ContactChannel? channel, string reason) =>
            new() { StepId = step.StepId, Outcome = outcome, Action = action, Channel = channel, PolicyReference = policy.Reference, At = now, Reason = reason };

        if (situation.InControlGroup && !policy.BaselineActions.Contains(step.Action))
            return CadenceEngine.Record(progress, Record(StepOutcome.Skipped, step.Action, step.Channel, ControlGroups.SkipReason));
        if (step.MinimumBalance is { } minimum && situation.PatientResponsibility < minimum)
        {
            belowMinimum?.Invoke(step);
            return CadenceEngine.Record(progress, Record(StepOutcome.Skipped, step.Action, step.Channel, $"The patient owes less than {minimum:0.00}."));
        }
        GateDecision? last = null;
        foreach (var (channel, action) in CadenceEngine.Attempts(step, preferredChannel))
        {
            var attempt = new CadenceAttempt(step, action, channel, progress.Cycle);
            var decision = last = await gate(attempt);
            if (decision.Verdict == GateVerdict.Allow)
            {
                allowed(attempt, decision);
                return CadenceEngine.Record(progress, Record(StepOutcome.Done, action, channel, decision.Reason));
            }
            if (decision.Verdict == GateVerdict.Defer)
                return CadenceEngine.Defer(progress, step.StepId, decision.NotBefore!.Value);
            if (!decision.Rule.StartsWith("channel.", StringComparison.Ordinal)) break; // only a closed channel has a fallback
        }
        return CadenceEngine.Record(progress, Record(StepOutcome.Skipped, step.Action, step.Channel, last?.Reason ?? "No channel to use."));
    }
}
