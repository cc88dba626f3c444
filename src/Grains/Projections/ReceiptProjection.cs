using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// Receipts: when a card payment's share reaches an account's ledger, the patient gets one receipt for the whole
/// payment (by email where they have one and did not opt out, else by text where they consented), through the
/// guarantor's gate and the outbox. Keyed by the payment id (<c>receipt/{paymentId}</c>): a payment that paid three
/// accounts, a replay, or a rebuild sends one receipt.
/// </summary>
public sealed class ReceiptProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "receipts";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
            foreach (var paymentId in facts.CardPayments)
            {
                if (await grains.GetGrain<IPatientPaymentGrain>(paymentId).Get() is not { } payment) continue;
                var guarantor = grains.GetGrain<IGuarantorGrain>(payment.GuarantorId);
                if (await guarantor.Get() is not { } person) continue;
                var consents = GuarantorRules.CurrentConsents(person.Consents);
                bool Open(ContactChannel c) => !(consents.TryGetValue(c, out var consent) && consent.Status == ConsentStatus.OptedOut);
                ContactChannel? channel = person.Profile.Email is not null && Open(ContactChannel.Email) ? ContactChannel.Email
                    : consents.TryGetValue(ContactChannel.Sms, out var sms) && sms.Status == ConsentStatus.Granted ? ContactChannel.Sms
                    : null;
                if (channel is null) continue; // the page showed the receipt; no channel is open for another
                await guarantor.RequestContact(new ContactPermitRequest
                {
                    RequestId = $"receipt/{paymentId}", Account = facts.Account, Action = OutreachAction.PaymentReceipt, Channel = channel,
                    Initiator = ContactInitiator.PatientRequested, PatientResponsibility = payment.Amount,
                });
            }
    }

    // A receipt is a reaction, not a view: a replay sends nothing new (the request id is the receipt's key).
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
