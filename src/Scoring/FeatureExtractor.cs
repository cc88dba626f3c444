using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Scoring;

/// <summary>
/// Turns an account's history into <see cref="PaymentFeatures"/> as known at a point in time. Point-in-time rule: only
/// ledger entries posted at or before <c>asOf</c>, contacts made by then, holds placed by then (released only if released
/// by then), and promises and plans created by then, with their outcomes recomputed from the payments known then.
/// Pure and deterministic: the same history and instant give the same features, whatever happened later.
/// </summary>
public static class FeatureExtractor
{
    /// <summary>A message "worked" when a patient payment was posted within this many days after it.</summary>
    public const int ResponseDays = 14;

    public static PaymentFeatures Extract(AccountHistory history, DateTimeOffset asOf)
    {
        ArgumentNullException.ThrowIfNull(history);
        var known = new KnownLedger(history.Entries, asOf, history.Calendar, history.GraceDays, history.Balances);
        var f = new PaymentFeatures();
        var today = DateOnly.FromDateTime(asOf.UtcDateTime);

        Balance(f, known);
        Payments(f, known, today);
        var contacts = history.Contacts.Where(c => c.At <= asOf).OrderBy(c => c.At).ToList();
        Age(f, history, known, contacts, asOf, today);
        Payer(f, history.PrimaryPayer);
        Contacts(f, contacts, known, asOf);
        Arrangements(f, history, known, asOf);
        Holds(f, history.Holds, asOf);

        f.GuarantorAge = history.GuarantorDateOfBirth is { } dob ? Years(dob, today) : -1f;
        f.HasEmail = Flag(history.HasEmail);
        f.HasMobilePhone = Flag(history.HasMobilePhone);
        f.HasTextConsent = Flag(history.HasTextConsent);
        return f;
    }

    private static void Balance(PaymentFeatures f, KnownLedger known)
    {
        var b = known.Balances;
        f.PatientBalance = (float)b.PatientResponsibility;
        f.InsurancePending = (float)b.InsurancePending;
        f.TotalCharges = (float)b.TotalCharges;
        decimal insurancePaid = 0, transferred = 0, charity = 0, otherAdjustments = 0;
        var charges = 0;
        foreach (var e in known.Entries)
        {
            if (known.Reversed.Contains(e.EntryId)) continue;
            switch (e.Kind)
            {
                case EntryKind.Charge: charges++; break;
                case EntryKind.InsurancePayment: insurancePaid += e.Amount; break;
                case EntryKind.Transfer: transferred += e.Direction == TransferDirection.InsuranceToPatient ? e.Amount : -e.Amount; break;
                case EntryKind.Adjustment when e.Category == AdjustmentCategory.Charity: charity += e.Amount; break;
                case EntryKind.Adjustment when e.Party != ResponsibleParty.Insurance && e.Category is AdjustmentCategory.SmallBalance or AdjustmentCategory.Administrative or AdjustmentCategory.BadDebt:
                    otherAdjustments += e.Amount;
                    break;
            }
        }
        f.InsurancePaid = (float)insurancePaid;
        f.TransferredToPatient = (float)transferred;
        f.CharityAdjusted = (float)charity;
        f.OtherPatientAdjustments = (float)otherAdjustments;
        f.ChargeCount = charges;
        f.PatientShareOfCharges = b.TotalCharges > 0 ? (float)Math.Clamp(b.PatientResponsibility / b.TotalCharges, 0m, 1m) : 0f;
    }

    private static void Payments(PaymentFeatures f, KnownLedger known, DateOnly today)
    {
        decimal total = 0, largest = 0;
        DateOnly? last = null;
        foreach (var p in known.PatientPayments)
        {
            total += p.Amount;
            largest = Math.Max(largest, p.Amount);
            if (last is null || p.EffectiveDate > last) last = p.EffectiveDate;
        }
        f.PatientPaymentCount = known.PatientPayments.Count;
        f.PatientPaymentTotal = (float)total;
        f.LargestPatientPayment = (float)largest;
        f.DaysSinceLastPatientPayment = last is { } d ? Math.Max(0, today.DayNumber - d.DayNumber) : -1f;
        f.ReturnedPayments = known.Entries.Count(e => e.Kind == EntryKind.PatientPayment && known.Reversed.Contains(e.EntryId));
        var owedAndPaid = total + known.Balances.PatientResponsibility;
        f.PaidShareOfPatientResponsibility = owedAndPaid > 0 ? (float)(total / owedAndPaid) : 0f;
    }

