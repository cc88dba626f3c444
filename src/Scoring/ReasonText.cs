using System.Globalization;

namespace Collections.Scoring;

/// <summary>A feature's value in words an agent understands ("Has paid 3 times before", "Aged 14 months (from the first statement, or the service date before one)").</summary>
public static class ReasonText
{
    private static readonly CultureInfo Us = CultureInfo.GetCultureInfo("en-US");

    public static string Describe(string feature, float value)
    {
        ArgumentNullException.ThrowIfNull(feature);
        if (float.IsNaN(value)) return $"{feature} is not known";
        var n = (int)Math.Round(value);
        var yes = value > 0.5f;
        return feature switch
        {
            nameof(PaymentFeatures.PatientBalance) => $"Owes {Dollars(value)}",
            nameof(PaymentFeatures.InsurancePending) => value > 0 ? $"Insurance still owes {Dollars(value)}" : "Nothing is pending with insurance",
            nameof(PaymentFeatures.TotalCharges) => $"Charges total {Dollars(value)}",
            nameof(PaymentFeatures.InsurancePaid) => value > 0 ? $"Insurance paid {Dollars(value)}" : "Insurance has paid nothing",
            nameof(PaymentFeatures.TransferredToPatient) => value > 0 ? $"Insurance passed {Dollars(value)} to the patient" : "Insurance passed nothing to the patient",
            nameof(PaymentFeatures.PatientShareOfCharges) => $"Owes {Percent(value)} of the charges",
            nameof(PaymentFeatures.PaidShareOfPatientResponsibility) => value > 0 ? $"Has paid {Percent(value)} of their share" : "Has paid none of their share",
            nameof(PaymentFeatures.ChargeCount) => Count(n, "charge", "charges") + " on the account",
            nameof(PaymentFeatures.AccountAgeDays) => value < 1 ? "Aging starts today (counted from the first statement, or the service date before one)" : $"Aged {Age(value)} (from the first statement, or the service date before one)",
            nameof(PaymentFeatures.AgingBucket) => $"In the {Domain.Aging.Label((Domain.AgingBucket)Math.Clamp(n, 0, 5))} days aging bucket",
            nameof(PaymentFeatures.DaysSinceOpened) => $"Account opened {Age(value)} ago",
            nameof(PaymentFeatures.DaysSincePatientOwed) => value < 0 ? "Has never owed on this account" : value < 1 ? "The patient's share was posted today" : $"The patient has owed for {Age(value)}",
            nameof(PaymentFeatures.IsSelfPay) => yes ? "Self-pay (no insurance)" : "Has insurance",
            nameof(PaymentFeatures.PayerMedicare) => yes ? "Medicare patient" : "Not a Medicare patient",
            nameof(PaymentFeatures.PayerMedicaid) => yes ? "Medicaid patient" : "Not a Medicaid patient",
            nameof(PaymentFeatures.PayerCommercial) => yes ? "Commercial insurance" : "No commercial insurance",
            nameof(PaymentFeatures.PayerOther) => yes ? "Other payer (TRICARE, workers' comp, ...)" : "Not an other-payer account",
            nameof(PaymentFeatures.PatientPaymentCount) => n switch { 0 => "Has never paid on this account", 1 => "Has paid once before", _ => $"Has paid {n} times before" },
            nameof(PaymentFeatures.PatientPaymentTotal) => value > 0 ? $"Has paid {Dollars(value)} so far" : "Has paid nothing so far",
            nameof(PaymentFeatures.LargestPatientPayment) => value > 0 ? $"Largest payment was {Dollars(value)}" : "Has made no payment",
            nameof(PaymentFeatures.DaysSinceLastPatientPayment) => value < 0 ? "Has never paid" : $"Last paid {Days(n)} ago",
            nameof(PaymentFeatures.ReturnedPayments) => n == 0 ? "No returned payments" : Count(n, "payment was", "payments were") + " returned",
            nameof(PaymentFeatures.StatementsSent) => n == 0 ? "No statement sent yet" : Count(n, "statement", "statements") + " sent",
            nameof(PaymentFeatures.EmailReminders) => n == 0 ? "No email reminders sent" : Count(n, "email reminder", "email reminders") + " sent",
            nameof(PaymentFeatures.TextReminders) => n == 0 ? "No text reminders sent" : Count(n, "text reminder", "text reminders") + " sent",
            nameof(PaymentFeatures.LettersSent) => n == 0 ? "No letters sent" : Count(n, "letter", "letters") + " sent",
            nameof(PaymentFeatures.CallAttempts) => n == 0 ? "Never called" : $"Called {Times(n)}",
            nameof(PaymentFeatures.RightPartyContacts) => n == 0 ? "Never reached" : $"Reached {Times(n)}",
            nameof(PaymentFeatures.WrongNumbers) => n == 0 ? "No wrong numbers" : Count(n, "wrong number", "wrong numbers"),
            nameof(PaymentFeatures.InboundContacts) => n == 0 ? "Has never contacted us" : $"Contacted us {Times(n)}",
            nameof(PaymentFeatures.DaysSinceLastContact) => value < 0 ? "Never contacted" : $"Last contacted {Days(n)} ago",
            nameof(PaymentFeatures.DaysSinceLastRightPartyContact) => value < 0 ? "Never reached" : $"Last reached {Days(n)} ago",
            nameof(PaymentFeatures.FinalNoticeSent) => yes ? "Final notice sent" : "No final notice yet",
            nameof(PaymentFeatures.PlacedWithAgency) => yes ? "Placed with a collection agency" : "Not placed with an agency",
            nameof(PaymentFeatures.PaymentsAfterMail) => n == 0 ? "Has not paid after mail" : $"Paid soon after mail {Times(n)}",
            nameof(PaymentFeatures.PaymentsAfterEmail) => n == 0 ? "Has not paid after an email" : $"Paid soon after an email {Times(n)}",
            nameof(PaymentFeatures.PaymentsAfterText) => n == 0 ? "Has not paid after a text" : $"Paid soon after a text {Times(n)}",
            nameof(PaymentFeatures.PaymentsAfterCall) => n == 0 ? "Has not paid after a call" : $"Paid soon after a call {Times(n)}",
            nameof(PaymentFeatures.PromisesMade) => n == 0 ? "Never promised to pay" : $"Promised to pay {Times(n)}",
            nameof(PaymentFeatures.PromisesKept) => n == 0 ? "Has kept no promise to pay" : $"Kept {Count(n, "promise", "promises")} to pay",
            nameof(PaymentFeatures.PromisesBroken) => n == 0 ? "Has broken no promise to pay" : $"Broke {Count(n, "promise", "promises")} to pay",
            nameof(PaymentFeatures.PromisePending) => yes ? "A promise to pay is pending" : "No promise to pay pending",
            nameof(PaymentFeatures.PlansMade) => n == 0 ? "Never on a payment plan" : $"Set up {Count(n, "payment plan", "payment plans")}",
            nameof(PaymentFeatures.PlanActive) => yes ? "On a payment plan in good standing" : "Not on a payment plan",
            nameof(PaymentFeatures.PlansCompleted) => n == 0 ? "Has completed no payment plan" : $"Completed {Count(n, "payment plan", "payment plans")}",
            nameof(PaymentFeatures.PlansDefaulted) => n == 0 ? "Never defaulted on a payment plan" : $"Defaulted on {Count(n, "payment plan", "payment plans")}",
            nameof(PaymentFeatures.HoldsPlaced) => n == 0 ? "Never on hold" : $"Put on hold {Times(n)}",
            nameof(PaymentFeatures.DisputeActive) => yes ? "Disputes the balance" : "No open dispute",
            nameof(PaymentFeatures.FinancialAssistancePending) => yes ? "Financial assistance application pending" : "No financial assistance application pending",
            nameof(PaymentFeatures.CollectionStopped) => yes ? "Collection stopped (bankruptcy, death, attorney or cease request)" : "Collection not stopped",
            nameof(PaymentFeatures.OtherHoldActive) => yes ? "On hold" : "Not on hold",
            nameof(PaymentFeatures.PastDisputes) => n == 0 ? "Never disputed" : $"Disputed {Times(n)} before",
            nameof(PaymentFeatures.FinancialAssistanceApplications) => n == 0 ? "Never applied for financial assistance" : $"Applied for financial assistance {Times(n)}",
            nameof(PaymentFeatures.CharityAdjusted) => value > 0 ? $"Granted {Dollars(value)} financial assistance" : "No financial assistance granted",
            nameof(PaymentFeatures.OtherPatientAdjustments) => value > 0 ? $"{Dollars(value)} adjusted off the patient's share" : "Nothing adjusted off the patient's share",
            nameof(PaymentFeatures.GuarantorAge) => value < 0 ? "Guarantor's age not known" : $"Guarantor is {n} years old",
            nameof(PaymentFeatures.HasEmail) => yes ? "Has an email address" : "No email address",
            nameof(PaymentFeatures.HasMobilePhone) => yes ? "Has a mobile phone" : "No mobile phone",
            nameof(PaymentFeatures.HasTextConsent) => yes ? "Agreed to text messages" : "Has not agreed to text messages",
            _ => $"{feature} is {value.ToString("G4", CultureInfo.InvariantCulture)}",
        };
    }

    private static string Dollars(float value) => value.ToString("C0", Us);

    private static string Percent(float share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Count(int n, string one, string many) => n == 1 ? $"1 {one}" : $"{n} {many}";

    private static string Times(int n) => n switch { 1 => "once", 2 => "twice", _ => $"{n} times" };

    private static string Days(int n) => n == 1 ? "1 day" : $"{n} days";

    /// <summary>Days as days under two months, else months, else years and months from two years.</summary>
    private static string Age(float days)
    {
        if (days < 60) return Days((int)Math.Round(days));
        var months = (int)Math.Floor(days / 30.44);
        return months < 24 ? $"{months} months" : $"{months / 12} years";
    }
}
