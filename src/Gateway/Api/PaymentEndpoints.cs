using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
using Collections.Payments;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>
/// Card payments for staff (a payment's state; a refund back to the card that paid) and the billing office's queue of
/// what patients sent from the self-service page; and the processor's webhook endpoint (signed, anonymous).
/// </summary>
public static class PaymentEndpoints
{
    public const int MaxWebhookBytes = 256 * 1024;

    public static RouteGroupBuilder MapPayments(this RouteGroupBuilder api)
    {
        var payments = api.MapGroup("/payments").WithTags("Payments");
        payments.MapGet("/{paymentId}", GetPayment).RequireAuthorization(Policies.ReadAccounts).WithName("GetPayment")
            .WithSummary("A card payment: amount, status (started, requiresAction, succeeded, failed), each account's share and the ledger entry it became, the card's brand and last four digits, refunds.");
        payments.MapPost("/{paymentId}/refunds", Refund).RequireAuthorization(Policies.ManagePolicies).WithName("RefundCardPayment")
            .WithSummary("A supervisor refunds (part of) a card payment's share on an account back to the card that paid ({account: FACILITY/NUMBER, amount?, note?}, with an Idempotency-Key): at most the account's credit balance; it posts to the ledger when the processor confirms it.");

        api.MapPost("/accounts/{facility}/{accountNumber}/card-payments", StartPhonePayment).WithTags("Payments").RequireAuthorization(Policies.WorkWorklist)
            .WithName("StartPhoneCardPayment")
            .WithSummary("An agent takes a card payment on a call ({amount}, with an Idempotency-Key): answers the processor's hosted checkout (checkoutUrl) for the agent to key the card into; the payment posts to the account when the processor confirms it, and the patient gets a receipt. A retry with the key answers the same payment.");

        var requests = api.MapGroup("/billing-office/requests").WithTags("Payments");
        requests.MapGet("/", ListRequests).RequireAuthorization(Policies.WorkAccounts).WithName("ListPatientRequests")
            .WithSummary("What patients sent from the self-service page (messages, financial-assistance applications, disputes), oldest first; status open (default) or done.");
        requests.MapPost("/{requestId}/close", CloseRequest).RequireAuthorization(Policies.WorkAccounts).WithName("ClosePatientRequest")
            .WithSummary("Close a patient's request once handled, with a note. Holds it placed (financial assistance, dispute) are released through the account's holds.");
        return api;
    }

    /// <summary>The processor's webhooks: anonymous, believed only when the signature verifies.</summary>
    public static void MapPaymentWebhook(this WebApplication app) =>
        app.MapPost("/webhooks/payments", async (HttpContext http, IProcessorEventSink sink, ILoggerFactory loggers) =>
        {
            if (http.Request.ContentLength > MaxWebhookBytes) return Results.Problem(statusCode: 413, title: "Too large", extensions: new Dictionary<string, object?> { ["code"] = "webhook.too-large" });
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync(http.RequestAborted);
            try
            {
                await sink.AcceptAsync(body, name => http.Request.Headers.TryGetValue(name, out var v) ? v.ToString() : null, http.RequestAborted);
                return Results.Ok(new { received = true });
            }
            catch (ProcessorSignatureException ex)
            {
                loggers.CreateLogger("Collections.Payments.Webhook").LogWarning("A payment webhook from {Address} did not verify", http.Connection.RemoteIpAddress);
                return Results.Problem(statusCode: 400, title: "The webhook's signature did not verify", detail: ex.Message,
                    type: Problems.TypePrefix + "webhook.signature-invalid", extensions: new Dictionary<string, object?> { ["code"] = "webhook.signature-invalid" });
            }
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

    public sealed record PhonePaymentBody(decimal? Amount);

    private static async Task<Results<Created<CardPaymentView>, ProblemHttpResult>> StartPhonePayment(
        string facility, string accountNumber, PhonePaymentBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, HttpContext http,
        Worklist.PhoneCardPayments payments)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalidKey) return invalidKey;
        if (string.IsNullOrWhiteSpace(idempotencyKey))
            return Problems.Invalid("Idempotency-Key", "idempotency-key.required", "Taking a payment needs an Idempotency-Key header, so a retry never charges twice.");
        if (idempotencyKey.Trim().Length > 100)
            return Problems.Invalid(AccountEndpoints.IdempotencyKeyHeader, "idempotency-key.too-long", "The Idempotency-Key may be at most 100 characters.");
        if (body.Amount is not { } amount)
            return Problems.Invalid("amount", "amount.required", "Say how much the patient pays, in dollars (for example 25.00).");
        try
        {
            var started = await payments.StartAsync(http.ToCaller().Actor, new AccountKey(facility, accountNumber), amount, idempotencyKey.Trim());
            if (!started.Succeeded) return Problems.From(started.Errors);
            var payment = started.Value!;
            await http.AuditShownAsync("payment.read", [("guarantor", payment.GuarantorId), .. payment.Shares.Select(s => s.Account.Shown())]);
            return TypedResults.Created($"/api/payments/{payment.PaymentId}", payment);
        }
        catch (Exception ex) when (ex is ProcessorUnavailableException or ProcessorRefusedException)
        {
            return Problems.Unavailable("processor.unavailable", "The payment processor cannot be reached",
                "The card was not charged: the processor's checkout could not be opened. Try again with the same Idempotency-Key, or take the payment another way.");
        }
    }

