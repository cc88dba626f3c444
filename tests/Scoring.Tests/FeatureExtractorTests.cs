using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using static Collections.Scoring.Tests.Histories;

namespace Collections.Scoring.Tests;

public class FeatureExtractorTests
{
    [Fact]
    public void Balance_and_its_parts_come_from_the_ledger_known_at_the_time()
    {
        var history = Insured(Payment(100m, Day(40)), Entry(EntryKind.Adjustment, 50m, Day(41), party: ResponsibleParty.Patient, category: AdjustmentCategory.Charity));

        var f = FeatureExtractor.Extract(history, Day(50));

        Assert.Equal(250f, f.PatientBalance);
        Assert.Equal(0f, f.InsurancePending);
        Assert.Equal(1000f, f.TotalCharges);
        Assert.Equal(600f, f.InsurancePaid);
        Assert.Equal(400f, f.TransferredToPatient);
        Assert.Equal(50f, f.CharityAdjusted);
        Assert.Equal(0.25f, f.PatientShareOfCharges);
        Assert.Equal(100f / 350f, f.PaidShareOfPatientResponsibility, 5);
        Assert.Equal(1f, f.ChargeCount);
    }

    [Fact]
    public void Before_insurance_decides_the_whole_charge_is_pending_and_the_patient_owes_nothing()
    {
        var f = FeatureExtractor.Extract(Insured(), Day(10));

        Assert.Equal(0f, f.PatientBalance);
        Assert.Equal(1000f, f.InsurancePending);
        Assert.Equal(-1f, f.DaysSincePatientOwed);
    }

    [Fact]
    public void Payment_history_counts_sizes_and_recency()
    {
        var history = Insured(Payment(50m, Day(40)), Payment(120m, Day(70)), Payment(30m, Day(90)));

        var f = FeatureExtractor.Extract(history, Day(100));

        Assert.Equal(3f, f.PatientPaymentCount);
        Assert.Equal(200f, f.PatientPaymentTotal);
        Assert.Equal(120f, f.LargestPatientPayment);
        Assert.Equal(10f, f.DaysSinceLastPatientPayment);
        Assert.Equal(70f, f.DaysSincePatientOwed);
    }

    [Fact]
    public void The_patient_owes_from_the_posting_that_first_gave_them_a_share_in_posting_order_whatever_order_the_ledger_lists()
    {
        // Posted in this order: a payment on day 5, the charge it was for on day 10. Never owed; listed the other way
        // round (an imported history), still never owed.
        var payment = Payment(100m, Day(5));
        var charge = Entry(EntryKind.Charge, 100m, Day(10), party: ResponsibleParty.Patient);

        Assert.Equal(-1f, FeatureExtractor.Extract(SelfPay(payment, charge), Day(60)).DaysSincePatientOwed);
        Assert.Equal(-1f, FeatureExtractor.Extract(SelfPay(charge, payment), Day(60)).DaysSincePatientOwed);
    }

    [Fact]
    public void A_reversed_payment_is_replayed_when_finding_since_when_the_patient_owes()
    {
        // The payment on day 5 is reversed on day 8, so the charge on day 10 is owed from then.
        var payment = Payment(100m, Day(5));
        var history = SelfPay(payment, Entry(EntryKind.Reversal, 100m, Day(8), reverses: payment.EntryId),
            Entry(EntryKind.Charge, 100m, Day(10), party: ResponsibleParty.Patient));

        Assert.Equal(50f, FeatureExtractor.Extract(history, Day(60)).DaysSincePatientOwed);
    }

    private static AccountHistory SelfPay(params LedgerEntry[] entries) => Insured() with { PrimaryPayer = null, Entries = entries };

    [Fact]
    public void A_payment_posted_after_the_time_does_not_count_even_when_its_effective_date_is_before()
    {
        var late = Entry(EntryKind.PatientPayment, 80m, Day(60), effective: DateOnly.FromDateTime(Day(45).UtcDateTime));

        var f = FeatureExtractor.Extract(Insured(late), Day(50));

        Assert.Equal(0f, f.PatientPaymentCount);
        Assert.Equal(-1f, f.DaysSinceLastPatientPayment);
        Assert.Equal(400f, f.PatientBalance);
    }

