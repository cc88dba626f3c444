namespace Collections.Domain.Compliance;

/// <summary>
/// The numbers of the contact rules. Defaults follow Regulation F, the TCPA and the 501(r) rules for nonprofit
/// hospitals (see docs/compliance.md); every one is configuration (<c>Collections:Compliance</c>), not law in code.
/// </summary>
public sealed record ComplianceRules
{
    /// <summary>At most this many call attempts about one debt in any <see cref="CallWindow"/>.</summary>
    public int MaxCallAttemptsPerDebt { get; init; } = 7;
    public TimeSpan CallWindow { get; init; } = TimeSpan.FromDays(7);
    /// <summary>No call about a debt within this long after a conversation about it.</summary>
    public TimeSpan QuietAfterConversation { get; init; } = TimeSpan.FromDays(7);
    /// <summary>At most this many emails and texts (from the engine or agents) to one person per 24 hours, across all their accounts. Calls have their own limits.</summary>
    public int MaxContactsPerPersonPerDay { get; init; } = 3;
    /// <summary>Contacts only between these local times, in every time zone the guarantor may be in.</summary>
    public TimeOnly WindowStart { get; init; } = new(8, 0);
    public TimeOnly WindowEnd { get; init; } = new(21, 0);
    /// <summary>No extraordinary collection action until this long after the first post-discharge statement.</summary>
    public TimeSpan EcaWaitAfterFirstStatement { get; init; } = TimeSpan.FromDays(120);
    /// <summary>The written notice must precede the first extraordinary action by at least this long.</summary>
    public TimeSpan EcaNoticePeriod { get; init; } = TimeSpan.FromDays(30);
    /// <summary>
    /// Medical debt is not reported to credit bureaus until this many months after the first statement: calendar months,
    /// so a year is the anniversary (a first statement on 1 March 2027 allows reporting on 1 March 2028, not on the 29
    /// February 365 days later).
    /// </summary>
    public int CreditReportingWaitMonths { get; init; } = 12;
    /// <summary>Balances under this are never reported to credit bureaus.</summary>
    public decimal CreditReportingMinimumBalance { get; init; } = 500.00m;
    /// <summary>The one confirmation text after an SMS opt-out must go within this long of the revocation.</summary>
    public TimeSpan OptOutConfirmationWindow { get; init; } = TimeSpan.FromMinutes(5);
}
