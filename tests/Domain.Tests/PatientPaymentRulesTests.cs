using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Payments;
using CsCheck;

namespace Collections.Domain.Tests;

/// <summary>The self-service page's pure rules: how a payment splits over bills, the identity lock, what autopay charges, the receipt's gate.</summary>
public sealed class PatientPaymentRulesTests
{
    private static readonly AccountKey Older = new("MAIN", "A1"), Newer = new("MAIN", "A2"), Clinic = new("CLINIC", "C9");

    [Fact]
    public void A_payment_pays_the_oldest_bill_first_and_never_more_than_a_bill_owes()
    {
        var (shares, errors) = PaymentAllocation.Allocate(130.00m,
            [new AccountOwed(Newer, 500.00m, new DateOnly(2026, 9, 1)), new AccountOwed(Older, 100.00m, new DateOnly(2026, 3, 1)), new AccountOwed(Clinic, 0m, new DateOnly(2026, 1, 1))]);
        Assert.Empty(errors);
        Assert.Equal([(Older, 100.00m), (Newer, 30.00m)], shares.Select(s => (s.Account, s.Amount)));
    }

    [Theory]
    [InlineData("600.01", "amount.more-than-owed")]
    [InlineData("0.50", "amount.too-small")]
    [InlineData("10.001", "amount.precision")]
    public void A_payment_the_bills_cannot_take_is_refused_with_the_reason(string amount, string code)
    {
        var (shares, errors) = PaymentAllocation.Allocate(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture),
            [new AccountOwed(Older, 100.00m, new DateOnly(2026, 3, 1)), new AccountOwed(Newer, 500.00m, new DateOnly(2026, 9, 1))]);
        Assert.Empty(shares);
        Assert.Equal(code, Assert.Single(errors).Code);
    }

    [Fact]
    public void Shares_always_add_up_to_the_payment_and_stay_within_each_bill()
    {
        var owed = Gen.Decimal[0.01m, 5000m].Select(d => decimal.Round(d, 2));
        Gen.Select(owed.Array[1, 6], Gen.Int[1, 100]).Sample((amounts, percent) =>
        {
            var accounts = amounts.Select((a, i) => new AccountOwed(new AccountKey("F", $"A{i}"), a, new DateOnly(2026, 1, 1).AddDays(i))).ToList();
            var pay = Math.Max(Math.Min(1.00m, amounts.Sum()), decimal.Round(amounts.Sum() * percent / 100m, 2));
            var (shares, errors) = PaymentAllocation.Allocate(pay, accounts);
            Assert.Empty(errors);
            Assert.Equal(pay, shares.Sum(s => s.Amount));
            Assert.All(shares, s => Assert.True(s.Amount > 0 && s.Amount <= accounts.Single(a => a.Account == s.Account).Owed));
        });
    }

    private static readonly PortalAccessRules Rules = new() { MaxFailures = 5, Window = TimeSpan.FromMinutes(30), Lockout = TimeSpan.FromMinutes(30) };
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Five_wrong_dates_of_birth_within_the_window_lock_the_person_for_the_lockout()
    {
        var failures = Enumerable.Range(0, 5).Select(i => Now.AddMinutes(-20 + i)).ToList();
        Assert.Equal(Now.AddMinutes(-16) + Rules.Lockout, PortalAccess.LockedUntil(failures, Rules, Now));
        Assert.Equal(0, PortalAccess.AttemptsLeft(failures, Rules, Now));
        Assert.Null(PortalAccess.LockedUntil(failures, Rules, Now.AddMinutes(15))); // the lock ends 30 minutes after the last wrong answer
    }

    [Fact]
    public void Wrong_answers_spread_wider_than_the_window_do_not_lock()
    {
        var failures = Enumerable.Range(0, 5).Select(i => Now.AddMinutes(-i * 10)).ToList(); // 40 minutes from first to last
        Assert.Null(PortalAccess.LockedUntil(failures, Rules, Now));
        Assert.Equal(2, PortalAccess.AttemptsLeft(failures, Rules, Now)); // three fall in the last 30 minutes
    }

    [Fact]
    public void Only_the_date_of_birth_on_file_matches()
    {
        Assert.True(PortalAccess.Matches(new DateOnly(1980, 4, 2), new DateOnly(1980, 4, 2)));
        Assert.False(PortalAccess.Matches(new DateOnly(1980, 4, 2), new DateOnly(1980, 2, 4)));
        Assert.False(PortalAccess.Matches(new DateOnly(1980, 4, 2), null));
    }

    private static PaymentPlan Plan(DateTimeOffset created) => new()
    {
        PlanId = "PL1", Total = 300.00m, DownPayment = 0m, Frequency = InstallmentFrequency.Monthly, CreatedAt = created, CreatedBy = "patient",
        Installments = [new Installment { Number = 1, DueDate = new DateOnly(2026, 4, 1), Amount = 100m }, new Installment { Number = 2, DueDate = new DateOnly(2026, 5, 1), Amount = 100m }, new Installment { Number = 3, DueDate = new DateOnly(2026, 6, 1), Amount = 100m }],
    };

    private static LedgerEntry Paid(decimal amount, DateTimeOffset at) => new()
    {
        EntryId = Guid.NewGuid().ToString("N"), Kind = EntryKind.PatientPayment, Amount = amount, EffectiveDate = DateOnly.FromDateTime(at.UtcDateTime),
        PostedAt = at, PostedBy = "test", IdempotencyKey = Guid.NewGuid().ToString("N"),
    };

    [Fact]
    public void Autopay_charges_the_installment_that_is_due_and_not_yet_covered()
    {
        var created = new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero);
        var plan = Plan(created);
        Assert.Null(Autopay.Due(plan, [], 300m, new DateOnly(2026, 3, 31)));
        Assert.Equal((1, 100m), Autopay.Due(plan, [], 300m, new DateOnly(2026, 4, 1)) is { } d1 ? (d1.Installment.Number, d1.Amount) : default);
        // Paid the first one (and 30 toward the next): the second is charged for what is left of it, on its date.
        Assert.Null(Autopay.Due(plan, [Paid(130m, created.AddDays(20))], 170m, new DateOnly(2026, 4, 30)));
        Assert.Equal((2, 70m), Autopay.Due(plan, [Paid(130m, created.AddDays(20))], 170m, new DateOnly(2026, 5, 1)) is { } d2 ? (d2.Installment.Number, d2.Amount) : default);
        // Never more than the patient owes (insurance paid some meanwhile).
        Assert.Equal(40m, Autopay.Due(plan, [], 40m, new DateOnly(2026, 4, 1))!.Value.Amount);
        Assert.Null(Autopay.Due(plan with { Status = PlanStatus.Defaulted }, [], 300m, new DateOnly(2026, 4, 1)));
    }

    [Fact]
    public void A_declined_installment_is_tried_again_after_the_retry_days_then_left_to_the_plan()
    {
        var rules = new AutopayRules { MaxAttempts = 2, RetryDays = 3 };
        Assert.True(Autopay.MayCharge([], rules, Now));
        Assert.False(Autopay.MayCharge([Now], rules, Now.AddDays(2)));
        Assert.True(Autopay.MayCharge([Now], rules, Now.AddDays(3)));
        Assert.False(Autopay.MayCharge([Now, Now.AddDays(3)], rules, Now.AddDays(30)));
    }

    private static PersonFacts Person(params ChannelConsent[] consents) => new(
        new GuarantorProfile
        {
            FirstName = "Maria", LastName = "Lopez", DateOfBirth = new DateOnly(1980, 4, 2),
            Address = new PostalAddress { Line1 = "12 Elm St", City = "Austin", State = "TX", Zip = "78701" },
            Phones = [new PhoneNumber { Number = "5125550100", Type = PhoneType.Mobile }], Email = "maria@example.org",
            PreferredChannel = ContactChannel.Email, TimeZone = TimeZoneResolution.Given("America/Chicago"),
        }, consents, [], []);

    [Fact]
    public void A_receipt_goes_at_once_at_night_but_never_through_a_closed_channel_or_a_hold()
    {
        var receipt = new ContactRequest(Older, OutreachAction.PaymentReceipt, ContactChannel.Email, ContactInitiator.PatientRequested);
        var debt = new DebtFacts([], 100m, null, null);
        var midnightInAustin = new DateTimeOffset(2026, 12, 4, 6, 0, 0, TimeSpan.Zero);
        Assert.Equal(GateVerdict.Allow, ComplianceGate.Check(receipt, Person(), debt, ComplianceGateTests.Rules, midnightInAustin).Verdict);
        var optedOut = new ChannelConsent { Channel = ContactChannel.Email, Status = ConsentStatus.OptedOut, Source = "link", RecordedAt = Now.AddDays(-1), RecordedBy = "patient" };
        Assert.Equal("channel.opted-out", ComplianceGate.Check(receipt, Person(optedOut), debt, ComplianceGateTests.Rules, midnightInAustin).Rule);
        var held = debt with { Holds = [new Hold { HoldId = "H1", Reason = HoldReason.CeaseCommunication, Note = "letter", PlacedBy = "agent", PlacedAt = Now.AddDays(-2) }] };
        Assert.Equal(GateVerdict.Deny, ComplianceGate.Check(receipt, Person(), held, ComplianceGateTests.Rules, midnightInAustin).Verdict);
    }
}
