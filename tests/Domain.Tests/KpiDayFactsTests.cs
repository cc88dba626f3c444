using Collections.Domain.Arrangements;
using Collections.Domain.Kpi;
using Collections.Domain.Worklist;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

/// <summary>What an account adds to each day's figures: cash by channel, placements, paid in full, refunds due, and agents' work.</summary>
public sealed class KpiDayFactsTests
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);

    private static IReadOnlyList<KpiDayFact> Facts(LedgerBuilder ledger, DateOnly? firstStatement = null, DateOnly? placed = null, DateOnly? recalled = null,
        DateOnly? refundDue = null, IReadOnlyList<PromiseToPay>? promises = null, IReadOnlyList<PaymentPlan>? plans = null, IReadOnlyList<AgentCall>? calls = null) =>
        KpiDayFacts.Of(ledger.Entries, ledger.Balances, firstStatement, placed, recalled, refundDue, promises ?? [], plans ?? [], calls ?? []);

    private static KpiDayFact? Find(IReadOnlyList<KpiDayFact> facts, KpiMeasure measure, string subject = "") =>
        facts.SingleOrDefault(f => f.Measure == measure && f.Subject == subject);

    [Fact]
    public void Payments_count_as_cash_on_their_effective_date_by_channel_and_a_reversed_payment_not_at_all()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: true) };
        ledger.Post(Charge(900m, serviceDate: Today.AddDays(-40)));
        ledger.Post(InsurancePayment(500m) with { EffectiveDate = Today.AddDays(-20) });
        ledger.Post(PatientPayment(100m) with { Method = PaymentMethod.Check, EffectiveDate = Today.AddDays(-3) });
        ledger.Post(PatientPayment(40m) with { Channel = PaymentChannel.Agency, EffectiveDate = Today.AddDays(-3) });
        var wrong = ledger.Post(PatientPayment(75m) with { Channel = PaymentChannel.Agent });
        ledger.Post(Reverse(wrong.EntryId));

        var facts = Facts(ledger);

        Assert.Equal(new KpiDayFact(KpiMeasure.Cash, Today.AddDays(-20), "remittance", 500m, 1), Find(facts, KpiMeasure.Cash, "remittance"));
        Assert.Equal(new KpiDayFact(KpiMeasure.Cash, Today.AddDays(-3), "mail", 100m, 1), Find(facts, KpiMeasure.Cash, "mail"));
        Assert.Equal(40m, Find(facts, KpiMeasure.Cash, "agency")!.Amount);
        Assert.Null(Find(facts, KpiMeasure.Cash, "agent"));
    }

    [Fact]
    public void A_payment_without_a_channel_takes_it_from_its_kind_method_and_how_it_was_posted()
    {
        var posted = new LedgerBuilder().Post(PatientPayment(10m));
        Assert.Equal(PaymentChannel.Other, posted.Channel);
        Assert.Equal(PaymentChannel.Mail, PaymentChannels.Of(posted with { Channel = null, Method = PaymentMethod.Check }));
        Assert.Equal(PaymentChannel.PatientPage, PaymentChannels.Of(posted with { Channel = null, IdempotencyKey = "processor-payment/P1/1", Note = "Paid online" }));
        Assert.Equal(PaymentChannel.Agent, PaymentChannels.Of(posted with { Channel = null, IdempotencyKey = "processor-payment/P2/1", Note = "Paid by card on a call" }));
        Assert.Equal(PaymentChannel.Remittance, new LedgerBuilder().Post(InsurancePayment(10m)).Channel);
    }

    [Fact]
    public void A_channel_on_anything_but_a_payment_is_refused_and_does_not_change_a_retry()
    {
        var ledger = new LedgerBuilder();
        var charge = ledger.Try(Charge(10m, serviceDate: Today) with { Channel = PaymentChannel.Mail });
        Assert.Contains(charge.Errors, e => e.Code == "field.not-applicable" && e.Field == "channel");

        var first = ledger.Post(PatientPayment(10m) with { Channel = PaymentChannel.Agency, IdempotencyKey = "pay-1" });
        var retry = ledger.Try(PatientPayment(10m) with { IdempotencyKey = "pay-1" });
        Assert.True(retry.IsReplay);
        Assert.Equal(first, retry.Entry);
    }

    [Fact]
    public void Paid_in_full_counts_the_days_from_the_first_statement_to_the_last_payment_once_nothing_is_owed()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(300m, serviceDate: Today.AddDays(-60)));
        ledger.Post(PatientPayment(100m) with { EffectiveDate = Today.AddDays(-30) });
        Assert.Null(Find(Facts(ledger, firstStatement: Today.AddDays(-50)), KpiMeasure.PaidInFull)); // still owes 200

        ledger.Post(PatientPayment(200m) with { EffectiveDate = Today.AddDays(-10) });
        Assert.Equal(new KpiDayFact(KpiMeasure.PaidInFull, Today.AddDays(-10), "", 0m, 40), Find(Facts(ledger, firstStatement: Today.AddDays(-50)), KpiMeasure.PaidInFull));
        Assert.Null(Find(Facts(ledger), KpiMeasure.PaidInFull)); // never billed to the patient: not a collection
    }

    [Fact]
    public void Placements_recalls_and_a_credit_balances_refund_deadline_are_counted_on_their_days()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(50m, serviceDate: Today.AddDays(-90)));
        ledger.Post(PatientPayment(80m));

        var facts = Facts(ledger, placed: Today.AddDays(-30), recalled: Today.AddDays(-2), refundDue: Today.AddDays(-1));

        Assert.Equal(Today.AddDays(-30), Find(facts, KpiMeasure.Placed)!.Day);
        Assert.Equal(Today.AddDays(-2), Find(facts, KpiMeasure.Recalled)!.Day);
        Assert.Equal(new KpiDayFact(KpiMeasure.RefundDue, Today.AddDays(-1), "", 30m, 1), Find(facts, KpiMeasure.RefundDue));
        var totals = new PortfolioTotalsBuilder(Today);
        totals.Add(AccountKpiFacts.Of(new AccountKey("MAIN", "A1"), ledger.Entries, ledger.Balances, [], null, false) with { Days = facts });
        Assert.Equal((1, 30m), (totals.Build().RefundsOverdueAccounts, totals.Build().RefundsOverdueAmount));
    }

    [Fact]
    public void A_placement_recalled_before_the_account_was_placed_again_keeps_its_days()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(500m, serviceDate: Today.AddDays(-300)));
        var first = new EarlierPlacement(new DateTimeOffset(Today.AddDays(-150).ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero),
            new DateTimeOffset(Today.AddDays(-140).ToDateTime(new TimeOnly(16, 0)), TimeSpan.Zero));

        var facts = KpiDayFacts.Of(ledger.Entries, ledger.Balances, Today.AddDays(-270), Today.AddDays(-5), null, null, [], [], [], [first]);

        Assert.Equal([Today.AddDays(-150), Today.AddDays(-5)], facts.Where(f => f.Measure == KpiMeasure.Placed).Select(f => f.Day));
        Assert.Equal([Today.AddDays(-140)], facts.Where(f => f.Measure == KpiMeasure.Recalled).Select(f => f.Day));
        // The trend's history: placed during the first placement, not between the two, placed again after.
        var history = new AccountKpiHistory
        {
            Account = new AccountKey("MAIN", "A1"), Opened = Today.AddDays(-300), Entries = ledger.Entries,
            PlacedWithAgencyAt = new DateTimeOffset(Today.AddDays(-5).ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero), EarlierPlacements = [first],
        };
        Assert.Equal((true, false, true), (history.AsOf(Today.AddDays(-145))!.PlacedWithAgency, history.AsOf(Today.AddDays(-100))!.PlacedWithAgency,
            history.AsOf(Today)!.PlacedWithAgency));
    }

    [Fact]
    public void An_agents_calls_promises_kept_plans_handle_time_and_the_payments_after_their_conversation_are_theirs()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(600m, serviceDate: Today.AddDays(-60)));
        var talked = Now.AddDays(-5);
        var calls = new List<AgentCall>
        {
            new() { Agent = "ak_ann", At = Now.AddDays(-6), Outcome = WorklistOutcome.NoAnswer, HandleSeconds = 60 },
            new() { Agent = "ak_ann", At = talked, Outcome = WorklistOutcome.PromiseToPay, HandleSeconds = 300 },
            new() { Agent = "ak_bob", At = Now.AddDays(-4), Outcome = WorklistOutcome.PaymentPlanRequested, Inbound = true },
        };
        var promise = new PromiseToPay
        {
            PromiseId = "P1", Amount = 100m, PromisedDate = Today.AddDays(-2), CreatedAt = talked, CreatedBy = "ak_ann",
            Status = PromiseStatus.Kept, ResolvedAt = Now.AddDays(-2),
        };
        var plan = new PaymentPlan
        {
            PlanId = "L1", Total = 500m, DownPayment = 0m, Frequency = InstallmentFrequency.Monthly, Installments = [],
            CreatedAt = Now.AddDays(-4), CreatedBy = "ak_bob",
        };
        ledger.Post(PatientPayment(100m) with { EffectiveDate = Today.AddDays(-2) }); // after both conversations: Bob spoke last
        ledger.Post(PatientPayment(25m) with { EffectiveDate = Today.AddDays(-5) });  // on Ann's day, before Bob's call

        var facts = Facts(ledger, promises: [promise], plans: [plan], calls: calls);

        Assert.Equal(2, facts.Where(f => f is { Measure: KpiMeasure.AgentCalls, Subject: "ak_ann" }).Sum(f => f.Count));
        Assert.Equal(1, Find(facts, KpiMeasure.AgentContacts, "ak_ann")!.Count);
        Assert.Equal(1, Find(facts, KpiMeasure.AgentPromises, "ak_ann")!.Count);
        Assert.Equal(new KpiDayFact(KpiMeasure.AgentPromisesKept, Today.AddDays(-2), "ak_ann", 0m, 1), Find(facts, KpiMeasure.AgentPromisesKept, "ak_ann"));
        Assert.Equal(360m, facts.Where(f => f is { Measure: KpiMeasure.AgentHandled, Subject: "ak_ann" }).Sum(f => f.Amount));
        Assert.Equal(1, Find(facts, KpiMeasure.AgentPlans, "ak_bob")!.Count);
        Assert.Equal(1, Find(facts, KpiMeasure.AgentInbound, "ak_bob")!.Count);
        Assert.Null(Find(facts, KpiMeasure.AgentHandled, "ak_bob"));
        Assert.Equal(100m, Find(facts, KpiMeasure.AgentCollected, "ak_bob")!.Amount);
        Assert.Equal(25m, Find(facts, KpiMeasure.AgentCollected, "ak_ann")!.Amount);
    }

    [Fact]
    public void A_payment_taken_during_a_call_belongs_to_the_agent_who_records_the_call_after_it()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(600m, serviceDate: Today.AddDays(-60)));
        ledger.Post(PatientPayment(75m) with { Channel = PaymentChannel.Agent }); // posted at Now, during the call
        var calls = new List<AgentCall>
        {
            new() { Agent = "ak_ann", At = Now.AddDays(-3), Outcome = WorklistOutcome.RightPartyContact },
            new() { Agent = "ak_bob", At = Now.AddMinutes(4), Outcome = WorklistOutcome.RightPartyContact }, // the outcome, recorded after the payment
        };

        var facts = Facts(ledger, calls: calls);

        Assert.Equal(75m, Find(facts, KpiMeasure.AgentCollected, "ak_bob")!.Amount);
        Assert.Null(Find(facts, KpiMeasure.AgentCollected, "ak_ann"));
        Assert.Equal(75m, Find(Facts(ledger, calls: [calls[0], calls[1] with { At = Now.AddHours(3) }]), KpiMeasure.AgentCollected, "ak_ann")!.Amount); // a later call is another call
    }

    [Fact]
    public void A_mailed_check_posted_just_before_an_agents_call_is_not_credited_to_that_call()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(600m, serviceDate: Today.AddDays(-60)));
        ledger.Post(PatientPayment(25m) with { Channel = PaymentChannel.Mail, Method = PaymentMethod.Check }); // posted at Now by billing
        ledger.Post(PatientPayment(10m) with { Method = PaymentMethod.Cash, IdempotencyKey = "cash" });        // channel other, posted by billing
        var calls = new List<AgentCall> { new() { Agent = "ak_bob", At = Now.AddMinutes(1), Outcome = WorklistOutcome.PromiseToPay } };

        Assert.Null(Find(Facts(ledger, calls: calls), KpiMeasure.AgentCollected, "ak_bob"));
    }

    [Fact]
    public void A_payment_long_after_the_last_conversation_belongs_to_no_agent()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(600m, serviceDate: Today.AddDays(-90)));
        ledger.Post(PatientPayment(100m));
        var calls = new List<AgentCall> { new() { Agent = "ak_ann", At = Now.AddDays(-(KpiDayFacts.AttributionDays + 1)), Outcome = WorklistOutcome.RightPartyContact } };

        Assert.Null(Find(Facts(ledger, calls: calls), KpiMeasure.AgentCollected, "ak_ann"));
        Assert.NotNull(Find(Facts(ledger, calls: [calls[0] with { At = Now.AddDays(-KpiDayFacts.AttributionDays) }]), KpiMeasure.AgentCollected, "ak_ann"));
    }

    [Fact]
    public void Handle_time_is_unknown_without_a_lease_and_an_implausible_one_is_not_counted()
    {
        Assert.Null(AgentCall.HandleSecondsOf(null, Now));
        Assert.Equal(90, AgentCall.HandleSecondsOf(Now.AddSeconds(-90), Now));
        Assert.Null(AgentCall.HandleSecondsOf(Now.AddSeconds(1), Now));
        Assert.Null(AgentCall.HandleSecondsOf(Now.AddHours(-3), Now));
    }

    [Fact]
    public void The_portfolio_averages_days_to_paid_in_full_over_the_last_90_days()
    {
        var builder = new PortfolioTotalsBuilder(Today);
        var facts = AccountKpiFacts.Of(new AccountKey("MAIN", "A1"), [], AccountBalances.Of([]), [], null, false);
        builder.Add(facts with { Days = [new KpiDayFact(KpiMeasure.PaidInFull, Today.AddDays(-3), "", 0m, 20)] });
        builder.Add(facts with { Days = [new KpiDayFact(KpiMeasure.PaidInFull, Today.AddDays(-10), "", 0m, 45)] });
        builder.Add(facts with { Days = [new KpiDayFact(KpiMeasure.PaidInFull, Today.AddDays(-120), "", 0m, 400)] }); // outside the window

        var kpis = PortfolioKpis.Compute(builder.Build(), Today);

        Assert.Equal((32.5m, 2), (kpis.AverageDaysToPaidInFull, kpis.PaidInFullLast90Days));
    }

    [Fact]
    public void Adjustments_are_revenue_deductions_by_category_on_their_effective_date_and_a_reversed_one_is_not()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: true) };
        ledger.Post(Charge(1000m, serviceDate: Today.AddDays(-40)));
        ledger.Post(Adjustment(600m, AdjustmentCategory.Contractual) with { EffectiveDate = Today.AddDays(-20) });
        ledger.Post(Adjustment(50m, AdjustmentCategory.Charity) with { EffectiveDate = Today.AddDays(-5) });
        var wrong = ledger.Post(Adjustment(25m, AdjustmentCategory.Administrative));
        ledger.Post(Reverse(wrong.EntryId));

        var facts = Facts(ledger);

        Assert.Equal(new KpiDayFact(KpiMeasure.RevenueDeduction, Today.AddDays(-20), "contractual", 600m, 1), Find(facts, KpiMeasure.RevenueDeduction, "contractual"));
        Assert.Equal(new KpiDayFact(KpiMeasure.RevenueDeduction, Today.AddDays(-5), "charity", 50m, 1), Find(facts, KpiMeasure.RevenueDeduction, "charity"));
        Assert.Null(Find(facts, KpiMeasure.RevenueDeduction, "administrative"));
    }

    [Fact]
    public void Days_in_ar_are_measured_against_net_patient_revenue_gross_charges_less_deductions_in_the_last_90_days()
    {
        var builder = new PortfolioTotalsBuilder(Today);
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: true) };
        ledger.Post(Charge(900m, serviceDate: Today.AddDays(-30)));
        ledger.Post(Adjustment(450m, AdjustmentCategory.Contractual) with { EffectiveDate = Today.AddDays(-10) });
        ledger.Post(Adjustment(100m, AdjustmentCategory.Contractual) with { EffectiveDate = Today.AddDays(-95) }); // outside the window
        var account = new AccountKey("MAIN", "A1");
        builder.Add(AccountKpiFacts.Of(account, ledger.Entries, ledger.Balances, [], Today.AddDays(-30), false) with { Days = Facts(ledger) });

        var kpis = PortfolioKpis.Compute(builder.Build(), Today);

        Assert.Equal(900m, kpis.GrossChargesLast90Days);
        Assert.Equal(450m, kpis.NetRevenueLast90Days);
        Assert.Equal(350m, kpis.TotalAr);                  // 900 - 450 - 100
        Assert.Equal(70.0m, kpis.DaysInAr);                // 350 / (450 / 90): against gross charges it would read 35.0
        var written = builder.Build() with { RevenueDeductionsInWindow = 900m };
        Assert.Null(PortfolioKpis.Compute(written, Today).DaysInAr); // no net revenue in the window: no figure, not a division by zero
    }
}
