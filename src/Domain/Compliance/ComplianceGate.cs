namespace Collections.Domain.Compliance;

public enum GateVerdict
{
    Allow,
    /// <summary>Not now, but at <see cref="GateDecision.NotBefore"/> (the earliest time every rule allows).</summary>
    Defer,
    Deny,
}

/// <summary>The gate's answer for one contact, with the rule that decided it. Recorded on the account.</summary>
[GenerateSerializer, Immutable, Alias("collections.GateDecision")]
public sealed record GateDecision
{
    [Id(0)] public required GateVerdict Verdict { get; init; }
    /// <summary>A stable code for the deciding rule, e.g. <c>hold.dispute</c>, <c>window.local-time</c>, <c>calls.7-in-7</c>.</summary>
    [Id(1)] public required string Rule { get; init; }
    [Id(2)] public required string Reason { get; init; }
    [Id(3)] public DateTimeOffset? NotBefore { get; init; }

    public static readonly GateDecision Allowed = new() { Verdict = GateVerdict.Allow, Rule = "allowed", Reason = "Every contact rule allows it." };

    /// <summary>
    /// A record of what already happened (a call that took place) is never refused: it is recorded, and the rule it broke
    /// is named so a supervisor can review it. The verdict is Allow; the rule is <c>recorded.</c> and the broken rule.
    /// </summary>
    public static GateDecision RecordedDespite(GateDecision broken) => new()
    {
        Verdict = GateVerdict.Allow,
        Rule = "recorded." + broken.Rule,
        Reason = $"Recorded: the call took place, but it broke a contact rule ({broken.Reason})",
    };

    /// <summary>
    /// The answer to a contact asked again that was already made (the same request id): allowed, and for a call
    /// recorded although it broke a rule, that rule again (<c>recorded.</c> and the rule), so the caller that lost the
    /// first answer keeps the flag for the compliance review.
    /// </summary>
    public static GateDecision MadeEarlier(string? ruleBroken) => ruleBroken is null
        ? Allowed
        : new()
        {
            Verdict = GateVerdict.Allow,
            Rule = "recorded." + ruleBroken,
            Reason = $"Recorded earlier: the call took place, but it broke a contact rule ({ruleBroken}).",
        };

    public static GateDecision Deny(string rule, string reason) => new() { Verdict = GateVerdict.Deny, Rule = rule, Reason = reason };

    public static GateDecision Defer(string rule, string reason, DateTimeOffset notBefore) =>
        new() { Verdict = GateVerdict.Defer, Rule = rule, Reason = reason, NotBefore = notBefore };
}

/// <summary>A contact (or extraordinary action) someone wants to make now.</summary>
public sealed record ContactRequest(AccountKey Account, OutreachAction Action, ContactChannel? Channel, ContactInitiator Initiator);

/// <summary>What the gate needs to know about the person: how they can be reached and what they agreed to.</summary>
public sealed record PersonFacts(
    GuarantorProfile Profile,
    IReadOnlyList<ChannelConsent> ConsentHistory,
    IReadOnlyList<Hold> Holds,
    IReadOnlyList<ContactAttempt> History,
    Representative? Representative = null);

/// <summary>What the gate needs to know about the debt (the account).</summary>
public sealed record DebtFacts(
    IReadOnlyList<Hold> Holds,
    decimal PatientResponsibility,
    DateTimeOffset? FirstStatementAt,
    DateTimeOffset? FinalNoticeAt,
    DateTimeOffset? FinancialAssistanceApprovedAt = null,
    DateTimeOffset? ValidationNoticeAt = null,
    IReadOnlyList<NoticeRecord>? Notices = null)
{
    /// <summary>
    /// A collection agency's validation notice: the first statement about the debt, whether or not it started the 501(r)
    /// period (<see cref="FirstStatementAt"/>, which an interim bill sent during a stay does not).
    /// </summary>
    public DateTimeOffset? ValidationNotice => ValidationNoticeAt ?? FirstStatementAt;
}

/// <summary>What became of a message about the debt, as the outbox knows it (asked before an extraordinary action).</summary>
public enum NoticeState
{
    /// <summary>Queued, not sent yet.</summary>
    Waiting,
    /// <summary>Sent (or delivered), and nothing came back.</summary>
    Sent,
    /// <summary>Came back undeliverable (a bounce, a returned letter) or failed for good.</summary>
    Returned,
    /// <summary>Never sent: cancelled before it went.</summary>
    NotSent,
}

