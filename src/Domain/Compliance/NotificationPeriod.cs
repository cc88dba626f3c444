namespace Collections.Domain.Compliance;

/// <summary>
/// 501(r)(6)'s notification period: no extraordinary collection action within 120 days of the first billing statement
/// sent after discharge (Treas. Reg. 1.501(r)-6(c)). A statement sent while the patient may still be in the hospital
/// (an admission with no discharge date, or a discharge after the statement) does not start it.
/// </summary>
public static class NotificationPeriod
{
    /// <summary>Whether a statement sent on <paramref name="statementDate"/> is a post-discharge billing statement.</summary>
    public static bool StartsWith(DateOnly? admitDate, DateOnly? dischargeDate, DateOnly statementDate) =>
        dischargeDate is { } discharged ? statementDate >= discharged : admitDate is null;
}
