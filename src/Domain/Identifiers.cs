using System.Text.RegularExpressions;

namespace Collections.Domain;

/// <summary>
/// Identifiers that come from the hospital's billing system: facility codes, account numbers, guarantor ids.
/// They are used in URLs and grain keys, so they are restricted to letters, digits and <c>- _ .</c>.
/// </summary>
public static partial class Identifiers
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    private static partial Regex FacilityPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
    private static partial Regex NumberPattern();

    public static bool IsFacility(string? value) => value is not null && FacilityPattern().IsMatch(value);

    public static bool IsAccountNumber(string? value) => value is not null && NumberPattern().IsMatch(value);

    public static bool IsGuarantorId(string? value) => value is not null && NumberPattern().IsMatch(value);

    public static void CheckFacility(string? value, string field, ErrorList errors)
    {
        if (!IsFacility(value))
            errors.Invalid(field, "facility.invalid", "The facility code must be 1 to 32 letters, digits, '-' or '_'.");
    }

    public static void CheckAccountNumber(string? value, string field, ErrorList errors)
    {
        if (!IsAccountNumber(value))
            errors.Invalid(field, "account-number.invalid", "The account number must be 1 to 40 letters, digits, '-', '_' or '.'.");
    }

    public static void CheckGuarantorId(string? value, string field, ErrorList errors)
    {
        if (!IsGuarantorId(value))
            errors.Invalid(field, "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
    }
}

/// <summary>A patient account's identity: the facility that billed it and its account number there.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountKey")]
public readonly record struct AccountKey
{
    [Id(0)] public string Facility { get; init; }
    [Id(1)] public string AccountNumber { get; init; }

    public AccountKey(string facility, string accountNumber)
    {
        Facility = facility;
        AccountNumber = accountNumber;
    }

    /// <summary>The grain key: <c>facility/accountNumber</c> ('/' cannot occur in either part).</summary>
    public override string ToString() => $"{Facility}/{AccountNumber}";

    public static AccountKey Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1)
            throw new FormatException("An account key has the form facility/accountNumber.");
        return new AccountKey(key[..slash], key[(slash + 1)..]);
    }
}
