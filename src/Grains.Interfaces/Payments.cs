using Collections.Domain;
using Collections.Domain.Payments;
using Collections.Payments;

namespace Collections.Grains;

public enum CardPaymentStatus
{
    /// <summary>The processor's checkout is open: the patient has not paid yet.</summary>
    Started,
    /// <summary>The bank asked the cardholder to confirm; nothing has moved.</summary>
    RequiresAction,
    /// <summary>The processor confirmed it: the shares are (or are being) posted to the accounts.</summary>
    Succeeded,
    /// <summary>Declined or failed; the patient may try again with another card (a new payment).</summary>
    Failed,
}

/// <summary>Where a payment came from.</summary>
public enum CardPaymentSource
{
    /// <summary>The patient, on the self-service page.</summary>
    Portal,
    /// <summary>A plan's installment charged to the card on file on its due date.</summary>
    Autopay,
    /// <summary>Taken by an agent on a call: the agent keys the card into the processor's hosted page, never ours.</summary>
    Agent,
}

[GenerateSerializer, Immutable, Alias("collections.CardPaymentStart")]
public sealed record CardPaymentStart
{
    [Id(0)] public required string GuarantorId { get; init; }
    [Id(1)] public required IReadOnlyList<PaymentShare> Shares { get; init; }
    [Id(2)] public bool SaveCard { get; init; }
    [Id(3)] public string Language { get; init; } = "en";
    [Id(4)] public required string ReturnUrl { get; init; }
    [Id(5)] public required string CancelUrl { get; init; }
    /// <summary>What the card statement says: the facility's name, never the patient's.</summary>
    [Id(6)] public required string Description { get; init; }
    [Id(7)] public CardPaymentSource Source { get; init; }
    [Id(8)] public string? CustomerRef { get; init; }
}

/// <summary>One account's share of a payment and the ledger entry it became.</summary>
[GenerateSerializer, Immutable, Alias("collections.PostedShare")]
public sealed record PostedShare
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required decimal Amount { get; init; }
    [Id(2)] public string? EntryId { get; init; }
    /// <summary>Why the account refused the posting (a person must look), or null.</summary>
    [Id(3)] public string? Refused { get; init; }
}

public enum CardRefundStatus
{
    /// <summary>Asked of the processor; posts when the processor confirms it.</summary>
    Requested,
    Succeeded,
    Failed,
}

[GenerateSerializer, Immutable, Alias("collections.CardRefund")]
public sealed record CardRefund
{
    [Id(0)] public required string RefundId { get; init; }
    [Id(1)] public required AccountKey Account { get; init; }
    [Id(2)] public required decimal Amount { get; init; }
    [Id(3)] public required CardRefundStatus Status { get; init; }
    [Id(4)] public string? ProcessorRefundId { get; init; }
    [Id(5)] public required string RequestedBy { get; init; }
    [Id(6)] public required DateTimeOffset RequestedAt { get; init; }
    [Id(7)] public string? EntryId { get; init; }
    [Id(8)] public string? Problem { get; init; }
}

/// <summary>A card payment as the engine knows it. No card number: the processor has it.</summary>
[GenerateSerializer, Immutable, Alias("collections.CardPaymentView")]
public sealed record CardPaymentView
{
    [Id(0)] public required string PaymentId { get; init; }
    [Id(1)] public required string GuarantorId { get; init; }
    [Id(2)] public required decimal Amount { get; init; }
    [Id(3)] public required CardPaymentStatus Status { get; init; }
    [Id(4)] public required IReadOnlyList<PostedShare> Shares { get; init; }
    [Id(5)] public string? CheckoutUrl { get; init; }
    [Id(6)] public string? FailureCode { get; init; }
    [Id(7)] public string? ProcessorPaymentId { get; init; }
    [Id(8)] public string? CardBrand { get; init; }
    [Id(9)] public string? CardLast4 { get; init; }
    [Id(10)] public required DateTimeOffset StartedAt { get; init; }
    [Id(11)] public DateTimeOffset? ConfirmedAt { get; init; }
    [Id(12)] public IReadOnlyList<CardRefund> Refunds { get; init; } = [];
    /// <summary>Something a person must look at (the processor moved a different amount; an account refused its share).</summary>
    [Id(13)] public string? NeedsReview { get; init; }
    [Id(14)] public required string Processor { get; init; }
    [Id(15)] public CardPaymentSource Source { get; init; }
    [Id(16)] public string Language { get; init; } = "en";

