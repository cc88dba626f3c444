using System.Globalization;
using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

public sealed class ComplianceGateTests
{
    // 15:00 UTC = 09:00 in Chicago (CST) on a Monday.
    internal static readonly DateTimeOffset Now = new(2026, 11, 23, 15, 0, 0, TimeSpan.Zero);
    internal static readonly AccountKey Debt = new("MAIN", "A1");
    // Each rule on its own, under the first-party set (the agency set's own rules, the default, are tested apart).
    internal static readonly ComplianceRules Rules = new() { DefaultRuleSet = RuleSet.FirstParty };

    internal static GuarantorProfile Profile(string? zone = "America/Chicago", bool mobile = true, string? email = "p@example.org") => new()
    {
        FirstName = "Pat", LastName = "Doe", DateOfBirth = new DateOnly(1980, 1, 1),
        Address = new PostalAddress { Line1 = "1 Main", City = "Austin", State = "TX", Zip = "78701" },
        Phones = mobile ? [new PhoneNumber { Number = "5125550100", Type = PhoneType.Mobile }] : [],
        Email = email, PreferredChannel = ContactChannel.Mail,
        TimeZone = zone is null
            ? new TimeZoneResolution { Zone = null, PlausibleZones = ["America/New_York", "America/Los_Angeles"], Source = TimeZoneSource.ZipArea }
            : TimeZoneResolution.Given(zone),
    };

    internal static ChannelConsent Consent(ContactChannel channel, ConsentStatus status, DateTimeOffset at) =>
        new() { Channel = channel, Status = status, Source = "test", RecordedAt = at, RecordedBy = "k" };

    internal static ContactAttempt Call(DateTimeOffset at, ContactOutcome outcome = ContactOutcome.NoAnswer, ContactInitiator by = ContactInitiator.Agent, AccountKey? account = null) =>
        new() { RequestId = Guid.NewGuid().ToString(), Account = account ?? Debt, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice, Initiator = by, At = at, Outcome = outcome };

    internal static Hold ActiveHold(HoldReason reason) => new() { HoldId = "H1", Reason = reason, Note = "letter received", PlacedBy = "k", PlacedAt = Now.AddDays(-1) };

    private static GateDecision Check(ContactChannel? channel, OutreachAction action = OutreachAction.EmailReminder, PersonFacts? person = null, DebtFacts? debt = null, DateTimeOffset? now = null, ContactInitiator by = ContactInitiator.Engine) =>
        ComplianceGate.Check(new ContactRequest(Debt, action, channel, by),
            person ?? new PersonFacts(Profile(), [], [], []),
            debt ?? new DebtFacts([], 500m, null, null), Rules, now ?? Now);

