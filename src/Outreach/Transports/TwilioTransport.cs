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
/// Texts through Twilio's Messages API (<c>POST /2010-04-01/Accounts/{sid}/Messages.json</c>, basic auth with the
/// account SID and auth token): each message asks Twilio to report its delivery to <c>/webhooks/twilio/status</c>,
/// which records it as a receipt. Twilio has no idempotency key for messages: after a crash between Twilio's answer and
/// the outbox recording it, the sender may send a text twice (at-least-once at this one boundary).
/// </summary>
public sealed class TwilioTransport(IHttpClientFactory httpClients, IOptions<OutreachOptions> options) : IMessageTransport
{
    public const string HttpClientName = "Collections.Outreach.Twilio";
    public const string StatusPath = "/webhooks/twilio/status";

    public string Name => TransportNames.Twilio;

    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.Channel != ContactChannel.Sms) throw new ArgumentOutOfRangeException(nameof(message), message.Channel, "The Twilio transport sends texts.");
        var settings = options.Value.Twilio;
        var fields = new List<KeyValuePair<string, string>>
        {
            new("To", "+1" + message.Recipient),
            new("Body", message.Body),
            new("StatusCallback", options.Value.PublicBaseUrl.TrimEnd('/') + StatusPath),
        };
        fields.Add(string.IsNullOrWhiteSpace(settings.MessagingServiceSid) ? new("From", settings.From!) : new("MessagingServiceSid", settings.MessagingServiceSid));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{settings.ApiBase.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(settings.AccountSid!)}/Messages.json")
        {
            Content = new FormUrlEncodedContent(fields),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(timeout.Token), default);
        if (response.IsSuccessStatusCode && json.RootElement.TryGetProperty("sid", out var sid))
            return DeliveryResult.Ok(sid.GetString());
        var status = (int)response.StatusCode;
        // Twilio's error code says what went wrong, never the number or the text (e.g. 21610: the recipient replied STOP).
        var code = json.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32().ToString(CultureInfo.InvariantCulture) : "none";
        var error = $"twilio http {status} code {code}";
        return status is (int)HttpStatusCode.TooManyRequests or >= 500 ? DeliveryResult.Retry(error) : DeliveryResult.Fail(error);
    }
}

/// <summary>
/// Twilio's request signature (<c>X-Twilio-Signature</c>): base64 HMAC-SHA1, keyed with the auth token, of the full URL
/// Twilio called followed by each form field's name and value, sorted by name.
/// </summary>
public static class TwilioSignature
{
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var data = new StringBuilder(url);
        foreach (var (key, value) in form.OrderBy(f => f.Key, StringComparer.Ordinal)) data.Append(key).Append(value);
#pragma warning disable CA5350 // Twilio's scheme is HMAC-SHA1; we verify it, we do not choose it
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
#pragma warning restore CA5350
    }

    public static bool IsValid(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form, string? presented) =>
        !string.IsNullOrEmpty(presented)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(authToken, url, form)), Encoding.ASCII.GetBytes(presented));
}
