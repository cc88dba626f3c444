using Collections.Domain;
using Collections.Outreach;

namespace Collections.Grains;

/// <summary>The outbox sender's last look before a collection message goes: asks the account (the sender is no grain, so no cycle).</summary>
public sealed class AccountSendCheck(IGrainFactory grains) : IOutboxSendCheck
{
    public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        grains.GetGrain<IPatientAccountGrain>(new AccountKey(message.Facility, message.AccountNumber).ToString()).CollectionStop(message.Action);
}