    [Fact]
    public void An_email_in_business_hours_with_nothing_against_it_is_allowed() =>
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Email).Verdict);

    [Theory]
    [InlineData(HoldReason.Dispute)]
    [InlineData(HoldReason.CeaseCommunication)]
    [InlineData(HoldReason.Bankruptcy)]
    [InlineData(HoldReason.Deceased)]
    [InlineData(HoldReason.Attorney)]
    [InlineData(HoldReason.InsurancePending)]
    [InlineData(HoldReason.FinancialAssistancePending)]
    [InlineData(HoldReason.PatientProviderDispute)]
    [InlineData(HoldReason.Manual)]
    public void Any_active_hold_denies_every_channel_and_action(HoldReason reason)
    {
        foreach (var (channel, action) in new (ContactChannel?, OutreachAction)[] { (ContactChannel.Mail, OutreachAction.PatientStatement), (ContactChannel.Voice, OutreachAction.CallTask), (null, OutreachAction.AgencyPlacement) })
        {
            var decision = Check(channel, action, debt: new DebtFacts([ActiveHold(reason)], 500m, Now.AddDays(-200), Now.AddDays(-100)));
            Assert.Equal(GateVerdict.Deny, decision.Verdict);
            Assert.StartsWith("hold.", decision.Rule);
        }
    }

    [Fact]
    public void A_guarantor_level_hold_covers_all_their_accounts()
    {
        var person = new PersonFacts(Profile(), [], [ActiveHold(HoldReason.Bankruptcy)], []);
        Assert.Equal("hold.bankruptcy", Check(ContactChannel.Mail, OutreachAction.Letter, person).Rule);
    }

    [Fact]
    public void A_released_hold_no_longer_denies()
    {
        var released = ActiveHold(HoldReason.Dispute) with { ReleasedAt = Now.AddHours(-1), ReleasedBy = "k" };
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Email, debt: new DebtFacts([released], 500m, null, null)).Verdict);
    }

    [Fact]
    public void An_opted_out_channel_is_denied()
    {
        var person = new PersonFacts(Profile(), [Consent(ContactChannel.Email, ConsentStatus.OptedOut, Now.AddDays(-2))], [], []);
        Assert.Equal("channel.opted-out", Check(ContactChannel.Email, person: person).Rule);
    }

    [Fact]
    public void Texts_and_automated_calls_need_recorded_consent()
    {
        Assert.Equal("channel.no-consent", Check(ContactChannel.Sms, OutreachAction.SmsReminder).Rule);
        Assert.Equal("channel.no-consent", Check(ContactChannel.AutomatedVoice, OutreachAction.CallTask).Rule);
        var consented = new PersonFacts(Profile(), [Consent(ContactChannel.Sms, ConsentStatus.Granted, Now.AddDays(-30))], [], []);
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Sms, OutreachAction.SmsReminder, consented).Verdict);
    }

    [Fact]
    public void A_channel_the_guarantor_does_not_have_is_denied()
    {
        var person = new PersonFacts(Profile(mobile: false, email: null), [], [], []);
        Assert.Equal("channel.unavailable", Check(ContactChannel.Email, person: person).Rule);
        Assert.Equal("channel.unavailable", Check(ContactChannel.Voice, OutreachAction.CallTask, person).Rule);
    }

    [Fact]
    public void Before_eight_in_the_morning_local_time_a_contact_waits_until_eight()
    {
        var early = new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero); // 07:00 in Chicago
        var decision = Check(ContactChannel.Email, now: early);
        Assert.Equal(GateVerdict.Defer, decision.Verdict);
        Assert.Equal("window.local-time", decision.Rule);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 14, 0, 0, TimeSpan.Zero), decision.NotBefore);
    }

    [Fact]
    public void At_nine_in_the_evening_local_time_a_contact_waits_until_the_next_morning()
    {
        var late = new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero); // 21:00 in Chicago on the 23rd
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 0, 0, TimeSpan.Zero), Check(ContactChannel.Email, now: late).NotBefore);
    }

    [Fact]
    public void With_an_unknown_zone_only_hours_allowed_in_every_plausible_zone_are_used()
    {
        // 13:30 UTC = 08:30 New York but 05:30 Los Angeles: wait until 08:00 in Los Angeles (16:00 UTC).
        var person = new PersonFacts(Profile(zone: null), [], [], []);
        var decision = Check(ContactChannel.Email, person: person, now: new DateTimeOffset(2026, 11, 23, 13, 30, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 16, 0, 0, TimeSpan.Zero), decision.NotBefore);
    }

    [Fact]
    public void Letters_are_not_held_to_the_time_window()
    {
        var night = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero); // 02:00 in Chicago
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Mail, OutreachAction.Letter, now: night).Verdict);
    }

    [Fact]
    public void The_eighth_call_attempt_in_seven_days_is_deferred_until_the_first_leaves_the_window()
    {
        var calls = Enumerable.Range(0, 7).Select(i => Call(Now.AddDays(-6).AddHours(i))).ToList();
        var person = new PersonFacts(Profile(), [], [], calls);

        var decision = Check(ContactChannel.Voice, OutreachAction.CallTask, person, by: ContactInitiator.Agent);

        Assert.Equal(GateVerdict.Defer, decision.Verdict);
        Assert.Equal("calls.7-in-7", decision.Rule);
        Assert.Equal(calls[0].At.AddDays(7), decision.NotBefore);
    }

    [Fact]
    public void Calls_the_patient_asked_for_and_inbound_calls_do_not_count()
    {
        var calls = Enumerable.Range(0, 7).Select(i => Call(Now.AddDays(-1).AddMinutes(i), by: i % 2 == 0 ? ContactInitiator.PatientRequested : ContactInitiator.Inbound)).ToList();
        var person = new PersonFacts(Profile(), [], [], calls);
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Voice, OutreachAction.CallTask, person, by: ContactInitiator.Agent).Verdict);
    }

    [Fact]
    public void Calls_about_another_debt_do_not_count_toward_this_debts_limit()
    {
        var other = new AccountKey("MAIN", "A2");
        var calls = Enumerable.Range(0, 7).Select(i => Call(Now.AddDays(-3).AddMinutes(i), account: other)).ToList();
        var person = new PersonFacts(Profile(), [], [], calls);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(new ContactRequest(Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent), person, new DebtFacts([], 1m, null, null), Rules, Now).Verdict);
    }

    [Fact]
    public void Seven_calls_in_one_day_are_allowed_and_the_eighth_is_deferred()
    {
        var history = new List<ContactAttempt>();
        for (var i = 0; i < 7; i++)
        {
            var at = Now.AddMinutes(10 * i);
            Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Voice, OutreachAction.CallTask, new PersonFacts(Profile(), [], [], history), now: at, by: ContactInitiator.Agent).Verdict);
            history.Add(Call(at));
        }
        var eighth = Check(ContactChannel.Voice, OutreachAction.CallTask, new PersonFacts(Profile(), [], [], history), now: Now.AddHours(2), by: ContactInitiator.Agent);
        Assert.Equal("calls.7-in-7", eighth.Rule);
        Assert.Equal(Now.AddDays(7), eighth.NotBefore);
    }

    [Fact]
    public void No_call_within_seven_days_after_a_conversation_about_the_debt()
    {
        var talked = Now.AddDays(-2);
        var person = new PersonFacts(Profile(), [], [], [Call(talked, ContactOutcome.RightPartyContact)]);
        var decision = Check(ContactChannel.Voice, OutreachAction.CallTask, person, by: ContactInitiator.Agent);
        Assert.Equal("calls.after-conversation", decision.Rule);
        Assert.Equal(talked.AddDays(7), decision.NotBefore);
    }

    [Fact]
    public void A_person_is_not_contacted_more_than_the_daily_limit_across_accounts()
    {
        var history = Enumerable.Range(0, 3).Select(i => new ContactAttempt
        {
            RequestId = $"r{i}", Account = new AccountKey("MAIN", $"A{i + 5}"), Action = OutreachAction.EmailReminder, Channel = ContactChannel.Email,
            Initiator = ContactInitiator.Engine, At = Now.AddHours(-3 + i), Outcome = ContactOutcome.Attempted,
        }).ToList();
        var decision = Check(ContactChannel.Email, person: new PersonFacts(Profile(), [], [], history));
        Assert.Equal("person.daily-limit", decision.Rule);
        // 24 hours after the first contact is 06:00 in Chicago: the window moves it to 08:00 there.
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 0, 0, TimeSpan.Zero), decision.NotBefore);
    }

    [Fact]
    public void A_deferral_lands_inside_the_local_time_window()
    {
        // Seven calls ending at 02:00 UTC; the window reopens at 02:00 UTC + 7 days = 20:00 Chicago... still inside; shift to 03:30 UTC = 21:30 Chicago.
        var calls = Enumerable.Range(0, 7).Select(i => Call(new DateTimeOffset(2026, 11, 17, 3, 30, 0, TimeSpan.Zero).AddMinutes(i))).ToList();
        var decision = Check(ContactChannel.Voice, OutreachAction.CallTask, new PersonFacts(Profile(), [], [], calls), now: new DateTimeOffset(2026, 11, 23, 20, 0, 0, TimeSpan.Zero), by: ContactInitiator.Agent);
        Assert.Equal(GateVerdict.Defer, decision.Verdict);
        Assert.True(ContactWindow.IsInside(decision.NotBefore!.Value, ["America/Chicago"], Rules.WindowStart, Rules.WindowEnd));
        Assert.True(decision.NotBefore >= calls[0].At.AddDays(7));
    }

    [Fact]
    public void Agency_placement_waits_120_days_after_the_first_statement_and_30_after_the_notice()
    {
        var first = Now.AddDays(-100);
        var decision = Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([], 800m, first, Now.AddDays(-40)));
        Assert.Equal("eca.120-days", decision.Rule);
        Assert.Equal(first.AddDays(120), decision.NotBefore);

        var notice = Now.AddDays(-10);
        var soon = Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([], 800m, Now.AddDays(-130), notice));
        Assert.Equal("eca.notice-period", soon.Rule);
        // Thirty days after the notice (13 November), and after the deadline it named (13 December) has ended everywhere.
        Assert.Equal(new DateTimeOffset(2026, 12, 14, 11, 0, 0, TimeSpan.Zero), soon.NotBefore);

        Assert.Equal(GateVerdict.Allow, Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([], 800m, Now.AddDays(-130), Now.AddDays(-31))).Verdict);
    }

    [Theory]
    [InlineData("2026-12-06T14:00:00Z", "2027-01-05")]
    [InlineData("2026-12-06T23:59:00Z", "2027-01-05")]
    [InlineData("2027-02-01T00:00:00Z", "2027-03-03")]
    public void A_final_notice_names_a_deadline_thirty_days_after_it_is_sent_and_no_action_comes_before_that_day_ends(string sent, string deadline)
    {
        var notice = DateTimeOffset.Parse(sent, System.Globalization.CultureInfo.InvariantCulture);
        var rules = new ComplianceRules();
        Assert.Equal(DateOnly.Parse(deadline, System.Globalization.CultureInfo.InvariantCulture), Collections.Domain.Cadence.FinalNotices.Deadline(notice, rules));
        var from = Collections.Domain.Cadence.FinalNotices.ActionsFrom(notice, rules);
        Assert.True(from >= notice.AddDays(30));
        // In Hawaii (UTC-10) and American Samoa (UTC-11) the deadline day is over when the first action may come.
        Assert.True(DateOnly.FromDateTime(from.ToOffset(TimeSpan.FromHours(-11)).DateTime) > DateOnly.Parse(deadline, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("eca.notice-period", Check(null, OutreachAction.AgencyPlacement, now: from.AddMinutes(-1),
            debt: new DebtFacts([], 800m, notice.AddDays(-200), notice)).Rule);
    }

    [Fact]
    public void At_send_a_message_waits_for_the_persons_hours_and_an_opt_out_or_a_hold_since_it_was_queued_cancels_it()
    {
        var tenPmCentral = new DateTimeOffset(2026, 11, 24, 4, 0, 0, TimeSpan.Zero);
        var consented = new[] { Consent(ContactChannel.Sms, ConsentStatus.Granted, Now.AddDays(-30)) };
        var person = new PersonFacts(Profile(), consented, [], []);
        var email = ComplianceGate.AtSend(OutreachAction.EmailReminder, ContactChannel.Email, Queued, person, Rules, tenPmCentral);
        Assert.Equal((GateVerdict.Defer, "window.local-time"), (email.Verdict, email.Rule));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 0, 0, TimeSpan.Zero), email.NotBefore); // 08:00 in Austin
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.EmailReminder, ContactChannel.Email, Queued, person, Rules, Now).Verdict);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.PaymentReceipt, ContactChannel.Email, Queued, person, Rules, tenPmCentral).Verdict);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.PatientStatement, ContactChannel.Mail, Queued, person, Rules, tenPmCentral).Verdict);

        var optedOut = person with { ConsentHistory = [.. consented, Consent(ContactChannel.Sms, ConsentStatus.OptedOut, Now.AddMinutes(-1))] };
        Assert.Equal("channel.opted-out", ComplianceGate.AtSend(OutreachAction.SmsReminder, ContactChannel.Sms, Queued, optedOut, Rules, Now).Rule);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.OptOutConfirmation, ContactChannel.Sms, Queued, optedOut, Rules, Now).Verdict);

        var held = person with { Holds = [new Hold { HoldId = "h1", Reason = HoldReason.Bankruptcy, Note = "chapter 7", PlacedAt = Now.AddMinutes(-5), PlacedBy = "k" }] };
        Assert.Equal("hold.bankruptcy", ComplianceGate.AtSend(OutreachAction.EmailReminder, ContactChannel.Email, Queued, held, Rules, Now).Rule);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.PaymentReceipt, ContactChannel.Email, Queued, held, Rules, Now).Verdict);

        // The confirmation of a STOP goes only within its minutes.
        Assert.Equal("opt-out-confirmation.too-late", ComplianceGate.AtSend(OutreachAction.OptOutConfirmation, ContactChannel.Sms, Queued, optedOut, Rules, Now.AddMinutes(10)).Rule);

        // An attorney recorded after the message was queued to the guarantor: it does not go; and no text while represented.
        var attorney = new Representative
        {
            Kind = RepresentativeKind.Attorney, Name = "Dana Reyes", Address = new PostalAddress { Line1 = "1 Court St", City = "Boston", State = "MA", Zip = "02108" },
            Email = "dana@example.org", RecordedAt = Now.AddMinutes(-30), RecordedBy = "k",
        };
        var represented = person with { Representative = attorney };
        Assert.Equal("represented.after-queued", ComplianceGate.AtSend(OutreachAction.EmailReminder, ContactChannel.Email, Queued, represented, Rules, Now).Rule);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.AtSend(OutreachAction.EmailReminder, ContactChannel.Email, Now.AddMinutes(-5), represented, Rules, Now).Verdict);
        Assert.Equal("represented.no-automated", ComplianceGate.AtSend(OutreachAction.SmsReminder, ContactChannel.Sms, Now.AddMinutes(-5), represented, Rules, Now).Rule);
    }

    private static readonly DateTimeOffset Queued = Now.AddHours(-1);

    [Fact]
    public void A_returned_or_unsent_final_notice_opens_no_way_to_an_extraordinary_action()
    {
        var first = Now.AddDays(-400);
        var notice = Now.AddDays(-60);
        GateDecision Placement(params NoticeRecord[] notices) => Check(null, OutreachAction.AgencyPlacement,
            debt: new DebtFacts([], 800m, first, notice, Notices: notices));
        var letter = new NoticeRecord(OutreachAction.FinalNotice, ContactChannel.Mail, notice, notice, NoticeState.Sent);
        Assert.Equal(GateVerdict.Allow, Placement(letter).Verdict);
        Assert.Equal("eca.notice-undelivered", Placement(letter with { State = NoticeState.Returned }).Rule);
        Assert.Equal("eca.notice-undelivered", Placement(letter with { State = NoticeState.NotSent, SentAt = null }).Rule);
        var waiting = Placement(letter with { State = NoticeState.Waiting, SentAt = null });
        Assert.Equal((GateVerdict.Defer, "eca.notice-not-sent"), (waiting.Verdict, waiting.Rule));
        // A returned copy and a sent one (the email went, the letter came back): the notice reached the patient.
        Assert.Equal(GateVerdict.Allow, Placement(letter with { State = NoticeState.Returned }, letter with { Channel = ContactChannel.Email }).Verdict);
        // A final notice of an earlier cycle says nothing about this one.
        Assert.Equal(GateVerdict.Allow, Placement(letter with { CreatedAt = notice.AddDays(-200), State = NoticeState.Returned }).Verdict);
    }

    [Fact]
    public void A_credit_report_needs_a_conversation_or_a_letter_that_went_fourteen_days_before_without_coming_back()
    {
        var first = Now.AddDays(-400);
        var notice = Now.AddDays(-60);
        var finalLetter = new NoticeRecord(OutreachAction.FinalNotice, ContactChannel.Mail, notice, notice, NoticeState.Sent);
        GateDecision Report(PersonFacts? person, params NoticeRecord[] notices) => Check(null, OutreachAction.CreditReporting, person: person,
            debt: new DebtFacts([], 800m, first, notice, Notices: notices));
        Assert.Equal(GateVerdict.Allow, Report(null, finalLetter).Verdict);

        // Every letter and email came back: only a conversation opens the way.
        var returned = finalLetter with { State = NoticeState.Returned };
        var email = new NoticeRecord(OutreachAction.EmailReminder, ContactChannel.Email, notice, notice, NoticeState.Sent);
        Assert.Equal("eca.notice-undelivered", Report(null, returned).Rule);
        var text = new NoticeRecord(OutreachAction.SmsReminder, ContactChannel.Sms, notice, notice, NoticeState.Sent);
        var finalByText = finalLetter with { Channel = ContactChannel.Sms };
        Assert.Equal("credit.no-notice-reached", Report(null, finalByText, text).Rule);
        var talked = new PersonFacts(Profile(), [], [], [new ContactAttempt
        {
            RequestId = "c1", Account = Debt, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice, Initiator = ContactInitiator.Agent,
            At = Now.AddDays(-3), Outcome = ContactOutcome.RightPartyContact,
        }]);
        Assert.Equal(GateVerdict.Allow, Report(talked, finalByText, text).Verdict);

        // A letter that went 10 days ago: the report waits until 14 days have passed with nothing back.
        var recent = Report(null, finalLetter with { Channel = ContactChannel.Sms }, email with { SentAt = Now.AddDays(-10), CreatedAt = Now.AddDays(-10) });
        Assert.Equal(("credit.undeliverable-wait", Now.AddDays(4)), (recent.Rule, recent.NotBefore));
    }

    [Fact]
    public void No_extraordinary_action_without_a_statement_and_a_written_notice()
    {
        Assert.Equal("eca.no-statement", Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([], 800m, null, null)).Rule);
        Assert.Equal("eca.no-notice", Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([], 800m, Now.AddDays(-200), null)).Rule);
    }

    [Fact]
    public void A_pending_financial_assistance_application_stops_extraordinary_actions()
    {
        var decision = Check(null, OutreachAction.AgencyPlacement, debt: new DebtFacts([ActiveHold(HoldReason.FinancialAssistancePending)], 800m, Now.AddDays(-200), Now.AddDays(-60)));
        Assert.Equal("hold.financialAssistancePending", decision.Rule);
    }

    [Fact]
    public void Credit_reporting_waits_a_year_and_never_reports_under_500()
    {
        var debt = new DebtFacts([], 800m, Now.AddDays(-200), Now.AddDays(-60));
        Assert.Equal("eca.credit-wait", Check(null, OutreachAction.CreditReporting, debt: debt).Rule);
        Assert.Equal("eca.credit-floor", Check(null, OutreachAction.CreditReporting, debt: debt with { PatientResponsibility = 499.99m, FirstStatementAt = Now.AddDays(-400) }).Rule);
        Assert.Equal(GateVerdict.Allow, Check(null, OutreachAction.CreditReporting, debt: debt with { FirstStatementAt = Now.AddDays(-400) }).Verdict);
    }

    [Theory]
    [InlineData(null, "2026-03-02", true)]          // a clinic visit, or an admit date alone: billed after the care
    [InlineData("2026-04-15", "2026-03-02", false)] // an interim bill sent during the stay
    [InlineData("2026-04-15", "2026-04-15", true)]  // on the day of discharge
    [InlineData("2026-04-15", "2026-04-16", true)]
    public void The_120_days_start_with_the_first_statement_after_discharge(string? discharge, string statement, bool starts) =>
        Assert.Equal(starts, NotificationPeriod.StartsWith(discharge is null ? null : DateOnly.Parse(discharge, CultureInfo.InvariantCulture),
            DateOnly.Parse(statement, CultureInfo.InvariantCulture)));

    [Theory]
    // discharge, first statement counted so far, any statement sent, an action standing → the statement that counts now, restart, review
    [InlineData("2026-04-15", "2026-03-02", true, false, null, true, false)]            // an interim bill: a post-discharge statement is owed
    [InlineData("2026-04-15", "2026-04-15", true, false, "2026-04-15", false, false)]   // sent on the day of discharge: it still counts
    [InlineData("2026-04-15", "2026-05-01", true, false, "2026-05-01", false, false)]   // the final bill: nothing changes
    [InlineData("2026-04-15", null, false, false, null, false, false)]                  // nothing sent yet: the first statement will count
    [InlineData("2026-04-15", null, true, false, null, true, false)]                    // a correction: no statement counted, one was sent
    [InlineData("2026-04-15", "2026-03-02", true, true, null, false, true)]             // placed: the period no longer counts, the staff review it
    public void A_discharge_recorded_later_makes_an_interim_bill_stop_counting_and_owes_a_post_discharge_statement(
        string discharge, string? counted, bool sent, bool actionTaken, string? countsNow, bool restarts, bool review)
    {
        static DateTimeOffset? At(string? date) => date is null ? null : new DateTimeOffset(DateOnly.Parse(date, CultureInfo.InvariantCulture).ToDateTime(new TimeOnly(15, 0)), TimeSpan.Zero);
        var recorded = NotificationPeriod.AfterDischarge(DateOnly.Parse(discharge, CultureInfo.InvariantCulture), At(counted), sent, actionTaken, PatientCalendar.Utc);
        Assert.Equal((At(countsNow), restarts, review), (recorded.FirstStatementAt, recorded.RestartsCadence, recorded.ActionBeforePeriod));
    }

    [Fact]
    public void A_statement_already_sent_after_the_discharge_starts_the_120_days_and_no_new_one_is_owed()
    {
        // An interim bill on 2 March, the cycle's next statement on 1 May; the discharge on 15 April is recorded on 20 May.
        var interim = new DateTimeOffset(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);
        var second = new DateTimeOffset(2026, 5, 1, 15, 0, 0, TimeSpan.Zero);
        var third = new DateTimeOffset(2026, 5, 19, 15, 0, 0, TimeSpan.Zero);

        var recorded = NotificationPeriod.AfterDischarge(new DateOnly(2026, 4, 15), interim, true, false, PatientCalendar.Utc, [interim, third, second]);

        Assert.Equal((second, false, false), (recorded.FirstStatementAt, recorded.RestartsCadence, recorded.ActionBeforePeriod));
        // Placed when the interim bill counted: the placement may have come too soon by the new start, the staff review it.
        var placed = NotificationPeriod.AfterDischarge(new DateOnly(2026, 4, 15), interim, true, true, PatientCalendar.Utc, [interim, second, third]);
        Assert.Equal((second, false, true), (placed.FirstStatementAt, placed.RestartsCadence, placed.ActionBeforePeriod));
        // Discharged after all of them: none counts, a post-discharge statement is owed.
        var later = NotificationPeriod.AfterDischarge(new DateOnly(2026, 5, 20), interim, true, false, PatientCalendar.Utc, [interim, second, third]);
        Assert.Equal((null, true), (later.FirstStatementAt, later.RestartsCadence));
    }

    [Fact]
    public void An_interim_bill_sent_in_the_evening_before_discharge_does_not_count_where_the_patient_still_was_on_the_day_before()
    {
        // 02:00 UTC on 15 April is still the evening of 14 April in Austin: sent before the discharge on the 15th.
        var sent = new DateTimeOffset(2026, 4, 15, 2, 0, 0, TimeSpan.Zero);
        var discharge = new DateOnly(2026, 4, 15);
        Assert.NotNull(NotificationPeriod.AfterDischarge(discharge, sent, true, false, PatientCalendar.Utc).FirstStatementAt);
        Assert.Null(NotificationPeriod.AfterDischarge(discharge, sent, true, false, new PatientCalendar(["America/Chicago"])).FirstStatementAt);
    }

    [Fact]
    public void An_agency_s_validation_notice_is_the_first_statement_even_when_an_interim_bill_no_longer_starts_the_120_days()
    {
        // The interim bill went 20 days ago; the discharge recorded since cleared the 501(r) start, not the notice.
        var agency = new ComplianceRules { FacilityRuleSets = { ["MAIN"] = RuleSet.Agency } };
        var email = new ContactRequest(Debt, OutreachAction.EmailReminder, ContactChannel.Email, ContactInitiator.Engine);
        var person = new PersonFacts(Profile(), [], [], []);
        var debt = new DebtFacts([], 300m, FirstStatementAt: null, FinalNoticeAt: null, ValidationNoticeAt: Now.AddDays(-20));
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(email, person, debt, agency, Now).Verdict);
        Assert.Equal("validation.notice-first", ComplianceGate.Check(email, person, debt with { ValidationNoticeAt = null }, agency, Now).Rule);
    }

    [Fact]
    public void After_a_stop_reply_exactly_one_confirmation_text_is_allowed_within_five_minutes()
    {
        var stop = Consent(ContactChannel.Sms, ConsentStatus.OptedOut, Now.AddMinutes(-1));
        var person = new PersonFacts(Profile(), [Consent(ContactChannel.Sms, ConsentStatus.Granted, Now.AddDays(-9)), stop], [], []);
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Sms, OutreachAction.OptOutConfirmation, person).Verdict);
        Assert.Equal("channel.opted-out", Check(ContactChannel.Sms, OutreachAction.SmsReminder, person).Rule);

        var confirmed = person with { History = [new ContactAttempt { RequestId = "c", Account = Debt, Action = OutreachAction.OptOutConfirmation, Channel = ContactChannel.Sms, Initiator = ContactInitiator.Engine, At = Now.AddSeconds(-30), Outcome = ContactOutcome.Attempted }] };
        Assert.Equal("opt-out-confirmation.already-sent", Check(ContactChannel.Sms, OutreachAction.OptOutConfirmation, confirmed).Rule);
        Assert.Equal("opt-out-confirmation.too-late", Check(ContactChannel.Sms, OutreachAction.OptOutConfirmation, person, now: Now.AddMinutes(5)).Rule);
    }
}

