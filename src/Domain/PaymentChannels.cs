namespace Collections.Domain;

/// <summary>How a payment reached the hospital (the supervisors' cash per day by channel).</summary>
public static class PaymentChannels
{
    /// <summary>
    /// The channel of a payment posted without one: an insurer's payment came by remittance; a patient's check by mail;
    /// anything else is <see cref="PaymentChannel.Other"/> (an integration that knows better says so).
    /// </summary>
    public static PaymentChannel Default(EntryKind kind, PaymentMethod? method) => kind switch
    {
        EntryKind.InsurancePayment => PaymentChannel.Remittance,
        _ when method == PaymentMethod.Check => PaymentChannel.Mail,
        _ => PaymentChannel.Other,
    };

    /// <summary>
    /// The channel of a payment entry. Entries posted before channels were recorded carry none: a card payment through
    /// the processor is known by its key (an agent's on a call by its note, else the patient's page or autopay), the
    /// rest take <see cref="Default"/>: a check taken on a call before then counts as mail.
    /// </summary>
    public static PaymentChannel Of(LedgerEntry payment) => payment.Channel ?? payment switch
    {
        { Kind: EntryKind.PatientPayment, IdempotencyKey: var key } when key.StartsWith(CardPaymentKeyPrefix, StringComparison.Ordinal) =>
            payment.Note == CardOnCallNote ? PaymentChannel.Agent : PaymentChannel.PatientPage,
        _ => Default(payment.Kind, payment.Method),
    };

    /// <summary>The note on a card payment an agent took on a call (how such payments from before channels are told apart).</summary>
    public const string CardOnCallNote = "Paid by card on a call";

    /// <summary>The idempotency keys a card payment's shares post under (the payment grain's).</summary>
    public const string CardPaymentKeyPrefix = "processor-payment/";
}