    public bool FullyPosted => Status == CardPaymentStatus.Succeeded && Shares.All(s => s.EntryId is not null);
}

[GenerateSerializer, Immutable, Alias("collections.CardRefundRequest")]
public sealed record CardRefundRequest
{
    [Id(0)] public required AccountKey Account { get; init; }
    /// <summary>Default: the account's whole share, as far as the account's credit balance allows.</summary>
    [Id(1)] public decimal? Amount { get; init; }
    [Id(2)] public required string IdempotencyKey { get; init; }
    [Id(3)] public string? Note { get; init; }
}

/// <summary>
/// One card payment (key: the engine's payment id). It opens the processor's checkout, and posts the payment to the
/// accounts' ledgers only when the processor confirms it, exactly once: each share posts under an idempotency key of
/// its own, so a webhook delivered twice, late, or after the patient's return posts nothing twice. It calls accounts;
/// nothing it calls calls it back.
/// </summary>
[Alias("collections.IPatientPaymentGrain")]
public interface IPatientPaymentGrain : IGrainWithStringKey
{
    /// <summary>Opens the checkout (again: the same checkout).</summary>
    [Alias("Start")]
    Task<Outcome<CardPaymentView>> Start(CardPaymentStart request);

    /// <summary>Charges a saved card now, without the patient (autopay); the result is applied as the processor's event.</summary>
    [Alias("ChargeSavedCard")]
    Task<Outcome<CardPaymentView>> ChargeSavedCard(CardPaymentStart request, SavedCard card);

    [Alias("Get"), Orleans.Concurrency.ReadOnly]
    Task<CardPaymentView?> Get();

    /// <summary>Applies what the processor says happened (a webhook, or its answer to <see cref="Refresh"/>).</summary>
    [Alias("Apply")]
    Task<CardPaymentView?> Apply(ProcessorEvent e);

    /// <summary>Asks the processor how the checkout went (the patient is back before the webhook) and applies the answer.</summary>
    [Alias("Refresh")]
    Task<CardPaymentView?> Refresh();

    /// <summary>A refund approved in the engine goes back through the processor to the card that paid; it posts when confirmed.</summary>
    [Alias("Refund")]
    Task<Outcome<CardPaymentView>> Refund(CardRefundRequest request);
}

/// <summary>How the identity check on the self-service page went.</summary>
[GenerateSerializer, Immutable, Alias("collections.PortalCheck")]
public sealed record PortalCheck
{
    [Id(0)] public required bool Verified { get; init; }
    [Id(1)] public DateTimeOffset? LockedUntil { get; init; }
    [Id(2)] public int AttemptsLeft { get; init; }
}

/// <summary>A patient's autopay for a plan: the card on file charged on each installment's due date.</summary>
[GenerateSerializer, Immutable, Alias("collections.AutopayEnrollment")]
public sealed record AutopayEnrollment
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required string PlanId { get; init; }
    [Id(2)] public required DateTimeOffset EnrolledAt { get; init; }
}

/// <summary>The patient's side of the self-service page: what they proved, the card they keep on file, autopay.</summary>
[GenerateSerializer, Immutable, Alias("collections.PortalView")]
public sealed record PortalView
{
    [Id(0)] public SavedCard? Card { get; init; }
    [Id(1)] public IReadOnlyList<AutopayEnrollment> Autopay { get; init; } = [];
    [Id(2)] public IReadOnlyList<string> RecentPayments { get; init; } = [];
}

