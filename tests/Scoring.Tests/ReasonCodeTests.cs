namespace Collections.Scoring.Tests;

[Collection(TrainedModelCollection.Name)]
public class ReasonCodeTests(TrainedModelFixture fixture)
{
    private static double Logit(double p) => Math.Log(p / (1 - p));

    private PaymentFeatures TypicalWith(string feature, float value)
    {
        var values = fixture.Model.Medians.ToArray();
        values[PaymentFeatures.IndexOf(feature)] = value;
        return PaymentFeatures.FromArray(values);
    }

    [Fact]
    public void The_typical_account_has_no_reasons()
    {
        Assert.Empty(fixture.Model.Score(fixture.Typical()).Reasons);
    }

    [Fact]
    public void A_large_balance_is_named_as_lowering_the_likelihood_by_exactly_how_much_it_moves_the_log_odds()
    {
        var typical = fixture.Model.Score(fixture.Typical());
        var prediction = fixture.Model.Score(TypicalWith(nameof(PaymentFeatures.PatientBalance), 30_000f));

        var reason = Assert.Single(prediction.Reasons);
        Assert.Equal(nameof(PaymentFeatures.PatientBalance), reason.Feature);
        Assert.Equal("Owes $30,000", reason.Text);
        Assert.True(reason.Effect < 0);
        Assert.Equal(Logit(prediction.Probability) - Logit(typical.Probability), reason.Effect, 9);
    }

    [Theory]
    [InlineData(nameof(PaymentFeatures.CollectionStopped), 1f, -1, "Collection stopped (bankruptcy, death, attorney or cease request)")]
    [InlineData(nameof(PaymentFeatures.PlanActive), 1f, 1, "On a payment plan in good standing")]
    [InlineData(nameof(PaymentFeatures.PromisesBroken), 2f, -1, "Broke 2 promises to pay")]
    [InlineData(nameof(PaymentFeatures.PatientPaymentCount), 3f, 1, "Has paid 3 times before")]
    public void A_feature_that_differs_from_the_typical_account_is_named_with_the_right_sign(string feature, float value, int sign, string text)
    {
        var reason = Assert.Single(fixture.Model.Score(TypicalWith(feature, value)).Reasons);

        Assert.Equal(feature, reason.Feature);
        Assert.Equal(text, reason.Text);
        Assert.Equal(sign, Math.Sign(reason.Effect));
    }

    [Fact]
    public void At_most_three_reasons_come_largest_first_and_scoring_without_them_gives_the_same_probability()
    {
        foreach (var row in fixture.Rows.Take(300))
        {
            var with = fixture.Model.Score(row.Features);
            var without = fixture.Model.Score(row.Features, withReasons: false);

            Assert.Equal(with.Probability, without.Probability);
            Assert.Empty(without.Reasons);
            Assert.InRange(with.Reasons.Count, 0, PaymentModel.ReasonCount);
            Assert.Equal(with.Reasons.OrderByDescending(r => Math.Abs(r.Effect)).Select(r => r.Feature), with.Reasons.Select(r => r.Feature));
            Assert.All(with.Reasons, r => Assert.Contains(r.Feature, PaymentFeatures.Names));
        }
    }

    [Theory]
    [InlineData(nameof(PaymentFeatures.PatientPaymentCount), 3f, "Has paid 3 times before")]
    [InlineData(nameof(PaymentFeatures.PatientPaymentCount), 1f, "Has paid once before")]
    [InlineData(nameof(PaymentFeatures.PatientPaymentCount), 0f, "Has never paid on this account")]
    [InlineData(nameof(PaymentFeatures.AccountAgeDays), 430f, "Aged 14 months (from the first statement, or the service date before one)")]
    [InlineData(nameof(PaymentFeatures.AccountAgeDays), 45f, "Aged 45 days (from the first statement, or the service date before one)")]
    [InlineData(nameof(PaymentFeatures.AccountAgeDays), 800f, "Aged 2 years (from the first statement, or the service date before one)")]
    [InlineData(nameof(PaymentFeatures.AccountAgeDays), 0f, "Aging starts today (counted from the first statement, or the service date before one)")]
    [InlineData(nameof(PaymentFeatures.DaysSincePatientOwed), 0f, "The patient's share was posted today")]
    [InlineData(nameof(PaymentFeatures.DaysSincePatientOwed), 62f, "The patient has owed for 2 months")]
    [InlineData(nameof(PaymentFeatures.DaysSinceLastPatientPayment), -1f, "Has never paid")]
    [InlineData(nameof(PaymentFeatures.RightPartyContacts), 2f, "Reached twice")]
    [InlineData(nameof(PaymentFeatures.PaymentsAfterText), 1f, "Paid soon after a text once")]
    [InlineData(nameof(PaymentFeatures.PatientBalance), 1234.4f, "Owes $1,234")]
    [InlineData(nameof(PaymentFeatures.AgingBucket), 5f, "In the 180+ days aging bucket")]
    [InlineData("SomeCsvColumn", 2.5f, "SomeCsvColumn is 2.5")]
    public void Reason_texts_say_what_the_value_means_in_agent_words(string feature, float value, string expected) =>
        Assert.Equal(expected, ReasonText.Describe(feature, value));

    [Fact]
    public void Every_feature_has_its_own_words()
    {
        foreach (var name in PaymentFeatures.Names)
            Assert.False(ReasonText.Describe(name, 1f).StartsWith(name + " is ", StringComparison.Ordinal), name); // not the generic fallback
    }
}
