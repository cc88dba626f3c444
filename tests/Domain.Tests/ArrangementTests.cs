using Collections.Domain;
using Collections.Domain.Arrangements;

namespace Collections.Domain.Tests;

public sealed class ArrangementTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 15, 0, 0, TimeSpan.Zero);
    private static readonly ArrangementRules Rules = new();

    private static LedgerEntry Payment(decimal amount, DateTimeOffset at, string id = "E9") => new()
    {
        EntryId = id, Kind = EntryKind.PatientPayment, Amount = amount, EffectiveDate = DateOnly.FromDateTime(at.UtcDateTime), PostedAt = at,
        IdempotencyKey = id, RequestFingerprint = id, PostedBy = "k", Method = PaymentMethod.Card,
    };

    private static PromiseToPay Promise(decimal amount = 100m) =>
        ArrangementRulesLogic.MakePromise(new PromiseRequest { Amount = amount, PromisedDate = new DateOnly(2026, 12, 1) }, 300m, 0, false, Rules, "k", Now).Promise!;

    [Fact]
    public void A_promise_paid_in_full_by_its_date_is_kept()
    {
        var kept = ArrangementRulesLogic.Evaluate(Promise(), [Payment(100m, Now.AddDays(5))], Rules, Now.AddDays(5));
        Assert.Equal(PromiseStatus.Kept, kept.Status);
    }

    [Fact]
    public void A_promise_not_paid_by_its_date_plus_grace_is_broken()
    {
        var promise = Promise();
        Assert.Equal(PromiseStatus.Pending, ArrangementRulesLogic.Evaluate(promise, [Payment(40m, Now.AddDays(2))], Rules, new DateTimeOffset(2026, 12, 6, 23, 0, 0, TimeSpan.Zero)).Status);
        Assert.Equal(PromiseStatus.Broken, ArrangementRulesLogic.Evaluate(promise, [Payment(40m, Now.AddDays(2))], Rules, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero)).Status);
    }

    [Fact]
    public void A_payment_after_the_date_plus_grace_does_not_keep_the_promise_even_when_it_is_looked_at_first()
    {
        // Promised for 1 Dec with 5 days' grace: the deadline is the end of 6 Dec. A payment on 9 Dec, evaluated on 9 Dec.
        var late = new DateTimeOffset(2026, 12, 9, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(PromiseStatus.Broken, ArrangementRulesLogic.Evaluate(Promise(), [Payment(100m, late)], Rules, late).Status);
        var onTime = new DateTimeOffset(2026, 12, 6, 23, 59, 0, TimeSpan.Zero);
        Assert.Equal(PromiseStatus.Kept, ArrangementRulesLogic.Evaluate(Promise(), [Payment(60m, Now.AddDays(1), "E1"), Payment(40m, onTime, "E2"), Payment(100m, late, "E3")], Rules, late).Status);
    }

    [Fact]
    public void A_check_deposited_by_the_deadline_keeps_the_promise_when_its_lockbox_file_is_posted_after_it_was_broken()
    {
        // Promised for 1 Dec: the deadline is the end of 6 Dec. The engine found it unpaid then; the check deposited on
        // 6 Dec came in the lockbox file posted on 8 Dec.
        var broken = ArrangementRulesLogic.Evaluate(Promise(), [], Rules, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(PromiseStatus.Broken, broken.Status);
        var posted = new DateTimeOffset(2026, 12, 8, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(100m, posted) with { EffectiveDate = new DateOnly(2026, 12, 6), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };

        var kept = ArrangementRulesLogic.Evaluate(broken, [check], Rules, posted);

        Assert.Equal((PromiseStatus.Kept, posted), (kept.Status, kept.ResolvedAt));
        // Deposited a day after the grace ended: the promise stays broken.
        Assert.Equal(PromiseStatus.Broken, ArrangementRulesLogic.Evaluate(broken, [check with { EffectiveDate = new DateOnly(2026, 12, 7) }], Rules, posted).Status);
    }

    [Fact]
    public void A_late_posted_check_keeps_one_promise_not_the_one_made_after_the_first_broke()
    {
        // P1 (100.00 for 1 Dec) broke on 7 Dec and the agent took P2 (100.00 for 20 Dec) that day; the lockbox check
        // deposited on 6 Dec came on 8 Dec. It is in time for both, and keeps the earlier one only.
        var broken = ArrangementRulesLogic.Evaluate(Promise(), [], Rules, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var madeAt = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero);
        var second = ArrangementRulesLogic.MakePromise(new PromiseRequest { Amount = 100m, PromisedDate = new DateOnly(2026, 12, 20) }, 300m, 1, false, Rules, "k", madeAt).Promise!;
        var posted = new DateTimeOffset(2026, 12, 8, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(100m, posted) with { EffectiveDate = new DateOnly(2026, 12, 6), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };

        var both = ArrangementRulesLogic.EvaluatePromises([broken, second], [check], Rules, posted);

        Assert.Equal([PromiseStatus.Kept, PromiseStatus.Pending], both.Select(p => p.Status));
        // A second payment, posted on 9 Dec, keeps the second promise.
        var both2 = ArrangementRulesLogic.EvaluatePromises(both, [check, Payment(100m, posted.AddDays(1), "E2")], Rules, posted.AddDays(1));
        Assert.Equal([PromiseStatus.Kept, PromiseStatus.Kept], both2.Select(p => p.Status));
    }

    [Fact]
    public void Money_too_little_to_keep_the_broken_promise_keeps_the_later_one_it_covers()
    {
        // P1 (100.00 for 1 Dec) broke; P2 (60.00 for 20 Dec) was taken on 7 Dec; a 60.00 check deposited on 6 Dec
        // came on 8 Dec: in time for both, it covers only the second.
        var broken = ArrangementRulesLogic.Evaluate(Promise(), [], Rules, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var second = ArrangementRulesLogic.MakePromise(new PromiseRequest { Amount = 60m, PromisedDate = new DateOnly(2026, 12, 20) }, 300m, 1, false, Rules, "k",
            new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero)).Promise!;
        var posted = new DateTimeOffset(2026, 12, 8, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(60m, posted) with { EffectiveDate = new DateOnly(2026, 12, 6), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };

        Assert.Equal([PromiseStatus.Broken, PromiseStatus.Kept],
            ArrangementRulesLogic.EvaluatePromises([broken, second], [check], Rules, posted).Select(p => p.Status));
    }

    [Theory]
    [InlineData(PaymentChannel.Mail, 6, 8, PromiseStatus.Kept)]           // the lockbox's check, deposited in time
    [InlineData(PaymentChannel.Agency, 6, 20, PromiseStatus.Kept)]        // an agency's remittance, two weeks later
    [InlineData(PaymentChannel.Mail, 6, 37, PromiseStatus.Broken)]        // posted more than 30 days after the deadline
    [InlineData(PaymentChannel.Agent, 6, 8, PromiseStatus.Broken)]        // taken on a call: posted as made, so made late
    [InlineData(PaymentChannel.PatientPage, 6, 8, PromiseStatus.Broken)]  // paid on the patient's page: the same
    [InlineData(PaymentChannel.Mail, 8, 8, PromiseStatus.Broken)]         // dated the day it was posted: made late
    [InlineData(PaymentChannel.Mail, 6, 8, PromiseStatus.Broken, "k")]    // posted by the agent who took the promise
    public void Only_money_deposited_in_time_and_brought_later_by_the_mail_an_agency_or_a_file_keeps_a_promise_after_its_deadline(
        PaymentChannel channel, int depositedOn, int postedOn, PromiseStatus status, string postedBy = "lockbox")
    {
        var posted = new DateTimeOffset(2026, 12, postedOn > 31 ? postedOn - 31 : postedOn, 14, 0, 0, TimeSpan.Zero).AddMonths(postedOn > 31 ? 1 : 0);
        var payment = Payment(100m, posted) with { EffectiveDate = new DateOnly(2026, 12, depositedOn), Channel = channel, PostedBy = postedBy };

        Assert.Equal(status, ArrangementRulesLogic.Evaluate(Promise(), [payment], Rules, posted).Status);
    }

    [Fact]
    public void A_kept_promise_stays_kept()
    {
        var payment = Payment(100m, Now.AddDays(1), "E1");
        var kept = ArrangementRulesLogic.Evaluate(Promise(), [payment], Rules, Now.AddDays(1));
        var reversal = Payment(100m, Now.AddDays(2), "E2") with { Kind = EntryKind.Reversal, ReversesEntryId = "E1" };

        Assert.Same(kept, ArrangementRulesLogic.Evaluate(kept, [payment, reversal], Rules, Now.AddDays(30)));
    }

    [Fact]
    public void Promised_days_are_the_patients_days_not_utcs()
    {
        var honolulu = new PatientCalendar(["Pacific/Honolulu"]);
        // 15:00 on 1 Dec in Honolulu is 01:00 on 2 Dec in UTC: 1 Dec is still today for the patient.
        var afternoon = new DateTimeOffset(2026, 12, 2, 1, 0, 0, TimeSpan.Zero);
        var request = new PromiseRequest { Amount = 100m, PromisedDate = new DateOnly(2026, 12, 1) };
        Assert.Equal("date.past", Assert.Single(ArrangementRulesLogic.MakePromise(request, 300m, 0, false, Rules, "k", afternoon).Errors).Code);
        var promise = ArrangementRulesLogic.MakePromise(request, 300m, 0, false, Rules, "k", afternoon, honolulu).Promise!;

        // Five days' grace end at midnight in Honolulu after 6 Dec (10:00 UTC on 7 Dec), not at midnight UTC.
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero), ArrangementRulesLogic.Deadline(promise.PromisedDate, Rules.GraceDays, honolulu));
        Assert.Equal(PromiseStatus.Pending, ArrangementRulesLogic.Evaluate(promise, [], Rules, new DateTimeOffset(2026, 12, 7, 9, 59, 0, TimeSpan.Zero), honolulu).Status);
        Assert.Equal(PromiseStatus.Broken, ArrangementRulesLogic.Evaluate(promise, [], Rules, new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero), honolulu).Status);
    }

    [Fact]
    public void Where_the_zone_is_open_a_day_has_ended_only_once_it_has_ended_in_every_zone_and_is_today_while_it_is_today_in_any()
    {
        var either = new PatientCalendar(["America/New_York", "America/Chicago"]);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero), either.EndOf(new DateOnly(2026, 12, 1))); // Chicago's midnight, the later
        Assert.Equal(new DateOnly(2026, 12, 1), either.Today(new DateTimeOffset(2026, 12, 2, 5, 30, 0, TimeSpan.Zero))); // 00:30 in New York, 23:30 in Chicago
        // Across a change of clocks: 8 March 2026 begins at 05:00 UTC in New York (EST) and 9 March at 04:00 (EDT).
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 4, 0, 0, TimeSpan.Zero), new PatientCalendar(["America/New_York"]).EndOf(new DateOnly(2026, 3, 8)));
    }

    [Fact]
    public void Payments_made_before_the_promise_do_not_count_toward_it()
    {
        var broken = ArrangementRulesLogic.Evaluate(Promise(), [Payment(100m, Now.AddDays(-1))], Rules, Now.AddDays(30));
        Assert.Equal(PromiseStatus.Broken, broken.Status);
    }

    [Theory]
    [InlineData(0, "amount.zero")]
    [InlineData(400, "amount.exceeds-balance")]
    public void A_promise_must_be_for_a_positive_amount_no_more_than_owed(decimal amount, string code)
    {
        var (_, errors) = ArrangementRulesLogic.MakePromise(new PromiseRequest { Amount = amount, PromisedDate = new DateOnly(2026, 12, 1) }, 300m, 0, false, Rules, "k", Now);
        Assert.Contains(errors, e => e.Code == code);
    }

    [Fact]
    public void A_promise_date_more_than_90_days_out_is_refused()
    {
        var (_, errors) = ArrangementRulesLogic.MakePromise(new PromiseRequest { Amount = 10m, PromisedDate = new DateOnly(2027, 3, 1) }, 300m, 0, false, Rules, "k", Now);
        Assert.Equal("date.too-far", Assert.Single(errors).Code);
    }

    private static PaymentPlan Plan(decimal balance = 1000m, decimal down = 100m, int count = 6) =>
        ArrangementRulesLogic.MakePlan(new PlanRequest { DownPayment = down, InstallmentCount = count, Frequency = InstallmentFrequency.Monthly, FirstDueDate = new DateOnly(2026, 12, 15) },
            balance, 0, false, Rules, "k", Now).Plan!;

    [Fact]
    public void Installments_split_the_financed_balance_and_the_last_absorbs_the_cents()
    {
        var plan = Plan(1000m, 100m, 7);
        Assert.Equal(7, plan.Installments.Count);
        Assert.Equal(128.57m, plan.Installments[0].Amount);
        Assert.Equal(900m, plan.Installments.Sum(i => i.Amount));
        Assert.Equal(new DateOnly(2027, 6, 15), plan.Installments[^1].DueDate);
    }

    [Fact]
    public void Installments_below_the_minimum_are_refused()
    {
        var (_, errors) = ArrangementRulesLogic.MakePlan(new PlanRequest { InstallmentCount = 12, Frequency = InstallmentFrequency.Monthly, FirstDueDate = new DateOnly(2026, 12, 15) }, 200m, 0, false, Rules, "k", Now);
        Assert.Equal("installment.below-minimum", Assert.Single(errors).Code);
    }

    [Fact]
    public void A_missed_installment_past_its_grace_period_defaults_the_plan()
    {
        var plan = Plan();
        var paidDown = new[] { Payment(100m, Now.AddHours(1)) };
        Assert.Equal(PlanStatus.Active, ArrangementRulesLogic.Evaluate(plan, paidDown, 900m, Rules, new DateTimeOffset(2026, 12, 20, 23, 0, 0, TimeSpan.Zero)).Status);
        Assert.Equal(PlanStatus.Defaulted, ArrangementRulesLogic.Evaluate(plan, paidDown, 900m, Rules, new DateTimeOffset(2026, 12, 21, 0, 0, 0, TimeSpan.Zero)).Status);
    }

    [Fact]
    public void A_defaulted_plan_is_reinstated_when_the_installment_deposited_in_time_is_posted_after_the_default()
    {
        // Down payment paid; the 150.00 installment due 15 Dec has its deadline at the end of 20 Dec. The engine found
        // it unpaid on 21 Dec; the check the lockbox deposited on 19 Dec came in its file on 23 Dec.
        var plan = Plan();
        var paidDown = Payment(100m, Now.AddHours(1), "E1");
        var defaultedAt = new DateTimeOffset(2026, 12, 21, 0, 0, 0, TimeSpan.Zero);
        var defaulted = ArrangementRulesLogic.Evaluate(plan, [paidDown], 900m, Rules, defaultedAt);
        Assert.Equal(PlanStatus.Defaulted, defaulted.Status);
        var posted = new DateTimeOffset(2026, 12, 23, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(150m, posted, "E2") with { EffectiveDate = new DateOnly(2026, 12, 19), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };

        var reinstated = ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check], 750m, Rules, posted);

        Assert.Equal((PlanStatus.Active, null, posted), (reinstated.Status, reinstated.EndedAt, reinstated.ReinstatedAt));
        // The same check deposited after the grace period, taken on a call, or with a later plan made since: it stays defaulted.
        Assert.Equal(PlanStatus.Defaulted,
            ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check with { EffectiveDate = new DateOnly(2026, 12, 21) }], 750m, Rules, posted).Status);
        Assert.Equal(PlanStatus.Defaulted,
            ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check with { Channel = PaymentChannel.Agent }], 750m, Rules, posted).Status);
        Assert.Equal(PlanStatus.Defaulted,
            ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check], 750m, Rules, posted, mayReinstate: false).Status);
        // Too little for the missed installment: still defaulted.
        Assert.Equal(PlanStatus.Defaulted,
            ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check with { Amount = 149.99m }], 750.01m, Rules, posted).Status);
    }

    /// <summary>A weekly plan (100.00 down, then six of 150.00 from 15 Dec) whose first installment defaulted it on 21 Dec.</summary>
    private static (PaymentPlan Defaulted, LedgerEntry PaidDown) WeeklyPlanDefaultedOn21December()
    {
        var plan = ArrangementRulesLogic.MakePlan(new PlanRequest { DownPayment = 100m, InstallmentCount = 6, Frequency = InstallmentFrequency.Weekly,
            FirstDueDate = new DateOnly(2026, 12, 15) }, 1000m, 0, false, Rules, "k", Now).Plan!;
        var paidDown = Payment(100m, Now.AddHours(1), "E1");
        var defaulted = ArrangementRulesLogic.Evaluate(plan, [paidDown], 900m, Rules, new DateTimeOffset(2026, 12, 21, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(PlanStatus.Defaulted, defaulted.Status);
        return (defaulted, paidDown);
    }

    [Fact]
    public void A_payment_taken_after_a_later_installments_deadline_does_not_make_that_installment_paid_in_time()
    {
        // Weekly: the 15 Dec installment defaulted the plan on 21 Dec. On 28 Dec the lockbox's check for it (deposited
        // 19 Dec) posts, and an agent takes the 22 Dec installment on a call, after its deadline (the end of 27 Dec):
        // had the plan stayed active, that deadline would have defaulted it. It stays defaulted.
        var (defaulted, paidDown) = WeeklyPlanDefaultedOn21December();
        var posted = new DateTimeOffset(2026, 12, 28, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(150m, posted, "E2") with { EffectiveDate = new DateOnly(2026, 12, 19), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };
        var onTheCall = Payment(150m, posted.AddMinutes(5), "E3") with { Channel = PaymentChannel.Agent, PostedBy = "agent-2" };

        Assert.Same(defaulted, ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check, onTheCall], 600m, Rules, posted.AddMinutes(5)));
        // Both checks in the lockbox's file, both deposited in time: reinstated.
        var second = check with { EntryId = "E3", IdempotencyKey = "E3", Amount = 150m, EffectiveDate = new DateOnly(2026, 12, 26) };
        Assert.Equal(PlanStatus.Active, ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check, second], 600m, Rules, posted).Status);
    }

    [Fact]
    public void A_defaulted_plan_may_be_reinstated_only_while_a_deposit_made_in_time_may_still_be_posted()
    {
        var defaultedAt = new DateTimeOffset(2026, 12, 21, 0, 0, 0, TimeSpan.Zero);
        var defaulted = Plan() with { Status = PlanStatus.Defaulted, EndedAt = defaultedAt };

        Assert.True(ArrangementRulesLogic.MayBeReinstated(defaulted, Rules.GraceDays, defaultedAt.AddDays(30)));
        Assert.False(ArrangementRulesLogic.MayBeReinstated(defaulted, Rules.GraceDays, defaultedAt.AddDays(ArrangementRulesLogic.LateDepositPostingDays + Rules.GraceDays + 1)));
        Assert.False(ArrangementRulesLogic.MayBeReinstated(Plan(), Rules.GraceDays, defaultedAt)); // active
    }

    [Fact]
    public void A_late_posted_check_does_not_reinstate_a_plan_that_a_later_installment_it_does_not_cover_would_default_again()
    {
        // A weekly plan: the 15 Dec installment defaulted it on 21 Dec; the check deposited on 19 Dec is posted on 28 Dec,
        // after the 22 Dec installment's deadline (the end of 27 Dec) passed unpaid as well.
        var (defaulted, paidDown) = WeeklyPlanDefaultedOn21December();
        Assert.Equal(PlanStatus.Defaulted, defaulted.Status);
        var posted = new DateTimeOffset(2026, 12, 28, 14, 0, 0, TimeSpan.Zero);
        var check = Payment(150m, posted, "E2") with { EffectiveDate = new DateOnly(2026, 12, 19), Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, PostedBy = "lockbox" };

        var after = ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check], 750m, Rules, posted);

        Assert.Same(defaulted, after); // unchanged: not reinstated and defaulted again with a new date
        // Covering both installments, it is reinstated.
        Assert.Equal(PlanStatus.Active, ArrangementRulesLogic.Evaluate(defaulted, [paidDown, check with { Amount = 300m }], 600m, Rules, posted).Status);
    }

    [Fact]
    public void An_unpaid_down_payment_defaults_the_plan_after_the_grace_period() =>
        Assert.Equal(PlanStatus.Defaulted, ArrangementRulesLogic.Evaluate(Plan(), [], 1000m, Rules, Now.AddDays(6)).Status);

    [Fact]
    public void Paying_the_plan_off_completes_it()
    {
        var done = ArrangementRulesLogic.Evaluate(Plan(), [Payment(1000m, Now.AddDays(1))], 0m, Rules, Now.AddDays(1));
        Assert.Equal(PlanStatus.Completed, done.Status);
    }

    [Fact]
    public void An_installment_reminder_is_due_three_days_before_and_only_once()
    {
        var plan = Plan();
        var paidDown = new[] { Payment(100m, Now.AddHours(1)) };
        Assert.Null(ArrangementRulesLogic.ReminderDue(plan, paidDown, Rules, new DateTimeOffset(2026, 12, 11, 12, 0, 0, TimeSpan.Zero)));
        var due = ArrangementRulesLogic.ReminderDue(plan, paidDown, Rules, new DateTimeOffset(2026, 12, 12, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, due!.Number);
        Assert.Null(ArrangementRulesLogic.ReminderDue(plan with { Reminded = [1] }, paidDown, Rules, new DateTimeOffset(2026, 12, 12, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void The_next_check_is_the_earliest_reminder_or_grace_deadline()
    {
        var plan = Plan();
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero), ArrangementRulesLogic.NextCheck(plan, Rules, Now)); // down payment grace
    }
}