/// <summary>A letter, email or text about the debt and what became of it.</summary>
public sealed record NoticeRecord(OutreachAction Action, ContactChannel Channel, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, NoticeState State);

/// <summary>
/// Decides whether one contact may happen now: allow, defer until a time, or deny, always with the rule that decided.
/// Pure: everything it knows comes in as arguments, including <c>now</c>.
/// </summary>
public static class ComplianceGate
{
    public static GateDecision Check(ContactRequest request, PersonFacts person, DebtFacts debt, ComplianceRules rules, DateTimeOffset now)
    {
        // 0. A represented guarantor (an attorney; the estate of one who died) is never contacted: the representative
        // is, through the channels they can be reached by, at hours of their own zones. Texts and automated calls need a
        // consent the representative never gave. The hold that stood for the representation (attorney, deceased) is
        // what the representative answers; every other hold still stops contact.
        if (person.Representative is { } representative && !IsExtraordinaryAction(request.Action) && request.Action != OutreachAction.WriteOffReview)
        {
            if (request.Channel is ContactChannel.Sms or ContactChannel.AutomatedVoice) return NoAutomated(representative);
            if (request.Action == OutreachAction.OptOutConfirmation)
                return CheckOptOutConfirmation(person, GuarantorRules.CurrentConsents(person.ConsentHistory), rules, now);
            // An agent's call is placed from the guarantor's numbers (call tasks, the worklist, the console): never while
            // represented. A call to the representative is made from their details and logged (a fact) afterwards.
            if (request.Channel is ContactChannel.Voice && request.Initiator is ContactInitiator.Agent or ContactInitiator.Engine)
                return GateDecision.Deny("represented.call-representative", $"The guarantor is represented ({Describe(representative.Kind)}): do not call the guarantor; call the representative recorded on the guarantor.");
            var covered = CoveredHold(representative.Kind);
            // Consent decisions recorded while represented (an opt-out link the representative used) are honoured.
            return Check(request, new PersonFacts(GuarantorRules.ContactProfile(person.Profile, representative), person.ConsentHistory, person.Holds.Where(h => h.Reason != covered).ToList(), person.History),
                debt with { Holds = debt.Holds.Where(h => h.Reason != covered).ToList() }, rules, now);
        }

        // The person's state may tighten the rules; the facility's rule set adds the agency rules.
        var (stateRules, callLimitRule) = rules.ForState(person.Profile.Address.State);
        var ruleSet = rules.RuleSetFor(request.Account.Facility);
        rules = stateRules;

        // 1. Holds stop everything they cover, at once.
        var hold = debt.Holds.Concat(person.Holds).FirstOrDefault(h => h.IsActive);
        if (hold is not null) return HoldDenial(hold, debt.Holds.Contains(hold) ? "account" : "guarantor");

        if (IsExtraordinaryAction(request.Action))
        {
            var eca = CheckExtraordinaryAction(request, person, debt, rules, now);
            if (eca.Verdict == GateVerdict.Allow && ruleSet == RuleSet.Agency && debt.ValidationNotice is { } sent && sent + rules.ValidationPeriod > now)
                return GateDecision.Defer("validation.period", $"A collection agency takes no extraordinary action during the validation period (Regulation F 1006.34; until {sent + rules.ValidationPeriod:yyyy-MM-dd}).", sent + rules.ValidationPeriod);
            return eca;
        }
        // A collection agency's first contact is the validation notice (the first statement); nothing else comes before it.
        if (ruleSet == RuleSet.Agency && debt.ValidationNotice is null && request.Action is not (OutreachAction.PatientStatement or OutreachAction.WriteOffReview or OutreachAction.OptOutConfirmation or OutreachAction.PaymentReceipt))
            return GateDecision.Deny("validation.notice-first", "A collection agency sends the validation notice (the first statement) before any other contact (Regulation F 1006.34).");
        if (request.Action is OutreachAction.WriteOffReview)
            return GateDecision.Allowed; // an internal task, not a contact
        if (request.Channel is not { } channel)
            return GateDecision.Deny("channel.missing", "A contact needs a channel.");

        // 2. The one confirmation text after an SMS opt-out follows its own rule.
        var consents = GuarantorRules.CurrentConsents(person.ConsentHistory);
        if (request.Action is OutreachAction.OptOutConfirmation)
            return CheckOptOutConfirmation(person, consents, rules, now);

        // 3. The channel must exist for this person and be open.
        var unavailable = ChannelUnavailable(channel, person.Profile);
        if (unavailable is not null) return GateDecision.Deny("channel.unavailable", unavailable);
        if (ConsentRefusal(channel, consents) is { } closed) return closed;

        if (channel == ContactChannel.Mail)
            return GateDecision.Allowed; // letters are not time-bound or frequency-capped here
        // A receipt answers what the patient just did (paid): it goes at once, outside the collection limits and hours,
        // through an open channel only (the checks above).
        if (request.Action == OutreachAction.PaymentReceipt)
            return GateDecision.Allowed;

        // 4. Frequency: calls about this debt, then contacts with this person. Contacts stamped a little in the future
        // (another silo's clock runs ahead) happened all the same: they count.
        var countsAgainstLimits = request.Initiator is ContactInitiator.Engine or ContactInitiator.Agent;
        DateTimeOffset? notBefore = null;
        var rule = "";
        var reason = "";
        void Later(DateTimeOffset t, string r, string why)
        {
            if (notBefore is null || t > notBefore) { notBefore = t; rule = r; reason = why; }
        }
        if (countsAgainstLimits && channel is ContactChannel.Voice or ContactChannel.AutomatedVoice)
        {
            var calls = person.History
                .Where(a => a.Account == request.Account && a.CountsAsCallAttempt && a.At > now - rules.CallWindow)
                .Select(a => a.At).Order().ToList();
            if (calls.Count >= rules.MaxCallAttemptsPerDebt)
                Later(calls[calls.Count - rules.MaxCallAttemptsPerDebt] + rules.CallWindow, callLimitRule,
                    $"{calls.Count} call attempts about this debt in the last {rules.CallWindow.TotalDays:0} days; at most {rules.MaxCallAttemptsPerDebt} are allowed"
                    + (callLimitRule == "calls.7-in-7" ? "." : $" in {person.Profile.Address.State} ({rules.StateRules[person.Profile.Address.State!].Source})."));
            var conversation = person.History
                .Where(a => a.Account == request.Account && a.IsCall && a.Outcome == ContactOutcome.RightPartyContact && a.Initiator != ContactInitiator.PatientRequested)
                .Select(a => (DateTimeOffset?)a.At).Max();
            if (conversation is { } talked && now < talked + rules.QuietAfterConversation)
                Later(talked + rules.QuietAfterConversation, "calls.after-conversation",
                    $"A conversation about this debt took place on {talked:yyyy-MM-dd}; no call for {rules.QuietAfterConversation.TotalDays:0} days after one.");
        }
        if (countsAgainstLimits && rules.MaxContactsPerPersonPerDay > 0 && channel is ContactChannel.Email or ContactChannel.Sms)
        {
            var recent = person.History
                .Where(a => a.Channel is ContactChannel.Email or ContactChannel.Sms && a.Initiator is ContactInitiator.Engine or ContactInitiator.Agent
                            && a.Action != OutreachAction.OptOutConfirmation && a.At > now - TimeSpan.FromDays(1))
                .Select(a => a.At).Order().ToList();
            if (recent.Count >= rules.MaxContactsPerPersonPerDay)
                Later(recent[recent.Count - rules.MaxContactsPerPersonPerDay] + TimeSpan.FromDays(1), "person.daily-limit",
                    $"{recent.Count} emails and texts to this person in the last 24 hours; at most {rules.MaxContactsPerPersonPerDay} are allowed.");
        }

        // 5. Local time: inside the window in every time zone the person may be in (checked at the deferred time too):
        // the address's, each phone's area code's, and any zone given explicitly.
        var zones = Zones(person.Profile);
        var candidate = notBefore ?? now;
        if (ContactWindow.EarliestAllowed(candidate, zones, rules.WindowStart, rules.WindowEnd) is not { } windowed) return NoCommonHours(zones, rules);
        if (windowed > candidate)
        {
            if (notBefore is null) { rule = "window.local-time"; reason = $"Outside {rules.WindowStart:HH\\:mm}-{rules.WindowEnd:HH\\:mm} in the guarantor's local time ({string.Join(", ", zones)})."; }
            notBefore = windowed;
        }
        return notBefore is { } t ? GateDecision.Defer(rule, reason, t) : GateDecision.Allowed;
    }