    [Fact]
    public void A_returned_payment_counts_as_returned_only_once_the_reversal_is_posted()
    {
        var payment = Payment(100m, Day(40), id: "PAY1");
        var reversal = Entry(EntryKind.Reversal, 100m, Day(60), reverses: "PAY1");
        var history = Insured(payment, reversal);

        var before = FeatureExtractor.Extract(history, Day(50));
        var after = FeatureExtractor.Extract(history, Day(70));

        Assert.Equal((1f, 0f, 300f), (before.PatientPaymentCount, before.ReturnedPayments, before.PatientBalance));
        Assert.Equal((0f, 1f, 400f), (after.PatientPaymentCount, after.ReturnedPayments, after.PatientBalance));
    }

    [Fact]
    public void Aging_counts_from_the_first_statement_once_there_is_one()
    {
        var history = Insured() with { Contacts = [Contact(OutreachAction.PatientStatement, ContactChannel.Mail, Day(31))] };

        var beforeStatement = FeatureExtractor.Extract(history, Day(30, 18));
        var later = FeatureExtractor.Extract(history, Day(31 + 95));

        Assert.Equal(30f, beforeStatement.AccountAgeDays); // from the service date
        Assert.Equal(95f, later.AccountAgeDays);
        Assert.Equal((float)AgingBucket.Days91To120, later.AgingBucket);
    }

    [Fact]
    public void Contacts_are_counted_by_action_and_outcome()
    {
        var history = Insured() with
        {
            Contacts =
            [
                Contact(OutreachAction.PatientStatement, ContactChannel.Mail, Day(31)),
                Contact(OutreachAction.EmailReminder, ContactChannel.Email, Day(38)),
                Contact(OutreachAction.SmsReminder, ContactChannel.Sms, Day(43)),
                Contact(OutreachAction.CallTask, ContactChannel.Voice, Day(60), ContactOutcome.NoAnswer, ContactInitiator.Agent),
                Contact(OutreachAction.CallTask, ContactChannel.Voice, Day(65), ContactOutcome.RightPartyContact, ContactInitiator.Agent),
                Contact(OutreachAction.CallTask, ContactChannel.Voice, Day(66), ContactOutcome.WrongNumber, ContactInitiator.Agent),
                Contact(OutreachAction.CallTask, ContactChannel.Voice, Day(70), ContactOutcome.RightPartyContact, ContactInitiator.Inbound),
                Contact(OutreachAction.Letter, ContactChannel.Mail, Day(75)),
                Contact(OutreachAction.FinalNotice, ContactChannel.Mail, Day(80)),
                Contact(OutreachAction.AgencyPlacement, null, Day(200)),
            ],
        };

        var f = FeatureExtractor.Extract(history, Day(90));

        Assert.Equal((1f, 1f, 1f, 1f), (f.StatementsSent, f.EmailReminders, f.TextReminders, f.LettersSent));
        Assert.Equal(3f, f.CallAttempts);
        Assert.Equal(2f, f.RightPartyContacts);
        Assert.Equal(1f, f.WrongNumbers);
        Assert.Equal(1f, f.InboundContacts);
        Assert.Equal(10f, f.DaysSinceLastContact);
        Assert.Equal(20f, f.DaysSinceLastRightPartyContact);
        Assert.Equal(1f, f.FinalNoticeSent);
        Assert.Equal(0f, f.PlacedWithAgency);
    }