/// <summary>Calendar and clock details of the contact rules.</summary>
public sealed class ComplianceCalendarTests
{
    [Fact]
    public void Credit_reporting_waits_for_the_anniversary_of_the_first_statement_not_365_days()
    {
        var first = new DateTimeOffset(2027, 3, 1, 15, 0, 0, TimeSpan.Zero);
        var debt = new DebtFacts([], 900m, first, first.AddDays(40));
        var request = new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CreditReporting, null, ContactInitiator.Engine);
        var person = new PersonFacts(ComplianceGateTests.Profile(), [], [], []);

        var day365 = ComplianceGate.Check(request, person, debt, ComplianceGateTests.Rules, new DateTimeOffset(2028, 2, 29, 16, 0, 0, TimeSpan.Zero));
        Assert.Equal("eca.credit-wait", day365.Rule);
        Assert.Equal(new DateTimeOffset(2028, 3, 1, 15, 0, 0, TimeSpan.Zero), day365.NotBefore);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(request, person, debt, ComplianceGateTests.Rules, new DateTimeOffset(2028, 3, 1, 16, 0, 0, TimeSpan.Zero)).Verdict);
    }

    [Fact]
    public void Calls_stamped_a_little_in_the_future_by_another_clock_still_count()
    {
        var now = ComplianceGateTests.Now;
        var calls = Enumerable.Range(0, 7).Select(i => ComplianceGateTests.Call(now.AddDays(-i).AddMinutes(i == 0 ? 2 : 0))).ToList(); // today's call is 2 minutes ahead
        var decision = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent),
            new PersonFacts(ComplianceGateTests.Profile(), [], [], calls), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now);
        Assert.Equal("calls.7-in-7", decision.Rule);
    }

    [Fact]
    public void A_conversation_stamped_a_little_in_the_future_still_quiets_calls()
    {
        var now = ComplianceGateTests.Now;
        var decision = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent),
            new PersonFacts(ComplianceGateTests.Profile(), [], [], [ComplianceGateTests.Call(now.AddMinutes(1), ContactOutcome.RightPartyContact)]),
            new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now);
        Assert.Equal("calls.after-conversation", decision.Rule);
    }
}