    /// <summary>
    /// The last look at a message about to be sent, which the gate allowed when it was queued (at
    /// <paramref name="queuedAt"/>): what may have changed since about the person (not the debt, which the account
    /// answers for). A channel closed since (an opt-out, a consent withdrawn) or a hold on the person cancels it; so does
    /// a representative recorded since (the message was addressed to the guarantor) and, while one is recorded, any
    /// text or automated call. Outside the person's hours now (a retry after a vendor's error, a backlog) it waits for
    /// the window. A receipt goes whenever its channel is open; the one opt-out confirmation only within its minutes of
    /// the opt-out that still stands; letters are not time-bound. Frequency limits are not asked again: the message
    /// already counts in them.
    /// </summary>
    public static GateDecision AtSend(OutreachAction action, ContactChannel channel, DateTimeOffset queuedAt, PersonFacts person, ComplianceRules rules, DateTimeOffset now)
    {
        var consents = GuarantorRules.CurrentConsents(person.ConsentHistory);
        if (action == OutreachAction.OptOutConfirmation) return OptOutStillFresh(consents, rules, now) ?? GateDecision.Allowed;
        HoldReason? covered = null;
        var profile = person.Profile;
        if (person.Representative is { } representative)
        {
            if (queuedAt < representative.RecordedAt)
                return GateDecision.Deny("represented.after-queued", $"The guarantor is represented ({Describe(representative.Kind)}) since the message was queued to them: contact goes to the representative.");
            if (channel is ContactChannel.Sms or ContactChannel.AutomatedVoice) return NoAutomated(representative);
            covered = CoveredHold(representative.Kind);
            profile = GuarantorRules.ContactProfile(person.Profile, representative);
        }
        if (action != OutreachAction.PaymentReceipt && person.Holds.FirstOrDefault(h => h.IsActive && h.Reason != covered) is { } hold)
            return HoldDenial(hold, "guarantor");
        if (channel == ContactChannel.Mail) return GateDecision.Allowed;
        if (ConsentRefusal(channel, consents) is { } closed) return closed;
        if (action == OutreachAction.PaymentReceipt) return GateDecision.Allowed;
        var stateRules = rules.ForState(profile.Address.State).Rules;
        var zones = Zones(profile);
        return ContactWindow.EarliestAllowed(now, zones, stateRules.WindowStart, stateRules.WindowEnd) switch
        {
            null => NoCommonHours(zones, stateRules),
            { } at when at > now => GateDecision.Defer("window.local-time",
                $"Outside {stateRules.WindowStart:HH\\:mm}-{stateRules.WindowEnd:HH\\:mm} in the guarantor's local time ({string.Join(", ", zones)}) now.", at),
            _ => GateDecision.Allowed,
        };
    }

