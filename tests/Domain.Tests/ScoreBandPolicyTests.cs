using Collections.Domain.Cadence;

namespace Collections.Domain.Tests;

public sealed class ScoreBandPolicyTests
{
    private static CadencePolicy For(decimal balance, double? score) =>
        CadencePolicies.Select(CadencePolicies.Shipped, "MAIN", balance, selfPay: true, score)!;

    [Fact]
    public void An_account_without_a_score_never_gets_a_score_band_policy()
    {
        Assert.Equal("standard", For(500m, null).PolicyId);
        Assert.Equal("small-balance", For(10m, null).PolicyId);
        Assert.Equal("standard", For(5000m, null).PolicyId);
    }

    [Fact]
    public void A_likely_payer_gets_messages_and_no_call()
    {
        var policy = For(500m, 0.8);
        Assert.Equal("likely-payer", policy.PolicyId);
        Assert.DoesNotContain(policy.Steps, s => s.Action == OutreachAction.CallTask);
        Assert.Contains(policy.Steps, s => s.Action == OutreachAction.SmsReminder);
    }

    [Fact]
    public void An_unlikely_payer_with_a_high_balance_gets_an_early_call()
    {
        var policy = For(2500m, 0.2);
        Assert.Equal("early-call", policy.PolicyId);
        Assert.True(policy.Steps.Where(s => s.Action == OutreachAction.CallTask).Min(policy.DayOf) <= 10);
    }

    [Fact]
    public void A_very_unlikely_payer_with_a_small_balance_goes_to_write_off_review()
    {
        Assert.Equal("write-off-review", For(60m, 0.05).PolicyId);
        Assert.Equal("write-off-review", For(10m, 0.05).PolicyId); // wins over small-balance
    }

    [Fact]
    public void Accounts_between_the_bands_keep_the_standard_cadence()
    {
        Assert.Equal("standard", For(500m, 0.45).PolicyId);
        Assert.Equal("standard", For(500m, 0.2).PolicyId);  // unlikely but under $1,000
        Assert.Equal("standard", For(60m, 0.15).PolicyId);  // small but not very unlikely
    }

    [Fact]
    public void Score_bands_meet_without_overlapping()
    {
        var segment = new AccountSegment { MinimumScore = 0.3, MaximumScore = 0.6 };
        Assert.True(segment.Matches(100m, true, 0.3));
        Assert.False(segment.Matches(100m, true, 0.6));
        Assert.False(segment.Matches(100m, true, null));
    }

    [Fact]
    public void Every_shipped_policy_is_valid()
    {
        foreach (var policy in CadencePolicies.Shipped)
            Assert.Empty(CadencePolicies.Validate(policy));
    }

    [Theory]
    [InlineData(-0.1, null, "segment.minimumScore")]
    [InlineData(null, 1.5, "segment.maximumScore")]
    [InlineData(0.6, 0.3, "segment")]
    [InlineData(0.5, 0.5, "segment")]
    public void A_score_band_outside_zero_to_one_or_empty_is_refused(double? min, double? max, string field)
    {
        var policy = CadencePolicies.Standard with { Segment = new AccountSegment { MinimumScore = min, MaximumScore = max } };
        Assert.Contains(CadencePolicies.Validate(policy), e => e.Field == field);
    }
}
