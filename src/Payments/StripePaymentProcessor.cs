using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Collections.Payments;

/// <summary>
/// Stripe, through Stripe.net: Checkout Sessions (Stripe's hosted page takes the card), PaymentIntents with
/// idempotency keys, saved cards charged off-session, refunds, and webhooks verified with the endpoint's signing
/// secret. The engine's payment id travels in every object's metadata (<c>payment_id</c>) and comes back in every event.
/// </summary>
public sealed class StripePaymentProcessor : IPaymentProcessor
{
    public const string SignatureHeader = "Stripe-Signature";
    private readonly StripeClient _client;
    private readonly PaymentOptions.StripeSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILogger<StripePaymentProcessor> _logger;

    public StripePaymentProcessor(IOptions<PaymentOptions> options, TimeProvider clock, ILogger<StripePaymentProcessor> logger)
    {
        _settings = options.Value.Stripe;
        if (string.IsNullOrWhiteSpace(_settings.SecretKey) || string.IsNullOrWhiteSpace(_settings.WebhookSecret))
            throw new InvalidOperationException("Collections:Payments:Processor is stripe: set Collections:Payments:Stripe:SecretKey and Collections:Payments:Stripe:WebhookSecret.");
        _client = new StripeClient(_settings.SecretKey, apiBase: string.IsNullOrWhiteSpace(_settings.ApiBase) ? null : _settings.ApiBase.TrimEnd('/'));
        _clock = clock;
        _logger = logger;
    }

    public string Name => "stripe";