    private static GateDecision HoldDenial(Hold hold, string onWhom) =>
        GateDecision.Deny($"hold.{Json(hold.Reason)}", $"The {onWhom} is on {Article(Describe(hold.Reason))} {Describe(hold.Reason)} hold ({hold.HoldId}).");

    /// <summary>The channel closed by an opt-out, or a text or automated call without the prior express consent it needs; else null.</summary>
    private static GateDecision? ConsentRefusal(ContactChannel channel, IReadOnlyDictionary<ContactChannel, ChannelConsent> consents)
    {
        if (consents.TryGetValue(channel, out var consent) && consent.Status == ConsentStatus.OptedOut)
            return GateDecision.Deny("channel.opted-out", $"The guarantor opted out of {Describe(channel)} ({consent.Source}, {consent.RecordedAt:yyyy-MM-dd}).");
        if (channel is ContactChannel.Sms or ContactChannel.AutomatedVoice && consent?.Status != ConsentStatus.Granted)
            return GateDecision.Deny("channel.no-consent", $"{Describe(channel)} needs the guarantor's recorded prior express consent.");
        return null;
    }

    private static GateDecision NoAutomated(Representative representative) =>
        GateDecision.Deny("represented.no-automated", $"The guarantor is represented ({Describe(representative.Kind)}): no texts or automated calls; contact goes to the representative by mail, email or an agent's call.");

