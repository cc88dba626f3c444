using Collections.Domain;
using Collections.Domain.Compliance;
using CsCheck;
using static Collections.Domain.Tests.ComplianceGateTests;

namespace Collections.Domain.Tests;

/// <summary>
/// Random histories and clocks: whatever sequence of time passing, holds, consents, STOP replies and contact attempts
/// happens, every contact the gate allowed must satisfy every rule, checked afterwards by an independent oracle.
/// </summary>
public sealed class ComplianceGateProperties
{
    private enum EventKind { Wait, PlaceHold, ReleaseHold, GrantSms, StopReply, OptOutEmail, Contact, Conversation }

    private sealed record Event(EventKind Kind, int Minutes, int Debt, ContactChannel Channel, OutreachAction Action, ContactInitiator By, HoldReason Reason, bool GuarantorHold);

    private static readonly ContactChannel[] Channels = [ContactChannel.Mail, ContactChannel.Email, ContactChannel.Sms, ContactChannel.Voice, ContactChannel.AutomatedVoice];

    private static readonly Gen<Event> GenEvent =
        from kind in Gen.Frequency((6, Gen.Const(EventKind.Wait)), (1, Gen.Const(EventKind.PlaceHold)), (1, Gen.Const(EventKind.ReleaseHold)),
                                   (1, Gen.Const(EventKind.GrantSms)), (1, Gen.Const(EventKind.StopReply)), (1, Gen.Const(EventKind.OptOutEmail)),
                                   (10, Gen.Const(EventKind.Contact)), (1, Gen.Const(EventKind.Conversation)))
        from minutes in Gen.Frequency((3, Gen.Int[1, 120]), (2, Gen.Int[120, 60 * 24]), (1, Gen.Int[60 * 24, 60 * 24 * 9]))
        from debt in Gen.Int[0, 2]
        from channel in Gen.OneOf(Channels)
        from eca in Gen.Int[0, 9]
        from initiator in Gen.OneOf(ContactInitiator.Engine, ContactInitiator.Agent, ContactInitiator.PatientRequested, ContactInitiator.Inbound)
        from reason in Gen.Enum<HoldReason>()
        from onGuarantor in Gen.Bool
        select new Event(kind, minutes, debt, channel,
            eca == 0 ? OutreachAction.AgencyPlacement
            : channel is ContactChannel.Voice or ContactChannel.AutomatedVoice ? OutreachAction.CallTask
            : channel is ContactChannel.Mail ? OutreachAction.FinalNotice
            : OutreachAction.EmailReminder,
            initiator, reason, onGuarantor);

