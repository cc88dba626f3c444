namespace Collections.Payments;

/// <summary>
/// A card-payment processor. Card numbers never reach the engine: the patient types them into the processor's own
/// hosted page (<see cref="StartCheckoutAsync"/> answers where to send them), and the processor tells the engine what
/// happened through signed webhooks (<see cref="ReadEventAsync"/>) or when asked (<see cref="GetCheckoutAsync"/>).
/// Every call that can create money movement carries an idempotency key, so a retry never charges or refunds twice.
/// </summary>
public interface IPaymentProcessor
{
    /// <summary>"sandbox" or "stripe".</summary>
    string Name { get; }

    /// <summary>Opens the processor's hosted checkout for one payment (idempotent on <see cref="CheckoutRequest.PaymentId"/>).</summary>
    Task<CheckoutSession> StartCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default);

    /// <summary>What the processor says about a checkout now (the patient came back before the webhook did).</summary>
    Task<ProcessorEvent?> GetCheckoutAsync(string paymentId, string checkoutId, CancellationToken cancellationToken = default);

    /// <summary>Charges a saved card without the patient present (a plan's autopay installment).</summary>
    Task<ProcessorEvent> ChargeSavedCardAsync(SavedCardCharge request, CancellationToken cancellationToken = default);

    /// <summary>Refunds part or all of a confirmed payment to the card that paid; confirmed later by an event.</summary>
    Task<RefundStart> RefundAsync(ProcessorRefundRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// A webhook's body as the processor's event, after checking its signature; null for an event type the engine does
    /// not act on. Throws <see cref="ProcessorSignatureException"/> for a missing, wrong or stale signature.
    /// </summary>
    Task<ProcessorEvent?> ReadEventAsync(string body, Func<string, string?> header, CancellationToken cancellationToken = default);
}

/// <summary>A webhook whose signature did not verify: nothing in it may be believed.</summary>
[GenerateSerializer, Alias("collections.ProcessorSignatureException")]
public sealed class ProcessorSignatureException(string message) : Exception(message)
{
    public ProcessorSignatureException() : this("The webhook's signature did not verify.") { }
    public ProcessorSignatureException(string message, Exception inner) : this(message + " " + inner.Message) { }
}

/// <summary>The processor refused or failed a request (not a decline: that is an event). Safe to log: no card data.</summary>
[GenerateSerializer, Alias("collections.ProcessorUnavailableException")]
public sealed class ProcessorUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    public ProcessorUnavailableException() : this("The payment processor did not answer.") { }
    public ProcessorUnavailableException(string message) : this(message, null) { }
}

public sealed record CheckoutRequest
{
    /// <summary>The engine's payment id: the processor's idempotency key and the reference every event carries back.</summary>
    public required string PaymentId { get; init; }
    public required decimal Amount { get; init; }
    /// <summary>What the patient sees on the processor's page and their card statement (no PHI: the facility's name).</summary>
    public required string Description { get; init; }
    /// <summary>Keep the card for the plan's installments (the patient agreed on our page).</summary>
    public bool SaveCard { get; init; }
    /// <summary>The processor's customer for this guarantor, once one exists.</summary>
    public string? CustomerRef { get; init; }
    public required string ReturnUrl { get; init; }
    public required string CancelUrl { get; init; }
    /// <summary>"en" or "es": the processor's page speaks the patient's language.</summary>
    public string Language { get; init; } = "en";
}

public sealed record CheckoutSession(string CheckoutId, string RedirectUrl);

public sealed record SavedCardCharge
{
    public required string PaymentId { get; init; }
    public required decimal Amount { get; init; }
    public required string Description { get; init; }
    public required SavedCard Card { get; init; }
}

public sealed record ProcessorRefundRequest
{
    /// <summary>The engine's refund id (the idempotency key).</summary>
    public required string RefundId { get; init; }
    public required string PaymentId { get; init; }
    public required string ProcessorPaymentId { get; init; }
    public required decimal Amount { get; init; }
}

public sealed record RefundStart(string ProcessorRefundId, ProcessorEvent? Settled);

public enum ProcessorEventKind
{
    PaymentSucceeded,
    PaymentFailed,
    /// <summary>The bank asks the cardholder to confirm (3-D Secure); nothing moved yet.</summary>
    PaymentRequiresAction,
    RefundSucceeded,
    RefundFailed,
}

/// <summary>A card kept by the processor for later charges: only its references and what the patient needs to recognise it.</summary>
[GenerateSerializer, Immutable, Alias("collections.SavedCard")]
public sealed record SavedCard
{
    [Id(0)] public required string CustomerRef { get; init; }
    [Id(1)] public required string PaymentMethodRef { get; init; }
    [Id(2)] public string? Brand { get; init; }
    [Id(3)] public string? Last4 { get; init; }
}

/// <summary>Something the processor says happened, in the engine's words. Carries no card number and no PHI.</summary>
[GenerateSerializer, Immutable, Alias("collections.ProcessorEvent")]
public sealed record ProcessorEvent
{
    /// <summary>The processor's event id (a re-delivery carries the same one); for an answer to a query, a derived id.</summary>
    [Id(0)] public required string EventId { get; init; }
    [Id(1)] public required ProcessorEventKind Kind { get; init; }
    /// <summary>The engine's payment id, from the metadata the engine gave the processor.</summary>
    [Id(2)] public required string PaymentId { get; init; }
    [Id(3)] public string? ProcessorPaymentId { get; init; }
    /// <summary>The amount the processor moved (dollars, two places).</summary>
    [Id(4)] public decimal? Amount { get; init; }
    /// <summary>The decline or failure code (e.g. card_declined, insufficient_funds, authentication_required).</summary>
    [Id(5)] public string? FailureCode { get; init; }
    /// <summary>The card the processor kept, when the patient asked to save it.</summary>
    [Id(6)] public SavedCard? Card { get; init; }
    [Id(7)] public string? RefundId { get; init; }
    [Id(8)] public string? ProcessorRefundId { get; init; }
    [Id(9)] public required DateTimeOffset OccurredAt { get; init; }
    [Id(10)] public string Processor { get; init; } = "";
    /// <summary>The card that paid, as the patient recognises it (brand, last four digits), whether or not it was kept.</summary>
    [Id(11)] public string? CardBrand { get; init; }
    [Id(12)] public string? CardLast4 { get; init; }
}

/// <summary>Money in the processors' smallest unit (US cents).</summary>
public static class Cents
{
    public static long From(decimal amount) => decimal.Round(amount, 2) == amount && amount > 0
        ? (long)(amount * 100m)
        : throw new ArgumentOutOfRangeException(nameof(amount), "A card amount is positive with at most two decimal places.");

    public static decimal ToAmount(long cents) => cents / 100m;
}