    [Fact]
    public void A_message_counts_as_answered_when_a_payment_follows_within_14_days()
    {
        var history = Insured(Payment(20m, Day(45)), Payment(20m, Day(80))) with
        {
            Contacts =
            [
                Contact(OutreachAction.SmsReminder, ContactChannel.Sms, Day(43)),  // paid 2 days later
                Contact(OutreachAction.EmailReminder, ContactChannel.Email, Day(60)), // paid 20 days later: too late
                Contact(OutreachAction.PatientStatement, ContactChannel.Mail, Day(75)), // paid 5 days later
            ],
        };

        var f = FeatureExtractor.Extract(history, Day(100));
        var beforeSecondPayment = FeatureExtractor.Extract(history, Day(79));

        Assert.Equal((1f, 0f, 1f, 0f), (f.PaymentsAfterText, f.PaymentsAfterEmail, f.PaymentsAfterMail, f.PaymentsAfterCall));
        Assert.Equal(0f, beforeSecondPayment.PaymentsAfterMail);
    }

    [Fact]
    public void Promise_outcomes_are_recomputed_from_payments_known_at_the_time_not_taken_from_the_stored_status()
    {
        // Stored as kept (status as of now), but the money came on day 58, after the time asked about.
        var promise = Promise(100m, Day(40), DateOnly.FromDateTime(Day(50).UtcDateTime), PromiseStatus.Kept, Day(58));
        var history = Insured(Payment(100m, Day(48))) with { Promises = [promise] };
        var lateHistory = Insured(Payment(100m, Day(58))) with { Promises = [promise] };

        Assert.Equal(1f, FeatureExtractor.Extract(history, Day(49)).PromisesKept);
        var pending = FeatureExtractor.Extract(lateHistory, Day(45));
        var broken = FeatureExtractor.Extract(lateHistory, Day(57));
        var stillBroken = FeatureExtractor.Extract(lateHistory, Day(90)); // paid after the deadline: still broken
        Assert.Equal((1f, 0f, 0f, 1f), (pending.PromisesMade, pending.PromisesKept, pending.PromisesBroken, pending.PromisePending));
        Assert.Equal((0f, 1f, 0f), (broken.PromisesKept, broken.PromisesBroken, broken.PromisePending));
        Assert.Equal(1f, stillBroken.PromisesBroken);
        Assert.Equal(0f, FeatureExtractor.Extract(history, Day(39)).PromisesMade);
    }

    [Fact]
    public void A_check_deposited_in_time_and_posted_after_the_deadline_keeps_the_promise_from_the_time_it_is_known()
    {
        // Promised for day 50 (deadline: the end of day 55); the lockbox deposited the check on day 54 and its file came on day 58.
        var promise = Promise(100m, Day(40), DateOnly.FromDateTime(Day(50).UtcDateTime));
        var check = Entry(EntryKind.PatientPayment, 100m, Day(58), effective: DateOnly.FromDateTime(Day(54).UtcDateTime)) with { PostedBy = "lockbox" };
        var history = Insured(check) with { Promises = [promise] };

        Assert.Equal((0f, 1f), (FeatureExtractor.Extract(history, Day(57)).PromisesKept, FeatureExtractor.Extract(history, Day(57)).PromisesBroken));
        Assert.Equal((1f, 0f), (FeatureExtractor.Extract(history, Day(58)).PromisesKept, FeatureExtractor.Extract(history, Day(58)).PromisesBroken));
    }

    [Fact]
    public void A_promise_falls_due_after_the_engines_configured_grace_days_not_the_default()
    {
        var promise = Promise(100m, Day(40), DateOnly.FromDateTime(Day(50).UtcDateTime));
        var history = Insured(Payment(100m, Day(58))) with { Promises = [promise] };

        Assert.Equal(1f, FeatureExtractor.Extract(history, Day(57)).PromisesBroken); // the default 5 days ended with day 55
        var tenDays = history with { GraceDays = 10 };
        Assert.Equal(1f, FeatureExtractor.Extract(tenDays, Day(57)).PromisePending);
        Assert.Equal(1f, FeatureExtractor.Extract(tenDays, Day(59)).PromisesKept);
    }

