using Collections.Domain;

namespace Collections.Outreach;

/// <summary>
/// The local default for every channel: "delivers" into the sandbox table, where the API can read it (with the PDF of a
/// mail message). Insert-or-ignore on the message id: exactly one copy, however often it is delivered.
/// </summary>
public sealed class SandboxTransport(SandboxMailbox mailbox, TimeProvider clock) : IMessageTransport
{
    public string Name => TransportNames.Sandbox;

    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        await mailbox.AddAsync(new SandboxMessage
        {
            MessageId = message.MessageId,
            Channel = message.Channel,
            Action = message.Action,
            Facility = message.Facility,
            AccountNumber = message.AccountNumber,
            Recipient = message.Recipient,
            Subject = message.Subject,
            Body = message.Body,
            DeliveredAt = clock.GetUtcNow(),
            // Rendered again from the outbox when it is read: the same document, not a copy per message.
            Pdf = message.Channel == ContactChannel.Mail ? SandboxMailbox.RenderedOnDemand : null,
        }, cancellationToken);
        return DeliveryResult.Ok("sandbox:" + message.MessageId);
    }
}
