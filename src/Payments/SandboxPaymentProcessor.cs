using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Payments;

/// <summary>
/// The built-in processor of the embedded default: no network, no account, test cards only (Stripe's published test
/// numbers), and it behaves like a real one: a hosted checkout page of its own (served at <c>/sandbox/checkout/{id}</c>),
/// declines, a bank's authentication step, saved cards, refunds, and signed webhooks that arrive late and twice
/// (<see cref="PaymentOptions.SandboxSettings"/>). It keeps its sessions in memory: it is for one process (the local
/// profile), and a restart forgets checkouts still open (as an expired processor session would be).
/// </summary>
public sealed class SandboxPaymentProcessor(IOptions<PaymentOptions> options, IServiceProvider services, TimeProvider clock, ILogger<SandboxPaymentProcessor> logger)
    : IPaymentProcessor
{
    public const string SignatureHeader = "Sandbox-Signature";

    /// <summary>What a test card does (Stripe's test numbers and meanings).</summary>
    public enum TestCard { Succeeds, Declined, InsufficientFunds, AuthenticationRequired, AuthenticationAlways }

    public static readonly IReadOnlyDictionary<string, TestCard> TestCards = new Dictionary<string, TestCard>
    {
        ["4242424242424242"] = TestCard.Succeeds,
        ["5555555555554444"] = TestCard.Succeeds,
        ["4000000000000002"] = TestCard.Declined,
        ["4000000000009995"] = TestCard.InsufficientFunds,
        // Asks for the bank's confirmation at checkout; saved, it is then charged without one.
        ["4000002500003155"] = TestCard.AuthenticationRequired,
        // Asks for the bank's confirmation every time: a saved card's later charge is declined (authentication_required).
        ["4000002760003184"] = TestCard.AuthenticationAlways,
    };

    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private readonly ConcurrentDictionary<string, string> _sessionByPayment = new();
    private readonly ConcurrentDictionary<string, Charge> _charges = new();
    private readonly ConcurrentDictionary<string, TestCard> _savedCards = new();
    private readonly ConcurrentDictionary<string, RefundStart> _refunds = new();
    private int _deliveriesUnderway;

    public string Name => "sandbox";

    /// <summary>Webhooks sent but not yet accepted (tests and the bench wait for none).</summary>
    public int DeliveriesUnderway => Volatile.Read(ref _deliveriesUnderway);

    public sealed class Session
    {
        public required string Id { get; init; }
        public required CheckoutRequest Request { get; init; }
        public string Status { get; set; } = "open"; // open | requires_action | succeeded | failed
        public string? ChargeId { get; set; }
        public string? FailureCode { get; set; }
        public TestCard? PendingCard { get; set; }
        public string? PendingLast4 { get; set; }
    }

    private sealed record Charge(string Id, string PaymentId, long Cents, SavedCard? Card)
    {
        public long RefundedCents { get; set; }
        public string? Last4 { get; init; }
    }

    public Task<CheckoutSession> StartCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        var id = _sessionByPayment.GetOrAdd(request.PaymentId, _ => "cs_sbx_" + Guid.NewGuid().ToString("N")[..20]);
        var session = _sessions.GetOrAdd(id, _ => new Session { Id = id, Request = request });
        var baseUrl = (options.Value.PublicBaseUrl ?? "http://127.0.0.1:5080").TrimEnd('/');
        return Task.FromResult(new CheckoutSession(session.Id, $"{baseUrl}/sandbox/checkout/{session.Id}"));
    }

    /// <summary>The checkout page's session (null: unknown or forgotten).</summary>
    public Session? Find(string checkoutId) => _sessions.TryGetValue(checkoutId, out var s) ? s : null;

    /// <summary>
    /// The sandbox's hosted page got a card: only test numbers are taken (any other is refused without being kept).
    /// Returns the session as it now is.
    /// </summary>
    public string? SubmitCard(Session session, string cardNumber)
    {
        var digits = new string(cardNumber.Where(char.IsDigit).ToArray());
        if (!TestCards.TryGetValue(digits, out var card))
            return "The sandbox takes test cards only, such as 4242 4242 4242 4242.";
        lock (session)
        {
            if (session.Status is "succeeded") return null;
            var last4 = digits[^4..];
            if (card is TestCard.AuthenticationRequired or TestCard.AuthenticationAlways)
            {
                session.Status = "requires_action";
                session.PendingCard = card;
                session.PendingLast4 = last4;
                Emit(session.Request.PaymentId, ProcessorEventKind.PaymentRequiresAction, null, null, "authentication_required", null);
                return null;
            }
            Settle(session, card, last4);
        }
        return null;
    }

    /// <summary>The bank's confirmation step: the cardholder approved or failed it.</summary>
    public void Authenticate(Session session, bool approved)
    {
        lock (session)
        {
            if (session.Status != "requires_action" || session.PendingCard is not { } card) return;
            if (approved) Settle(session, card == TestCard.AuthenticationAlways ? TestCard.AuthenticationAlways : TestCard.Succeeds, session.PendingLast4!);
            else
            {
                session.Status = "failed";
                session.FailureCode = "payment_intent_authentication_failure";
                Emit(session.Request.PaymentId, ProcessorEventKind.PaymentFailed, null, null, session.FailureCode, null);
            }
        }
    }

    private void Settle(Session session, TestCard card, string last4)
    {
        if (card is TestCard.Declined or TestCard.InsufficientFunds)
        {
            session.Status = "failed";
            session.FailureCode = card == TestCard.Declined ? "card_declined" : "insufficient_funds";
            Emit(session.Request.PaymentId, ProcessorEventKind.PaymentFailed, null, null, session.FailureCode, null);
            return;
        }
        SavedCard? saved = null;
        if (session.Request.SaveCard)
        {
            var pm = "pm_sbx_" + Guid.NewGuid().ToString("N")[..16];
            _savedCards[pm] = card;
            saved = new SavedCard
            {
                CustomerRef = session.Request.CustomerRef ?? "cus_sbx_" + Guid.NewGuid().ToString("N")[..14],
                PaymentMethodRef = pm, Brand = last4 == "4444" ? "mastercard" : "visa", Last4 = last4,
            };
        }
        var charge = new Charge("pi_sbx_" + Guid.NewGuid().ToString("N")[..20], session.Request.PaymentId, Cents.From(session.Request.Amount), saved) { Last4 = last4 };
        _charges[charge.Id] = charge;
        session.ChargeId = charge.Id;
        session.Status = "succeeded";
        session.FailureCode = null;
        Emit(charge.PaymentId, ProcessorEventKind.PaymentSucceeded, charge.Id, charge.Cents, null, saved, last4);
    }

    public Task<ProcessorEvent?> GetCheckoutAsync(string paymentId, string checkoutId, CancellationToken cancellationToken = default)
    {
        if (Find(checkoutId) is not { } session || session.Request.PaymentId != paymentId) return Task.FromResult<ProcessorEvent?>(null);
        lock (session)
        {
            ProcessorEvent? answer = session.Status switch
            {
                "succeeded" => Event($"query_{session.ChargeId}", ProcessorEventKind.PaymentSucceeded, paymentId, session.ChargeId,
                    _charges[session.ChargeId!].Cents, null, _charges[session.ChargeId!].Card, _charges[session.ChargeId!].Last4),
                "failed" => Event($"query_{session.Id}_failed", ProcessorEventKind.PaymentFailed, paymentId, null, null, session.FailureCode, null),
                _ => null,
            };
            return Task.FromResult(answer);
        }
    }

    public Task<ProcessorEvent> ChargeSavedCardAsync(SavedCardCharge request, CancellationToken cancellationToken = default)
    {
        if (!_savedCards.TryGetValue(request.Card.PaymentMethodRef, out var card))
            return Task.FromResult(Event($"charge_{request.PaymentId}", ProcessorEventKind.PaymentFailed, request.PaymentId, null, null, "payment_method_unknown", null));
        // Idempotent on the payment id, as Stripe is on the idempotency key.
        var existing = _charges.Values.FirstOrDefault(c => c.PaymentId == request.PaymentId);
        if (existing is not null)
            return Task.FromResult(Event($"charge_{existing.Id}", ProcessorEventKind.PaymentSucceeded, request.PaymentId, existing.Id, existing.Cents, null, null));
        if (card == TestCard.AuthenticationAlways)
        {
            var failed = Emit(request.PaymentId, ProcessorEventKind.PaymentFailed, null, null, "authentication_required", null);
            return Task.FromResult(failed);
        }
        var charge = new Charge("pi_sbx_" + Guid.NewGuid().ToString("N")[..20], request.PaymentId, Cents.From(request.Amount), null);
        _charges[charge.Id] = charge;
        return Task.FromResult(Emit(request.PaymentId, ProcessorEventKind.PaymentSucceeded, charge.Id, charge.Cents, null, null));
    }

    public Task<RefundStart> RefundAsync(ProcessorRefundRequest request, CancellationToken cancellationToken = default)
    {
        if (_refunds.TryGetValue(request.RefundId, out var earlier)) return Task.FromResult(earlier);
        if (!_charges.TryGetValue(request.ProcessorPaymentId, out var charge) || charge.PaymentId != request.PaymentId)
            throw new ProcessorRefusedException("processor.unknown-payment", "The sandbox has no such payment (it forgets them when the engine restarts).");
        var cents = Cents.From(request.Amount);
        lock (charge)
        {
            if (charge.RefundedCents + cents > charge.Cents)
                throw new ProcessorRefusedException("processor.refund-too-large", "The refund is more than what is left of the payment.");
            charge.RefundedCents += cents;
        }
        var id = "re_sbx_" + Guid.NewGuid().ToString("N")[..20];
        var start = _refunds.GetOrAdd(request.RefundId, new RefundStart(id, null));
        var settled = Event("evt_sbx_" + Guid.NewGuid().ToString("N"), ProcessorEventKind.RefundSucceeded, request.PaymentId, charge.Id, cents, null, null)
            with { RefundId = request.RefundId, ProcessorRefundId = id };
        Deliver(settled);
        return Task.FromResult(start);
    }

    public Task<ProcessorEvent?> ReadEventAsync(string body, Func<string, string?> header, CancellationToken cancellationToken = default)
    {
        var signature = header(SignatureHeader) ?? throw new ProcessorSignatureException($"The {SignatureHeader} header is missing.");
        var parts = signature.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, CultureInfo.InvariantCulture, out var unix))
            throw new ProcessorSignatureException("The signature header is malformed.");
        var expected = Sign(unix, body);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1)))
            throw new ProcessorSignatureException("The signature does not match the body.");
        if (Math.Abs(clock.GetUtcNow().ToUnixTimeSeconds() - unix) > 3600)
            throw new ProcessorSignatureException("The signature is too old.");
        var json = JsonNode.Parse(body)!;
        var data = json["data"]!;
        var kind = Enum.Parse<ProcessorEventKind>((string)json["kind"]!);
        var card = data["card"] is JsonObject c ? new SavedCard
        {
            CustomerRef = (string)c["customer"]!, PaymentMethodRef = (string)c["payment_method"]!, Brand = (string?)c["brand"], Last4 = (string?)c["last4"],
        } : null;
        return Task.FromResult<ProcessorEvent?>(new ProcessorEvent
        {
            EventId = (string)json["id"]!, Kind = kind, PaymentId = (string)data["payment_id"]!,
            ProcessorPaymentId = (string?)data["processor_payment_id"], Amount = data["amount_cents"] is { } a ? Cents.ToAmount((long)a) : null,
            FailureCode = (string?)data["failure_code"], Card = card, RefundId = (string?)data["refund_id"], ProcessorRefundId = (string?)data["processor_refund_id"],
            OccurredAt = DateTimeOffset.FromUnixTimeSeconds((long)json["created"]!), Processor = Name,
            CardBrand = (string?)data["card_brand"], CardLast4 = (string?)data["card_last4"],
        });
    }

    /// <summary>Signs a body as the sandbox's webhooks are signed (tests forge and tamper with events this way).</summary>
    public string SignatureFor(string body) => $"t={clock.GetUtcNow().ToUnixTimeSeconds()},v1={Sign(clock.GetUtcNow().ToUnixTimeSeconds(), body)}";

    private string Sign(long unix, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes($"{unix.ToString(CultureInfo.InvariantCulture)}.{body}")));

    private ProcessorEvent Emit(string paymentId, ProcessorEventKind kind, string? processorPaymentId, long? cents, string? failure, SavedCard? card, string? last4 = null)
    {
        var e = Event("evt_sbx_" + Guid.NewGuid().ToString("N"), kind, paymentId, processorPaymentId, cents, failure, card, last4);
        Deliver(e);
        return e;
    }

    private ProcessorEvent Event(string id, ProcessorEventKind kind, string paymentId, string? processorPaymentId, long? cents, string? failure, SavedCard? card, string? last4 = null) => new()
    {
        EventId = id, Kind = kind, PaymentId = paymentId, ProcessorPaymentId = processorPaymentId, Amount = cents is { } c ? Cents.ToAmount(c) : null,
        FailureCode = failure, Card = card, OccurredAt = clock.GetUtcNow(), Processor = Name,
        CardLast4 = last4 ?? card?.Last4, CardBrand = (last4 ?? card?.Last4) is { } l ? (l == "4444" ? "mastercard" : "visa") : null,
    };

    /// <summary>Posts the event to the engine's sink as a webhook would: late and twice when so set, again after a failure.</summary>
    private void Deliver(ProcessorEvent e)
    {
        var body = JsonSerializer.Serialize(new
        {
            id = e.EventId, kind = e.Kind.ToString(), created = e.OccurredAt.ToUnixTimeSeconds(),
            data = new
            {
                payment_id = e.PaymentId, processor_payment_id = e.ProcessorPaymentId, amount_cents = e.Amount is { } a ? (long?)Cents.From(a) : null,
                failure_code = e.FailureCode, refund_id = e.RefundId, processor_refund_id = e.ProcessorRefundId, card_brand = e.CardBrand, card_last4 = e.CardLast4,
                card = e.Card is { } c ? new { customer = c.CustomerRef, payment_method = c.PaymentMethodRef, brand = c.Brand, last4 = c.Last4 } : null,
            },
        });
        var settings = options.Value.Sandbox;
        var copies = settings.DuplicateWebhooks ? 2 : 1;
        for (var copy = 0; copy < copies; copy++)
        {
            Interlocked.Increment(ref _deliveriesUnderway);
            var delay = TimeSpan.FromMilliseconds(settings.WebhookDelayMilliseconds + copy * 50);
            // A webhook comes from outside: nothing of the caller's context (an Orleans call chain) travels with it.
            using var detached = ExecutionContext.SuppressFlow();
            _ = Task.Run(async () =>
            {
                try
                {
                    for (var attempt = 1; ; attempt++)
                    {
                        await Task.Delay(attempt == 1 ? delay : TimeSpan.FromMilliseconds(200 * attempt));
                        try
                        {
                            var sink = services.GetService<IProcessorEventSink>();
                            if (sink is null) return;
                            var signature = SignatureFor(body);
                            await sink.AcceptAsync(body, name => string.Equals(name, SignatureHeader, StringComparison.OrdinalIgnoreCase) ? signature : null);
                            return;
                        }
                        catch (Exception ex) when (attempt < 8)
                        {
                            logger.LogWarning("Sandbox webhook {EventId} not accepted (attempt {Attempt}): {Error}", e.EventId, attempt, ex.GetType().Name);
                        }
                    }
                }
                catch (Exception ex)
                {
                    logger.LogError("Sandbox webhook {EventId} given up: {Error}", e.EventId, ex.GetType().Name);
                }
                finally
                {
                    Interlocked.Decrement(ref _deliveriesUnderway);
                }
            });
        }
    }
}
