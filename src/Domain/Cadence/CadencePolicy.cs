namespace Collections.Domain.Cadence;

/// <summary>What a step's day counts from.</summary>
public enum CadenceAnchor
{
    /// <summary>Days since the first patient statement (the day the patient's share became known).</summary>
    FirstStatement,
    /// <summary>Days past the statement's due date (<see cref="CadencePolicy.DueDays"/> after it).</summary>
    PastDue,
}

/// <summary>One step of a cadence: on a day, if its conditions hold, take an action through a channel (or its fallback).</summary>
[GenerateSerializer, Immutable, Alias("collections.CadenceStep")]
public sealed record CadenceStep
{
    /// <summary>Unique within the policy, stable across versions (so progress carries over a policy change), e.g. <c>reminder-15</c>.</summary>
    [Id(0)] public required string StepId { get; init; }
    [Id(1)] public required int Day { get; init; }
    [Id(2)] public CadenceAnchor Anchor { get; init; } = CadenceAnchor.FirstStatement;
    [Id(3)] public required OutreachAction Action { get; init; }
    /// <summary>The channel; null means the guarantor's preferred channel (for reminders).</summary>
    [Id(4)] public ContactChannel? Channel { get; init; }
    /// <summary>Used when the first channel is unavailable, opted out or lacks consent.</summary>
    [Id(5)] public ContactChannel? FallbackChannel { get; init; }
    /// <summary>The step only runs when the patient owes at least this much.</summary>
    [Id(6)] public decimal? MinimumBalance { get; init; }
}

/// <summary>Which accounts a policy is for. A null bound does not restrict.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountSegment")]
public sealed record AccountSegment
{
    [Id(0)] public decimal? MinimumBalance { get; init; }
    [Id(1)] public decimal? MaximumBalance { get; init; }
    /// <summary>True: self-pay accounts only; false: insured accounts only; null: both.</summary>
    [Id(2)] public bool? SelfPay { get; init; }
    /// <summary>
    /// Score band: the account's payment-likelihood score (0-1) must be at least this. A policy with a score bound
    /// never applies to an account that has no score yet.
    /// </summary>
    [Id(3)] public double? MinimumScore { get; init; }
    /// <summary>Score band: the score must be below this (exclusive, so bands can meet without overlapping).</summary>
    [Id(4)] public double? MaximumScore { get; init; }

    public bool HasScoreBand => MinimumScore is not null || MaximumScore is not null;

    public bool Matches(decimal patientResponsibility, bool selfPay, double? score = null) =>
        (MinimumBalance is null || patientResponsibility >= MinimumBalance)
        && (MaximumBalance is null || patientResponsibility <= MaximumBalance)
        && (SelfPay is null || SelfPay == selfPay)
        && (!HasScoreBand || score is { } s && (MinimumScore is null || s >= MinimumScore) && (MaximumScore is null || s < MaximumScore));
}

/// <summary>
/// A follow-up cadence, as data: versioned, per facility (<c>*</c> for every facility) and account segment. When
/// several policies match an account, the highest <see cref="Priority"/> wins, and a facility's own policy wins over
/// <c>*</c> at equal priority.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.CadencePolicy")]
public sealed record CadencePolicy
{
    [Id(0)] public required string PolicyId { get; init; }
    [Id(1)] public int Version { get; init; }
    [Id(2)] public required string Name { get; init; }
    [Id(3)] public string Facility { get; init; } = "*";
    [Id(4)] public AccountSegment Segment { get; init; } = new();
    [Id(5)] public int Priority { get; init; }
    /// <summary>Days from the statement to its due date, for steps anchored on <see cref="CadenceAnchor.PastDue"/>.</summary>
    [Id(6)] public int DueDays { get; init; } = 30;
    [Id(7)] public required IReadOnlyList<CadenceStep> Steps { get; init; }
    [Id(8)] public DateTimeOffset SavedAt { get; init; }
    [Id(9)] public string? SavedBy { get; init; }
    /// <summary>
    /// The share of accounts (0 to 0.5) kept as a control group: by a stable hash of the account and the policy id,
    /// they get only <see cref="BaselineActions"/>, so the data team can measure what the rest of the outreach adds.
    /// </summary>
    [Id(10)] public decimal ControlShare { get; init; }
    /// <summary>What a control account still gets (default: statements only; every other step is skipped for it).</summary>
    [Id(11)] public IReadOnlyList<OutreachAction> BaselineActions { get; init; } = [OutreachAction.PatientStatement];