    private static void Age(PaymentFeatures f, AccountHistory history, KnownLedger known, List<ContactAttempt> contacts, DateTimeOffset asOf, DateOnly today)
    {
        var firstStatement = contacts.FirstOrDefault(c => c.Action == OutreachAction.PatientStatement)?.At;
        var opened = DateOnly.FromDateTime(history.OpenedAt.UtcDateTime);
        var age = Aging.Of(firstStatement is { } s ? DateOnly.FromDateTime(s.UtcDateTime) : null, known.Entries, opened, today);
        f.AccountAgeDays = age.Days;
        f.AgingBucket = (int)age.Bucket;
        f.DaysSinceOpened = Math.Max(0, (float)Math.Floor((asOf - history.OpenedAt).TotalDays));

        // Replay the known ledger in posting order to find when the patient first owed something. A ledger posted live
        // is in that order already, and the entries by id are needed only to replay a reversal.
        var byId = known.Reversed.Count == 0
            ? NoEntries
            : known.Entries.ToDictionary(e => e.EntryId, StringComparer.Ordinal);
        var patient = 0m;
        f.DaysSincePatientOwed = -1f;
        foreach (var e in KnownLedger.InPostingOrder(known.Entries))
        {
            patient += AccountBalances.Effect(e, byId).Patient;
            if (patient > 0)
            {
                f.DaysSincePatientOwed = Math.Max(0, (float)Math.Floor((asOf - e.KnownAt).TotalDays));
                break;
            }
        }
    }

    private static readonly IReadOnlyDictionary<string, LedgerEntry> NoEntries = System.Collections.ObjectModel.ReadOnlyDictionary<string, LedgerEntry>.Empty;

    private static void Payer(PaymentFeatures f, string? payer)
    {
        var payerClass = PayerClassifier.Classify(payer);
        f.IsSelfPay = Flag(payerClass == PayerClass.SelfPay);
        f.PayerMedicare = Flag(payerClass == PayerClass.Medicare);
        f.PayerMedicaid = Flag(payerClass == PayerClass.Medicaid);
        f.PayerCommercial = Flag(payerClass == PayerClass.Commercial);
        f.PayerOther = Flag(payerClass == PayerClass.Other);
    }

    private static void Contacts(PaymentFeatures f, List<ContactAttempt> contacts, KnownLedger known, DateTimeOffset asOf)
    {
        DateTimeOffset? lastContact = null, lastReached = null;
        var paymentTimes = known.PatientPayments.Select(p => p.KnownAt).ToArray(); // sorted
        foreach (var c in contacts)
        {
            var outbound = c.Initiator is ContactInitiator.Engine or ContactInitiator.Agent or ContactInitiator.PatientRequested;
            switch (c.Action)
            {
                case OutreachAction.PatientStatement: f.StatementsSent++; break;
                case OutreachAction.EmailReminder: f.EmailReminders++; break;
                case OutreachAction.SmsReminder: f.TextReminders++; break;
                case OutreachAction.Letter: f.LettersSent++; break;
                case OutreachAction.FinalNotice: f.FinalNoticeSent = 1; break;
                case OutreachAction.AgencyPlacement: f.PlacedWithAgency = 1; break;
            }
            if (outbound && (c.Action == OutreachAction.CallTask || c.IsCall)) f.CallAttempts++;
            if (c.Initiator == ContactInitiator.Inbound) f.InboundContacts++;
            if (c.Outcome == ContactOutcome.WrongNumber) f.WrongNumbers++;
            if (c.Outcome == ContactOutcome.RightPartyContact)
            {
                f.RightPartyContacts++;
                lastReached = c.At;
            }
            lastContact = c.At;

            if (!outbound || !FollowedByPayment(paymentTimes, c.At)) continue;
            switch (ChannelOf(c))
            {
                case ContactChannel.Mail: f.PaymentsAfterMail++; break;
                case ContactChannel.Email: f.PaymentsAfterEmail++; break;
                case ContactChannel.Sms: f.PaymentsAfterText++; break;
                case ContactChannel.Voice or ContactChannel.AutomatedVoice: f.PaymentsAfterCall++; break;
            }
        }
        f.DaysSinceLastContact = lastContact is { } lc ? (float)Math.Floor((asOf - lc).TotalDays) : -1f;
        f.DaysSinceLastRightPartyContact = lastReached is { } lr ? (float)Math.Floor((asOf - lr).TotalDays) : -1f;
    }

