namespace Collections.Domain;

/// <summary>Rules for opening a patient account and recording its discharge.</summary>
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
        if (dischargeDate is { } discharge) CheckDischarge(discharge, admitDate, now, errors);
        return errors.Errors;
    }

    /// <summary>A discharge date recorded after opening (the stay ended after the account was opened, or a correction).</summary>
    public static IReadOnlyList<DomainError> ValidateDischarge(DateOnly? dischargeDate, DateOnly? admitDate, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (dischargeDate is not { } discharge)
            errors.Invalid("dischargeDate", "discharge-date.required", "Give the discharge date (yyyy-MM-dd).");
        else
        {
            if (discharge < Calendar.EarliestBusinessDate)
                errors.Invalid("dischargeDate", "date.too-old", $"The discharge date must not be before {Calendar.EarliestBusinessDate:yyyy-MM-dd}.");
            CheckDischarge(discharge, admitDate, now, errors);
        }
        return errors.Errors;
    }

    private static void CheckDischarge(DateOnly discharge, DateOnly? admitDate, DateTimeOffset now, ErrorList errors)
    {
        if (discharge > Calendar.LatestToday(now))
            errors.Invalid("dischargeDate", "date.future", "The discharge date must not be in the future.");
        if (admitDate is { } a && discharge < a)
            errors.Invalid("dischargeDate", "date.before-admit", "The discharge date must not be before the admit date.");
    }
}