    private static async Task<Results<Ok<CardPaymentView>, ProblemHttpResult>> GetPayment(string paymentId, IGrainFactory grains, HttpContext http)
    {
        if (await grains.GetGrain<IPatientPaymentGrain>(paymentId).Get() is not { } payment)
            return Problems.NotFound("payment.not-found", "No card payment has this id.");
        await http.AuditShownAsync("payment.read", [("guarantor", payment.GuarantorId), .. payment.Shares.Select(s => s.Account.Shown())]);
        return TypedResults.Ok(payment);
    }

    public sealed record RefundBody(string? Account, decimal? Amount, string? Note);

    private static async Task<Results<Ok<CardPaymentView>, ProblemHttpResult>> Refund(string paymentId, RefundBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey))
            return Problems.Invalid(AccountEndpoints.IdempotencyKeyHeader, "idempotency-key.required", "A refund needs an Idempotency-Key header, so a retry refunds once.");
        if (idempotencyKey.Trim().Length > 100)
            return Problems.Invalid(AccountEndpoints.IdempotencyKeyHeader, "idempotency-key.too-long", "The Idempotency-Key may be at most 100 characters.");
        if (body.Account is not { } account || account.IndexOf('/', StringComparison.Ordinal) <= 0 || account.EndsWith('/'))
            return Problems.Invalid("account", "account.invalid", "account must be FACILITY/ACCOUNTNUMBER, e.g. MAIN/A1001.");
        try
        {
            var refunded = await grains.GetGrain<IPatientPaymentGrain>(paymentId).Refund(new CardRefundRequest
            {
                Account = AccountKey.Parse(account), Amount = body.Amount, IdempotencyKey = idempotencyKey.Trim(), Note = body.Note,
            });
            if (!refunded.Succeeded) return Problems.From(refunded.Errors);
            // The answer is the payment as GET shows it: the guarantor and each account it paid.
            await http.AuditShownAsync("payment.read", [("guarantor", refunded.Value!.GuarantorId), .. refunded.Value.Shares.Select(s => s.Account.Shown())]);
            return TypedResults.Ok(refunded.Value);
        }
        catch (ProcessorRefusedException ex)
        {
            return Problems.From([DomainError.Conflict(ex.Code, ex.Message)]);
        }
        catch (ProcessorUnavailableException)
        {
            return Problems.Unavailable("processor.unavailable", "The payment processor did not answer",
                "The refund was recorded as requested; retry with the same Idempotency-Key to send it to the processor again (it refunds once).");
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<BillingRequest>>, ProblemHttpResult>> ListRequests(string? status, int? limit, IGrainFactory grains, HttpContext http)
    {
        if (Problems.ReadEnum<BillingRequestStatus>("status", status, out var wanted) is { } refused) return refused;
        if (limit is < 1 or > 1000) return Problems.Invalid("limit", "limit.invalid", "limit must be between 1 and 1000.");
        var requests = await grains.GetGrain<IBillingOfficeQueueGrain>(0).List(wanted ?? BillingRequestStatus.Open, limit ?? 100);
        await http.AuditShownAsync("billing-request.read", requests.Select(r => ("guarantor", r.GuarantorId)));
        return TypedResults.Ok(requests);
    }

    public sealed record CloseBody(string? Note);

    private static async Task<Results<Ok<BillingRequest>, ProblemHttpResult>> CloseRequest(string requestId, CloseBody body, IGrainFactory grains)
    {
        var closed = await grains.GetGrain<IBillingOfficeQueueGrain>(0).Close(requestId, body.Note);
        return closed.Succeeded ? TypedResults.Ok(closed.Value!) : Problems.From(closed.Errors);
    }
}