    private static GateDecision NoCommonHours(IReadOnlyList<string> zones, ComplianceRules rules) =>
        GateDecision.Deny("window.no-common-hours",
            $"The guarantor's time zones ({string.Join(", ", zones)}) share no hour inside {rules.WindowStart:HH\\:mm}-{rules.WindowEnd:HH\\:mm}: no contact until staff correct the address, the phones or the time zone.");

    /// <summary>Why a confirmation text may not follow now (no SMS opt-out stands, or its minutes are over); else null.</summary>
    private static GateDecision? OptOutStillFresh(IReadOnlyDictionary<ContactChannel, ChannelConsent> consents, ComplianceRules rules, DateTimeOffset now)
    {
        if (!consents.TryGetValue(ContactChannel.Sms, out var sms) || sms.Status != ConsentStatus.OptedOut)
            return GateDecision.Deny("opt-out-confirmation.no-opt-out", "A confirmation text only follows an SMS opt-out.");
        if (now - sms.RecordedAt > rules.OptOutConfirmationWindow)
            return GateDecision.Deny("opt-out-confirmation.too-late", $"The confirmation must go within {rules.OptOutConfirmationWindow.TotalMinutes:0} minutes of the opt-out.");
        return null;
    }

    /// <summary>The hold a representation answers: contact goes to the representative despite it.</summary>
    public static HoldReason CoveredHold(RepresentativeKind kind) => kind == RepresentativeKind.Attorney ? HoldReason.Attorney : HoldReason.Deceased;

    public static bool IsExtraordinaryAction(OutreachAction action) => action is OutreachAction.AgencyPlacement or OutreachAction.CreditReporting;