    /// <remarks>
    /// Under the first-party rule set: the first statement is always long past here, so the agency set's own two rules
    /// (validation notice first, its 35 days) could not fire; they have unit tests of their own.
    /// </remarks>
    [Fact]
    public void No_sequence_of_events_makes_the_gate_allow_a_contact_that_breaks_a_rule()
    {
        Gen.Select(GenEvent.Array[1, 80], Gen.OneOf<string?>("America/Chicago", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu", null), Gen.Int[0, 60 * 24], Gen.Int[-1, 60])
            .Sample((events, zone, startMinute, noticeDaysAgo) => Simulate(events, zone, startMinute, noticeDaysAgo, ComplianceGateTests.Rules), iter: 4000);

        // Not vacuous: the runs allowed many contacts of every kind, and deferred and denied many others.
        Assert.True(_allowedCalls > 500, $"only {_allowedCalls} calls were allowed");
        Assert.True(_allowedTexts > 200, $"only {_allowedTexts} texts were allowed");
        Assert.True(_allowedEca > 50, $"only {_allowedEca} extraordinary actions were allowed");
        Assert.True(_refused > 5000, $"only {_refused} contacts were deferred or denied");
    }

    private static int _allowedCalls, _allowedTexts, _allowedEca, _refused;

    private static void Simulate(Event[] events, string? zone, int startMinute, int noticeDaysAgo, ComplianceRules rules)
    {
        var now = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(startMinute);
        var profile = Profile(zone);
        var consents = new List<ChannelConsent>();
        var guarantorHolds = new List<Hold>();
        var debtHolds = new[] { new List<Hold>(), new List<Hold>(), new List<Hold>() };
        var history = new List<ContactAttempt>();
        var allowed = new List<(ContactAttempt Attempt, bool HoldActive, IReadOnlyList<ChannelConsent> ConsentsThen, DateTimeOffset? FirstStatement, DateTimeOffset? Notice)>();
        var firstStatement = now.AddDays(-200);
        DateTimeOffset? notice = noticeDaysAgo < 0 ? null : now.AddDays(-noticeDaysAgo);
        var next = 0;

        foreach (var e in events)
        {
            var debt = new AccountKey("MAIN", $"A{e.Debt}");
            var holds = e.GuarantorHold ? guarantorHolds : debtHolds[e.Debt];
            switch (e.Kind)
            {
                case EventKind.Wait:
                    now = now.AddMinutes(e.Minutes);
                    break;
                case EventKind.PlaceHold:
                    holds.Add(new Hold { HoldId = $"H{++next}", Reason = e.Reason, Note = "n", PlacedBy = "k", PlacedAt = now });
                    break;
                case EventKind.ReleaseHold:
                    var i = holds.FindIndex(h => h.IsActive);
                    if (i >= 0) holds[i] = holds[i] with { ReleasedAt = now, ReleasedBy = "k" };
                    break;
                case EventKind.GrantSms:
                    consents.Add(Consent(ContactChannel.Sms, ConsentStatus.Granted, now));
                    consents.Add(Consent(ContactChannel.AutomatedVoice, ConsentStatus.Granted, now));
                    break;
                case EventKind.StopReply:
                    consents.Add(Consent(ContactChannel.Sms, ConsentStatus.OptedOut, now));
                    break;
                case EventKind.OptOutEmail:
                    consents.Add(Consent(ContactChannel.Email, ConsentStatus.OptedOut, now));
                    break;
                case EventKind.Conversation:
                    history.Add(new ContactAttempt { RequestId = $"r{++next}", Account = debt, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice, Initiator = ContactInitiator.Inbound, At = now, Outcome = ContactOutcome.RightPartyContact });
                    break;
                case EventKind.Contact:
                    var channel = ComplianceGate.IsExtraordinaryAction(e.Action) ? (ContactChannel?)null : e.Channel;
                    var request = new ContactRequest(debt, e.Action, channel, e.By);
                    var decision = ComplianceGate.Check(request, new PersonFacts(profile, consents.ToList(), guarantorHolds.ToList(), history.ToList()),
                        new DebtFacts(debtHolds[e.Debt].ToList(), 900m, firstStatement, notice), rules, now);
                    if (decision.Verdict == GateVerdict.Defer)
                        Assert.True(decision.NotBefore > now, "a deferral must point to the future");
                    if (decision.Verdict != GateVerdict.Allow) { Interlocked.Increment(ref _refused); break; }
                    if (channel is ContactChannel.Voice or ContactChannel.AutomatedVoice) Interlocked.Increment(ref _allowedCalls);
                    if (channel is ContactChannel.Sms) Interlocked.Increment(ref _allowedTexts);
                    if (channel is null) Interlocked.Increment(ref _allowedEca);
                    var attempt = new ContactAttempt { RequestId = $"r{++next}", Account = debt, Action = e.Action, Channel = channel, Initiator = e.By, At = now, Outcome = ContactOutcome.Attempted };
                    history.Add(attempt);
                    allowed.Add((attempt, debtHolds[e.Debt].Concat(guarantorHolds).Any(h => h.IsActive), consents.ToList(), firstStatement, notice));
                    if (e.Action == OutreachAction.FinalNotice) notice ??= now; // the written notice before any extraordinary action
                    break;
            }
        }

        foreach (var (attempt, holdActive, consentsThen, first, noticeThen) in allowed)
            Oracle(attempt, holdActive, consentsThen, first, noticeThen, history, rules, zone);
    }

    /// <summary>The rules, restated independently of the gate's code.</summary>
    private static void Oracle(ContactAttempt a, bool holdActive, IReadOnlyList<ChannelConsent> consents, DateTimeOffset? first, DateTimeOffset? notice,
        IReadOnlyList<ContactAttempt> history, ComplianceRules rules, string? zone)
    {
        Assert.False(holdActive, "contact while a hold was active");
        if (ComplianceGate.IsExtraordinaryAction(a.Action))
        {
            Assert.True(first is not null && a.At >= first.Value.AddDays(120), "ECA within 120 days of the first statement");
            Assert.True(notice is not null && a.At >= notice.Value.AddDays(30), "ECA less than 30 days after the written notice");
            return;
        }
        var latest = consents.Where(c => c.Channel == a.Channel).OrderBy(c => c.RecordedAt).LastOrDefault();
        Assert.False(latest?.Status == ConsentStatus.OptedOut, $"contact on an opted-out channel {a.Channel}");
        if (a.Channel is ContactChannel.Sms or ContactChannel.AutomatedVoice)
            Assert.True(latest?.Status == ConsentStatus.Granted, $"{a.Channel} without consent");
        if (a.Channel == ContactChannel.Mail) return;

        var zones = zone is null ? new[] { "America/New_York", "America/Los_Angeles" } : [zone];
        foreach (var z in zones)
        {
            var local = TimeZoneInfo.ConvertTime(a.At, TimeZoneInfo.FindSystemTimeZoneById(z));
            Assert.True(local.Hour >= 8 && local.Hour < 21, $"contact at {local:HH:mm} local in {z}");
        }
        if (a.Initiator is not (ContactInitiator.Engine or ContactInitiator.Agent)) return;
        if (a.Channel is ContactChannel.Voice or ContactChannel.AutomatedVoice)
        {
            var window = history.Count(h => h.Account == a.Account && h.Channel is ContactChannel.Voice or ContactChannel.AutomatedVoice
                && h.Initiator is ContactInitiator.Engine or ContactInitiator.Agent && h.At > a.At.AddDays(-7) && h.At <= a.At);
            Assert.True(window <= rules.MaxCallAttemptsPerDebt, $"{window} calls about one debt within 7 days");
            Assert.DoesNotContain(history, h => h.Account == a.Account && h.Outcome == ContactOutcome.RightPartyContact && h.At < a.At && h.At > a.At.AddDays(-7));
        }
        if (a.Channel is not (ContactChannel.Email or ContactChannel.Sms)) return;
        var day = history.Count(h => h.Channel is ContactChannel.Email or ContactChannel.Sms && h.Initiator is ContactInitiator.Engine or ContactInitiator.Agent
            && h.At > a.At.AddDays(-1) && h.At <= a.At);
        Assert.True(day <= rules.MaxContactsPerPersonPerDay, $"{day} emails and texts to the person within 24 hours");
    }
}
