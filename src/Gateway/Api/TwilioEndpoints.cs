using Collections.Domain;
using Collections.Grains;
using Collections.Outreach;
using Microsoft.Extensions.Options;

namespace Collections.Gateway.Api;

/// <summary>
/// Twilio's callbacks, believed only with a valid <c>X-Twilio-Signature</c> (keyed by the auth token, over the public
/// address Twilio called): delivery status of our texts (delivered, undelivered, failed) as receipts, and patients'
/// replies (STOP and the rest), which take the same path as the reply endpoint: revocations honoured at once,
/// everything unclear to the review queue.
/// </summary>
public static class TwilioEndpoints
{
    public static void MapTwilioWebhooks(this WebApplication app)
    {
        var twilio = app.MapGroup("/webhooks/twilio").AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        twilio.MapPost("/status", async (HttpContext http, IOptions<OutreachOptions> options, IOutboxStore outbox, TimeProvider clock) =>
        {
            if (await VerifiedFormAsync(http, options.Value) is not { } form) return Refused();
            var sid = form.GetValueOrDefault("MessageSid") ?? form.GetValueOrDefault("SmsSid");
            ReceiptStatus? status = form.GetValueOrDefault("MessageStatus") switch
            {
                "delivered" => ReceiptStatus.Delivered,
                "undelivered" or "failed" => ReceiptStatus.Failed,
                _ => null, // queued, sending, sent: nothing final yet
            };
            if (sid is null || status is null) return Results.NoContent();
            // Twilio can call back before the sender has recorded Twilio's answer: wait a little for it.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                if (await outbox.MessageIdForProviderAsync(sid, http.RequestAborted) is { } messageId)
                {
                    await outbox.RecordReceiptAsync(new DeliveryReceipt(messageId, status.Value, sid, clock.GetUtcNow()), http.RequestAborted);
                    return Results.NoContent();
                }
                await Task.Delay(250, http.RequestAborted);
            }
            return Results.NoContent(); // a text this engine did not send (or no longer has): nothing to record
        });
        twilio.MapPost("/inbound", async (HttpContext http, IOptions<OutreachOptions> options, IGrainFactory grains, TimeProvider clock) =>
        {
            if (await VerifiedFormAsync(http, options.Value) is not { } form) return Refused();
            var digits = new string((form.GetValueOrDefault("From") ?? "").Where(char.IsDigit).ToArray());
            if (digits.Length == 11 && digits[0] == '1') digits = digits[1..];
            var text = form.GetValueOrDefault("Body") ?? "";
            if (digits.Length == 10 && text.Length <= 1600)
            {
                CallerContext.Set(new Caller { Actor = "vendor:twilio", Role = "integration", ClientAddress = http.Connection.RemoteIpAddress?.ToString(), CorrelationId = http.TraceIdentifier });
                await grains.GetGrain<IReplyIntakeGrain>(0).Receive(digits, new InboundReply { Channel = ContactChannel.Sms, Text = text, ReceivedAt = clock.GetUtcNow() });
            }
            // An empty TwiML answer: the engine's own confirmation (one text after STOP) goes through the outbox and the gate.
            return Results.Content("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", "text/xml");
        });
    }

    private static async Task<Dictionary<string, string>?> VerifiedFormAsync(HttpContext http, OutreachOptions options)
    {
        var token = options.Twilio.AuthToken;
        if (string.IsNullOrEmpty(token) || !http.Request.HasFormContentType) return null;
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        // The address Twilio called: the public base (behind a proxy the request's own host is not it) plus path and query.
        var url = options.PublicBaseUrl.TrimEnd('/') + http.Request.Path + http.Request.QueryString;
        if (!TwilioSignature.IsValid(token, url, fields, http.Request.Headers["X-Twilio-Signature"])) return null;
        if (options.Twilio.AccountSid is { } sid && fields.TryGetValue("AccountSid", out var from) && from != sid) return null;
        return fields;
    }

    private static IResult Refused() => Results.Problem(statusCode: 403, title: "The Twilio signature did not verify",
        type: Problems.TypePrefix + "webhook.signature-invalid", extensions: new Dictionary<string, object?> { ["code"] = "webhook.signature-invalid" });
}
