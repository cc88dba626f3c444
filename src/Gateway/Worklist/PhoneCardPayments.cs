using System.Security.Cryptography;
using System.Text;
using Collections.Domain;
using Collections.Domain.Payments;
using Collections.Grains;
using Collections.Outreach;
using Microsoft.Extensions.Options;

namespace Collections.Gateway.Worklist;

/// <summary>
/// A card payment taken by an agent on a call: the account's share is checked against what the patient owes, then the
/// processor's hosted checkout is opened for the agent to key the card into (never our page). The payment posts to the
/// ledger when the processor confirms it, and the receipt goes from the outbox, as for a payment on the patients' page.
/// The payment id follows from the agent, the account and the Idempotency-Key, so a retry opens the same checkout.
/// </summary>
public sealed class PhoneCardPayments(IGrainFactory grains, FacilityDirectory facilities, IOptions<OutreachOptions> outreach, TimeProvider clock)
{
    /// <summary>Where the processor sends the agent's tab when the card is taken or abandoned.</summary>
    public const string ReturnPath = "/console/paid";

    public static string PaymentIdFor(string agent, AccountKey account, string idempotencyKey) =>
        "PAY" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{agent}\n{account}\n{idempotencyKey}")))[..20];

    public async Task<Outcome<CardPaymentView>> StartAsync(string agent, AccountKey account, decimal amount, string idempotencyKey)
    {
        var payment = grains.GetGrain<IPatientPaymentGrain>(PaymentIdFor(agent, account, idempotencyKey));
        // A retry answers the payment it started (whatever the account owes now); another amount under the key is refused.
        // Two first tries at once both reach Start, which refuses the second amount itself.
        if (await payment.Get() is { } earlier)
            return earlier.Amount == amount ? Outcome<CardPaymentView>.Success(earlier) : Outcome<CardPaymentView>.Failure(Domain.Payments.PaymentAllocation.KeyReused);
        if (await grains.GetGrain<IPatientAccountGrain>(account.ToString()).Get() is not { } view)
            return Outcome<CardPaymentView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var (shares, errors) = PaymentAllocation.Allocate(amount, [new AccountOwed(account, view.Balances.PatientResponsibility, today)]);
        if (errors.Count > 0) return Outcome<CardPaymentView>.Failure(errors);
        var back = outreach.Value.PublicBaseUrl.TrimEnd('/') + ReturnPath;
        return await payment.Start(new CardPaymentStart
        {
            GuarantorId = view.GuarantorId, Shares = shares, ReturnUrl = back, CancelUrl = back, Source = CardPaymentSource.Agent,
            Description = $"{facilities.Get(account.Facility).Name} bill payment (by phone)",
        });
    }
}
