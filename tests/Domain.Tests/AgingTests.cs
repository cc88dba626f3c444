using Collections.Domain;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

public sealed class AgingTests
{
    [Theory]
    [InlineData(0, AgingBucket.Days0To30)]
    [InlineData(30, AgingBucket.Days0To30)]
    [InlineData(31, AgingBucket.Days31To60)]
    [InlineData(60, AgingBucket.Days31To60)]
    [InlineData(61, AgingBucket.Days61To90)]
    [InlineData(90, AgingBucket.Days61To90)]
    [InlineData(91, AgingBucket.Days91To120)]
    [InlineData(120, AgingBucket.Days91To120)]
    [InlineData(121, AgingBucket.Days121To180)]
    [InlineData(180, AgingBucket.Days121To180)]
    [InlineData(181, AgingBucket.Over180)]
    [InlineData(5000, AgingBucket.Over180)]
    public void Each_bucket_includes_its_upper_boundary(int days, AgingBucket bucket) =>
        Assert.Equal(bucket, Aging.BucketFor(days));

    [Fact]
    public void Bucket_labels_are_the_ones_reports_use() =>
        Assert.Equal(["0-30", "31-60", "61-90", "91-120", "121-180", "180+"], Enum.GetValues<AgingBucket>().Select(Aging.Label));

    [Fact]
    public void Before_any_statement_an_account_ages_from_its_earliest_service_date()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(10m, serviceDate: new DateOnly(2026, 9, 1)));
        ledger.Post(Charge(10m, serviceDate: new DateOnly(2026, 8, 1)));

        var age = Aging.Of(null, ledger.Entries, new DateOnly(2026, 9, 15), new DateOnly(2026, 10, 31));

        Assert.Equal(AgingBasis.ServiceDate, age.Basis);
        Assert.Equal(91, age.Days);
        Assert.Equal(AgingBucket.Days91To120, age.Bucket);
    }

    [Fact]
    public void Once_the_patient_has_a_statement_the_account_ages_from_the_first_statement()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(10m, serviceDate: new DateOnly(2026, 1, 1)));

        var age = Aging.Of(new DateOnly(2026, 10, 1), ledger.Entries, new DateOnly(2026, 1, 2), new DateOnly(2026, 10, 31));

        Assert.Equal(AgingBasis.FirstPatientStatement, age.Basis);
        Assert.Equal(30, age.Days);
        Assert.Equal(AgingBucket.Days0To30, age.Bucket);
    }

    [Fact]
    public void A_reversed_charge_does_not_set_the_age()
    {
        var ledger = new LedgerBuilder();
        var wrong = ledger.Post(Charge(10m, serviceDate: new DateOnly(2025, 1, 1)));
        ledger.Post(Charge(10m, serviceDate: new DateOnly(2026, 10, 1)));
        ledger.Post(Reverse(wrong.EntryId));

        var age = Aging.Of(null, ledger.Entries, new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 11));

        Assert.Equal(new DateOnly(2026, 10, 1), age.BasisDate);
    }

    [Fact]
    public void An_account_without_charges_ages_from_the_day_it_was_opened()
    {
        var age = Aging.Of(null, [], new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 23));
        Assert.Equal(AgingBasis.Opened, age.Basis);
        Assert.Equal(22, age.Days);
    }
}
