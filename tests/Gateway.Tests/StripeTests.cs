using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Collections.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;

namespace Collections.Gateway.Tests;

/// <summary>
/// A local stand-in for the parts of Stripe's API the engine calls (Checkout Sessions, PaymentIntents, Refunds,
/// PaymentMethods), answering with Stripe's object shapes and recording each request with its idempotency key.
/// </summary>
public sealed class StripeStandIn : IDisposable
{
    private readonly WebApplication _app;
    public Uri Address { get; }
    public ConcurrentQueue<(string Path, string? IdempotencyKey, string? Authorization, Dictionary<string, string> Form)> Requests { get; } = new();
    public ConcurrentDictionary<string, (string PaymentId, long Cents, bool Paid)> Sessions { get; } = new();

    public StripeStandIn()
    {
        Address = new Uri($"http://127.0.0.1:{Ports.Free()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Address.ToString());
        _app = builder.Build();
        _app.MapPost("/v1/checkout/sessions", async (HttpContext http) =>
        {
            var form = await RecordAsync(http);
            var id = "cs_test_" + Guid.NewGuid().ToString("N")[..12];
            Sessions[id] = (form["metadata[payment_id]"], long.Parse(form["line_items[0][price_data][unit_amount]"], CultureInfo.InvariantCulture), false);
            return Results.Json(Session(id));
        });
        _app.MapGet("/v1/checkout/sessions/{id}", (string id) => Results.Json(Session(id, expand: true)));
        _app.MapGet("/v1/payment_methods/{id}", (string id) => Results.Json(new { id, @object = "payment_method", type = "card", card = new { brand = "visa", last4 = "4242" } }));
        _app.MapPost("/v1/refunds", async (HttpContext http) =>
        {
            var form = await RecordAsync(http);
            return Results.Json(new
            {
                id = "re_test_" + Guid.NewGuid().ToString("N")[..12], @object = "refund", status = "pending", amount = long.Parse(form["amount"], CultureInfo.InvariantCulture),
                payment_intent = form["payment_intent"], metadata = new Dictionary<string, string> { ["payment_id"] = form["metadata[payment_id]"], ["refund_id"] = form["metadata[refund_id]"] },
            });
        });
        _app.StartAsync().GetAwaiter().GetResult();
    }

    private async Task<Dictionary<string, string>> RecordAsync(HttpContext http)
    {
        var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
        Requests.Enqueue((http.Request.Path, http.Request.Headers["Idempotency-Key"].ToString(), http.Request.Headers.Authorization.ToString(), form));
        return form;
    }

    private object Session(string id, bool expand = false)
    {
        var (paymentId, cents, paid) = Sessions[id];
        var intentId = "pi_for_" + id;
        return new
        {
            id, @object = "checkout.session", url = $"https://checkout.stripe.test/c/pay/{id}", client_reference_id = paymentId,
            payment_status = paid ? "paid" : "unpaid", status = paid ? "complete" : "open", amount_total = cents,
            payment_intent = !paid ? null : expand ? Intent(intentId, paymentId, cents, "succeeded") : (object)intentId,
            metadata = new Dictionary<string, string> { ["payment_id"] = paymentId },
        };
    }

    public static object Intent(string id, string paymentId, long cents, string status) => new
    {
        id, @object = "payment_intent", amount = cents, amount_received = status == "succeeded" ? cents : 0, currency = "usd", status,
        payment_method = "pm_test_visa", metadata = new Dictionary<string, string> { ["payment_id"] = paymentId },
        last_payment_error = status == "succeeded" ? null : new { type = "card_error", code = "card_declined", decline_code = "insufficient_funds" },
    };

    public void Dispose() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>A webhook as Stripe signs it: <c>t=…,v1=</c> hex HMAC-SHA256 of "t.body" with the endpoint's secret.</summary>
    public static (string Body, string Signature) SignedEvent(string secret, string type, object data, DateTimeOffset? at = null)
    {
        var when = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var body = JsonSerializer.Serialize(new
        {
            id = "evt_" + Guid.NewGuid().ToString("N")[..16], @object = "event", api_version = "2025-01-27.acacia", created = when, type, livemode = false,
            pending_webhooks = 1, data = new { @object = data },
        });
        var mac = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{when}.{body}")));
        return (body, $"t={when},v1={mac}");
    }
}

/// <summary>The engine with Stripe as its processor, pointed at the local stand-in.</summary>
public sealed class StripeEngineFixture : EngineFixture, IDisposable
{
    public const string WebhookSecret = "whsec_test_local_secret";
    public StripeStandIn Stripe { get; } = new();

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Collections:Payments:Processor", "stripe", "--Collections:Payments:Stripe:SecretKey", "sk_test_local",
        "--Collections:Payments:Stripe:WebhookSecret", WebhookSecret, "--Collections:Payments:Stripe:ApiBase", Stripe.Address.ToString().TrimEnd('/'),
    ];

    public void Dispose() => Stripe.Dispose();
}

[CollectionDefinition(Name)]
public sealed class StripeEngineCollection : ICollectionFixture<StripeEngineFixture>
{
    public const string Name = "stripe engine";
}

/// <summary>The Stripe adapter end to end against the stand-in, with webhooks signed locally: duplicates, late, out of order; a refund.</summary>
[Collection(StripeEngineCollection.Name)]
public sealed class StripeTests(StripeEngineFixture engine)
{
    private async Task<HttpResponseMessage> WebhookAsync(string body, string signature)
    {
        using var anonymous = engine.Anonymous();
        var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("Stripe-Signature", signature);
        return await anonymous.PostAsync("/webhooks/payments", content);
    }

