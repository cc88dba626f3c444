using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// Receipts: when a card payment's share reaches an account's ledger, the patient gets one receipt for the whole
/// payment (by email where they have one and did not opt out, else by text where they consented), through the
/// guarantor's gate and the outbox. Keyed by the payment id (<c>receipt/{paymentId}</c>): a payment that paid three
/// accounts, a replay, or a rebuild sends one receipt. A check or cash an agent took on a call gets one too, keyed by
/// the ledger entry (<c>receipt/{account}/{entryId}</c>).
/// </summary>
public sealed class ReceiptProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "receipts";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
        {
            foreach (var paymentId in facts.CardPayments)
            {
                if (await grains.GetGrain<IPatientPaymentGrain>(paymentId).Get() is not { } payment) continue;
                await SendAsync(payment.GuarantorId, $"receipt/{paymentId}", facts.Account, payment.Amount);
            }
            foreach (var receipt in facts.Receipts)
                await SendAsync(receipt.GuarantorId, $"receipt/{facts.Account}/{receipt.EntryId}", facts.Account, receipt.Amount);
        }
    }

    /// <summary>Asks the guarantor's gate for the receipt on the channel open to it (email unless opted out, else a consented text); none open, none sent.</summary>
    private async Task SendAsync(string guarantorId, string requestId, AccountKey account, decimal amount)
    {
        var guarantor = grains.GetGrain<IGuarantorGrain>(guarantorId);
        if (await guarantor.Get() is not { } person) return;
        var consents = GuarantorRules.CurrentConsents(person.Consents);
        bool Open(ContactChannel c) => !(consents.TryGetValue(c, out var consent) && consent.Status == ConsentStatus.OptedOut);
        ContactChannel? channel = person.Profile.Email is not null && Open(ContactChannel.Email) ? ContactChannel.Email
            : consents.TryGetValue(ContactChannel.Sms, out var sms) && sms.Status == ConsentStatus.Granted ? ContactChannel.Sms
            : null;
        if (channel is null) return; // the page or the agent gave the receipt; no channel is open for another
        await guarantor.RequestContact(new ContactPermitRequest
        {
            RequestId = requestId, Account = account, Action = OutreachAction.PaymentReceipt, Channel = channel,
            Initiator = ContactInitiator.PatientRequested, PatientResponsibility = amount,
        });
    }

    // A receipt is a reaction, not a view: a replay sends nothing new (the request id is the receipt's key).
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