/// <summary>Every zone the person may be in: the address, each phone's area code, and a zone given explicitly.</summary>
public sealed class ContactZoneTests
{
    private static GuarantorProfile Person(string state, string zip, string phone, string? explicitZone = null) => new()
    {
        FirstName = "Pat", LastName = "Doe", DateOfBirth = new DateOnly(1980, 1, 1),
        Address = new PostalAddress { Line1 = "1 Main", City = "Town", State = state, Zip = zip },
        Phones = [new PhoneNumber { Number = phone, Type = PhoneType.Mobile }], Email = "p@example.org", PreferredChannel = ContactChannel.Mail,
        TimeZone = explicitZone is null ? UsTimeZones.ResolveAddress(state, zip) : TimeZoneResolution.Given(explicitZone),
    };

    [Fact]
    public void A_new_york_address_with_a_san_francisco_mobile_is_not_called_at_six_thirty_pacific()
    {
        var person = Person("NY", "10001", "4155550100");
        Assert.Equal(["America/New_York", "America/Los_Angeles"], ComplianceGate.Zones(person));
        var at0630Pacific = new DateTimeOffset(2026, 11, 23, 14, 30, 0, TimeSpan.Zero); // 09:30 in New York
        var decision = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent),
            new PersonFacts(person, [], [], []), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, at0630Pacific);
        Assert.Equal("window.local-time", decision.Rule);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 16, 0, 0, TimeSpan.Zero), decision.NotBefore); // 08:00 Pacific
    }

    [Fact]
    public void Zones_that_share_no_hour_of_the_window_deny_contact_instead_of_failing_the_run()
    {
        // India, New York and Hawaii: 08:00-21:00 never holds in all three at once, in any season.
        var person = Person("NY", "10001", "8085550100", explicitZone: "Asia/Kolkata");
        var january = new DateTimeOffset(2027, 1, 12, 15, 0, 0, TimeSpan.Zero);
        Assert.Null(ContactWindow.EarliestAllowed(january, ComplianceGate.Zones(person), new TimeOnly(8, 0), new TimeOnly(21, 0)));
        var decision = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.EmailReminder, ContactChannel.Email, ContactInitiator.Engine),
            new PersonFacts(person, [], [], []), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, january);
        Assert.Equal((GateVerdict.Deny, "window.no-common-hours"), (decision.Verdict, decision.Rule));
        // A call that took place is still a fact: recorded, flagged with the rule it broke.
        Assert.Equal(GateVerdict.Allow, GateDecision.RecordedDespite(decision).Verdict);
    }

    [Fact]
    public void An_explicit_zone_adds_to_the_address_and_phones_it_does_not_replace_them()
    {
        var zones = ComplianceGate.Zones(Person("TX", "78701", "5125550100", explicitZone: "America/New_York"));
        Assert.Equal(["America/New_York", "America/Chicago"], zones);
    }

    [Theory]
    [InlineData("8505550100", new[] { "America/New_York", "America/Chicago" })]
    [InlineData("+1 (208) 555-0100", new[] { "America/Boise", "America/Los_Angeles" })]
    [InlineData("9155550100", new[] { "America/Denver" })]
    [InlineData("8085550100", new[] { "Pacific/Honolulu" })]
    [InlineData("7875550100", new[] { "America/Puerto_Rico" })]
    [InlineData("4165550100", new[] { "America/Toronto" })] // Canada and the Caribbean are NANP too, on their own clocks
    [InlineData("7095550100", new[] { "America/St_Johns" })]
    [InlineData("8765550100", new[] { "America/Jamaica" })]
    [InlineData("8675550100", new[] { "America/Whitehorse", "America/Edmonton", "America/Winnipeg", "America/Toronto" })]
    [InlineData("55501", new string[0])] // not a number
    public void A_number_rings_in_every_zone_its_area_code_crosses(string number, string[] zones) =>
        Assert.Equal(zones, NanpAreaCodes.ZonesOf(number));

    [Fact]
    public void A_code_in_no_table_may_ring_anywhere_in_the_fifty_states() =>
        Assert.Equal(["America/Anchorage", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/New_York", "America/Phoenix", "Pacific/Honolulu"],
            NanpAreaCodes.ZonesOf("5555550100").Order());

    [Fact]
    public void A_california_patient_with_a_newfoundland_mobile_is_not_texted_after_nine_in_newfoundland()
    {
        var person = Person("CA", "94103", "7095550100");
        var eightPmPacific = new DateTimeOffset(2026, 11, 24, 4, 0, 0, TimeSpan.Zero); // 00:30 in St. John's
        var decision = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.EmailReminder, ContactChannel.Email, ContactInitiator.Engine),
            new PersonFacts(person, [], [], []), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, eightPmPacific);
        Assert.Equal("window.local-time", decision.Rule);
    }

    [Fact]
    public void The_table_covers_every_state_and_resolves_every_code_to_real_zones()
    {
        Assert.True(NanpAreaCodes.Count > 330);
        foreach (var state in new[] { "AL", "AK", "AZ", "CA", "NY", "TX", "WY", "DC", "PR" }) Assert.NotNull(state);
        Assert.Equal("MA", NanpAreaCodes.State("617"));
        Assert.Equal("TX", NanpAreaCodes.State("512"));
        foreach (var code in Enumerable.Range(200, 800).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            foreach (var zone in NanpAreaCodes.ZonesOf(code + "5550100"))
                Assert.True(TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _), zone);
    }

    [Fact]
    public void An_address_without_a_zip_gives_every_zone_of_its_state()
    {
        Assert.Equal(["America/Chicago", "America/Denver"], UsTimeZones.ResolveAddress("TX", "").PlausibleZones);
        Assert.Equal(["America/New_York"], UsTimeZones.ResolveAddress("NY", null).PlausibleZones);
        Assert.Empty(UsTimeZones.ResolveAddress(null, null).PlausibleZones);
    }
}

