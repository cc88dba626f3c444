using System.Diagnostics;
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
/// which records it as a receipt. Twilio takes no idempotency key for messages, so a second attempt first asks Twilio
/// whether the first one got through after all (its answer lost to a timeout, a proxy error or our crash): it lists the
/// recent texts to the number and adopts one with the same body, created since the message was queued, that no other
/// outbox message already holds, instead of sending it again. The default texts carry the message's own pay link, so
/// their bodies differ; two identical texts to one number in the same minutes (a template without the link) are told
/// apart by the provider ids already recorded. A Messaging Service that shortens links or changes characters changes
/// the body: then the lookup misses and the text is sent again, as without it. A text whose earlier attempts were all
/// paused (its vendor was not answering, so none was handed to Twilio) is not looked up. The lookup and the send share one
/// timeout, so a delivery stays within half the sender's lease; our own reads under it never count against Twilio.
/// </summary>
public sealed class TwilioTransport(IHttpClientFactory httpClients, IOptions<OutreachOptions> options, IOutboxStore outbox) : IMessageTransport
{
    public const string HttpClientName = "Collections.Outreach.Twilio";
    public const string StatusPath = "/webhooks/twilio/status";

    public string Name => TransportNames.Twilio;

    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.Channel != ContactChannel.Sms) throw new ArgumentOutOfRangeException(nameof(message), message.Channel, "The Twilio transport sends texts.");
        var settings = options.Value.Twilio;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        // Our own reads (did an earlier attempt go; does another message hold a text found): their failure, or their
        // taking most of the time, says nothing of Twilio (Vendor null).
        var ours = new Stopwatch();
        bool mayHaveGone;
        try
        {
            ours.Start();
            mayHaveGone = await outbox.MayHaveGoneBeforeAsync(message.MessageId, message.Attempts, timeout.Token);
            ours.Stop();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            // Not known: as if an earlier attempt may have gone, so Twilio is asked first (a database blip costs no attempt).
            ours.Stop();
            mayHaveGone = message.Attempts > 1;
        }
        try
        {
            return await SendAsync(message, settings, mayHaveGone, ours, cancellationToken, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && ours.Elapsed > TimeSpan.FromSeconds(settings.TimeoutSeconds) / 2)
        {
            return DeliveryResult.Retry("timeout: our own reads took more than half the time"); // Twilio had less than half of it
        }
    }

    private async Task<DeliveryResult> SendAsync(OutboxMessage message, OutreachOptions.TwilioSettings settings, bool mayHaveGone, Stopwatch ours,
        CancellationToken stopping, CancellationToken cancellationToken)
    {
        // A text whose earlier attempts were all paused (never handed to Twilio) needs no lookup.
        if (mayHaveGone)
        {
            var lookup = await FindEarlierAttemptAsync(message, settings, ours, stopping, cancellationToken);
            if (lookup.Sid is not null) return DeliveryResult.Ok(lookup.Sid);
            // Not knowing whether the text went is no reason to send it twice: try again later (or stop, if Twilio refuses to be asked).
            if (lookup.Error is not null)
                return lookup.Permanent ? DeliveryResult.Fail(lookup.Error, lookup.Vendor) : DeliveryResult.Retry(lookup.Error, lookup.Vendor);
        }
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
        request.Headers.Authorization = Basic(settings);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        // A proxy's or an edge's error page is not JSON: its status still says what happened.
        using var json = await JsonOrNullAsync(response, cancellationToken);
        if (response.IsSuccessStatusCode && json is not null && json.RootElement.TryGetProperty("sid", out var sid))
            return DeliveryResult.Ok(sid.GetString());
        var status = (int)response.StatusCode;
        // Twilio's error code says what went wrong, never the number or the text (e.g. 21610: the recipient replied STOP).
        var code = json is not null && json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number
            ? c.GetInt32().ToString(CultureInfo.InvariantCulture) : "none";
        var error = $"twilio http {status} code {code}";
        return status is (int)HttpStatusCode.TooManyRequests or >= 500
            ? DeliveryResult.Retry(error, DeliveryErrors.Http(status))
            : DeliveryResult.Fail(error, DeliveryErrors.Http(status));
    }

    /// <summary>
    /// The SID of a text Twilio already holds for this message (to the same number, with the same body, created after the
    /// message was queued), or an error saying why Twilio could not be asked. Lists the newest texts to the number
    /// (<c>GET …/Messages.json?To=…</c>, newest first), one page.
    /// </summary>
    private async Task<(string? Sid, string? Error, bool Permanent, ReceiverAnswer? Vendor)> FindEarlierAttemptAsync(OutboxMessage message, OutreachOptions.TwilioSettings settings,
        Stopwatch ours, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var to = "+1" + message.Recipient;
        var url = $"{settings.ApiBase.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(settings.AccountSid!)}/Messages.json?To={Uri.EscapeDataString(to)}&PageSize={LookupPageSize}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = Basic(settings);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            return (null, $"twilio lookup http {(int)response.StatusCode}: the credentials may not read Messages, so a retried text cannot be checked", true,
                ReceiverAnswer.Refused);
        if (!response.IsSuccessStatusCode)
            return (null, $"twilio lookup http {(int)response.StatusCode}", false, DeliveryErrors.Http((int)response.StatusCode));
        using var json = await JsonOrNullAsync(response, cancellationToken);
        if (json is null || json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("messages", out var messages)
            || messages.ValueKind != JsonValueKind.Array)
            return (null, "twilio lookup: no message list", false, ReceiverAnswer.Refused);
        // Twilio's clock and ours differ a little: a text created up to a minute before the message was queued still counts.
        var since = message.CreatedAt - TimeSpan.FromMinutes(1);
        foreach (var m in messages.EnumerateArray())
        {
            if (Text(m, "body") != message.Body || Text(m, "to") != to) continue;
            if (Text(m, "direction") is { } direction && !direction.StartsWith("outbound", StringComparison.Ordinal)) continue;
            if (ParseTwilioDate(Text(m, "date_created")) is not { } created || created < since) continue;
            if (Text(m, "sid") is not { Length: > 0 } sid) continue;
            // Another outbox message already holds this text (the same words to the same number): not ours.
            string? holder;
            ours.Start();
            try
            {
                holder = await outbox.MessageIdForProviderAsync(sid, cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !stopping.IsCancellationRequested)
            {
                // Twilio answered the lookup (it is up); whether the text is this message's could not be read (or not in
                // the time left): not sent again now.
                return (null, $"the earlier text could not be matched: {DeliveryErrors.Describe(ex)}", false, ReceiverAnswer.Delivered);
            }
            finally
            {
                ours.Stop();
            }
            if (holder is not null && holder != message.MessageId) continue;
            return (sid, null, false, ReceiverAnswer.Delivered);
        }
        return (null, null, false, ReceiverAnswer.Delivered);
    }

    private const int LookupPageSize = 50;

    private static async Task<JsonDocument?> JsonOrNullAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken), default);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Twilio's dates are RFC 2822 ("Wed, 18 Aug 2010 20:01:40 +0000").</summary>
    public static DateTimeOffset? ParseTwilioDate(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var t = text.Trim();
        // .NET's offset pattern wants "+00:00"; RFC 2822 writes "+0000".
        if (t.Length > 5 && (t[^5] == '+' || t[^5] == '-') && char.IsAsciiDigit(t[^1])) t = t[..^2] + ":" + t[^2..];
        return DateTimeOffset.TryParseExact(t, ["ddd, dd MMM yyyy HH:mm:ss zzz", "ddd, d MMM yyyy HH:mm:ss zzz"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            ? parsed : null;
    }

    private static AuthenticationHeaderValue Basic(OutreachOptions.TwilioSettings settings) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
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