    [Fact]
    public void Features_are_the_same_with_the_accounts_own_balances_and_a_copy_with_other_entries_carries_none()
    {
        var history = Insured(Payment(100m, Day(40)), Payment(50m, Day(45)));
        var withBalances = history with { Balances = AccountBalances.Of(history.Entries) };

        Assert.Equal(FeatureExtractor.Extract(history, Day(90)).ToArray(), FeatureExtractor.Extract(withBalances, Day(90)).ToArray());
        Assert.Equal(FeatureExtractor.Extract(history, Day(42)).ToArray(), FeatureExtractor.Extract(withBalances, Day(42)).ToArray()); // not all known yet
        Assert.Null((withBalances with { Entries = [.. history.Entries.Take(1)] }).Balances);
    }

    [Fact]
    public void A_promise_falls_due_at_the_end_of_the_patients_day_not_the_utc_one_as_the_account_reads_it()
    {
        var promised = DateOnly.FromDateTime(Day(50).UtcDateTime);
        var promise = Promise(100m, Day(40), promised, PromiseStatus.Kept, Day(60));
        // Paid at 03:00 UTC the day after the grace period: still that last day in Los Angeles, already the next in UTC.
        var paidAt = Day(50 + KnownLedger.DefaultGraceDays + 1, hour: 3);
        var utc = Insured(Payment(100m, paidAt)) with { Promises = [promise] };
        var pacific = utc with { TimeZones = ["America/Los_Angeles"] };

        Assert.Equal((0f, 1f), (FeatureExtractor.Extract(utc, Day(80)).PromisesKept, FeatureExtractor.Extract(utc, Day(80)).PromisesBroken));
        Assert.Equal((1f, 0f), (FeatureExtractor.Extract(pacific, Day(80)).PromisesKept, FeatureExtractor.Extract(pacific, Day(80)).PromisesBroken));
    }

    [Fact]
    public void Plan_status_is_recomputed_from_installments_paid_by_their_deadlines()
    {
        // Stored as defaulted on day 100 (as of now); the first installment was paid, the second was not.
        var first = DateOnly.FromDateTime(Day(60).UtcDateTime);
        var plan = Plan(300m, 0m, Day(40), first, 3, PlanStatus.Defaulted, Day(100));
        var history = Insured(Payment(100m, Day(59))) with { Plans = [plan] };

        var active = FeatureExtractor.Extract(history, Day(80));
        var defaulted = FeatureExtractor.Extract(history, Day(100));

        Assert.Equal((1f, 1f, 0f, 0f), (active.PlansMade, active.PlanActive, active.PlansDefaulted, active.PlansCompleted));
        Assert.Equal((0f, 1f), (defaulted.PlanActive, defaulted.PlansDefaulted));
        Assert.Equal(0f, FeatureExtractor.Extract(history, Day(39)).PlansMade);
    }

    [Fact]
    public void A_plan_is_active_again_from_the_time_a_check_deposited_in_time_for_its_missed_installment_is_known()
    {
        // 100.00 due on day 60 (deadline: the end of day 65); the lockbox deposited the check on day 64 and its file
        // came on day 68: defaulted as known on days 66-67, active again from day 68 (the engine reinstates it then).
        var plan = Plan(300m, 0m, Day(40), DateOnly.FromDateTime(Day(60).UtcDateTime), 3, PlanStatus.Active);
        var check = Entry(EntryKind.PatientPayment, 100m, Day(68), effective: DateOnly.FromDateTime(Day(64).UtcDateTime)) with { PostedBy = "lockbox" };
        var history = Insured(check) with { Plans = [plan] };

        Assert.Equal((0f, 1f), (FeatureExtractor.Extract(history, Day(67)).PlanActive, FeatureExtractor.Extract(history, Day(67)).PlansDefaulted));
        Assert.Equal((1f, 0f), (FeatureExtractor.Extract(history, Day(68)).PlanActive, FeatureExtractor.Extract(history, Day(68)).PlansDefaulted));
        // A plan made after the first defaulted, before the check came: the engine keeps that one, and so does the model's view.
        var second = Plan(200m, 0m, Day(66), DateOnly.FromDateTime(Day(80).UtcDateTime), 2, PlanStatus.Active);
        var withSecond = history with { Plans = [plan, second] };
        Assert.Equal((1f, 1f), (FeatureExtractor.Extract(withSecond, Day(68)).PlanActive, FeatureExtractor.Extract(withSecond, Day(68)).PlansDefaulted));
    }

