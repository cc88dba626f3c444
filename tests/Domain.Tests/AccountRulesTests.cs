using System.Globalization;

namespace Collections.Domain.Tests;

public sealed class AccountRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);

    private static DateOnly? Date(string? value) => value is null ? null : DateOnly.Parse(value, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-03-01", null, null)]
    [InlineData("2026-03-01", "2026-02-20", null)]
    [InlineData("2026-02-20", "2026-02-20", null)]                // a same-day stay
    [InlineData(null, null, "discharge-date.required")]
    [InlineData("2026-03-04", null, "date.future")]
    [InlineData("2026-02-19", "2026-02-20", "date.before-admit")]
    [InlineData("1989-12-31", null, "date.too-old")]
    public void A_discharge_recorded_after_opening_is_a_past_date_on_or_after_the_admit_date(string? discharge, string? admit, string? code)
    {
        var errors = AccountRules.ValidateDischarge(Date(discharge), Date(admit), Now);
        Assert.Equal(code, errors.SingleOrDefault()?.Code);
        Assert.All(errors, e => Assert.Equal("dischargeDate", e.Field));
    }
}
