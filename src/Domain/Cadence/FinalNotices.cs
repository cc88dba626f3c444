namespace Collections.Domain.Cadence;

/// <summary>
/// Which written notice (the final-notice step) lets a cadence cycle's extraordinary actions go: one sent in that cycle,
/// never one about an earlier debt on the account (a cycle that ended when it was paid off).
/// </summary>
public static class FinalNotices
{
    /// <summary>
    /// The date a final notice names as the patient's deadline ("if we do not hear from you by ..."): the notice period
    /// after the day it is sent (501(r): no earlier than 30 days after the notice is provided), whatever the statement's
    /// own due date was.
    /// </summary>
    public static DateOnly Deadline(DateTimeOffset notice, Compliance.ComplianceRules rules) =>
        DateOnly.FromDateTime(notice.UtcDateTime).AddDays((int)Math.Ceiling(rules.EcaNoticePeriod.TotalDays));

    /// <summary>
    /// The first moment an extraordinary action may follow a final notice: the notice period after it, and not before the
    /// deadline it named has ended wherever the patient may be (the end of that day at UTC-11, the westernmost US time).
    /// </summary>
    public static DateTimeOffset ActionsFrom(DateTimeOffset notice, Compliance.ComplianceRules rules)
    {
        var deadlineEnded = new DateTimeOffset(Deadline(notice, rules).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddHours(11);
        var period = notice + rules.EcaNoticePeriod;
        return deadlineEnded > period ? deadlineEnded : period;
    }

    /// <param name="cycle">The cycle asking (a run that starts a new cycle asks for the new one).</param>
    /// <param name="recordedAt">The notice the account recorded last.</param>
    /// <param name="recordedCycle">The cycle it was sent in; null when recorded by a release that did not keep it (which kept the first notice ever).</param>
    /// <param name="progress">The account's cadence as stored (its cycle, when it began, its steps).</param>
    public static DateTimeOffset? For(int cycle, DateTimeOffset? recordedAt, int? recordedCycle, CadenceProgress? progress)
    {
        if (recordedAt is not { } at) return null;
        if (recordedCycle is { } sentIn) return sentIn == cycle ? at : null;
        if (progress is null || cycle != progress.Cycle) return null;
        // The running cycle's own final-notice step, when it went, is its notice; else the one recorded, if sent in it.
        if (progress.Steps.LastOrDefault(s => s is { Action: OutreachAction.FinalNotice, Outcome: StepOutcome.Done }) is { } step) return step.At;
        return progress.StartedAt is { } started && at >= started ? at : null;
    }
}
