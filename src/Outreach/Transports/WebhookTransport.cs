using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Collections.Domain;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>
/// Texts and letters through a vendor's HTTP endpoint: a JSON POST to <c>Webhooks:&lt;channel&gt;:Url</c> with
/// <c>Idempotency-Key: &lt;message id&gt;</c>, <c>X-Collections-Timestamp: &lt;unix seconds&gt;</c> and
/// <c>X-Collections-Signature: sha256=&lt;hex HMAC-SHA256 of "&lt;timestamp&gt;.&lt;body&gt;" with the channel's secret&gt;</c>.
/// A 2xx is delivered (the vendor's id is read from an "id" or "messageId" field of a JSON answer); 408, 429 and 5xx
/// are retried; any other answer fails the message. Letters carry their PDF as base64 in "pdfBase64".
/// </summary>
public sealed class WebhookTransport(IHttpClientFactory httpClients, IOptions<OutreachOptions> options, StatementPdfRenderer documents, TimeProvider clock)
    : IMessageTransport
{
    public const string HttpClientName = "Collections.Outreach.Webhook";
    public const string SignatureHeader = "X-Collections-Signature";
    public const string TimestampHeader = "X-Collections-Timestamp";
    public const string IdempotencyHeader = "Idempotency-Key";

    public string Name => TransportNames.Webhook;

    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var settings = message.Channel switch
        {
            ContactChannel.Sms => options.Value.Webhooks.Sms,
            ContactChannel.Mail => options.Value.Webhooks.Mail,
            _ => throw new ArgumentOutOfRangeException(nameof(message), message.Channel, "The webhook transport sends texts and letters."),
        };
        var payload = new WebhookPayload(
            message.MessageId, message.Channel.ToString().ToLowerInvariant(), message.Action.ToString(), message.Facility, message.AccountNumber,
            message.RecipientName, message.Recipient, message.Subject, message.Body,
            message.Channel == ContactChannel.Mail ? Convert.ToBase64String(await documents.RenderAsync(message, cancellationToken)) : null);
        var body = JsonSerializer.SerializeToUtf8Bytes(payload, Sql.Json);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(IdempotencyHeader, message.MessageId);
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(settings.Secret!, timestamp, body));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        var client = httpClients.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, timeout.Token);
        if (response.IsSuccessStatusCode)
            return DeliveryResult.Ok(await ProviderIdAsync(response, timeout.Token));
        var status = (int)response.StatusCode;
        var error = $"http {status}";
        return status is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500
            ? DeliveryResult.Retry(error, DeliveryErrors.Http(status))
            : DeliveryResult.Fail(error, DeliveryErrors.Http(status));
    }

    /// <summary>The signature header value: <c>sha256=</c> and the hex HMAC-SHA256 of "timestamp.body".</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Checks a signature in constant time (for vendors' tests and our own inbound checks).</summary>
    public static bool Verify(string secret, string timestamp, ReadOnlySpan<byte> body, string? signature) =>
        signature is not null && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));

    private static async Task<string?> ProviderIdAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true) return null;
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            if (json.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (var name in new[] { "id", "messageId", "providerMessageId" })
                if (json.RootElement.TryGetProperty(name, out var id) && id.ValueKind == JsonValueKind.String) return id.GetString();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record WebhookPayload(
        string MessageId, string Channel, string Action, string Facility, string AccountNumber,
        string RecipientName, string Recipient, string? Subject, string Body, string? PdfBase64);
}