/// <summary>Workplaces, attorneys and estates: who may be reached, and where.</summary>
public sealed class RepresentationTests
{
    private static readonly Representative Attorney = new()
    {
        Kind = RepresentativeKind.Attorney, Name = "Dana Reyes", Organization = "Reyes Law", Phone = "6175550199", Email = "dana@reyeslaw.example",
        Address = new PostalAddress { Line1 = "1 Court St", City = "Boston", State = "MA", Zip = "02108" }, RecordedAt = ComplianceGateTests.Now, RecordedBy = "k",
    };

    private static GateDecision Check(ContactChannel? channel, OutreachAction action, PersonFacts person, DebtFacts? debt = null, DateTimeOffset? now = null) =>
        ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, action, channel, ContactInitiator.Engine), person,
            debt ?? new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now ?? ComplianceGateTests.Now);

    [Fact]
    public void A_represented_guarantor_gets_no_texts_and_letters_go_by_the_attorney_s_rules()
    {
        var person = new PersonFacts(ComplianceGateTests.Profile(), [ComplianceGateTests.Consent(ContactChannel.Sms, ConsentStatus.Granted, ComplianceGateTests.Now.AddDays(-5))], [], [], Attorney);
        Assert.Equal("represented.no-automated", Check(ContactChannel.Sms, OutreachAction.SmsReminder, person).Rule);
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Mail, OutreachAction.PatientStatement, person).Verdict);
        // Hours are the attorney's (Boston), not the guarantor's (Chicago): 13:00 UTC is 08:00 in Boston.
        var early = new DateTimeOffset(2026, 11, 23, 12, 30, 0, TimeSpan.Zero); // 07:30 in Boston, 06:30 in Chicago
        Assert.Equal("window.local-time", Check(ContactChannel.Email, OutreachAction.EmailReminder, person, now: early).Rule);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero), Check(ContactChannel.Email, OutreachAction.EmailReminder, person, now: early).NotBefore);
    }

    [Fact]
    public void Agents_never_call_a_represented_guarantor_s_numbers()
    {
        var person = new PersonFacts(ComplianceGateTests.Profile(), [], [], [], Attorney);
        var call = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent), person,
            new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, ComplianceGateTests.Now);
        Assert.Equal("represented.call-representative", call.Rule);
        // An opt-out the representative made (the email link) is honoured.
        var optedOut = person with { ConsentHistory = [ComplianceGateTests.Consent(ContactChannel.Email, ConsentStatus.OptedOut, ComplianceGateTests.Now.AddDays(-1))] };
        Assert.Equal("channel.opted-out", Check(ContactChannel.Email, OutreachAction.EmailReminder, optedOut).Rule);
    }

    [Fact]
    public void The_hold_the_representation_answers_no_longer_stops_contact_but_other_holds_do()
    {
        var estate = Attorney with { Kind = RepresentativeKind.Estate, Name = "Sam Lopez", Organization = null };
        var deceased = ComplianceGateTests.ActiveHold(HoldReason.Deceased);
        Assert.Equal("hold.deceased", Check(ContactChannel.Mail, OutreachAction.PatientStatement, new PersonFacts(ComplianceGateTests.Profile(), [], [deceased], [])).Rule);
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Mail, OutreachAction.PatientStatement, new PersonFacts(ComplianceGateTests.Profile(), [], [deceased], [], estate)).Verdict);
        var dispute = ComplianceGateTests.ActiveHold(HoldReason.Dispute);
        Assert.Equal("hold.dispute", Check(ContactChannel.Mail, OutreachAction.PatientStatement, new PersonFacts(ComplianceGateTests.Profile(), [], [deceased, dispute], [], estate)).Rule);
    }

    [Fact]
    public void A_workplace_number_whose_employer_prohibits_calls_is_never_called()
    {
        var work = new PhoneNumber { Number = "3125550100", Type = PhoneType.Work, EmployerProhibitsCalls = true };
        var onlyWork = ComplianceGateTests.Profile(mobile: false) with { Phones = [work] };
        var decision = Check(ContactChannel.Voice, OutreachAction.CallTask, new PersonFacts(onlyWork, [], [], []));
        Assert.Equal("channel.unavailable", decision.Rule);
        Assert.Contains("workplace", decision.Reason, StringComparison.Ordinal);
        var allowedWork = onlyWork with { Phones = [work with { EmployerProhibitsCalls = false }] };
        Assert.Equal(GateVerdict.Allow, Check(ContactChannel.Voice, OutreachAction.CallTask, new PersonFacts(allowedWork, [], [], [])).Verdict);
    }
}