/// <summary>
/// The self-service page's state for one guarantor (key: guarantor id): wrong dates of birth (and the lock they cause,
/// for every link to the person), the card on file, autopay enrollments and the person's recent payments.
/// </summary>
[Alias("collections.IPatientPortalGrain")]
public interface IPatientPortalGrain : IGrainWithStringKey
{
    /// <summary>Checks the date of birth given with a link or statement code; wrong answers count toward the lock.</summary>
    [Alias("Verify")]
    Task<PortalCheck> Verify(DateOnly? dateOfBirth, string via);

    [Alias("Get"), Orleans.Concurrency.ReadOnly]
    Task<PortalView> Get();

    /// <summary>The patient signed out: the session opens nothing from now on, whoever holds a copy of its cookie.</summary>
    [Alias("EndSession")]
    Task EndSession(string sessionId, DateTimeOffset expiresAt);

    /// <summary>Whether the patient signed out of this session.</summary>
    [Alias("SessionEnded"), Orleans.Concurrency.ReadOnly]
    Task<bool> SessionEnded(string sessionId);

    /// <summary>The processor kept a card for the person (they asked to). One-way: the payment that says so never waits.</summary>
    [Alias("SaveCard"), Orleans.Concurrency.OneWay]
    Task SaveCard(SavedCard card);

    [Alias("RememberPayment")]
    Task RememberPayment(string paymentId);

    /// <summary>Removes the card on file (and so every autopay).</summary>
    [Alias("RemoveCard")]
    Task<PortalView> RemoveCard();

    [Alias("EnrollAutopay")]
    Task<Outcome<PortalView>> EnrollAutopay(AccountKey account, string planId);

    /// <summary>
    /// Charges what autopay owes today (the grain's reminder runs it every few hours): each enrolled plan's earliest
    /// uncovered installment that is due, on the card on file; a decline is tried again after the retry days, then left
    /// to the plan's own default rules. Returns the payments started.
    /// </summary>
    [Alias("RunAutopay")]
    Task<IReadOnlyList<string>> RunAutopay();
}

public enum BillingRequestKind
{
    /// <summary>A message to the billing office.</summary>
    Message,
    /// <summary>An application for financial assistance (the account is on a financial-assistance hold meanwhile).</summary>
    FinancialAssistance,
    /// <summary>The patient disputes the bill (the account is on a dispute hold meanwhile).</summary>
    Dispute,
}

public enum BillingRequestStatus { Open, Done }

/// <summary>What a patient sent from the self-service page for staff to handle.</summary>
[GenerateSerializer, Immutable, Alias("collections.BillingRequest")]
public sealed record BillingRequest
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required BillingRequestKind Kind { get; init; }
    [Id(2)] public required string GuarantorId { get; init; }
    [Id(3)] public IReadOnlyList<AccountKey> Accounts { get; init; } = [];
    /// <summary>The patient's words (PHI: shown only to staff, audited).</summary>
    [Id(4)] public required string Text { get; init; }
    [Id(5)] public required DateTimeOffset ReceivedAt { get; init; }
    [Id(6)] public BillingRequestStatus Status { get; init; }
    [Id(7)] public string? HandledBy { get; init; }
    [Id(8)] public DateTimeOffset? HandledAt { get; init; }
    [Id(9)] public string? Note { get; init; }
    /// <summary>Household size and yearly income, for a financial-assistance application.</summary>
    [Id(10)] public int? HouseholdSize { get; init; }
    [Id(11)] public decimal? AnnualIncome { get; init; }
}

/// <summary>The billing office's queue of what patients sent from the self-service page (key 0).</summary>
[Alias("collections.IBillingOfficeQueueGrain")]
public interface IBillingOfficeQueueGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a request (again, with the same id: nothing changes).</summary>
    [Alias("Add")]
    Task Add(BillingRequest request);

    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<BillingRequest>> List(BillingRequestStatus? status, int limit);

    [Alias("Close")]
    Task<Outcome<BillingRequest>> Close(string requestId, string? note);
}
