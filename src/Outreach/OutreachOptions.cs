using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>The <c>Collections:Outreach</c> configuration section.</summary>
public sealed class OutreachOptions
{
    public const string Section = "Collections:Outreach";

    /// <summary>Which transport delivers each channel.</summary>
    public TransportChoice Transports { get; set; } = new();
    public SmtpSettings Smtp { get; set; } = new();
    public WebhookChannels Webhooks { get; set; } = new();
    public SenderSettings Sender { get; set; } = new();
    public TwilioSettings Twilio { get; set; } = new();

    /// <summary>
    /// The address patients reach the engine's public pages at (the opt-out link in every email; behind a proxy, the
    /// public https address). Default: the local engine.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";

    public sealed class TransportChoice
    {
        /// <summary><c>sandbox</c> (default) or <c>smtp</c>.</summary>
        public string Email { get; set; } = TransportNames.Sandbox;
        /// <summary><c>sandbox</c> (default), <c>twilio</c> or <c>webhook</c>.</summary>
        public string Sms { get; set; } = TransportNames.Sandbox;
        /// <summary><c>sandbox</c> (default) or <c>webhook</c> (a print-and-mail vendor).</summary>
        public string Mail { get; set; } = TransportNames.Sandbox;
    }

    public sealed class SmtpSettings
    {
        public string? Host { get; set; }
        public int Port { get; set; } = 587;
        /// <summary>true: TLS (implicit on port 465, STARTTLS otherwise, required). false: plain (a local relay only).</summary>
        public bool UseTls { get; set; } = true;
        public string? User { get; set; }
        public string? Password { get; set; }
        /// <summary>The From address, e.g. "Billing Office &lt;billing@hospital.example&gt;".</summary>
        public string? From { get; set; }
        public int TimeoutSeconds { get; set; } = 30;
        /// <summary>Connections to the relay open at once, at most (hosted relays allow a few per account); messages wait for one.</summary>
        public int MaxConnections { get; set; } = 32;
        /// <summary>Messages sent over one connection before it is closed and a new one opened (1: a connection per message).</summary>
        public int MessagesPerConnection { get; set; } = 100;
        /// <summary>A connection unused this long is closed rather than used again.</summary>
        public int IdleSeconds { get; set; } = 30;
    }

    public sealed class WebhookChannels
    {
        public WebhookSettings Sms { get; set; } = new();
        public WebhookSettings Mail { get; set; } = new();
    }

    public sealed class WebhookSettings
    {
        public string? Url { get; set; }
        /// <summary>The shared secret for the HMAC-SHA256 signature header.</summary>
        public string? Secret { get; set; }
        public int TimeoutSeconds { get; set; } = 30;
    }

    /// <summary>Texts through Twilio's Messages API; delivery status and replies come back to /webhooks/twilio/*.</summary>
    public sealed class TwilioSettings
    {
        public string? AccountSid { get; set; }
        /// <summary>The auth token: authenticates our calls and checks the X-Twilio-Signature of Twilio's callbacks.</summary>
        public string? AuthToken { get; set; }
        /// <summary>The sending number (E.164, e.g. +15125550100), or leave it out and set <see cref="MessagingServiceSid"/>.</summary>
        public string? From { get; set; }
        public string? MessagingServiceSid { get; set; }
        /// <summary>Twilio's API address; only tests change it (a local stand-in).</summary>
        public string ApiBase { get; set; } = "https://api.twilio.com";
        public int TimeoutSeconds { get; set; } = 30;
    }

