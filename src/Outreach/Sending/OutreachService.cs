using System.Text.RegularExpressions;
using Collections.Domain;
using Microsoft.Extensions.Logging;

namespace Collections.Outreach;

/// <summary>Renders a message from the current template and writes it to the outbox; the sender delivers it.</summary>
public sealed partial class OutreachService(
    IOutboxStore outbox, ITemplateStore templates, FacilityDirectory facilities, OutboxSignal signal, TimeProvider clock, ILogger<OutreachService> logger,
    EmailOptOutLinks optOutLinks, PayLinks? payLinks = null)
    : IOutreachService
{
    public async Task<OutboxMessage> EnqueueAsync(MessageRequest request, CancellationToken cancellationToken = default)
    {
        // A repeat of a message already written returns it as it was written (the insert finds its id and reads it back),
        // so the usual case, a new message, costs no read first.
        if (await PrepareAsync(request, cancellationToken) is not { } prepared)
            return await outbox.GetAsync(request.MessageId, cancellationToken) ?? throw new InvalidOperationException("The outbox message vanished.");
        var (stored, created) = await outbox.AddAsync(prepared.Message, prepared.PayLink, cancellationToken);
        prepared.Created = created;
        Stored(prepared);
        return stored;
    }

    public async Task<PreparedMessage?> PrepareAsync(MessageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Check(request);
        try
        {
            var (message, payLink) = await RenderAsync(request, cancellationToken);
            return new PreparedMessage(message, payLink);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A repeat that can no longer be rendered (its template withdrawn or grown too long, its facility gone since)
            // is already stored: nothing to add.
            if (await outbox.GetAsync(request.MessageId, cancellationToken) is not null) return null;
            throw;
        }
    }

    public async Task StoreAsync(PreparedMessage prepared, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        prepared.Created = (await outbox.AddAsync(prepared.Message, prepared.PayLink, cancellationToken)).Created;
    }

    public void Stored(PreparedMessage prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        if (!prepared.Created) return;
        var message = prepared.Message;
        logger.LogInformation("An outreach message was queued ({Channel} {Action}, template {TemplateId} v{TemplateVersion})",
            message.Channel, message.Action, message.TemplateId, message.TemplateVersion);
        signal.Wake();
    }

    /// <summary>The message as the current template renders it, with the payment link it carries (stored with it).</summary>
    private async Task<(OutboxMessage, IssuedPayLink?)> RenderAsync(MessageRequest request, CancellationToken cancellationToken)
    {
        var template = await templates.GetCurrentAsync(request.Channel, request.Action, cancellationToken)
            ?? throw new ArgumentException($"No template exists for {request.Channel} / {request.Action}.", nameof(request));
        var facility = facilities.Get(request.Facility);
        var values = TemplateEngine.Values(facility, request.RecipientName, request.AccountNumber, request.AmountDue, request.DueDate);
        // Every message carries the person's own link to the self-service page (a code, never a name or account number).
        var payLink = payLinks is { Enabled: true } ? await payLinks.IssueAsync(request.GuarantorId, cancellationToken) : null;
        if (payLink is not null) values["payUrl"] = payLink.Url;
        var body = TemplateEngine.Render(template.Body, values);
        // Every email carries its way out: a link that stops emails to this person (no sign-in; see EmailOptOutLinks).
        if (request.Channel == ContactChannel.Email)
            body = body.TrimEnd() + $"\n\nTo stop emails about your bill: {await optOutLinks.UrlAsync(request.GuarantorId, cancellationToken)}\n";
        if (request.Channel == ContactChannel.Sms && body.Length > TemplateEngine.MaxSmsLength)
            throw new ArgumentException(
                $"The text for {request.Action} comes out at {body.Length} characters, over the {TemplateEngine.MaxSmsLength} allowed: shorten the template or the facility's settings.",
                nameof(request));

        var now = clock.GetUtcNow();
        return (new OutboxMessage
        {
            MessageId = request.MessageId,
            Channel = request.Channel,
            Action = request.Action,
            Facility = request.Facility,
            AccountNumber = request.AccountNumber,
            GuarantorId = request.GuarantorId,
            RecipientName = request.RecipientName.Trim(),
            Recipient = NormalizeRecipient(request.Channel, request.Recipient),
            AmountDue = request.AmountDue,
            DueDate = request.DueDate,
            StatementLines = request.StatementLines,
            PolicyReference = request.PolicyReference,
            Subject = template.Subject is null ? null : TemplateEngine.Render(template.Subject, values),
            Body = body,
            TemplateId = template.Id,
            TemplateVersion = template.Version,
            Status = OutboxStatus.Pending,
            Attempts = 0,
            CreatedAt = now,
            UpdatedAt = now,
            NextAttemptAt = now,
        }, payLink);
    }

    private static void Check(MessageRequest r)
    {
        if (r.Channel is not (ContactChannel.Mail or ContactChannel.Email or ContactChannel.Sms))
            throw new ArgumentException($"The outreach service sends mail, email and texts; {r.Channel} contacts are made by the grains.", nameof(r));
        if (r.Action is OutreachAction.CallTask or OutreachAction.WriteOffReview or OutreachAction.CreditReporting)
            throw new ArgumentException($"{r.Action} is not a message.", nameof(r));
        if (!DefaultTemplates.IsMessage(r.Channel, r.Action))
            throw new ArgumentException($"There is no {r.Channel} message for {r.Action}.", nameof(r));
        Require(r.MessageId, nameof(r.MessageId), 200);
        Require(r.Facility, nameof(r.Facility), 50);
        Require(r.AccountNumber, nameof(r.AccountNumber), 50);
        Require(r.GuarantorId, nameof(r.GuarantorId), 100);
        Require(r.RecipientName, nameof(r.RecipientName), 200);
        Require(r.Recipient, nameof(r.Recipient), 500);
        if (r.AmountDue < 0 || decimal.Round(r.AmountDue, 2) != r.AmountDue)
            throw new ArgumentException("AmountDue must be zero or positive, with at most two decimal places.", nameof(r));
        switch (r.Channel)
        {
            case ContactChannel.Email when !MimeKit.MailboxAddress.TryParse(r.Recipient.Trim(), out var address) || !address.Address.Contains('@', StringComparison.Ordinal):
                throw new ArgumentException("Recipient must be an email address for an email.", nameof(r));
            case ContactChannel.Sms when NormalizeRecipient(ContactChannel.Sms, r.Recipient).Length != 10:
                throw new ArgumentException("Recipient must be a 10-digit phone number for a text.", nameof(r));
        }
    }

    private static void Require(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{field} is required.", field);
        if (value.Length > maxLength) throw new ArgumentException($"{field} may be at most {maxLength} characters.", field);
    }

    /// <summary>Phone numbers as 10 digits (a leading US country code 1 dropped); addresses and emails trimmed.</summary>
    private static string NormalizeRecipient(ContactChannel channel, string recipient)
    {
        if (channel != ContactChannel.Sms) return recipient.Trim().ReplaceLineEndings("\n");
        var digits = NonDigits().Replace(recipient, "");
        return digits.Length == 11 && digits[0] == '1' ? digits[1..] : digits;
    }

    [GeneratedRegex("[^0-9]")]
    private static partial Regex NonDigits();
}

/// <summary>Wakes the sender at once after an enqueue, instead of at its next poll.</summary>
public sealed class OutboxSignal : DueSignal;