    [Fact]
    public async Task A_Stripe_payment_posts_once_whether_the_patient_or_the_webhooks_come_first_and_a_refund_posts_when_Stripe_confirms_it()
    {
        var household = await Household.CreateAsync(engine, 50.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        await patient.SignInAsync(household.Code);
        var (_, csrf) = await patient.HomeAsync();
        var checkout = await patient.PostFormAsync("/pay/checkout", ("csrf", csrf), ("amount", "50.00"));
        Assert.Equal(HttpStatusCode.Redirect, checkout.StatusCode);
        Assert.StartsWith("https://checkout.stripe.test/c/pay/cs_test_", checkout.Headers.Location!.ToString(), StringComparison.Ordinal);
        var (path, key, auth, form) = engine.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions");
        var paymentId = form["metadata[payment_id]"];
        Assert.Equal(($"checkout-{paymentId}", "Bearer sk_test_local", "5000", paymentId), (key, auth, form["line_items[0][price_data][unit_amount]"], form["payment_intent_data[metadata][payment_id]"]));

        // Paid on Stripe's page; the patient is back before any webhook: the page asks Stripe and posts.
        var sessionId = checkout.Headers.Location!.Segments[^1];
        engine.Stripe.Sessions[sessionId] = engine.Stripe.Sessions[sessionId] with { Paid = true };
        var back = await (await patient.GetAsync($"/pay/return/{paymentId}")).Content.ReadAsStringAsync();
        Assert.Contains("Thank you. We received your payment of $50.00.", back, StringComparison.Ordinal);
        Assert.Contains("visa ending in 4242", back, StringComparison.Ordinal);

        // Then the webhook, twice, and a stale failure after it: nothing posts again.
        var succeeded = StripeStandIn.SignedEvent(StripeEngineFixture.WebhookSecret, "payment_intent.succeeded", StripeStandIn.Intent($"pi_for_{sessionId}", paymentId, 5000, "succeeded"));
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(succeeded.Body, succeeded.Signature)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(succeeded.Body, succeeded.Signature)).StatusCode);
        var failed = StripeStandIn.SignedEvent(StripeEngineFixture.WebhookSecret, "payment_intent.payment_failed", StripeStandIn.Intent($"pi_for_{sessionId}", paymentId, 5000, "requires_payment_method"));
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(failed.Body, failed.Signature)).StatusCode);
        Assert.Equal([50.00m], await Household.PatientPaymentsAsync(engine, household.Accounts[0]));

        // Webhooks that do not verify: a wrong secret, a body changed after signing, a stale timestamp.
        var wrong = StripeStandIn.SignedEvent("whsec_someone_else", "payment_intent.succeeded", StripeStandIn.Intent("pi_x", paymentId, 5000, "succeeded"));
        Assert.Equal(HttpStatusCode.BadRequest, (await WebhookAsync(wrong.Body, wrong.Signature)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await WebhookAsync(succeeded.Body.Replace("5000", "9000", StringComparison.Ordinal), succeeded.Signature)).StatusCode);
        var stale = StripeStandIn.SignedEvent(StripeEngineFixture.WebhookSecret, "payment_intent.succeeded", StripeStandIn.Intent("pi_y", paymentId, 5000, "succeeded"), DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(HttpStatusCode.BadRequest, (await WebhookAsync(stale.Body, stale.Signature)).StatusCode);

        // Insurance pays the whole bill later: a supervisor refunds the patient's card payment through Stripe.
        using var admin = engine.Admin();
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{household.Accounts[0]}", new { kind = "insurancePayment", amount = 50.00m, payer = "ACME" })).StatusCode);
        var refund = new HttpRequestMessage(HttpMethod.Post, $"/api/payments/{paymentId}/refunds") { Content = JsonContent.Create(new { account = household.Accounts[0] }) };
        refund.Headers.Add("Idempotency-Key", "refund-credit-1");
        var requested = await admin.SendAsync(refund);
        Assert.Equal(HttpStatusCode.OK, requested.StatusCode);
        // The answer shows the payment with its guarantor and accounts: each is audited as shown.
        var shown = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/audit?resourceType=guarantor&resourceId={household.GuarantorId}");
        Assert.Contains(shown.EnumerateArray(), e => e.GetProperty("action").GetString() == "payment.read");
        var refundCall = engine.Stripe.Requests.Last(r => r.Path == "/v1/refunds");
        Assert.Equal(("5000", $"pi_for_{sessionId}"), (refundCall.Form["amount"], refundCall.Form["payment_intent"]));
        Assert.Equal($"refund-{paymentId}/refund/refund-credit-1", refundCall.IdempotencyKey);
        Assert.DoesNotContain((await Household.AccountAsync(engine, household.Accounts[0])).GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "refund");

        var confirmed = StripeStandIn.SignedEvent(StripeEngineFixture.WebhookSecret, "refund.updated", new
        {
            id = "re_confirmed", @object = "refund", status = "succeeded", amount = 5000, payment_intent = $"pi_for_{sessionId}",
            metadata = new Dictionary<string, string> { ["payment_id"] = paymentId, ["refund_id"] = refundCall.Form["metadata[refund_id]"] },
        });
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(confirmed.Body, confirmed.Signature)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(confirmed.Body, confirmed.Signature)).StatusCode);
        var account = await Household.AccountAsync(engine, household.Accounts[0]);
        Assert.Single(account.GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "refund");
        Assert.Equal(0m, account.GetProperty("balances").GetProperty("creditBalance").GetDecimal());
    }
}
