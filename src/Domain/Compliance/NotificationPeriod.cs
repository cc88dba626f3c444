using Collections.Domain.Arrangements;

namespace Collections.Domain.Compliance;

/// <summary>
/// 501(r)(6)'s notification period: no extraordinary collection action within 120 days of the first billing statement
/// sent after discharge (Treas. Reg. 1.501(r)-6(c)). A statement dated before the account's discharge date does not
/// start it. An account with no discharge date (a clinic or emergency visit; billing exports often give an admit date
/// alone) is billed after the care, so its statements count.
/// </summary>
public static class NotificationPeriod
{
    /// <summary>Whether a statement sent on <paramref name="statementDate"/> is a post-discharge billing statement.</summary>
    public static bool StartsWith(DateOnly? dischargeDate, DateOnly statementDate) =>
        dischargeDate is not { } discharged || statementDate >= discharged;

    /// <summary>
    /// What recording a discharge date on an account already billed changes. A statement counted so far still counts
    /// only if it was sent on or after the discharge date (its day read as the earliest it was where the patient may
    /// be); one sent during the stay (an interim bill) does not start the 120 days, and the earliest statement sent
    /// since the discharge, if any, starts them instead. When no statement counts but one was sent, the account owes the patient a post-discharge statement: its cadence starts a new cycle from
    /// one, unless an extraordinary action was already taken (a placement not recalled, a credit report): what to do
    /// about that is the staff's decision, and the answer says so.
    /// </summary>
    /// <param name="dischargeDate">The discharge date being recorded.</param>
    /// <param name="firstStatementAt">The statement that started the notification period so far, if any.</param>
    /// <param name="statementSent">Whether the account has sent the patient any statement.</param>
    /// <param name="extraordinaryActionTaken">Whether an extraordinary collection action stands on the account.</param>
    /// <param name="calendar">The patient's days.</param>
    /// <param name="statementsSent">
    /// The other statements sent so far (the current cycle's): when the one counted so far no longer counts, the earliest
    /// of these sent on or after the discharge date starts the period instead, and no new statement is owed.
    /// </param>
    public static DischargeRecorded AfterDischarge(DateOnly dischargeDate, DateTimeOffset? firstStatementAt, bool statementSent, bool extraordinaryActionTaken,
        PatientCalendar calendar, IEnumerable<DateTimeOffset>? statementsSent = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var counting = firstStatementAt is { } first && StartsWith(dischargeDate, calendar.Today(first)) ? firstStatementAt : null;
        counting ??= (statementsSent ?? []).Where(at => StartsWith(dischargeDate, calendar.Today(at))).Order().Select(at => (DateTimeOffset?)at).FirstOrDefault();
        var owed = counting is null && statementSent;
        // A later statement now starts the period: an action standing was allowed by the earlier start, so it may have
        // come too soon by the new one, and is the staff's to review too.
        var moved = counting is not null && firstStatementAt is not null && counting != firstStatementAt;
        return new DischargeRecorded(counting, owed && !extraordinaryActionTaken, (owed || moved) && extraordinaryActionTaken);
    }
}

/// <param name="FirstStatementAt">The statement that starts the notification period now (null: none yet).</param>
/// <param name="RestartsCadence">The account's cadence starts a new cycle, whose first step is the post-discharge statement.</param>
/// <param name="ActionBeforePeriod">
/// An extraordinary action stands on the account though no post-discharge statement was sent, or was taken when an
/// interim bill counted as the period's start, which a later statement now is: the staff's to review (a recall, then
/// the cadence starts again from a post-discharge statement).
/// </param>
public sealed record DischargeRecorded(DateTimeOffset? FirstStatementAt, bool RestartsCadence, bool ActionBeforePeriod);
