using Collections.Domain;
using Collections.Outreach;

namespace Collections.Grains;

/// <summary>
/// The outbox sender's last look before a message goes: asks the account whether it is still collected, and the person
/// whether the channel is still open and it is within their hours (the sender is no grain, so no cycle).
/// </summary>
public sealed class AccountSendCheck(IGrainFactory grains) : IOutboxSendCheck
{
    public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        grains.GetGrain<IPatientAccountGrain>(new AccountKey(message.Facility, message.AccountNumber).ToString()).CollectionStop(message.Action);

    public Task<Domain.Compliance.GateDecision> PersonCheckAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        grains.GetGrain<IGuarantorGrain>(message.GuarantorId).CheckSend(message.Action, message.Channel, message.CreatedAt);
}
