using Collections.Domain;
using static Collections.Scoring.Tests.Histories;

namespace Collections.Scoring.Tests;

public class PaymentLabelTests
{
    private static readonly LabelDefinition Default = new();
    private static readonly DateTimeOffset AsOf = Day(50);
    private static readonly DateTimeOffset Later = Day(400);

    [Fact]
    public void Paying_half_the_balance_within_the_window_is_the_label_event()
    {
        var history = Insured(Payment(150m, Day(60)), Payment(50m, Day(120)));

        var outcome = PaymentLabel.Evaluate(history, AsOf, Default, Later);

        Assert.Equal(new LabelOutcome(true, 400m, 200m), outcome);
    }

    [Fact]
    public void Paying_a_cent_less_than_the_share_is_not()
    {
        Assert.False(PaymentLabel.Of(Insured(Payment(199.99m, Day(60))), AsOf, Default, Later));
    }

    [Fact]
    public void The_window_runs_from_just_after_the_time_to_its_last_instant()
    {
        var atTheTime = Insured(Payment(400m, AsOf));
        var atTheEnd = Insured(Payment(400m, AsOf.AddDays(90)));
        var justAfter = Insured(Payment(400m, AsOf.AddDays(90).AddTicks(1)));

        Assert.Null(PaymentLabel.Of(atTheTime, AsOf, Default, Later)); // paid off at the time: nothing owed
        Assert.True(PaymentLabel.Of(atTheEnd, AsOf, Default, Later));
        Assert.False(PaymentLabel.Of(justAfter, AsOf, Default, Later));
    }

    [Fact]
    public void Nothing_owed_at_the_time_is_not_labellable()
    {
        Assert.Null(PaymentLabel.Of(Insured(), Day(10), Default, Later)); // insurance has not decided yet
    }

    [Fact]
    public void A_window_that_has_not_ended_by_now_is_not_labellable()
    {
        Assert.Null(PaymentLabel.Of(Insured(Payment(400m, Day(60))), AsOf, Default, AsOf.AddDays(89)));
        Assert.True(PaymentLabel.Of(Insured(Payment(400m, Day(60))), AsOf, Default, AsOf.AddDays(90)));
    }

    [Fact]
    public void A_payment_reversed_within_the_window_does_not_count()
    {
        var history = Insured(Payment(300m, Day(60), id: "P300"), Entry(EntryKind.Reversal, 300m, Day(70), reverses: "P300"), Payment(50m, Day(80)));

        var outcome = PaymentLabel.Evaluate(history, AsOf, Default, Later)!;

        Assert.Equal(50m, outcome.CollectedInWindow);
        Assert.False(outcome.Paid);
    }

    [Fact]
    public void Adjustments_in_the_window_are_not_payments()
    {
        var history = Insured(Entry(EntryKind.Adjustment, 400m, Day(60), party: ResponsibleParty.Patient, category: AdjustmentCategory.Charity));

        Assert.False(PaymentLabel.Of(history, AsOf, Default, Later));
    }

    [Fact]
    public void The_share_and_the_window_are_configurable()
    {
        var history = Insured(Payment(120m, Day(60)), Payment(300m, Day(100)));

        Assert.False(PaymentLabel.Of(history, AsOf, new LabelDefinition { WindowDays = 30 }, Later)); // 120 of 400 in 30 days
        Assert.True(PaymentLabel.Of(history, AsOf, new LabelDefinition { WindowDays = 30, PaidShare = 0.25m }, Later));
        Assert.False(PaymentLabel.Of(history, AsOf, new LabelDefinition { PaidShare = 1.1m }, Later));
    }

    [Fact]
    public void The_balance_is_the_one_known_at_the_time()
    {
        // A second transfer posted in the window raises the balance, but the share is of what was owed at the time.
        var history = Insured(Entry(EntryKind.Charge, 500m, Day(55), party: ResponsibleParty.Patient), Payment(200m, Day(60)));

        var outcome = PaymentLabel.Evaluate(history, AsOf, Default, Later)!;

        Assert.Equal(400m, outcome.PatientBalance);
        Assert.True(outcome.Paid);
    }
}