    /// <summary>"policyId v3": recorded with every action the policy drove.</summary>
    public string Reference => $"{PolicyId} v{Version}";

    /// <summary>The step's day counted from the first statement.</summary>
    public int DayOf(CadenceStep step) => step.Anchor == CadenceAnchor.PastDue ? DueDays + step.Day : step.Day;

    public IEnumerable<CadenceStep> StepsInOrder => Steps.OrderBy(DayOf);
}

public static class CadencePolicies
{
    public const int MaxDay = 3650;

    /// <summary>The standard cadence (the domain notes' "what a cadence usually looks like").</summary>
    public static CadencePolicy Standard => new()
    {
        PolicyId = "standard",
        Version = 1,
        Name = "Standard self-pay follow-up",
        Steps =
        [
            new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "reminder-15", Day = 15, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "reminder-30", Day = 30, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "call-45", Day = 45, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice, MinimumBalance = 200.00m },
            new CadenceStep { StepId = "final-notice", Day = 90, Action = OutreachAction.FinalNotice, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "agency", Day = 120, Action = OutreachAction.AgencyPlacement },
        ],
    };

    /// <summary>Balances too small to chase hard: fewer contacts, then a write-off review.</summary>
    public static CadencePolicy SmallBalance => new()
    {
        PolicyId = "small-balance",
        Version = 1,
        Name = "Small balance",
        Priority = 10,
        Segment = new AccountSegment { MaximumBalance = 24.99m },
        Steps =
        [
            new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "reminder-30", Day = 30, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "final-notice", Day = 60, Action = OutreachAction.Letter, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "write-off-review", Day = 90, Action = OutreachAction.WriteOffReview },
        ],
    };

    /// <summary>
    /// Likely payers (score 0.6 and up): a statement, a text and an email, and no call: effort goes where it pays.
    /// The written notice and placement stay for those who still do not pay.
    /// </summary>
    public static CadencePolicy LikelyPayer => new()
    {
        PolicyId = "likely-payer",
        Version = 1,
        Name = "Likely to pay: statement and messages, no call",
        Priority = 5,
        Segment = new AccountSegment { MinimumScore = 0.6 },
        Steps =
        [
            new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "text-10", Day = 10, Action = OutreachAction.SmsReminder, Channel = ContactChannel.Sms, FallbackChannel = ContactChannel.Email },
            new CadenceStep { StepId = "reminder-25", Day = 25, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "final-notice", Day = 90, Action = OutreachAction.FinalNotice, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "agency", Day = 120, Action = OutreachAction.AgencyPlacement },
        ],
    };

    /// <summary>Unlikely payers with a high balance (score below 0.3, $1,000 or more): an early call task, and a second one.</summary>
    public static CadencePolicy EarlyCall => new()
    {
        PolicyId = "early-call",
        Version = 1,
        Name = "Unlikely to pay, high balance: early call",
        Priority = 6,
        Segment = new AccountSegment { MaximumScore = 0.3, MinimumBalance = 1000.00m },
        Steps =
        [
            new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "call-10", Day = 10, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice },
            new CadenceStep { StepId = "reminder-20", Day = 20, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "call-35", Day = 35, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice },
            new CadenceStep { StepId = "final-notice", Day = 90, Action = OutreachAction.FinalNotice, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "agency", Day = 120, Action = OutreachAction.AgencyPlacement },
        ],
    };

    /// <summary>Very unlikely payers with a small balance (score below 0.1, under $100): a statement, one reminder, then write-off review.</summary>
    public static CadencePolicy WriteOffReview => new()
    {
        PolicyId = "write-off-review",
        Version = 1,
        Name = "Very unlikely to pay, small balance: write-off review",
        Priority = 20,
        Segment = new AccountSegment { MaximumScore = 0.1, MaximumBalance = 99.99m },
        Steps =
        [
            new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
            new CadenceStep { StepId = "reminder-30", Day = 30, Action = OutreachAction.EmailReminder, Channel = null, FallbackChannel = ContactChannel.Mail },
            new CadenceStep { StepId = "write-off-review", Day = 45, Action = OutreachAction.WriteOffReview },
        ],
    };

    /// <summary>The policies the engine ships with, in force until a supervisor saves a version of their own.</summary>
    public static IReadOnlyList<CadencePolicy> Shipped => [Standard, SmallBalance, LikelyPayer, EarlyCall, WriteOffReview];

    /// <summary>
    /// The policy for an account: highest priority first, then the facility's own over the shared one, then by id.
    /// <paramref name="score"/> is the account's payment-likelihood score (null if not scored: score-band policies do not apply).
    /// </summary>
    public static CadencePolicy? Select(IEnumerable<CadencePolicy> policies, string facility, decimal patientResponsibility, bool selfPay, double? score = null) =>
        policies
            .Where(p => (p.Facility == "*" || p.Facility == facility) && p.Segment.Matches(patientResponsibility, selfPay, score))
            .OrderByDescending(p => p.Priority)
            .ThenByDescending(p => p.Facility == facility)
            .ThenBy(p => p.PolicyId, StringComparer.Ordinal)
            .FirstOrDefault();

    /// <summary>
    /// Every mistake in a policy a supervisor wants to save, each naming its place, checked against the compliance
    /// rules in force (their defaults when not given).
    /// </summary>
    public static IReadOnlyList<DomainError> Validate(CadencePolicy? policy, Compliance.ComplianceRules? rules = null)
    {
        rules ??= new Compliance.ComplianceRules();
        var noticeDays = (int)Math.Ceiling(rules.EcaNoticePeriod.TotalDays);
        var waitDays = (int)Math.Ceiling(rules.EcaWaitAfterFirstStatement.TotalDays);
        var creditDays = FewestDays(rules.CreditReportingWaitMonths);
        var errors = new ErrorList();
        if (policy is null)
        {
            errors.Invalid("", "body.required", "The policy is required.");
            return errors.Errors;
        }
        if (!Identifiers.IsAccountNumber(policy.PolicyId))
            errors.Invalid("policyId", "policy-id.invalid", "The policy id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        Text.Require(policy.Name, "name", 100, errors);
        if (policy.Facility != "*" && !Identifiers.IsFacility(policy.Facility))
            errors.Invalid("facility", "facility.invalid", "The facility must be a facility code or * for every facility.");
        if (policy.DueDays is < 0 or > 365)
            errors.Invalid("dueDays", "due-days.out-of-range", "dueDays must be between 0 and 365.");
        CheckMoney(policy.Segment.MinimumBalance, "segment.minimumBalance", errors);
        CheckMoney(policy.Segment.MaximumBalance, "segment.maximumBalance", errors);
        if (policy.Segment is { MinimumBalance: { } min, MaximumBalance: { } max } && min > max)
            errors.Invalid("segment", "segment.empty", "The segment's minimum balance is above its maximum.");
        if (policy.Segment.MinimumScore is { } minScore && (minScore < 0 || minScore > 1 || double.IsNaN(minScore)))
            errors.Invalid("segment.minimumScore", "score.out-of-range", "A score bound is a probability between 0 and 1.");
        if (policy.Segment.MaximumScore is { } maxScore && (maxScore < 0 || maxScore > 1 || double.IsNaN(maxScore)))
            errors.Invalid("segment.maximumScore", "score.out-of-range", "A score bound is a probability between 0 and 1.");
        if (policy.Segment is { MinimumScore: { } low, MaximumScore: { } high } && low >= high)
            errors.Invalid("segment", "segment.empty-score-band", "The segment's minimum score must be below its maximum score.");
        if (policy.ControlShare is < 0 or > 0.5m)
            errors.Invalid("controlShare", "control-share.out-of-range", "controlShare must be between 0 and 0.5 (half the accounts).");
        if (policy.BaselineActions is null)
            errors.Invalid("baselineActions", "baseline-actions.required", "baselineActions lists what control accounts still get (for example patientStatement).");
        if (policy.Steps is null || policy.Steps.Count == 0)
        {
            errors.Invalid("steps", "steps.required", "A policy needs at least one step.");
            return errors.Errors;
        }
        var seen = new HashSet<string>();
        for (var i = 0; i < policy.Steps.Count; i++)
        {
            var step = policy.Steps[i];
            var at = $"steps[{i}]";
            if (step is null) { errors.Invalid(at, "step.required", "A step is missing."); continue; }
            if (!Identifiers.IsAccountNumber(step.StepId))
                errors.Invalid($"{at}.stepId", "step-id.invalid", "The step id must be 1 to 40 letters, digits, '-', '_' or '.'.");
            else if (!seen.Add(step.StepId))
                errors.Invalid($"{at}.stepId", "step-id.duplicate", $"The step id '{step.StepId}' is used twice.");
            if (step.Day is < 0 or > MaxDay)
                errors.Invalid($"{at}.day", "day.out-of-range", $"The day must be between 0 and {MaxDay}.");
            CheckMoney(step.MinimumBalance, $"{at}.minimumBalance", errors);
            if (ChannelProblem(step.Action, step.Channel, allowPreferred: true) is { } problem)
                errors.Invalid($"{at}.channel", "channel.invalid-for-action", problem);
            if (step.FallbackChannel is { } fallback && ChannelProblem(step.Action, fallback, allowPreferred: false) is { } fallbackProblem)
                errors.Invalid($"{at}.fallbackChannel", "channel.invalid-for-action", fallbackProblem);
        }
        var steps = policy.Steps.Where(s => s is not null).ToList();
        var notice = steps.Where(s => s.Action == OutreachAction.FinalNotice).Select(policy.DayOf).DefaultIfEmpty(-1).Min();
        foreach (var eca in steps.Where(s => ComplianceGateActions.IsExtraordinary(s.Action)))
        {
            var i = policy.Steps.ToList().IndexOf(eca);
            if (notice < 0)
                errors.Invalid($"steps[{i}]", "eca.no-notice", "An agency placement or credit report needs a final-notice step (the written notice) before it.");
            else if (policy.DayOf(eca) < notice + noticeDays)
                errors.Invalid($"steps[{i}].day", "eca.notice-too-late", $"The final notice (day {notice}) must come at least {noticeDays} days before this extraordinary action (day {policy.DayOf(eca)}).");
            else if (policy.DayOf(eca) < waitDays)
                errors.Invalid($"steps[{i}].day", "eca.too-early", $"No extraordinary collection action before day {waitDays} after the first statement (501(r)).");
            else if (eca.Action == OutreachAction.CreditReporting && policy.DayOf(eca) < creditDays)
                errors.Invalid($"steps[{i}].day", "eca.credit-too-early",
                    $"Medical debt is not reported to the credit bureaus until {rules.CreditReportingWaitMonths} months after the first statement: put the credit report at day {creditDays} or later (the gate would hold it until then).");
        }
        return errors.Errors;
    }

    /// <summary>
    /// The fewest days <paramref name="months"/> months after a first statement can be, as the gate counts them (the
    /// same day of the month, or the month's last): 365 for 12 (from 29 February), 181 for 6. A step earlier than this
    /// is held by the gate for every account.
    /// </summary>
    public static int FewestDays(int months)
    {
        var fewest = int.MaxValue;
        for (var day = new DateOnly(2024, 1, 1); day < new DateOnly(2028, 1, 1); day = day.AddDays(1)) // a leap year and three others
            fewest = Math.Min(fewest, day.AddMonths(months).DayNumber - day.DayNumber);
        return fewest;
    }

    /// <summary>Which channels an action may use; null if the combination is fine.</summary>
    public static string? ChannelProblem(OutreachAction action, ContactChannel? channel, bool allowPreferred) => action switch
    {
        OutreachAction.PatientStatement or OutreachAction.FinalNotice or OutreachAction.Letter when channel is not (ContactChannel.Mail or ContactChannel.Email)
            => $"{action} goes by mail (or email).",
        OutreachAction.EmailReminder or OutreachAction.SmsReminder or OutreachAction.InstallmentReminder when channel is null && allowPreferred => null,
        OutreachAction.EmailReminder or OutreachAction.SmsReminder or OutreachAction.InstallmentReminder when channel is null or ContactChannel.Voice or ContactChannel.AutomatedVoice
            => "A reminder goes by email, text or mail (leave the channel out for the guarantor's preferred one).",
        OutreachAction.CallTask when channel is not (ContactChannel.Voice or ContactChannel.AutomatedVoice) => "A call task uses voice or automatedVoice.",
        OutreachAction.AgencyPlacement or OutreachAction.CreditReporting or OutreachAction.WriteOffReview when channel is not null
            => $"{action} is not a contact: leave the channel out.",
        OutreachAction.OptOutConfirmation => "The opt-out confirmation is not a cadence step.",
        OutreachAction.PaymentReceipt => "A payment receipt is not a cadence step: it follows each card payment.",
        _ => null,
    };

    private static void CheckMoney(decimal? amount, string field, ErrorList errors)
    {
        if (amount is { } a && (a < 0 || decimal.Round(a, 2) != a || a > Money.MaxEntryAmount))
            errors.Invalid(field, "amount.invalid", "The amount must be zero or positive, with at most two decimals.");
    }
}

/// <summary>Which actions are extraordinary collection actions under 501(r).</summary>
public static class ComplianceGateActions
{
    public static bool IsExtraordinary(OutreachAction action) => Compliance.ComplianceGate.IsExtraordinaryAction(action);
}
