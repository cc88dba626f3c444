using System.Reflection;

namespace Collections.Scoring;

/// <summary>
/// An account and its guarantor as numbers at one point in time (see <see cref="FeatureExtractor"/>; docs/scoring.md
/// describes each). Money is in dollars, durations in days; 0/1 for yes/no; −1 for "never" or "unknown". Floats because
/// that is what ML.NET's learners read; the domain keeps money in decimal.
/// </summary>
public sealed class PaymentFeatures
{
    // Balance and its parts
    /// <summary>What the patient owes (patient responsibility).</summary>
    public float PatientBalance { get; set; }
    /// <summary>What insurance has still to pay or decide.</summary>
    public float InsurancePending { get; set; }
    public float TotalCharges { get; set; }
    public float InsurancePaid { get; set; }
    /// <summary>Net amount insurance passed on to the patient (deductible, coinsurance, denials).</summary>
    public float TransferredToPatient { get; set; }
    /// <summary>Patient balance over total charges (0-1).</summary>
    public float PatientShareOfCharges { get; set; }
    /// <summary>Patient payments over (patient payments + patient balance) (0-1).</summary>
    public float PaidShareOfPatientResponsibility { get; set; }
    public float ChargeCount { get; set; }

    // Age
    /// <summary>Age for aging (from the first statement, else the earliest service date, else opening).</summary>
    public float AccountAgeDays { get; set; }
    /// <summary>0: 0-30, 1: 31-60, 2: 61-90, 3: 91-120, 4: 121-180, 5: 180+.</summary>
    public float AgingBucket { get; set; }
    public float DaysSinceOpened { get; set; }
    /// <summary>Days since the patient first owed something on the account (−1: never).</summary>
    public float DaysSincePatientOwed { get; set; }

    // Insurance and payer class
    public float IsSelfPay { get; set; }
    public float PayerMedicare { get; set; }
    public float PayerMedicaid { get; set; }
    public float PayerCommercial { get; set; }
    public float PayerOther { get; set; }

    // Patient payments
    public float PatientPaymentCount { get; set; }
    public float PatientPaymentTotal { get; set; }
    public float LargestPatientPayment { get; set; }
    /// <summary>−1: never paid.</summary>
    public float DaysSinceLastPatientPayment { get; set; }
    /// <summary>Patient payments later reversed (returned checks, chargebacks).</summary>
    public float ReturnedPayments { get; set; }

    // Contacts
    public float StatementsSent { get; set; }
    public float EmailReminders { get; set; }
    public float TextReminders { get; set; }
    public float LettersSent { get; set; }
    public float CallAttempts { get; set; }
    public float RightPartyContacts { get; set; }
    public float WrongNumbers { get; set; }
    public float InboundContacts { get; set; }
    /// <summary>−1: never contacted.</summary>
    public float DaysSinceLastContact { get; set; }
    /// <summary>−1: never reached.</summary>
    public float DaysSinceLastRightPartyContact { get; set; }
    public float FinalNoticeSent { get; set; }
    public float PlacedWithAgency { get; set; }

    // Channel responsiveness: messages of a channel followed by a patient payment within 14 days
    public float PaymentsAfterMail { get; set; }
    public float PaymentsAfterEmail { get; set; }
    public float PaymentsAfterText { get; set; }
    public float PaymentsAfterCall { get; set; }

    // Promises to pay (outcome recomputed from the payments known at the time)
    public float PromisesMade { get; set; }
    public float PromisesKept { get; set; }
    public float PromisesBroken { get; set; }
    public float PromisePending { get; set; }

    // Payment plans (status recomputed from the payments known at the time)
    public float PlansMade { get; set; }
    public float PlanActive { get; set; }
    public float PlansCompleted { get; set; }
    public float PlansDefaulted { get; set; }

    // Holds and financial assistance
    public float HoldsPlaced { get; set; }
    public float DisputeActive { get; set; }
    public float FinancialAssistancePending { get; set; }
    /// <summary>An active bankruptcy, deceased, cease-communication or attorney hold.</summary>
    public float CollectionStopped { get; set; }
    /// <summary>Any other active hold (insurance pending, provider dispute, manual).</summary>
    public float OtherHoldActive { get; set; }
    /// <summary>Disputes placed and since released.</summary>
    public float PastDisputes { get; set; }
    public float FinancialAssistanceApplications { get; set; }
    /// <summary>Charity (financial assistance) adjustments granted, in dollars.</summary>
    public float CharityAdjusted { get; set; }
    /// <summary>Small-balance, administrative and bad-debt adjustments on the patient side, in dollars.</summary>
    public float OtherPatientAdjustments { get; set; }

    // Guarantor
    /// <summary>Years; −1: unknown.</summary>
    public float GuarantorAge { get; set; }
    public float HasEmail { get; set; }
    public float HasMobilePhone { get; set; }
    public float HasTextConsent { get; set; }

    private static readonly PropertyInfo[] Properties = [.. typeof(PaymentFeatures)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(float) && p.GetIndexParameters().Length == 0)
        .OrderBy(p => p.MetadataToken)];

    private static readonly Func<PaymentFeatures, float>[] Getters = [.. Properties.Select(p => p.GetGetMethod()!.CreateDelegate<Func<PaymentFeatures, float>>())];
    private static readonly Action<PaymentFeatures, float>[] Setters = [.. Properties.Select(p => p.GetSetMethod()!.CreateDelegate<Action<PaymentFeatures, float>>())];
    private static readonly Dictionary<string, int> IndexByName = Properties.Select((p, i) => (p.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

    /// <summary>The feature names, in vector order (the declaration order above).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Properties.Select(p => p.Name)];

    public static int Count => Properties.Length;

    /// <summary>The features as a vector in <see cref="Names"/> order.</summary>
    public float[] ToArray()
    {
        var values = new float[Getters.Length];
        CopyTo(values);
        return values;
    }

    public void CopyTo(Span<float> destination)
    {
        for (var i = 0; i < Getters.Length; i++) destination[i] = Getters[i](this);
    }

    public static PaymentFeatures FromArray(ReadOnlySpan<float> values)
    {
        if (values.Length != Setters.Length) throw new ArgumentException($"Expected {Setters.Length} feature values, got {values.Length}.", nameof(values));
        var features = new PaymentFeatures();
        for (var i = 0; i < Setters.Length; i++) Setters[i](features, values[i]);
        return features;
    }

    /// <summary>The value of the named feature.</summary>
    public float this[string name] => IndexByName.TryGetValue(name, out var i) ? Getters[i](this) : throw new KeyNotFoundException($"No feature named {name}.");

    public static int IndexOf(string name) => IndexByName.TryGetValue(name, out var i) ? i : -1;

    /// <summary>Two feature sets are equal when every value is bit-for-bit equal (NaN equals NaN).</summary>
    public bool SameValues(PaymentFeatures other)
    {
        for (var i = 0; i < Getters.Length; i++)
            if (BitConverter.SingleToInt32Bits(Getters[i](this)) != BitConverter.SingleToInt32Bits(Getters[i](other))) return false;
        return true;
    }

    public override string ToString() => string.Join(", ", Names.Select((n, i) => $"{n}={Getters[i](this).ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
}