/// <summary>Rule sets per facility and state rules as data.</summary>
public sealed class RuleSetTests
{
    private static GuarantorProfile InState(string state, string zip, string phone) => ComplianceGateTests.Profile() with
    {
        Address = new PostalAddress { Line1 = "1 Main", City = "Town", State = state, Zip = zip },
        Phones = [new PhoneNumber { Number = phone, Type = PhoneType.Mobile }],
        TimeZone = UsTimeZones.ResolveAddress(state, zip),
    };

    [Fact]
    public void In_massachusetts_a_third_call_in_seven_days_waits_and_says_which_rule()
    {
        var now = ComplianceGateTests.Now; // 10:00 in Boston
        var calls = new[] { ComplianceGateTests.Call(now.AddDays(-3)), ComplianceGateTests.Call(now.AddDays(-1)) };
        var request = new ContactRequest(ComplianceGateTests.Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent);
        var boston = ComplianceGate.Check(request, new PersonFacts(InState("MA", "02108", "6175550100"), [], [], calls), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now);
        Assert.Equal("calls.state-ma", boston.Rule);
        Assert.Contains("940 CMR 7.04(1)(f)", boston.Reason, StringComparison.Ordinal);
        Assert.Equal(now.AddDays(4), boston.NotBefore);
        var austin = ComplianceGate.Check(request, new PersonFacts(InState("TX", "78701", "5125550100"), [], [], calls), new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now);
        Assert.Equal(GateVerdict.Allow, austin.Verdict);
    }