    public async Task<CheckoutSession> StartCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        var metadata = new Dictionary<string, string> { ["payment_id"] = request.PaymentId };
        var options = new SessionCreateOptions
        {
            Mode = "payment",
            ClientReferenceId = request.PaymentId,
            SuccessUrl = request.ReturnUrl,
            CancelUrl = request.CancelUrl,
            Locale = request.Language == "es" ? "es" : "en",
            Metadata = metadata,
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = "usd", UnitAmount = Cents.From(request.Amount),
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = request.Description },
                    },
                },
            ],
            PaymentIntentData = new SessionPaymentIntentDataOptions
            {
                Metadata = metadata, Description = request.Description, SetupFutureUsage = request.SaveCard ? "off_session" : null,
            },
            Customer = request.SaveCard ? request.CustomerRef : null,
            CustomerCreation = request.SaveCard && request.CustomerRef is null ? "always" : null,
        };
        var session = await Call(() => new SessionService(_client).CreateAsync(options, new RequestOptions { IdempotencyKey = $"checkout-{request.PaymentId}" }, cancellationToken));
        return new CheckoutSession(session.Id, session.Url);
    }

    public async Task<ProcessorEvent?> GetCheckoutAsync(string paymentId, string checkoutId, CancellationToken cancellationToken = default)
    {
        var session = await Call(() => new SessionService(_client).GetAsync(checkoutId, new SessionGetOptions { Expand = ["payment_intent"] }, cancellationToken: cancellationToken));
        if (session.ClientReferenceId != paymentId) return null;
        if (session.PaymentStatus != "paid") return null; // still open, or failed attempts the patient may retry on Stripe's page
        var intent = session.PaymentIntent;
        var (card, brand, last4) = intent is not null ? await CardAsync(intent, cancellationToken) : (null, null, null);
        return new ProcessorEvent
        {
            EventId = $"query_{session.PaymentIntentId}", Kind = ProcessorEventKind.PaymentSucceeded, PaymentId = paymentId,
            ProcessorPaymentId = session.PaymentIntentId, Amount = session.AmountTotal is { } total ? Cents.ToAmount(total) : null,
            Card = card, CardBrand = brand, CardLast4 = last4, OccurredAt = _clock.GetUtcNow(), Processor = Name,
        };
    }

    public async Task<ProcessorEvent> ChargeSavedCardAsync(SavedCardCharge request, CancellationToken cancellationToken = default)
    {
        try
        {
            var intent = await new PaymentIntentService(_client).CreateAsync(new PaymentIntentCreateOptions
            {
                Amount = Cents.From(request.Amount), Currency = "usd", Customer = request.Card.CustomerRef, PaymentMethod = request.Card.PaymentMethodRef,
                OffSession = true, Confirm = true, Description = request.Description,
                Metadata = new Dictionary<string, string> { ["payment_id"] = request.PaymentId },
            }, new RequestOptions { IdempotencyKey = $"charge-{request.PaymentId}" }, cancellationToken);
            var kind = intent.Status switch
            {
                "succeeded" => ProcessorEventKind.PaymentSucceeded,
                "requires_action" => ProcessorEventKind.PaymentRequiresAction,
                "processing" => (ProcessorEventKind?)null,
                _ => ProcessorEventKind.PaymentFailed,
            };
            return new ProcessorEvent
            {
                EventId = $"charge_{intent.Id}", Kind = kind ?? ProcessorEventKind.PaymentRequiresAction, PaymentId = request.PaymentId,
                ProcessorPaymentId = intent.Id, Amount = kind == ProcessorEventKind.PaymentSucceeded ? Cents.ToAmount(intent.Amount) : null,
                FailureCode = kind == ProcessorEventKind.PaymentFailed ? intent.LastPaymentError?.DeclineCode ?? intent.LastPaymentError?.Code ?? intent.Status : null,
                OccurredAt = _clock.GetUtcNow(), Processor = Name,
            };
        }
        catch (StripeException ex) when (ex.StripeError?.Type == "card_error")
        {
            return new ProcessorEvent
            {
                EventId = $"charge_{request.PaymentId}_declined", Kind = ProcessorEventKind.PaymentFailed, PaymentId = request.PaymentId,
                ProcessorPaymentId = ex.StripeError.PaymentIntent?.Id, FailureCode = ex.StripeError.DeclineCode ?? ex.StripeError.Code ?? "card_declined",
                OccurredAt = _clock.GetUtcNow(), Processor = Name,
            };
        }
        catch (StripeException ex)
        {
            throw Unavailable(ex);
        }
    }

    public async Task<RefundStart> RefundAsync(ProcessorRefundRequest request, CancellationToken cancellationToken = default)
    {
        var refund = await Call(() => new RefundService(_client).CreateAsync(new RefundCreateOptions
        {
            PaymentIntent = request.ProcessorPaymentId, Amount = Cents.From(request.Amount),
            Metadata = new Dictionary<string, string> { ["payment_id"] = request.PaymentId, ["refund_id"] = request.RefundId },
        }, new RequestOptions { IdempotencyKey = $"refund-{request.RefundId}" }, cancellationToken));
        return new RefundStart(refund.Id, refund.Status == "succeeded" ? RefundEvent($"refund_{refund.Id}", refund, request.PaymentId, request.RefundId) : null);
    }

    public async Task<ProcessorEvent?> ReadEventAsync(string body, Func<string, string?> header, CancellationToken cancellationToken = default)
    {
        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ConstructEvent(body, header(SignatureHeader) ?? "", _settings.WebhookSecret, _settings.WebhookToleranceSeconds, throwOnApiVersionMismatch: false);
        }
        catch (StripeException ex)
        {
            throw new ProcessorSignatureException($"The Stripe webhook did not verify ({ex.Message}).");
        }
        switch (stripeEvent.Data.Object)
        {
            case PaymentIntent intent when intent.Metadata.TryGetValue("payment_id", out var paymentId):
                var kind = stripeEvent.Type switch
                {
                    EventTypes.PaymentIntentSucceeded => ProcessorEventKind.PaymentSucceeded,
                    EventTypes.PaymentIntentPaymentFailed => ProcessorEventKind.PaymentFailed,
                    EventTypes.PaymentIntentRequiresAction => ProcessorEventKind.PaymentRequiresAction,
                    _ => (ProcessorEventKind?)null,
                };
                if (kind is null) return null;
                var (card, brand, last4) = kind == ProcessorEventKind.PaymentSucceeded ? await CardAsync(intent, cancellationToken) : (null, null, null);
                return new ProcessorEvent
                {
                    EventId = stripeEvent.Id, Kind = kind.Value, PaymentId = paymentId, ProcessorPaymentId = intent.Id,
                    Amount = kind == ProcessorEventKind.PaymentSucceeded ? Cents.ToAmount(intent.AmountReceived > 0 ? intent.AmountReceived : intent.Amount) : null,
                    FailureCode = kind == ProcessorEventKind.PaymentFailed ? intent.LastPaymentError?.DeclineCode ?? intent.LastPaymentError?.Code ?? "card_declined" : null,
                    Card = card, CardBrand = brand, CardLast4 = last4, OccurredAt = stripeEvent.Created, Processor = Name,
                };
            case Refund refund when refund.Metadata.TryGetValue("payment_id", out var paymentId)
                                    && refund.Metadata.TryGetValue("refund_id", out var refundId)
                                    && refund.Status is "succeeded" or "failed" or "canceled":
                return RefundEvent(stripeEvent.Id, refund, paymentId, refundId) with { OccurredAt = stripeEvent.Created };
            default:
                return null; // an event the engine does not act on (the endpoint may be subscribed to more)
        }
    }

    private ProcessorEvent RefundEvent(string eventId, Refund refund, string paymentId, string refundId) => new()
    {
        EventId = eventId, Kind = refund.Status == "succeeded" ? ProcessorEventKind.RefundSucceeded : ProcessorEventKind.RefundFailed,
        PaymentId = paymentId, ProcessorPaymentId = refund.PaymentIntentId, Amount = Cents.ToAmount(refund.Amount),
        FailureCode = refund.Status == "succeeded" ? null : refund.FailureReason ?? refund.Status, RefundId = refundId, ProcessorRefundId = refund.Id,
        OccurredAt = _clock.GetUtcNow(), Processor = Name,
    };

    /// <summary>
    /// The card that paid, as the patient recognises it (brand and last four digits, when Stripe tells them), and the
    /// card Stripe kept when the patient chose to save it.
    /// </summary>
    private async Task<(SavedCard? Saved, string? Brand, string? Last4)> CardAsync(PaymentIntent intent, CancellationToken cancellationToken)
    {
        if (intent.PaymentMethodId is null) return (null, null, null);
        string? brand = null, last4 = null;
        try
        {
            var method = await new PaymentMethodService(_client).GetAsync(intent.PaymentMethodId, cancellationToken: cancellationToken);
            (brand, last4) = (method.Card?.Brand, method.Card?.Last4);
        }
        catch (StripeException ex)
        {
            _logger.LogWarning("Could not read the card's brand from Stripe ({Status})", ex.HttpStatusCode);
        }
        var saved = intent.SetupFutureUsage is not null && intent.CustomerId is not null
            ? new SavedCard { CustomerRef = intent.CustomerId, PaymentMethodRef = intent.PaymentMethodId, Brand = brand, Last4 = last4 }
            : null;
        return (saved, brand, last4);
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (StripeException ex) when (ex.StripeError?.Type is "invalid_request_error" && (int)ex.HttpStatusCode is >= 400 and < 500 and not 429)
        {
            throw new ProcessorRefusedException("processor.refused", $"Stripe refused the request ({ex.StripeError.Code ?? ((int)ex.HttpStatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        }
        catch (StripeException ex)
        {
            throw Unavailable(ex);
        }
    }

    private static ProcessorUnavailableException Unavailable(StripeException ex) =>
        new($"Stripe did not complete the request (http {(int)ex.HttpStatusCode}, {ex.StripeError?.Type ?? "no error body"}).", ex);
}