    [Fact]
    public void A_plan_paid_off_before_any_deadline_is_missed_is_completed()
    {
        var plan = Plan(300m, 0m, Day(40), DateOnly.FromDateTime(Day(60).UtcDateTime), 3, PlanStatus.Completed, Day(55));
        var history = Insured(Payment(300m, Day(55))) with { Plans = [plan] };

        var f = FeatureExtractor.Extract(history, Day(56));

        Assert.Equal((0f, 1f, 0f), (f.PlanActive, f.PlansCompleted, f.PlansDefaulted));
    }

    [Fact]
    public void A_hold_is_active_at_a_time_before_its_release_and_past_after_it()
    {
        var history = Insured() with
        {
            Holds =
            [
                Hold(HoldReason.Dispute, Day(40), Day(70)),
                Hold(HoldReason.FinancialAssistancePending, Day(45)),
                Hold(HoldReason.Bankruptcy, Day(200)),
            ],
        };

        var during = FeatureExtractor.Extract(history, Day(50));
        var after = FeatureExtractor.Extract(history, Day(80));

        Assert.Equal((2f, 1f, 0f, 1f, 1f, 0f), (during.HoldsPlaced, during.DisputeActive, during.PastDisputes, during.FinancialAssistancePending, during.FinancialAssistanceApplications, during.CollectionStopped));
        Assert.Equal((0f, 1f, 1f), (after.DisputeActive, after.PastDisputes, after.FinancialAssistancePending));
    }

    [Fact]
    public void The_guarantor_and_payer_are_described_at_the_time()
    {
        var f = FeatureExtractor.Extract(Insured(), new DateTimeOffset(2026, 6, 14, 0, 0, 0, TimeSpan.Zero));
        var selfPay = FeatureExtractor.Extract(Insured() with { PrimaryPayer = null, HasEmail = false, GuarantorDateOfBirth = null }, Day(40));

        Assert.Equal(45f, f.GuarantorAge); // the day before the 46th birthday
        Assert.Equal((1f, 0f, 0f), (f.PayerCommercial, f.IsSelfPay, f.PayerMedicare));
        Assert.Equal((1f, 1f, 1f), (f.HasEmail, f.HasMobilePhone, f.HasTextConsent));
        Assert.Equal((1f, 0f, -1f), (selfPay.IsSelfPay, selfPay.HasEmail, selfPay.GuarantorAge));
    }

    [Theory]
    [InlineData(null, PayerClass.SelfPay)]
    [InlineData("  ", PayerClass.SelfPay)]
    [InlineData("Medicare Part B", PayerClass.Medicare)]
    [InlineData("Texas Medicaid", PayerClass.Medicaid)]
    [InlineData("Medi-Cal", PayerClass.Medicaid)]
    [InlineData("BCBS of Texas", PayerClass.Commercial)]
    [InlineData("UnitedHealthcare Choice PPO", PayerClass.Commercial)]
    [InlineData("TRICARE East", PayerClass.Other)]
    [InlineData("State Workers Comp Fund", PayerClass.Other)]
    [InlineData("Acme Mutual", PayerClass.Other)]
    public void The_payer_class_is_derived_from_the_payer_name(string? payer, PayerClass expected) =>
        Assert.Equal(expected, PayerClassifier.Classify(payer));

    [Fact]
    public void Feature_names_are_the_vector_order_and_round_trip_through_an_array()
    {
        var f = FeatureExtractor.Extract(Insured(Payment(50m, Day(40))), Day(50));

        var back = PaymentFeatures.FromArray(f.ToArray());

        Assert.Equal(PaymentFeatures.Count, PaymentFeatures.Names.Count);
        Assert.Equal(nameof(PaymentFeatures.PatientBalance), PaymentFeatures.Names[0]);
        Assert.True(back.SameValues(f));
        Assert.Equal(f.PatientPaymentCount, back[nameof(PaymentFeatures.PatientPaymentCount)]);
    }
}
