using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Collections.Outreach;

/// <summary>
/// Email over SMTP with MailKit. The Message-ID header is derived from the outbox message id (a hash, so the header
/// reveals nothing), so a copy sent again after a crash carries the same id and receiving systems can drop it.
/// Emailed statements and final notices carry their PDF. Connections to the relay are kept between messages, up to
/// <c>Smtp:MaxConnections</c> at once (<see cref="SmtpConnections"/>): a message does not pay for a connection, TLS and
/// a login of its own.
/// </summary>
public sealed class SmtpTransport(IOptions<OutreachOptions> options, StatementPdfRenderer documents, EmailOptOutLinks optOutLinks) : IMessageTransport, IAsyncDisposable, IDisposable
{
    public string Name => TransportNames.Smtp;

    public int? MaxConcurrent => options.Value.Smtp.MaxConnections;

    /// <remarks>
    /// The client's own timeout is per operation (connect, log in, send); the sender's lease counts on the whole
    /// delivery, the document and the wait for a connection included, ending within <c>TimeoutSeconds</c>. What is done
    /// here before the relay is reached (the opt-out link, the statement's PDF, the wait for a free connection) is ours:
    /// when it fails or takes the time, the result says the relay was not reached (<see cref="DeliveryResult.Vendor"/>
    /// null), so a slow database never pauses the channel.
    /// </remarks>
    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.Value.Smtp.TimeoutSeconds));
        var settings = options.Value.Smtp;
        // Host and From are checked at start (OutreachOptionsValidator) whenever email goes over SMTP.
        var from = MailboxAddress.Parse(settings.From!);
        if (!MailboxAddress.TryParse(message.Recipient, out var to))
            return DeliveryResult.Fail("invalid recipient address");
        MimeMessage mime;
        var ours = Stopwatch.StartNew(); // composing, and waiting for a connection: our own time, not the relay's
        try
        {
            mime = await ComposeAsync(message, from, to, deadline.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return DeliveryResult.Retry($"the email could not be prepared: {DeliveryErrors.Describe(ex)}"); // the relay was not reached
        }
        using (mime)
        {
            var pool = Connections;
            try
            {
                await pool.WaitForPlaceAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return DeliveryResult.Retry($"timeout: every one of the {settings.MaxConnections} connections to the relay stayed busy");
            }
            ours.Stop();
            SmtpConnection? connection = null;
            var reusable = false;
            try
            {
                connection = await pool.TakeAsync(deadline.Token);
                var result = await SendAsync(mime, connection, deadline.Token);
                reusable = result.Delivered;
                return result;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && ours.Elapsed > TimeSpan.FromSeconds(settings.TimeoutSeconds) / 2)
            {
                // The relay had less than half the time: the timeout says nothing of it.
                return DeliveryResult.Retry("timeout: the relay had less than half the time (preparing the email and waiting for a connection took the rest)");
            }
            finally
            {
                await pool.ReturnAsync(connection, reusable);
            }
        }
    }

    private SmtpConnections? _connections;
    private readonly Lock _connectionsLock = new();

    private SmtpConnections Connections
    {
        get
        {
            lock (_connectionsLock) return _connections ??= new SmtpConnections(() => options.Value.Smtp);
        }
    }

    /// <summary>Says QUIT on the kept connections (the host disposes the transport at shutdown); a send still under way closes its own.</summary>
    public async ValueTask DisposeAsync()
    {
        SmtpConnections? connections;
        lock (_connectionsLock) connections = _connections;
        if (connections is not null) await connections.DisposeAsync();
    }

    public void Dispose()
    {
        SmtpConnections? connections;
        lock (_connectionsLock) connections = _connections;
        connections?.Dispose();
    }

    private async Task<MimeMessage> ComposeAsync(OutboxMessage message, MailboxAddress from, MailboxAddress to, CancellationToken cancellationToken)
    {
        var mime = new MimeMessage();
        try
        {
            mime.From.Add(from);
            mime.To.Add(new MailboxAddress(message.RecipientName, to.Address));
            mime.Subject = message.Subject ?? "";
            mime.MessageId = MessageIdHeader(message.MessageId, from.Domain);
            mime.Date = message.CreatedAt;
            // One-click unsubscribe (RFC 8058): mail clients show it, and a POST to it stops emails to this person.
            var optOut = await optOutLinks.UrlAsync(message.GuarantorId, cancellationToken);
            mime.Headers.Add("List-Unsubscribe", $"<{optOut}>");
            mime.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            var body = new BodyBuilder { TextBody = message.Body };
            if (StatementPdfRenderer.NeedsDocument(message))
                body.Attachments.Add("statement.pdf", await documents.RenderAsync(message, cancellationToken), new ContentType("application", "pdf"));
            mime.Body = body.ToMessageBody();
            return mime;
        }
        catch
        {
            mime.Dispose();
            throw;
        }
    }

    private static async Task<DeliveryResult> SendAsync(MimeMessage mime, SmtpConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Client.SendAsync(mime, cancellationToken);
            connection.Sent++;
            return DeliveryResult.Ok(mime.MessageId);
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500 && ex.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted)
        {
            return DeliveryResult.Fail(DeliveryErrors.Describe(ex), ReceiverAnswer.Refused); // the relay is up: it refused this one
        }
    }

    /// <summary>A stable Message-ID for an outbox message: the same on every attempt, without the account number in it.</summary>
    public static string MessageIdHeader(string messageId, string? domain)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)))[..32];
        return $"{hash}@{(string.IsNullOrEmpty(domain) ? "collections.invalid" : domain)}";
    }
}
