namespace Collections.Domain.Cadence;

public enum CadenceStatus
{
    /// <summary>The patient owes nothing: no follow-up.</summary>
    Idle,
    Active,
    /// <summary>A hold stops it.</summary>
    OnHold,
    /// <summary>A promise to pay is pending.</summary>
    PromisePending,
    /// <summary>A payment plan replaces the cadence.</summary>
    OnPaymentPlan,
    /// <summary>Every step has run.</summary>
    Finished,
}

public enum StepOutcome
{
    Done,
    /// <summary>Could not be done (condition not met, channel closed with no fallback, action denied).</summary>
    Skipped,
}

/// <summary>A step that ran (or was skipped) in the current cycle, and the policy version that drove it.</summary>
[GenerateSerializer, Immutable, Alias("collections.StepRecord")]
public sealed record StepRecord
{
    [Id(0)] public required string StepId { get; init; }
    [Id(1)] public required StepOutcome Outcome { get; init; }
    [Id(2)] public required OutreachAction Action { get; init; }
    [Id(3)] public ContactChannel? Channel { get; init; }
    [Id(4)] public required string PolicyReference { get; init; }
    [Id(5)] public required DateTimeOffset At { get; init; }
    [Id(6)] public required string Reason { get; init; }
}

/// <summary>
/// Where an account is in its cadence. A cycle starts when the patient's share becomes positive and ends when it is
/// paid, adjusted or credited to zero or below. Time on hold, on a pending promise or on a payment plan does not count:
/// the schedule shifts by it, so a release resumes at the step the account had reached.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.CadenceProgress")]
public sealed record CadenceProgress
{
    [Id(0)] public DateTimeOffset? StartedAt { get; init; }
    [Id(1)] public int Cycle { get; init; }
    [Id(2)] public TimeSpan PausedTotal { get; init; }
    [Id(3)] public DateTimeOffset? PausedSince { get; init; }
    [Id(4)] public IReadOnlyList<StepRecord> Steps { get; init; } = [];
    /// <summary>Steps the compliance gate deferred, with the earliest time to try again.</summary>
    [Id(5)] public IReadOnlyDictionary<string, DateTimeOffset> DeferredUntil { get; init; } = new Dictionary<string, DateTimeOffset>();
    [Id(6)] public DateTimeOffset? LastActionAt { get; init; }

    public bool IsRunning => StartedAt is not null;
}

/// <summary>What the engine knows about the account at evaluation time; <paramref name="InControlGroup"/>: only the policy's baseline actions are taken.</summary>
public sealed record CadenceSituation(decimal PatientResponsibility, bool HasActiveHold, bool PromisePending, bool OnPaymentPlan, bool InControlGroup = false);

public sealed record CadenceEvaluation(CadenceStatus Status, CadenceProgress Progress, CadenceStep? DueStep, DateTimeOffset? WakeAt);

public static class CadenceEngine
{
    /// <summary>
    /// Decides, at <paramref name="now"/>, whether a step is due (at most one; the caller runs it, records it and asks
    /// again) and when to look next. <paramref name="dayLength"/> is one day, or less to run a cadence faster for a
    /// demonstration. Steps are spaced at least one day apart, so an account that fell behind catches up one step a day
    /// rather than receiving a burst of messages.
    /// </summary>
    public static CadenceEvaluation Evaluate(CadenceProgress progress, CadencePolicy policy, CadenceSituation situation, TimeSpan dayLength, DateTimeOffset now)
    {
        if (situation.PatientResponsibility <= 0)
        {
            var ended = progress.IsRunning ? progress with { StartedAt = null, PausedSince = null, PausedTotal = TimeSpan.Zero, Steps = [], DeferredUntil = new Dictionary<string, DateTimeOffset>() } : progress;
            return new CadenceEvaluation(CadenceStatus.Idle, ended, null, null);
        }
        if (!progress.IsRunning) progress = NewCycle(progress, now);

        var pausedBy = situation.HasActiveHold ? CadenceStatus.OnHold
            : situation.OnPaymentPlan ? CadenceStatus.OnPaymentPlan
            : situation.PromisePending ? CadenceStatus.PromisePending
            : (CadenceStatus?)null;
        if (pausedBy is { } paused)
            return new CadenceEvaluation(paused, progress.PausedSince is null ? progress with { PausedSince = now } : progress, null, null);
        if (progress.PausedSince is { } since)
            progress = progress with { PausedTotal = progress.PausedTotal + (now - since), PausedSince = null };

        var done = progress.Steps.Select(s => s.StepId).ToHashSet();
        DateTimeOffset? wake = null;
        foreach (var step in policy.StepsInOrder.Where(s => !done.Contains(s.StepId)))
        {
            var due = DueAt(progress, policy, step, dayLength);
            if (due <= now) return new CadenceEvaluation(CadenceStatus.Active, progress, step, null);
            wake = wake is null || due < wake ? due : wake;
        }
        return new CadenceEvaluation(wake is null ? CadenceStatus.Finished : CadenceStatus.Active, progress, null, wake);
    }

