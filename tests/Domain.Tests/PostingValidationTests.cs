using Collections.Domain;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

public sealed class PostingValidationTests
{
    [Theory]
    [InlineData("0", "amount.zero")]
    [InlineData("-5.00", "amount.negative")]
    [InlineData("10.005", "amount.precision")]
    [InlineData("100000000.00", "amount.too-large")]
    public void Bad_amounts_are_refused_with_a_reason_naming_the_amount(string amount, string code)
    {
        var ledger = new LedgerBuilder();

        var decision = ledger.Try(Charge(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));

        var error = Assert.Single(decision.Errors);
        Assert.Equal(code, error.Code);
        Assert.Equal("amount", error.Field);
        Assert.Equal(ErrorKind.Invalid, error.Kind);
    }

    [Fact]
    public void An_amount_with_trailing_zeros_beyond_two_places_is_still_two_decimal_places()
    {
        var entry = new LedgerBuilder().Post(Charge(10.100m));
        Assert.Equal(10.10m, entry.Amount);
        Assert.Equal("10.10", entry.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_missing_amount_is_refused()
    {
        var decision = new LedgerBuilder().Try(Charge(1m) with { Amount = null });
        Assert.Equal("amount.required", Assert.Single(decision.Errors).Code);
    }

    [Fact]
    public void A_service_date_in_the_future_is_refused()
    {
        var decision = new LedgerBuilder().Try(Charge(10m, serviceDate: new DateOnly(2026, 11, 25)));
        Assert.Equal("date.future", Assert.Single(decision.Errors).Code);
    }

    [Fact]
    public void Today_is_a_valid_service_date_even_where_it_is_already_tomorrow()
    {
        // 15:00 UTC on 23 Nov is already 24 Nov in Kiribati (UTC+14).
        var decision = new LedgerBuilder().Try(Charge(10m, serviceDate: new DateOnly(2026, 11, 24)));
        Assert.True(decision.Accepted);
    }

    [Fact]
    public void Every_missing_field_is_reported_at_once()
    {
        var decision = new LedgerBuilder().Try(new EntryRequest { Kind = EntryKind.Charge });
        Assert.Equal(["amount", "code", "serviceDate"], decision.Errors.Select(e => e.Field!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_field_that_does_not_belong_to_the_kind_is_refused()
    {
        var decision = new LedgerBuilder().Try(PatientPayment(10m) with { Payer = "Acme Health" });
        var error = Assert.Single(decision.Errors);
        Assert.Equal("payer", error.Field);
        Assert.Equal("field.not-applicable", error.Code);
    }

    [Fact]
    public void A_kind_is_required()
    {
        var decision = new LedgerBuilder().Try(new EntryRequest { Amount = 10m });
        Assert.Equal("kind.required", Assert.Single(decision.Errors).Code);
    }

    [Theory]
    [InlineData(EntryKind.PatientPayment, "method")]
    [InlineData(EntryKind.InsurancePayment, "payer")]
    [InlineData(EntryKind.Adjustment, "category")]
    [InlineData(EntryKind.Transfer, "direction")]
    public void Each_kind_requires_its_own_fields(EntryKind kind, string field)
    {
        var decision = new LedgerBuilder().Try(new EntryRequest { Kind = kind, Amount = 10m });
        Assert.Contains(decision.Errors, e => e.Field == field);
    }

    [Fact]
    public void Free_text_with_control_characters_is_refused()
    {
        var decision = new LedgerBuilder().Try(Charge(10m) with { Description = "line\u0007bell" });
        Assert.Equal("text.control-characters", Assert.Single(decision.Errors).Code);
    }
}

public sealed class IdempotencyTests
{
    [Fact]
    public void The_same_key_and_request_returns_the_first_entry_and_posts_nothing_new()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(250m));
        var first = ledger.Post(PatientPayment(40m) with { IdempotencyKey = "pay-1" });

        var retry = ledger.Try(PatientPayment(40m) with { IdempotencyKey = "pay-1" });

        Assert.True(retry.IsReplay);
        Assert.Same(first, retry.Entry);
        Assert.Equal(2, ledger.Entries.Count);
    }

    [Fact]
    public void The_same_key_with_a_different_request_is_a_conflict()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(250m) with { IdempotencyKey = "c-1" });

        var error = Assert.Single(ledger.Try(Charge(300m) with { IdempotencyKey = "c-1" }).Errors);

        Assert.Equal(ErrorKind.Conflict, error.Kind);
        Assert.Equal("idempotency-key.reused", error.Code);
    }

    [Fact]
    public void A_retry_is_recognised_even_when_the_amount_is_written_differently()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(250m) with { IdempotencyKey = "c-1" });
        Assert.True(ledger.Try(Charge(250.00m) with { IdempotencyKey = "c-1" }).IsReplay);
    }

    [Fact]
    public void Posting_without_a_key_is_refused()
    {
        var decision = LedgerPosting.Prepare(Charge(10m), [], new AccountFacts(true), "test", Now);
        Assert.Equal("idempotency-key.required", Assert.Single(decision.Errors).Code);
    }
}