    public sealed class SenderSettings
    {
        /// <summary>Whether this process runs the sender at all.</summary>
        public bool Enabled { get; set; } = true;
        /// <summary>How often the sender looks for due messages (it is also woken at once after an enqueue).</summary>
        public double PollSeconds { get; set; } = 1;
        /// <summary>Attempts before a message is marked failed.</summary>
        public int MaxAttempts { get; set; } = 8;
        /// <summary>How long a claimed message is reserved for the sender that claimed it; a dead sender's messages are reclaimed after it.</summary>
        public double LeaseSeconds { get; set; } = 120;
        /// <summary>The first retry waits this long; each later one twice as long as the one before, up to <see cref="RetryMaxSeconds"/>.</summary>
        public double RetryBaseSeconds { get; set; } = 30;
        public double RetryMaxSeconds { get; set; } = 3600;
        /// <summary>The least free room a claim is made for; a claim takes as many due messages as there is room for, up to <see cref="MaxInFlight"/>.</summary>
        public int BatchSize { get; set; } = 8;
        /// <summary>
        /// How many messages a sender may have on their way at once, over all channels (at least <see cref="BatchSize"/>:
        /// a smaller value is raised to it). With SMTP each is a connection to the relay: keep it within the relay's limit
        /// of connections per client (Postfix allows 50 by default; some hosted relays far fewer).
        /// </summary>
        public int MaxInFlight { get; set; } = 32;
        /// <summary>
        /// How long a due message may wait for a sender before <c>/health/ready</c> says degraded. A due day's messages
        /// are a backlog the senders work off at their pace (at 32 on their way and a vendor answering in 200 ms, about
        /// 150 a second), so it allows an hour.
        /// </summary>
        public double MaxWaitSeconds { get; set; } = 3600;
        /// <summary>
        /// After this many failures in a row of a channel's vendor that say it is down (no answer, a dropped connection,
        /// an SMTP server busy or broken: <see cref="DeliveryErrors.Smtp"/>; HTTP 408, 429, 5xx), the channel is paused: its messages are not sent but wait for their
        /// retries (an attempt each, as a failed send would spend; no sooner than the pause ends), so a vendor that does
        /// not answer cannot take every place among <see cref="MaxInFlight"/> from the other channels. The first pause
        /// lasts <see cref="RetryBaseSeconds"/>, each next one twice as long, at most <see cref="MaxPauseSeconds"/>; then
        /// one message goes as a probe, and any answer from a vendor that is up ends the pauses. A message on its last
        /// attempt is always tried. 0: never paused.
        /// </summary>
        public int PauseAfterFailures { get; set; } = 5;
        /// <summary>The longest pause of a vendor that keeps failing (see <see cref="PauseAfterFailures"/>).</summary>
        public double MaxPauseSeconds { get; set; } = 300;
    }
}

public static class TransportNames
{
    public const string Sandbox = "sandbox";
    public const string Smtp = "smtp";
    public const string Webhook = "webhook";
    public const string Twilio = "twilio";
}