    private static GateDecision CheckExtraordinaryAction(ContactRequest request, PersonFacts person, DebtFacts debt, ComplianceRules rules, DateTimeOffset now)
    {
        if (debt.FinancialAssistanceApprovedAt is { } approved)
            return GateDecision.Deny("eca.financial-assistance", $"Financial assistance was approved on {approved:yyyy-MM-dd}: no extraordinary collection action (501(r)).");
        if (debt.FirstStatementAt is not { } first)
            return GateDecision.Deny("eca.no-statement", "No extraordinary collection action before the first post-discharge statement.");
        if (debt.FinalNoticeAt is not { } notice)
            return GateDecision.Deny("eca.no-notice", "No extraordinary collection action without the written notice (final notice) first.");
        // The bureaus' floor is on the balance first reported: what is owed when this report would go.
        if (request.Action == OutreachAction.CreditReporting && debt.PatientResponsibility < rules.CreditReportingMinimumBalance)
            return GateDecision.Deny("eca.credit-floor", $"Medical balances under {rules.CreditReportingMinimumBalance:0.00} are never reported to credit bureaus (the bureaus' floor is on the balance first reported).");
        // What became of the notices (when the outbox was asked): the written notice must have gone and not come back;
        // a credit report needs a conversation with the patient or a letter or email about the debt that went at least
        // 14 days before with nothing returned (Regulation F, 12 CFR 1006.30(a)).
        var creditWait = DateTimeOffset.MinValue;
        var noticeGiven = notice; // the notice period runs from when it went, once the outbox says so
        if (debt.Notices is { } notices)
        {
            var finalNotices = notices.Where(n => n.Action == OutreachAction.FinalNotice && n.CreatedAt >= notice - TimeSpan.FromMinutes(5)).ToList();
            if (finalNotices.Count > 0 && finalNotices.All(n => n.State is NoticeState.Returned or NoticeState.NotSent))
                return GateDecision.Deny("eca.notice-undelivered",
                    $"The written notice (final notice) of {notice:yyyy-MM-dd} came back undeliverable or was never sent: no extraordinary action on it (the step is skipped; the account is left to staff).");
            if (finalNotices.Count > 0 && !finalNotices.Any(n => n.State == NoticeState.Sent))
                return GateDecision.Defer("eca.notice-not-sent", "The written notice (final notice) has not been sent yet.", now + TimeSpan.FromHours(1));
            if (finalNotices.Where(n => n.State == NoticeState.Sent).Select(n => n.SentAt).Min() is { } went && went > notice) noticeGiven = went;
            var spoken = person.History.Any(a => a.Account == request.Account && a.IsCall && a.Outcome == ContactOutcome.RightPartyContact);
            if (request.Action == OutreachAction.CreditReporting && !spoken)
            {
                var reached = notices.Where(n => n is { State: NoticeState.Sent, SentAt: not null, Channel: ContactChannel.Mail or ContactChannel.Email }
                                                 && n.Action != OutreachAction.PaymentReceipt).ToList();
                if (reached.Count == 0)
                    return GateDecision.Deny("credit.no-notice-reached",
                        "No letter or email about this debt reached the patient (each came back, or none went) and no one has spoken with them: no credit report (the step is skipped; the account is left to staff).");
                creditWait = reached.Min(n => n.SentAt!.Value) + rules.CreditReportingUndeliverableWait;
            }
        }
        var earliest = new[]
        {
            (creditWait, "credit.undeliverable-wait", $"A credit report waits {rules.CreditReportingUndeliverableWait.TotalDays:0} days after the first letter or email about the debt, for a notice that it could not be delivered (12 CFR 1006.30(a))."),
            (first + rules.EcaWaitAfterFirstStatement, "eca.120-days", $"No extraordinary collection action within {rules.EcaWaitAfterFirstStatement.TotalDays:0} days of the first statement ({first:yyyy-MM-dd})."),
            (Cadence.FinalNotices.ActionsFrom(noticeGiven, rules), "eca.notice-period",
                $"The written notice ({noticeGiven:yyyy-MM-dd}) must come at least {rules.EcaNoticePeriod.TotalDays:0} days before the action, which waits until the deadline it named ({Cadence.FinalNotices.Deadline(notice, rules):yyyy-MM-dd}) has passed."),
            (request.Action == OutreachAction.CreditReporting ? first.AddMonths(rules.CreditReportingWaitMonths) : DateTimeOffset.MinValue, "eca.credit-wait", $"Medical debt is not reported until {rules.CreditReportingWaitMonths} months after the first statement ({first.AddMonths(rules.CreditReportingWaitMonths):yyyy-MM-dd})."),
        }.MaxBy(e => e.Item1);
        return earliest.Item1 > now ? GateDecision.Defer(earliest.Item2, earliest.Item3, earliest.Item1) : GateDecision.Allowed;
    }

    private static GateDecision CheckOptOutConfirmation(PersonFacts person, IReadOnlyDictionary<ContactChannel, ChannelConsent> consents, ComplianceRules rules, DateTimeOffset now)
    {
        if (OptOutStillFresh(consents, rules, now) is { } refused) return refused;
        var sms = consents[ContactChannel.Sms];
        if (person.History.Any(a => a.Action == OutreachAction.OptOutConfirmation && a.At >= sms.RecordedAt))
            return GateDecision.Deny("opt-out-confirmation.already-sent", "One confirmation text was already sent for this opt-out.");
        if (!person.Profile.Phones.Any(p => p.Type == PhoneType.Mobile))
            return GateDecision.Deny("channel.unavailable", "There is no mobile number to confirm to.");
        return GateDecision.Allowed;
    }

    private static string? ChannelUnavailable(ContactChannel channel, GuarantorProfile profile) => channel switch
    {
        ContactChannel.Mail when profile.AddressNeedsReview => "The mailing address has no ZIP code: letters wait until staff complete it.",
        ContactChannel.Email when profile.Email is null => "The guarantor has no email address.",
        ContactChannel.Sms when !profile.Phones.Any(p => p.Type == PhoneType.Mobile) => "The guarantor has no mobile number.",
        ContactChannel.Voice or ContactChannel.AutomatedVoice when profile.Phones.Count == 0 => "The guarantor has no phone number.",
        ContactChannel.Voice or ContactChannel.AutomatedVoice when !profile.Phones.Any(p => p.MayBeCalled) =>
            "The guarantor's only number is a workplace whose employer prohibits collection calls there.",
        _ => null,
    };

