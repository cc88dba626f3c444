namespace Collections.Domain;

/// <summary>Rules for opening a patient account.</summary>
public static class AccountRules
{
    public static IReadOnlyList<DomainError> ValidateOpening(
        string? guarantorId, string? patientFirstName, string? patientLastName, DateOnly? patientDateOfBirth, bool hasPatient,
        string? primaryPayer, DateOnly? admitDate, DateOnly? dischargeDate, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (string.IsNullOrWhiteSpace(guarantorId))
            errors.Invalid("guarantorId", "guarantor-id.required", "The account's guarantor is required.");
        else
            Identifiers.CheckGuarantorId(guarantorId, "guarantorId", errors);
        if (hasPatient)
        {
            Text.Require(patientFirstName, "patient.firstName", GuarantorRules.MaxNameLength, errors);
            Text.Require(patientLastName, "patient.lastName", GuarantorRules.MaxNameLength, errors);
            if (patientDateOfBirth is { } dob && dob > Calendar.LatestToday(now))
                errors.Invalid("patient.dateOfBirth", "date.future", "The patient's date of birth must not be in the future.");
        }
        Text.Check(primaryPayer, "primaryPayer", LedgerPosting.MaxTextLength, errors);
        var latest = Calendar.LatestToday(now);
        if (admitDate is { } admit && admit > latest)
            errors.Invalid("admitDate", "date.future", "The admit date must not be in the future.");
        if (dischargeDate is { } discharge)
        {
            if (discharge > latest)
                errors.Invalid("dischargeDate", "date.future", "The discharge date must not be in the future.");
            if (admitDate is { } a && discharge < a)
                errors.Invalid("dischargeDate", "date.before-admit", "The discharge date must not be before the admit date.");
        }
        return errors.Errors;
    }
}