/// <summary>Checks the outreach settings at start; each failure names the setting.</summary>
public sealed class OutreachOptionsValidator : IValidateOptions<OutreachOptions>
{
    private const string P = OutreachOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, OutreachOptions options)
    {
        var errors = new List<string>();
        var t = options.Transports;
        Choice(errors, "Transports:Email", t.Email, TransportNames.Sandbox, TransportNames.Smtp);
        Choice(errors, "Transports:Sms", t.Sms, TransportNames.Sandbox, TransportNames.Webhook, TransportNames.Twilio);
        Choice(errors, "Transports:Mail", t.Mail, TransportNames.Sandbox, TransportNames.Webhook);

        if (Is(t.Email, TransportNames.Smtp))
        {
            var s = options.Smtp;
            if (string.IsNullOrWhiteSpace(s.Host)) errors.Add($"{P}Smtp:Host is required when {P}Transports:Email is 'smtp'.");
            if (s.Port is < 1 or > 65535) errors.Add($"{P}Smtp:Port must be between 1 and 65535 (it is {s.Port}).");
            if (string.IsNullOrWhiteSpace(s.From) || !MimeKit.MailboxAddress.TryParse(s.From, out _))
                errors.Add($"{P}Smtp:From must be an email address (e.g. \"Billing <billing@hospital.example>\") when {P}Transports:Email is 'smtp'.");
            if (string.IsNullOrEmpty(s.User) != string.IsNullOrEmpty(s.Password))
                errors.Add($"{P}Smtp:User and {P}Smtp:Password go together: set both or neither.");
            if (s.TimeoutSeconds <= 0) errors.Add($"{P}Smtp:TimeoutSeconds must be positive.");
            if (s.MaxConnections < 1) errors.Add($"{P}Smtp:MaxConnections must be at least 1 (it is {s.MaxConnections}).");
            if (s.MessagesPerConnection < 1) errors.Add($"{P}Smtp:MessagesPerConnection must be at least 1 (it is {s.MessagesPerConnection}).");
            if (s.IdleSeconds < 0) errors.Add($"{P}Smtp:IdleSeconds must not be negative (it is {s.IdleSeconds}).");
            // Real emails carry the opt-out link: it must reach the engine from a patient's mail client.
            if (Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var linkBase) && linkBase.IsLoopback)
                errors.Add($"{P}PublicBaseUrl must be the address patients reach the engine at (the opt-out link in every email) when {P}Transports:Email is 'smtp'; it is '{options.PublicBaseUrl}'.");
        }
        if (Is(t.Sms, TransportNames.Webhook)) Webhook(errors, "Sms", options.Webhooks.Sms);
        if (Is(t.Sms, TransportNames.Twilio))
        {
            var tw = options.Twilio;
            if (string.IsNullOrWhiteSpace(tw.AccountSid) || string.IsNullOrWhiteSpace(tw.AuthToken))
                errors.Add($"{P}Twilio:AccountSid and {P}Twilio:AuthToken are required when {P}Transports:Sms is 'twilio'.");
            if (string.IsNullOrWhiteSpace(tw.From) == string.IsNullOrWhiteSpace(tw.MessagingServiceSid))
                errors.Add($"{P}Twilio: set From (the sending number) or MessagingServiceSid, one of them.");
            if (!Uri.TryCreate(tw.ApiBase, UriKind.Absolute, out _)) errors.Add($"{P}Twilio:ApiBase must be an absolute URL.");
            if (tw.TimeoutSeconds <= 0) errors.Add($"{P}Twilio:TimeoutSeconds must be positive.");
            // Twilio calls back at the public address (delivery, replies); a local stand-in (tests) may use a local one.
            if (Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var twilioBase) && twilioBase.IsLoopback
                && !(Uri.TryCreate(tw.ApiBase, UriKind.Absolute, out var api) && api.IsLoopback))
                errors.Add($"{P}PublicBaseUrl must be the address Twilio reaches the engine at (its delivery reports and patients' replies) when {P}Transports:Sms is 'twilio'; it is '{options.PublicBaseUrl}'.");
        }
        if (Is(t.Mail, TransportNames.Webhook)) Webhook(errors, "Mail", options.Webhooks.Mail);

        if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var publicUrl) || publicUrl.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(publicUrl.Query))
            errors.Add($"{P}PublicBaseUrl must be an absolute http(s) address without a query (it is '{options.PublicBaseUrl}').");
        var sender = options.Sender;
        if (sender.PollSeconds is < 0.05 or > 3600) errors.Add($"{P}Sender:PollSeconds must be between 0.05 and 3600 (it is {sender.PollSeconds}).");
        if (sender.MaxAttempts < 1) errors.Add($"{P}Sender:MaxAttempts must be at least 1 (it is {sender.MaxAttempts}).");
        if (!(sender.LeaseSeconds >= 5)) errors.Add($"{P}Sender:LeaseSeconds must be at least 5 (it is {sender.LeaseSeconds}).");
        if (!(sender.RetryBaseSeconds >= 0)) errors.Add($"{P}Sender:RetryBaseSeconds must not be negative.");
        if (!(sender.RetryMaxSeconds >= sender.RetryBaseSeconds)) errors.Add($"{P}Sender:RetryMaxSeconds must be at least Sender:RetryBaseSeconds.");
        if (sender.BatchSize is < 1 or > 1000) errors.Add($"{P}Sender:BatchSize must be between 1 and 1000.");
        if (sender.MaxInFlight is < 1 or > 1000) errors.Add($"{P}Sender:MaxInFlight must be between 1 and 1000.");
        if (!(sender.MaxWaitSeconds > 0)) errors.Add($"{P}Sender:MaxWaitSeconds must be above 0.");
        if (sender.PauseAfterFailures is < 0 or > 1000) errors.Add($"{P}Sender:PauseAfterFailures must be between 0 (never) and 1000.");
        if (sender.MaxPauseSeconds is < 1 or > 86400) errors.Add($"{P}Sender:MaxPauseSeconds must be between 1 and 86400.");
        var timeouts = new[] { options.Smtp.TimeoutSeconds, options.Webhooks.Sms.TimeoutSeconds, options.Webhooks.Mail.TimeoutSeconds, options.Twilio.TimeoutSeconds };
        if (timeouts.Any(s => s * 2 > sender.LeaseSeconds))
            errors.Add($"{P}Sender:LeaseSeconds ({sender.LeaseSeconds}) must be at least twice every transport TimeoutSeconds, so a slow delivery keeps its lease.");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool Is(string? value, string name) => string.Equals(value?.Trim(), name, StringComparison.OrdinalIgnoreCase);

    private static void Choice(List<string> errors, string setting, string? value, params string[] allowed)
    {
        if (!allowed.Any(a => Is(value, a)))
            errors.Add($"{P}{setting} must be one of {string.Join(", ", allowed.Select(a => $"'{a}'"))} (it is '{value}').");
    }

    private static void Webhook(List<string> errors, string channel, OutreachOptions.WebhookSettings settings)
    {
        if (!Uri.TryCreate(settings.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            errors.Add($"{P}Webhooks:{channel}:Url must be an absolute http(s) URL when {P}Transports:{channel} is 'webhook'.");
        if (string.IsNullOrEmpty(settings.Secret) || settings.Secret.Length < 16)
            errors.Add($"{P}Webhooks:{channel}:Secret must be set (at least 16 characters) when {P}Transports:{channel} is 'webhook'.");
        if (settings.TimeoutSeconds <= 0) errors.Add($"{P}Webhooks:{channel}:TimeoutSeconds must be positive.");
    }
}