    /// <summary>
    /// Every zone the person may be in: the address's (every plausible one where the ZIP area straddles a line; every
    /// US zone when the address does not say), each phone's area code's (a mobile number moves with its owner), and a
    /// zone given explicitly. A contact is allowed only at hours allowed in all of them.
    /// </summary>
    public static IReadOnlyList<string> Zones(GuarantorProfile profile)
    {
        var zones = new List<string>();
        if (profile.TimeZone.Source == TimeZoneSource.Given)
        {
            zones.Add(profile.TimeZone.Zone!);
            zones.AddRange(Zones(UsTimeZones.ResolveAddress(profile.Address.State, profile.Address.Zip)));
        }
        else zones.AddRange(Zones(profile.TimeZone));
        foreach (var phone in profile.Phones) zones.AddRange(NanpAreaCodes.ZonesOf(phone.Number ?? ""));
        return zones.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The zones of one resolution: the known one, every plausible one, or (nothing known) every US zone.</summary>
    public static IReadOnlyList<string> Zones(TimeZoneResolution resolution) =>
        resolution.Zone is { } zone ? [zone]
        : resolution.PlausibleZones.Count > 0 ? resolution.PlausibleZones
        : UsTimeZones.AllZones.ToList();

    public static string Json(HoldReason reason) => char.ToLowerInvariant(reason.ToString()[0]) + reason.ToString()[1..];

    private static string Describe(HoldReason reason) => reason switch
    {
        HoldReason.CeaseCommunication => "cease-communication",
        HoldReason.InsurancePending => "insurance-pending",
        HoldReason.FinancialAssistancePending => "financial-assistance",
        HoldReason.PatientProviderDispute => "patient-provider dispute",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private static string Article(string word) => "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";

    private static string Describe(RepresentativeKind kind) => kind == RepresentativeKind.Attorney ? "by an attorney" : "by the estate's representative";

    private static string Describe(ContactChannel channel) => channel switch
    {
        ContactChannel.Sms => "Text messages",
        ContactChannel.AutomatedVoice => "Automated calls",
        ContactChannel.Voice => "calls",
        ContactChannel.Email => "email",
        _ => "mail",
    };
}

/// <summary>Local-time contact windows across one or more time zones.</summary>
public static class ContactWindow
{
    public static bool IsInside(DateTimeOffset instant, IEnumerable<string> zones, TimeOnly start, TimeOnly end) =>
        zones.All(z => Inside(Local(instant, z), start, end));

    /// <summary>The earliest instant at or after <paramref name="from"/> that is inside the window in every zone; null when the zones share none.</summary>
    public static DateTimeOffset? EarliestAllowed(DateTimeOffset from, IReadOnlyList<string> zones, TimeOnly start, TimeOnly end)
    {
        var candidate = from;
        for (var i = 0; i < 64; i++)
        {
            var moved = false;
            foreach (var zone in zones)
            {
                var local = Local(candidate, zone);
                if (Inside(local, start, end)) continue;
                var day = local.TimeOfDay < start.ToTimeSpan() ? local.Date : local.Date.AddDays(1);
                var next = ToInstant(day + start.ToTimeSpan(), zone);
                if (next > candidate) { candidate = next; moved = true; }
            }
            if (!moved && IsInside(candidate, zones, start, end)) return candidate;
            if (!moved) candidate = candidate.AddMinutes(1);
        }
        return null; // the zones share no instant inside the window (a zone given far from the address and phones)
    }

    private static bool Inside(DateTime local, TimeOnly start, TimeOnly end)
    {
        var t = TimeOnly.FromDateTime(local);
        return t >= start && t < end;
    }

    private static DateTime Local(DateTimeOffset instant, string zone) =>
        TimeZoneInfo.ConvertTime(instant, TimeZoneInfo.FindSystemTimeZoneById(zone)).DateTime;

    private static DateTimeOffset ToInstant(DateTime local, string zone)
    {
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
        // A local time skipped by a daylight-saving jump does not exist: take the first valid minute after it.
        while (tz.IsInvalidTime(local)) local = local.AddMinutes(1);
        return new DateTimeOffset(local, tz.GetUtcOffset(local));
    }
}
