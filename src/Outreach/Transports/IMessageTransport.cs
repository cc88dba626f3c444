using System.Net.Sockets;
using Collections.Domain;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>How a try at delivering ended. <see cref="Error"/> is a status code or error kind, never PHI.</summary>
public sealed record DeliveryResult(bool Delivered, string? ProviderMessageId, string? Error, bool Permanent)
{
    public static DeliveryResult Ok(string? providerMessageId) => new(true, providerMessageId, null, false);

    /// <summary>Worth trying again later (a timeout, a 5xx, a refused connection).</summary>
    public static DeliveryResult Retry(string error) => new(false, null, error, false);

    /// <summary>Will never work (a recipient the server refuses, a 4xx): no more attempts.</summary>
    public static DeliveryResult Fail(string error) => new(false, null, error, true);
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
}

/// <summary>Picks the transport configured for a channel (<c>Collections:Outreach:Transports</c>).</summary>
public sealed class TransportRouter(IEnumerable<IMessageTransport> transports, IOptions<OutreachOptions> options)
{
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
}