    [Fact]
    public void A_state_rule_is_data_and_can_only_tighten()
    {
        var rules = new ComplianceRules { StateRules = { ["NY"] = new StateRules { MaxCallAttemptsPerDebt = 3, WindowEnd = new TimeOnly(20, 0), Source = "test" }, ["TX"] = new StateRules { MaxCallAttemptsPerDebt = 20 } } };
        var (ny, code) = rules.ForState("NY");
        Assert.Equal((3, new TimeOnly(20, 0), "calls.state-ny"), (ny.MaxCallAttemptsPerDebt, ny.WindowEnd, code));
        Assert.Equal(7, rules.ForState("TX").Rules.MaxCallAttemptsPerDebt);
        Assert.Equal("calls.7-in-7", rules.ForState("TX").CallLimitRule);
    }

    [Fact]
    public void A_facility_not_configured_gets_the_stricter_agency_rules_and_a_hospital_collecting_its_own_bills_says_so()
    {
        var unconfigured = new ComplianceRules();
        Assert.Equal(RuleSet.Agency, unconfigured.RuleSetFor("NEWCLINIC"));
        var email = new ContactRequest(ComplianceGateTests.Debt, OutreachAction.EmailReminder, ContactChannel.Email, ContactInitiator.Engine);
        var person = new PersonFacts(ComplianceGateTests.Profile(), [], [], []);
        Assert.Equal("validation.notice-first", ComplianceGate.Check(email, person, new DebtFacts([], 500m, null, null), unconfigured, ComplianceGateTests.Now).Rule);
        var ownBills = new ComplianceRules { FacilityRuleSets = { ["MAIN"] = RuleSet.FirstParty } };
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(email, person, new DebtFacts([], 500m, null, null), ownBills, ComplianceGateTests.Now).Verdict);
    }

    [Fact]
    public void A_collection_agency_sends_the_validation_notice_first_and_waits_out_the_validation_period()
    {
        var rules = new ComplianceRules { FacilityRuleSets = { ["MAIN"] = RuleSet.Agency } };
        var person = new PersonFacts(ComplianceGateTests.Profile(), [], [], []);
        var now = ComplianceGateTests.Now;
        Assert.Equal("validation.notice-first", Decision(OutreachAction.EmailReminder, ContactChannel.Email, null).Rule);
        Assert.Equal(GateVerdict.Allow, Decision(OutreachAction.PatientStatement, ContactChannel.Mail, null).Verdict);
        Assert.Equal(GateVerdict.Allow, Decision(OutreachAction.EmailReminder, ContactChannel.Email, now.AddDays(-2)).Verdict);
        var placement = ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.AgencyPlacement, null, ContactInitiator.Engine), person,
            new DebtFacts([], 900m, now.AddDays(-130), now.AddDays(-40)), rules with { EcaWaitAfterFirstStatement = TimeSpan.FromDays(1), ValidationPeriod = TimeSpan.FromDays(140) }, now);
        Assert.Equal("validation.period", placement.Rule);
        // The hospital collecting its own bills has no validation notice to send.
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, OutreachAction.EmailReminder, ContactChannel.Email, ContactInitiator.Engine),
            person, new DebtFacts([], 500m, null, null), ComplianceGateTests.Rules, now).Verdict);

        GateDecision Decision(OutreachAction action, ContactChannel channel, DateTimeOffset? firstStatement) =>
            ComplianceGate.Check(new ContactRequest(ComplianceGateTests.Debt, action, channel, ContactInitiator.Engine), person, new DebtFacts([], 500m, firstStatement, null), rules, now);
    }
}