    /// <summary>The channel a contact went by: recorded, or implied by its action.</summary>
    public static ContactChannel? ChannelOf(ContactAttempt contact)
    {
        ArgumentNullException.ThrowIfNull(contact);
        return contact.Channel ?? contact.Action switch
        {
            OutreachAction.PatientStatement or OutreachAction.Letter or OutreachAction.FinalNotice => ContactChannel.Mail,
            OutreachAction.EmailReminder => ContactChannel.Email,
            OutreachAction.SmsReminder => ContactChannel.Sms,
            OutreachAction.CallTask => ContactChannel.Voice,
            _ => null,
        };
    }

    // Payment times are the known ones (posted by asOf), so a payment after asOf can never count.
    private static bool FollowedByPayment(DateTimeOffset[] sortedPaymentTimes, DateTimeOffset at)
    {
        var i = Array.BinarySearch(sortedPaymentTimes, at);
        i = i >= 0 ? i + 1 : ~i;
        while (i < sortedPaymentTimes.Length && sortedPaymentTimes[i] == at) i++;
        return i < sortedPaymentTimes.Length && sortedPaymentTimes[i] <= at.AddDays(ResponseDays);
    }

    private static void Arrangements(PaymentFeatures f, AccountHistory history, KnownLedger known, DateTimeOffset asOf)
    {
        var made = history.Promises.Where(p => p.CreatedAt <= asOf).ToList();
        foreach (var state in known.StatesOf(made))
        {
            f.PromisesMade++;
            switch (state)
            {
                case ArrangementState.Kept: f.PromisesKept++; break;
                case ArrangementState.Broken: f.PromisesBroken++; break;
                default: f.PromisePending = 1; break;
            }
        }
        for (var i = 0; i < history.Plans.Count; i++)
        {
            var plan = history.Plans[i];
            if (plan.CreatedAt > asOf) continue;
            f.PlansMade++;
            switch (known.StateOf(plan, nextPlanAt: i + 1 < history.Plans.Count ? history.Plans[i + 1].CreatedAt : null))
            {
                case ArrangementState.Kept: f.PlansCompleted++; break;
                case ArrangementState.Broken: f.PlansDefaulted++; break;
                default: f.PlanActive = 1; break;
            }
        }
    }

    private static void Holds(PaymentFeatures f, IReadOnlyList<Hold> holds, DateTimeOffset asOf)
    {
        foreach (var hold in holds)
        {
            if (hold.PlacedAt > asOf) continue;
            f.HoldsPlaced++;
            var active = hold.ReleasedAt is not { } released || released > asOf;
            switch (hold.Reason)
            {
                case HoldReason.Dispute or HoldReason.PatientProviderDispute:
                    if (active) f.DisputeActive = 1;
                    else f.PastDisputes++;
                    break;
                case HoldReason.FinancialAssistancePending:
                    f.FinancialAssistanceApplications++;
                    if (active) f.FinancialAssistancePending = 1;
                    break;
                case HoldReason.Bankruptcy or HoldReason.Deceased or HoldReason.CeaseCommunication or HoldReason.Attorney:
                    if (active) f.CollectionStopped = 1;
                    break;
                default:
                    if (active) f.OtherHoldActive = 1;
                    break;
            }
        }
    }

    private static float Years(DateOnly born, DateOnly on)
    {
        var years = on.Year - born.Year;
        if (on < born.AddYears(years)) years--;
        return Math.Max(0, years);
    }

    private static float Flag(bool value) => value ? 1f : 0f;
}
