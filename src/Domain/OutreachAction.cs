namespace Collections.Domain;

/// <summary>What a step of a follow-up cadence does.</summary>
public enum OutreachAction
{
    /// <summary>A patient statement (a PDF by mail, or by email where the patient prefers it).</summary>
    PatientStatement,
    /// <summary>A reminder by email.</summary>
    EmailReminder,
    /// <summary>A reminder by text message (needs recorded consent).</summary>
    SmsReminder,
    /// <summary>A reminder letter by mail.</summary>
    Letter,
    /// <summary>A task for an agent to call the guarantor.</summary>
    CallTask,
    /// <summary>The written final notice, at least 30 days before any extraordinary collection action.</summary>
    FinalNotice,
    /// <summary>Placement with a collection agency (an extraordinary collection action under 501(r)).</summary>
    AgencyPlacement,
    /// <summary>Reporting to a credit bureau (an extraordinary collection action).</summary>
    CreditReporting,
    /// <summary>A task for a supervisor to decide whether to write the balance off.</summary>
    WriteOffReview,
    /// <summary>A reminder that a payment-plan installment is due.</summary>
    InstallmentReminder,
    /// <summary>The one confirmation text allowed after an SMS opt-out.</summary>
    OptOutConfirmation,
    /// <summary>A receipt for a card payment the patient (or their autopay) made: a transactional message, not a collection one.</summary>
    PaymentReceipt,
}
