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
}