    /// <summary>
    /// Starts the running cycle over from <paramref name="at"/>: a new cycle (numbered on, so its contacts are new
    /// requests, not replays of the ones sent before) from its first step, on the same debt, still a day after the last
    /// step taken. Paused time is not carried (a hold or arrangement still in force pauses the new cycle at its next
    /// evaluation). A cadence not running is left as it is: the next balance starts one.
    /// </summary>
    public static CadenceProgress Restart(CadenceProgress progress, DateTimeOffset at) =>
        progress.IsRunning ? NewCycle(progress, at) with { LastActionAt = progress.LastActionAt } : progress;

    private static CadenceProgress NewCycle(CadenceProgress progress, DateTimeOffset now) =>
        progress with { StartedAt = now, Cycle = progress.Cycle + 1, Steps = [], PausedTotal = TimeSpan.Zero, PausedSince = null, DeferredUntil = new Dictionary<string, DateTimeOffset>(), LastActionAt = null };

    /// <summary>When a step is due: its day on the schedule shifted by time paused, no earlier than a deferral or a day after the last action.</summary>
    public static DateTimeOffset DueAt(CadenceProgress progress, CadencePolicy policy, CadenceStep step, TimeSpan dayLength)
    {
        var due = progress.StartedAt!.Value + dayLength * policy.DayOf(step) + progress.PausedTotal;
        if (progress.DeferredUntil.TryGetValue(step.StepId, out var deferred) && deferred > due) due = deferred;
        if (progress.LastActionAt is { } last && last + dayLength > due) due = last + dayLength;
        return due;
    }

    /// <summary>Records that a step ran or was skipped.</summary>
    public static CadenceProgress Record(CadenceProgress progress, StepRecord record)
    {
        var deferred = progress.DeferredUntil.Where(d => d.Key != record.StepId).ToDictionary();
        return progress with
        {
            Steps = [.. progress.Steps, record],
            DeferredUntil = deferred,
            LastActionAt = record.Outcome == StepOutcome.Done ? record.At : progress.LastActionAt,
        };
    }

    /// <summary>Records that the gate deferred a step until a time.</summary>
    public static CadenceProgress Defer(CadenceProgress progress, string stepId, DateTimeOffset until)
    {
        var deferred = progress.DeferredUntil.ToDictionary();
        deferred[stepId] = until;
        return progress with { DeferredUntil = deferred };
    }

    /// <summary>
    /// The channels to try for a step, in order: its channel (or the guarantor's preferred one), then its fallback.
    /// A reminder's action follows the channel it goes by (email reminder, text reminder or letter).
    /// </summary>
    public static IReadOnlyList<(ContactChannel? Channel, OutreachAction Action)> Attempts(CadenceStep step, ContactChannel preferred)
    {
        if (step.Action is OutreachAction.AgencyPlacement or OutreachAction.CreditReporting or OutreachAction.WriteOffReview)
            return [(null, step.Action)];
        var first = step.Channel ?? (preferred is ContactChannel.Voice or ContactChannel.AutomatedVoice ? ContactChannel.Mail : preferred);
        var list = new List<(ContactChannel?, OutreachAction)> { (first, ActionFor(step.Action, first)) };
        if (step.FallbackChannel is { } fallback && fallback != first) list.Add((fallback, ActionFor(step.Action, fallback)));
        return list;
    }

    public static OutreachAction ActionFor(OutreachAction action, ContactChannel channel) =>
        action is OutreachAction.EmailReminder or OutreachAction.SmsReminder or OutreachAction.Letter
            ? channel switch
            {
                ContactChannel.Email => OutreachAction.EmailReminder,
                ContactChannel.Sms => OutreachAction.SmsReminder,
                _ => OutreachAction.Letter,
            }
            : action;
}
