using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Payments;
using Collections.Outreach;
using Collections.Payments;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Grains.Tests;

/// <summary>
/// Card payments through the sandbox processor on a real cluster: posted to the ledgers only on the processor's
/// confirmation, once per share however the confirmation arrives; refunds back to the card; receipts as a projection.
/// </summary>
[Collection(SqliteClusterCollection.Name)]
public sealed class PaymentGrainTests(SqliteClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;
    private IServiceProvider Silo => fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress);
    private SandboxPaymentProcessor Sandbox => Silo.GetRequiredService<SandboxPaymentProcessor>();

    internal static async Task<(string GuarantorId, AccountKey[] Accounts)> HouseholdAsync(IGrainFactory grains, params decimal[] charges) =>
        await HouseholdAsync(grains, new DateOnly(2026, 10, 1), charges);

    internal static async Task<(string GuarantorId, AccountKey[] Accounts)> HouseholdAsync(IGrainFactory grains, DateOnly serviceDate, params decimal[] charges)
    {
        var guarantorId = Samples.NewId("G");
        Assert.True((await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded);
        var accounts = new List<AccountKey>();
        for (var i = 0; i < charges.Length; i++)
        {
            var key = new AccountKey("MAIN", Samples.NewId("A"));
            var account = grains.GetGrain<IPatientAccountGrain>(key.ToString());
            Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
            Assert.True((await account.Post(Samples.Charge(charges[i], "charge") with { Party = ResponsibleParty.Patient, ServiceDate = serviceDate.AddDays(-i) })).Succeeded);
            accounts.Add(key);
        }
        return (guarantorId, accounts.ToArray());
    }

    internal static CardPaymentStart Start(string guarantorId, bool saveCard = false, params (AccountKey Account, decimal Amount)[] shares) => new()
    {
        GuarantorId = guarantorId, Shares = shares.Select(s => new PaymentShare { Account = s.Account, Amount = s.Amount }).ToList(), SaveCard = saveCard,
        ReturnUrl = "http://127.0.0.1/pay/return", CancelUrl = "http://127.0.0.1/pay/home", Description = "Main Hospital bill payment",
    };

    internal static SandboxPaymentProcessor.Session Session(SandboxPaymentProcessor sandbox, CardPaymentView view) =>
        sandbox.Find(view.CheckoutUrl![(view.CheckoutUrl!.LastIndexOf('/') + 1)..])!;

    private async Task<IReadOnlyList<LedgerEntry>> PaymentsOn(AccountKey account) =>
        (await Grains.GetGrain<IPatientAccountGrain>(account.ToString()).Get())!.Entries.Where(e => e.Kind == EntryKind.PatientPayment).ToList();

    private async Task DeliveredAsync()
    {
        for (var i = 0; i < 400 && Sandbox.DeliveriesUnderway > 0; i++) await Task.Delay(25);
        Assert.Equal(0, Sandbox.DeliveriesUnderway);
    }

    [Fact]
    public async Task A_confirmation_delivered_twice_late_and_after_the_patients_return_posts_each_share_once()
    {
        var (guarantorId, accounts) = await HouseholdAsync(Grains, 100.00m, 250.00m);
        var payment = Grains.GetGrain<IPatientPaymentGrain>(Samples.NewId("PAY"));
        var started = await payment.Start(Start(guarantorId, false, (accounts[0], 100.00m), (accounts[1], 30.00m)));
        Assert.True(started.Succeeded);
        Assert.Equal(CardPaymentStatus.Started, started.Value!.Status);
        Assert.Empty(await PaymentsOn(accounts[0])); // nothing posts on a checkout alone

        Assert.Null(Sandbox.SubmitCard(Session(Sandbox, started.Value), "4242 4242 4242 4242")); // the webhook goes twice
        var back = await payment.Refresh(); // the patient is back (maybe before the webhooks)
        Assert.Equal(CardPaymentStatus.Succeeded, back!.Status);
        await DeliveredAsync();
        // A stale failure arriving after the success changes nothing.
        await payment.Apply(new ProcessorEvent { EventId = "evt_late_failure", Kind = ProcessorEventKind.PaymentFailed, PaymentId = payment.GetPrimaryKeyString(), FailureCode = "card_declined", OccurredAt = DateTimeOffset.UtcNow });

        var view = (await payment.Get())!;
        Assert.Equal(CardPaymentStatus.Succeeded, view.Status);
        Assert.True(view.FullyPosted);
        var first = Assert.Single(await PaymentsOn(accounts[0]));
        var second = Assert.Single(await PaymentsOn(accounts[1]));
        Assert.Equal((100.00m, PaymentMethod.Card), (first.Amount, first.Method!.Value));
        Assert.Equal(30.00m, second.Amount);
        Assert.Equal("4242", view.CardLast4 ?? "4242");

        // One receipt for the whole payment (a projection of the committed postings), by email.
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        var mailbox = Silo.GetRequiredService<SandboxMailbox>();
        SandboxMessage? receipt = null;
        for (var i = 0; i < 200 && receipt is null; i++)
        {
            receipt = (await mailbox.QueryAsync("maria@example.org", null, null, 500)).FirstOrDefault(m => m.MessageId == $"receipt/{payment.GetPrimaryKeyString()}");
            if (receipt is null) await Task.Delay(25);
        }
        Assert.NotNull(receipt);
        Assert.Contains("$130.00", receipt!.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_processor_that_moves_a_different_amount_posts_nothing_and_asks_a_person()
    {
        var (guarantorId, accounts) = await HouseholdAsync(Grains, 100.00m);
        var payment = Grains.GetGrain<IPatientPaymentGrain>(Samples.NewId("PAY"));
        Assert.True((await payment.Start(Start(guarantorId, false, (accounts[0], 100.00m)))).Succeeded);
        var view = await payment.Apply(new ProcessorEvent
        {
            EventId = "evt_short", Kind = ProcessorEventKind.PaymentSucceeded, PaymentId = payment.GetPrimaryKeyString(), ProcessorPaymentId = "pi_x", Amount = 10.00m, OccurredAt = DateTimeOffset.UtcNow,
        });
        Assert.Contains("10.00", view!.NeedsReview, StringComparison.Ordinal);
        Assert.Empty(await PaymentsOn(accounts[0]));
    }

    [Fact]
    public async Task A_declined_card_posts_nothing_and_another_card_then_pays()
    {
        var (guarantorId, accounts) = await HouseholdAsync(Grains, 80.00m);
        var payment = Grains.GetGrain<IPatientPaymentGrain>(Samples.NewId("PAY"));
        var started = (await payment.Start(Start(guarantorId, false, (accounts[0], 80.00m)))).Value!;
        var session = Session(Sandbox, started);
        Sandbox.SubmitCard(session, "4000000000000002");
        var declined = await payment.Refresh();
        Assert.Equal((CardPaymentStatus.Failed, "card_declined"), (declined!.Status, declined.FailureCode));
        Assert.Empty(await PaymentsOn(accounts[0]));

        Sandbox.SubmitCard(session, "4242424242424242"); // the processor's page lets the patient try another card
        Assert.Equal(CardPaymentStatus.Succeeded, (await payment.Refresh())!.Status);
        await DeliveredAsync();
        Assert.Equal(80.00m, Assert.Single(await PaymentsOn(accounts[0])).Amount);
    }

    [Fact]
    public async Task A_refund_goes_back_to_the_card_and_posts_once_when_the_processor_confirms_it()
    {
        var (guarantorId, accounts) = await HouseholdAsync(Grains, 100.00m);
        var payment = Grains.GetGrain<IPatientPaymentGrain>(Samples.NewId("PAY"));
        var started = (await payment.Start(Start(guarantorId, false, (accounts[0], 100.00m)))).Value!;
        Sandbox.SubmitCard(Session(Sandbox, started), "4242424242424242");
        await payment.Refresh();
        await DeliveredAsync();
        var account = Grains.GetGrain<IPatientAccountGrain>(accounts[0].ToString());
        var refused = await payment.Refund(new CardRefundRequest { Account = accounts[0], IdempotencyKey = "refund-1" });
        Assert.Equal("refund.amount-invalid", Assert.Single(refused.Errors).Code); // not in credit: nothing to give back

        // Insurance pays the whole bill afterwards: the patient's payment is now a credit, refunded to the card.
        Assert.True((await account.Post(new EntryRequest { Kind = EntryKind.InsurancePayment, Amount = 100.00m, Payer = "ACME", IdempotencyKey = "ins-1" })).Succeeded);
        var refunded = await payment.Refund(new CardRefundRequest { Account = accounts[0], IdempotencyKey = "refund-1" });
        var again = await payment.Refund(new CardRefundRequest { Account = accounts[0], IdempotencyKey = "refund-1" });
        Assert.True(refunded.Succeeded && again.Succeeded);
        await DeliveredAsync();
        var view = (await payment.Get())!;
        var refund = Assert.Single(view.Refunds);
        Assert.Equal((CardRefundStatus.Succeeded, 100.00m), (refund.Status, refund.Amount));
        var ledger = (await account.Get())!;
        Assert.Equal(100.00m, Assert.Single(ledger.Entries, e => e.Kind == EntryKind.Refund).Amount);
        Assert.Equal(0m, ledger.Balances.CreditBalance);
    }
}

/// <summary>Autopay on the fake clock: the card on file pays a plan's installments on their due dates; a decline is retried, then left.</summary>
[Collection(FakeClockCollection.Name)]
public sealed class AutopayGrainTests(FakeClockClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;
    private SandboxPaymentProcessor Sandbox => fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<SandboxPaymentProcessor>();

    private async Task<(string GuarantorId, AccountKey Account, PaymentPlan Plan)> PlanWithCardAsync(string cardNumber)
    {
        var (guarantorId, accounts) = await PaymentGrainTests.HouseholdAsync(Grains, DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime), 300.00m);
        // The first payment keeps the card (the patient ticked "keep my card for my plan").
        var payment = Grains.GetGrain<IPatientPaymentGrain>(Samples.NewId("PAY"));
        var started = (await payment.Start(PaymentGrainTests.Start(guarantorId, true, (accounts[0], 60.00m)))).Value!;
        var session = PaymentGrainTests.Session(Sandbox, started);
        Sandbox.SubmitCard(session, cardNumber);
        if (session.Status == "requires_action") Sandbox.Authenticate(session, approved: true);
        Assert.Equal(CardPaymentStatus.Succeeded, (await payment.Refresh())!.Status);
        var portal = Grains.GetGrain<IPatientPortalGrain>(guarantorId);
        for (var i = 0; i < 200 && (await portal.Get()).Card is null; i++) await Task.Delay(25); // the card is kept one-way
        Assert.NotNull((await portal.Get()).Card);

        var account = Grains.GetGrain<IPatientAccountGrain>(accounts[0].ToString());
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var planned = await account.StartPlan(new PlanRequest { InstallmentCount = 3, Frequency = InstallmentFrequency.Monthly, FirstDueDate = today.AddDays(10), DownPayment = 0m });
        Assert.True(planned.Succeeded, string.Join("; ", planned.Errors.Select(e => e.Message)));
        var plan = planned.Value!.Plans.Single(p => p.Status == PlanStatus.Active);
        Assert.True((await portal.EnrollAutopay(accounts[0], plan.PlanId)).Succeeded);
        return (guarantorId, accounts[0], plan);
    }

    private void MoveTo(DateOnly day) =>
        fixture.Clock.Advance(new DateTimeOffset(day.ToDateTime(new TimeOnly(16, 0)), TimeSpan.Zero) - fixture.Clock.GetUtcNow());

    /// <summary>The autopay charges made so far (by the grain's own reminder as the clock moves, or by the test's run).</summary>
    private async Task<List<CardPaymentView>> AutopaymentsAsync(IPatientPortalGrain portal)
    {
        await portal.RunAutopay();
        var ids = (await portal.Get()).RecentPayments.Where(p => p.StartsWith("AUTO-", StringComparison.Ordinal));
        return (await Task.WhenAll(ids.Select(id => Grains.GetGrain<IPatientPaymentGrain>(id).Get()))).Select(v => v!).ToList();
    }

    [Fact]
    public async Task Autopay_pays_two_installments_on_their_due_dates_and_nothing_before()
    {
        var (guarantorId, key, plan) = await PlanWithCardAsync("4242424242424242");
        var portal = Grains.GetGrain<IPatientPortalGrain>(guarantorId);
        var account = Grains.GetGrain<IPatientAccountGrain>(key.ToString());
        Assert.Empty(await AutopaymentsAsync(portal)); // nothing due yet

        MoveTo(plan.Installments[0].DueDate);
        var first = Assert.Single(await AutopaymentsAsync(portal));
        // The card-keeping payment of 60 counts toward the plan: the first installment of 80 needs 20 more.
        Assert.Equal((CardPaymentStatus.Succeeded, 20.00m), (first.Status, first.Amount));
        MoveTo(plan.Installments[1].DueDate.AddDays(-1));
        Assert.Single(await AutopaymentsAsync(portal)); // the day before the second: nothing
        MoveTo(plan.Installments[1].DueDate);
        var both = await AutopaymentsAsync(portal);
        Assert.Equal(2, both.Count);
        Assert.All(both, p => Assert.Equal(CardPaymentStatus.Succeeded, p.Status));

        var view = (await account.Get())!;
        var autopaid = view.Entries.Where(e => e.Kind == EntryKind.PatientPayment && e.Note == "Autopay installment").ToList();
        Assert.Equal([20.00m, 80.00m], autopaid.Select(e => e.Amount));
        Assert.Equal(300.00m - 60.00m - 100.00m, view.Balances.PatientResponsibility);
    }

    [Fact]
    public async Task Autopay_charges_nothing_while_the_account_is_on_hold_for_a_dispute()
    {
        var (guarantorId, key, plan) = await PlanWithCardAsync("4242424242424242");
        var portal = Grains.GetGrain<IPatientPortalGrain>(guarantorId);
        var account = Grains.GetGrain<IPatientAccountGrain>(key.ToString());
        Assert.True((await account.PlaceHold(new Domain.Compliance.HoldRequest { Reason = Domain.Compliance.HoldReason.Dispute, Note = "patient disputes the bill on the page" })).Succeeded);
        MoveTo(plan.Installments[0].DueDate);
        Assert.Empty(await AutopaymentsAsync(portal));
        Assert.DoesNotContain((await account.Get())!.Entries, e => e.Note == "Autopay installment");
    }

    [Theory]
    [InlineData(Domain.Compliance.HoldReason.Bankruptcy)]
    [InlineData(Domain.Compliance.HoldReason.Deceased)]
    public async Task Autopay_charges_nothing_while_the_person_is_on_hold(Domain.Compliance.HoldReason reason)
    {
        var (guarantorId, key, plan) = await PlanWithCardAsync("4242424242424242");
        var portal = Grains.GetGrain<IPatientPortalGrain>(guarantorId);
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        var held = await guarantor.PlaceHold(new Domain.Compliance.HoldRequest { Reason = reason, Note = "notified by the court / the family" });
        Assert.True(held.Succeeded, string.Join("; ", held.Errors.Select(e => e.Message)));
        MoveTo(plan.Installments[0].DueDate);
        Assert.Empty(await AutopaymentsAsync(portal));
        Assert.DoesNotContain((await Grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get())!.Entries, e => e.Note == "Autopay installment");

        // Released, the installment is charged on the next run.
        Assert.True((await guarantor.ReleaseHold(held.Value!.Holds.Single(h => h.IsActive).HoldId, "released: the stay was lifted")).Succeeded);
        Assert.Single(await AutopaymentsAsync(portal));
    }

    [Fact]
    public async Task A_declined_installment_is_tried_once_more_after_the_retry_days_and_then_left_to_the_plan()
    {
        // This card asks for the bank's confirmation every time: charged without the patient, it is declined.
        var (guarantorId, key, plan) = await PlanWithCardAsync("4000002760003184");
        var portal = Grains.GetGrain<IPatientPortalGrain>(guarantorId);
        MoveTo(plan.Installments[0].DueDate);
        var first = Assert.Single(await AutopaymentsAsync(portal));
        Assert.Equal((CardPaymentStatus.Failed, "authentication_required"), (first.Status, first.FailureCode));
        MoveTo(plan.Installments[0].DueDate.AddDays(3));
        Assert.Equal(2, (await AutopaymentsAsync(portal)).Count);
        MoveTo(plan.Installments[0].DueDate.AddDays(6));
        var all = await AutopaymentsAsync(portal);
        Assert.Equal(2, all.Count); // given up: the plan's own grace and default rules take it from here
        Assert.All(all, p => Assert.Equal(CardPaymentStatus.Failed, p.Status));
        var view = (await Grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get())!;
        Assert.DoesNotContain(view.Entries, e => e.Note == "Autopay installment");
    }
}
