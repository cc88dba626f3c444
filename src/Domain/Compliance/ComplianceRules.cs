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
    /// <summary>
    /// Before a first credit report without a conversation, a letter or email about the debt must have gone this long
    /// before, with no notice that it could not be delivered (Regulation F, 12 CFR 1006.30(a)(1)(ii)).
    /// </summary>
    public TimeSpan CreditReportingUndeliverableWait { get; init; } = TimeSpan.FromDays(14);
    /// <summary>Balances under this are never reported to credit bureaus.</summary>
    public decimal CreditReportingMinimumBalance { get; init; } = 500.00m;
    /// <summary>The one confirmation text after an SMS opt-out must go within this long of the revocation.</summary>
    public TimeSpan OptOutConfirmationWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The rule set of facilities not named in <see cref="FacilityRuleSets"/>.</summary>
    public RuleSet DefaultRuleSet { get; init; } = RuleSet.Agency;

    /// <summary>Per facility: a hospital collecting its own bills (firstParty) or a collection agency working them (agency).</summary>
    public Dictionary<string, RuleSet> FacilityRuleSets { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A collection agency's validation period (Regulation F, 12 CFR 1006.34): 30 days after the consumer receives the
    /// validation notice, counted as 35 days from sending it (5 days for the mail). No credit reporting or placement before
    /// it ends, and no contact other than the notice before the notice.
    /// </summary>
    public TimeSpan ValidationPeriod { get; init; } = TimeSpan.FromDays(35);

    /// <summary>
    /// State rules that are stricter than the defaults, by the two-letter state of the guarantor's address: data, not
    /// code (add a state in <c>Collections:Compliance:StateRules:XX</c>). Shipped: Massachusetts, whose debt-collection
    /// regulation (940 CMR 7.04(1)(f)) allows a creditor at most two telephone communications per seven days per debt.
    /// </summary>
    public Dictionary<string, StateRules> StateRules { get; init; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["MA"] = new StateRules { MaxCallAttemptsPerDebt = 2, CallWindowDays = 7, Source = "940 CMR 7.04(1)(f)" },
    };

    public RuleSet RuleSetFor(string facility) => FacilityRuleSets.TryGetValue(facility, out var set) ? set : DefaultRuleSet;

    /// <summary>These rules with the state's stricter ones applied (a state can only tighten them), and the call-limit rule code that results.</summary>
    public (ComplianceRules Rules, string CallLimitRule) ForState(string? state)
    {
        if (state is null || !StateRules.TryGetValue(state, out var local)) return (this, "calls.7-in-7");
        var max = local.MaxCallAttemptsPerDebt is { } m ? Math.Min(m, MaxCallAttemptsPerDebt) : MaxCallAttemptsPerDebt;
        var window = local.CallWindowDays is { } d ? TimeSpan.FromDays(Math.Max(d, CallWindow.TotalDays)) : CallWindow;
        var start = local.WindowStart is { } s && s > WindowStart ? s : WindowStart;
        var end = local.WindowEnd is { } e && e < WindowEnd ? e : WindowEnd;
        var tighter = max != MaxCallAttemptsPerDebt || window != CallWindow;
        return (this with { MaxCallAttemptsPerDebt = max, CallWindow = window, WindowStart = start, WindowEnd = end },
            tighter ? $"calls.state-{state.ToLowerInvariant()}" : "calls.7-in-7");
    }
}

/// <summary>Whose rules a facility collects under.</summary>
public enum RuleSet
{
    /// <summary>The hospital collects its own bills: TCPA, 501(r), state law and the engine's own limits.</summary>
    FirstParty,
    /// <summary>A collection agency: the above, and Regulation F's validation notice and period.</summary>
    Agency,
}

/// <summary>One state's stricter contact rules (any left out keep the defaults).</summary>
public sealed record StateRules
{
    public int? MaxCallAttemptsPerDebt { get; init; }
    public int? CallWindowDays { get; init; }
    public TimeOnly? WindowStart { get; init; }
    public TimeOnly? WindowEnd { get; init; }
    /// <summary>Where the rule comes from, shown in the reason (e.g. "940 CMR 7.04(1)(f)").</summary>
    public string? Source { get; init; }
}
