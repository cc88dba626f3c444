using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Collections.Outreach;

/// <summary>
/// Email over SMTP with MailKit. The Message-ID header is derived from the outbox message id (a hash, so the header
/// reveals nothing), so a copy sent again after a crash carries the same id and receiving systems can drop it.
/// Emailed statements and final notices carry their PDF.
/// </summary>
public sealed class SmtpTransport(IOptions<OutreachOptions> options, StatementPdfRenderer documents, EmailOptOutLinks optOutLinks) : IMessageTransport
{
    public string Name => TransportNames.Smtp;

    /// <remarks>
    /// The client's own timeout is per operation (connect, log in, send, quit); the sender's lease counts on the whole
    /// delivery, the document included, ending within <c>TimeoutSeconds</c>. What is done here before the relay is
    /// reached (the opt-out link, the statement's PDF) is ours: when it fails or takes the time, the result says the
    /// relay was not reached (<see cref="DeliveryResult.Vendor"/> null), so a slow database never pauses the channel.
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
        var composing = Stopwatch.StartNew();
        try
        {
            mime = await ComposeAsync(message, from, to, deadline.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return DeliveryResult.Retry($"the email could not be prepared: {DeliveryErrors.Describe(ex)}"); // the relay was not reached
        }
        var composed = composing.Elapsed;
        using (mime)
        {
            try
            {
                return await SendAsync(mime, settings, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && composed > TimeSpan.FromSeconds(settings.TimeoutSeconds) / 2)
            {
                // The relay had less than half the time: the timeout says nothing of it.
                return DeliveryResult.Retry("timeout: the email took more than half the time to prepare");
            }
        }
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

    private static async Task<DeliveryResult> SendAsync(MimeMessage mime, OutreachOptions.SmtpSettings settings, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = settings.TimeoutSeconds * 1000 };
        try
        {
            var security = !settings.UseTls ? SecureSocketOptions.None
                : settings.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
            await client.ConnectAsync(settings.Host!, settings.Port, security, cancellationToken);
            if (!string.IsNullOrEmpty(settings.User))
                await client.AuthenticateAsync(settings.User, settings.Password ?? "", cancellationToken);
            await client.SendAsync(mime, cancellationToken);
            try
            {
                await client.DisconnectAsync(quit: true, cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The relay took the message: a QUIT that fails or times out (or a shutdown then) must not send it again.
            }
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
