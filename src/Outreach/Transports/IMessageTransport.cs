using System.Net.Sockets;
using Collections.Domain;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>
/// How a try at delivering ended. <see cref="Error"/> is a status code or error kind, never PHI. <see cref="Vendor"/>
/// is what the vendor's answer says of the vendor (down, or up), which pauses a channel whose vendor keeps failing;
/// null when the vendor was not reached (a bad address, a message that could not be built) and says nothing.
/// </summary>
public sealed record DeliveryResult(bool Delivered, string? ProviderMessageId, string? Error, bool Permanent)
{
    public ReceiverAnswer? Vendor { get; init; }

    public static DeliveryResult Ok(string? providerMessageId) => new(true, providerMessageId, null, false) { Vendor = ReceiverAnswer.Delivered };

    /// <summary>Worth trying again later (a timeout, a 5xx, a refused connection).</summary>
    public static DeliveryResult Retry(string error, ReceiverAnswer? vendor = null) => new(false, null, error, false) { Vendor = vendor };

    /// <summary>Will never work (a recipient the server refuses, a 4xx): no more attempts.</summary>
    public static DeliveryResult Fail(string error, ReceiverAnswer? vendor = null) => new(false, null, error, true) { Vendor = vendor };
}

/// <summary>
/// Delivers one message. Implementations are idempotent on <see cref="OutboxMessage.MessageId"/> as far as their medium
/// allows: the sender may deliver a message again after a crash between delivering and recording it.
/// </summary>
public interface IMessageTransport
{
    /// <summary>"sandbox", "smtp" or "webhook".</summary>
    string Name { get; }

    Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// How many messages this transport can have on their way at once (an SMTP relay's connections), or null: as many as
    /// the sender sends. The sender claims no more of a channel's messages than its transport can take, so messages
    /// waiting for the transport hold no place that another channel's could use.
    /// </summary>
    int? MaxConcurrent => null;
}

/// <summary>Picks the transport configured for a channel (<c>Collections:Outreach:Transports</c>).</summary>
public sealed class TransportRouter(IEnumerable<IMessageTransport> transports, IOptions<OutreachOptions> options)
{
    /// <summary>The channels the outbox sends (every other contact is a call or a task).</summary>
    public static readonly IReadOnlyList<ContactChannel> SentChannels = [ContactChannel.Mail, ContactChannel.Email, ContactChannel.Sms];

    private readonly Dictionary<string, IMessageTransport> _byName = transports.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    public IMessageTransport For(ContactChannel channel)
    {
        var choice = options.Value.Transports;
        var name = channel switch
        {
            ContactChannel.Email => choice.Email,
            ContactChannel.Sms => choice.Sms,
            ContactChannel.Mail => choice.Mail,
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "The outreach service does not send this channel."),
        };
        return _byName.TryGetValue(name.Trim(), out var transport)
            ? transport
            : throw new InvalidOperationException($"No transport named '{name}' is registered (channel {channel}).");
    }
}

/// <summary>Describes an exception by its kind and status code only: error messages can quote addresses and numbers.</summary>
public static class DeliveryErrors
{
    public static string Describe(Exception exception) => exception switch
    {
        SmtpCommandException smtp => $"smtp {(int)smtp.StatusCode} {smtp.ErrorCode}",
        SmtpProtocolException => "smtp protocol error",
        MailKit.Security.AuthenticationException => "smtp authentication failed",
        MailKit.Security.SslHandshakeException => "tls handshake failed",
        HttpRequestException { StatusCode: { } status } => $"http {(int)status}",
        HttpRequestException http => $"http {http.HttpRequestError}",
        SocketException socket => $"socket {socket.SocketErrorCode}",
        TimeoutException or TaskCanceledException or OperationCanceledException => "timeout",
        IOException => "i/o error",
        _ => exception.GetType().Name,
    };

    /// <summary>
    /// What an exception a transport threw says of its vendor: down (no answer, a dropped connection, HTTP 408, 429,
    /// 5xx, an SMTP server busy or broken: see <see cref="Smtp"/>), up (any other reply: it answered, about this message
    /// or our credentials), or nothing (an error of ours before the vendor was reached).
    /// </summary>
    public static ReceiverAnswer? Answer(Exception exception) => exception switch
    {
        SmtpCommandException smtp => Smtp(smtp),
        MailKit.Security.AuthenticationException { InnerException: SmtpCommandException reply } => Smtp(reply), // 454: try later
        MailKit.Security.AuthenticationException => ReceiverAnswer.Refused,
        SmtpProtocolException or MailKit.Security.SslHandshakeException => ReceiverAnswer.Unavailable,
        HttpRequestException { StatusCode: { } status } => Http((int)status),
        HttpRequestException or SocketException or IOException or TimeoutException or OperationCanceledException => ReceiverAnswer.Unavailable,
        _ => null,
    };

    /// <summary>
    /// What an SMTP reply says of the relay. 421 (closing the channel: busy, or going down) says it is down, whatever
    /// the command. A reply about the sender or a recipient (greylisting, a full mailbox, relaying denied) is about
    /// this message: up. A 451 or 452 to the message itself (a local error, no storage) is the relay's trouble: down.
    /// Any other temporary reply (to the greeting, EHLO, STARTTLS, AUTH) says down; any other permanent one, up.
    /// </summary>
    public static ReceiverAnswer Smtp(SmtpCommandException reply)
    {
        var code = (int)reply.StatusCode;
        if (code == 421) return ReceiverAnswer.Unavailable;
        return reply.ErrorCode switch
        {
            SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.SenderNotAccepted => ReceiverAnswer.Refused,
            SmtpErrorCode.MessageNotAccepted => code is 451 or 452 ? ReceiverAnswer.Unavailable : ReceiverAnswer.Refused,
            _ => code is >= 400 and < 500 ? ReceiverAnswer.Unavailable : ReceiverAnswer.Refused,
        };
    }

    /// <summary>What an HTTP answer from a vendor says of it: 2xx delivered; 408, 429 and 5xx down; any other up, refusing.</summary>
    public static ReceiverAnswer Http(int status) => status switch
    {
        >= 200 and < 300 => ReceiverAnswer.Delivered,
        408 or 429 or >= 500 => ReceiverAnswer.Unavailable,
        _ => ReceiverAnswer.Refused,
    };
}
