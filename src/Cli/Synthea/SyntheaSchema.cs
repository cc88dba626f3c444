using System.Globalization;

namespace Collections.Cli.Synthea;

/// <summary>
/// The five files of a Synthea CSV export that the importer reads, and the columns it needs from each (Synthea 3.x
/// layout, wiki "CSV File Data Dictionary" and <c>CSVExporter.java</c>; see docs/import.md). Column names match
/// ignoring case; other columns are ignored, so exports from other Synthea versions with extra columns load too.
/// </summary>
public static class SyntheaSchema
{
    public const string Patients = "patients.csv";
    public const string Payers = "payers.csv";
    public const string Encounters = "encounters.csv";
    public const string Claims = "claims.csv";
    public const string Transactions = "claims_transactions.csv";

    public static IReadOnlyList<string> Files { get; } = [Patients, Payers, Encounters, Claims, Transactions];

    public static IReadOnlyList<string> RequiredColumns(string file) => file switch
    {
        Patients => ["Id", "BIRTHDATE", "DEATHDATE", "FIRST", "LAST", "ADDRESS", "CITY", "STATE", "ZIP"],
        Payers => ["Id", "NAME"],
        Encounters => ["Id", "START", "STOP", "ORGANIZATION"],
        Claims => ["Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID", "APPOINTMENTID", "SERVICEDATE",
            "OUTSTANDING1", "OUTSTANDING2", "OUTSTANDINGP"],
        Transactions => ["ID", "CLAIMID", "CHARGEID", "PATIENTID", "TYPE", "AMOUNT", "METHOD", "FROMDATE", "PROCEDURECODE", "NOTES",
            "TRANSFEROUTID", "TRANSFERTYPE", "PAYMENTS", "ADJUSTMENTS", "TRANSFERS"],
        _ => throw new ArgumentOutOfRangeException(nameof(file), file, "not a Synthea file the importer reads"),
    };

    /// <summary>The one-line reason a header is unusable (a required column missing), or null.</summary>
    public static string? CheckHeader(string file, IReadOnlyList<string> header)
    {
        var present = header.Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = RequiredColumns(file).Where(c => !present.Contains(c)).ToList();
        return missing.Count == 0 ? null
            : $"{file}: missing required column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} (see docs/import.md, \"Synthea\")";
    }
}

/// <summary>One problem with one row of one Synthea file (rows count from the header, row 1).</summary>
public sealed record SyntheaError(string File, long Row, string Column, string Reason);

/// <summary>A row of patients.csv, with the columns the importer uses (raw, trimmed, empty as null).</summary>
public sealed record SyntheaPatient(long Row, string? Id, string? BirthDate, string? DeathDate, string? First, string? Last,
    string? Address, string? City, string? State, string? Zip);

/// <summary>A row of encounters.csv: where (ORGANIZATION) and when the care happened.</summary>
public sealed record SyntheaEncounter(string Id, string? Start, string? Stop, string? Organization);

/// <summary>A row of claims.csv.</summary>
public sealed record SyntheaClaim(long Row, string? Id, string? PatientId, string? PrimaryInsuranceId, string? SecondaryInsuranceId,
    string? AppointmentId, string? ServiceDate, string? Outstanding1, string? Outstanding2, string? OutstandingP);

/// <summary>A row of claims_transactions.csv.</summary>
public sealed record SyntheaTransaction(long Row, string? Id, string? ClaimId, string? ChargeId, string? PatientId, string? Type,
    string? Amount, string? Method, string? FromDate, string? ProcedureCode, string? Notes, string? TransferOutId, string? TransferType,
    string? Payments, string? Adjustments, string? Transfers);

/// <summary>Reading Synthea's values: dates as <c>yyyy-MM-dd</c> or ISO 8601 timestamps, amounts as plain decimals.</summary>
public static class SyntheaValues
{
    /// <summary>The calendar date of <c>2019-02-17</c> or <c>2019-02-17T05:00:00Z</c> (Synthea writes UTC timestamps).</summary>
    public static bool TryDate(string? value, out DateOnly date)
    {
        date = default;
        if (value is null || value.Length < 10) return false;
        if (value.Length > 10 && value[10] is not ('T' or ' ')) return false;
        return DateOnly.TryParseExact(value.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    public static bool TryAmount(string? value, out decimal amount) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount);

    public static string Format(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}

/// <summary>US state and territory names (as Synthea writes them: "Massachusetts") to the two-letter codes the engine needs.</summary>
public static class StateCodes
{
    private static readonly Dictionary<string, string> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Alabama"] = "AL", ["Alaska"] = "AK", ["Arizona"] = "AZ", ["Arkansas"] = "AR", ["California"] = "CA", ["Colorado"] = "CO",
        ["Connecticut"] = "CT", ["Delaware"] = "DE", ["District of Columbia"] = "DC", ["Florida"] = "FL", ["Georgia"] = "GA",
        ["Hawaii"] = "HI", ["Idaho"] = "ID", ["Illinois"] = "IL", ["Indiana"] = "IN", ["Iowa"] = "IA", ["Kansas"] = "KS",
        ["Kentucky"] = "KY", ["Louisiana"] = "LA", ["Maine"] = "ME", ["Maryland"] = "MD", ["Massachusetts"] = "MA",
        ["Michigan"] = "MI", ["Minnesota"] = "MN", ["Mississippi"] = "MS", ["Missouri"] = "MO", ["Montana"] = "MT",
        ["Nebraska"] = "NE", ["Nevada"] = "NV", ["New Hampshire"] = "NH", ["New Jersey"] = "NJ", ["New Mexico"] = "NM",
        ["New York"] = "NY", ["North Carolina"] = "NC", ["North Dakota"] = "ND", ["Ohio"] = "OH", ["Oklahoma"] = "OK",
        ["Oregon"] = "OR", ["Pennsylvania"] = "PA", ["Rhode Island"] = "RI", ["South Carolina"] = "SC", ["South Dakota"] = "SD",
        ["Tennessee"] = "TN", ["Texas"] = "TX", ["Utah"] = "UT", ["Vermont"] = "VT", ["Virginia"] = "VA", ["Washington"] = "WA",
        ["West Virginia"] = "WV", ["Wisconsin"] = "WI", ["Wyoming"] = "WY", ["Puerto Rico"] = "PR", ["Guam"] = "GU",
        ["U.S. Virgin Islands"] = "VI", ["Virgin Islands"] = "VI", ["Northern Mariana Islands"] = "MP", ["American Samoa"] = "AS",
    };

    private static readonly HashSet<string> Codes = new(ByName.Values, StringComparer.OrdinalIgnoreCase);

    /// <summary>The two-letter code of a state name or code; null when it is neither.</summary>
    public static string? ToCode(string? state)
    {
        if (string.IsNullOrWhiteSpace(state)) return null;
        var trimmed = state.Trim();
        if (ByName.TryGetValue(trimmed, out var code)) return code;
        return Codes.Contains(trimmed) ? trimmed.ToUpperInvariant() : null;
    }
}
