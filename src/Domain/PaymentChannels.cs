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
    /// The channel of a payment entry. Entries posted before channels were recorded carry none: the patient's page and
    /// autopay are known by who posted them, the rest by <see cref="Default"/>.
    /// </summary>
    public static PaymentChannel Of(LedgerEntry payment) => payment.Channel ?? payment.PostedBy switch
    {
        "patient:portal" or "system:autopay" => PaymentChannel.PatientPage,
        _ => Default(payment.Kind, payment.Method),
    };
}
