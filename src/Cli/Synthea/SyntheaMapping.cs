using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Collections.Domain;

namespace Collections.Cli.Synthea;

/// <summary>A Synthea patient as a guarantor registration, plus the Deceased hold to place when patients.csv has a DEATHDATE.</summary>
/// <summary>A patient to register; <paramref name="AddressIncomplete"/>: no usable ZIP (registered, the address flagged for review).</summary>
public sealed record GuarantorPlan(long Row, string GuarantorId, JsonObject Body, string? DeceasedHoldNote, bool AddressIncomplete = false);

/// <summary>What a claim's account should hold after the import: insurance (primary + secondary) and patient balances.</summary>
public readonly record struct ClaimBalances(decimal Insurance, decimal Patient)
{
    public decimal Total => Insurance + Patient;

    public override string ToString() => $"insurance {SyntheaValues.Format(Insurance)}, patient {SyntheaValues.Format(Patient)}";
}

/// <summary>A Synthea claim as a patient account to open, with the outstanding amounts claims.csv states for it.</summary>
public sealed record AccountPlan(long Row, string ClaimId, string PatientId, string Facility, string AccountNumber, JsonObject Body,
    string? PrimaryPayer, string? SecondaryPayer, ClaimBalances Outstanding)
{
    public bool Insured => PrimaryPayer is not null;

    public string Path => $"/api/accounts/{Uri.EscapeDataString(Facility)}/{Uri.EscapeDataString(AccountNumber)}";
}

/// <summary>
/// The pure mapping of Synthea rows to API calls (docs/import.md, "Synthea"): patients to guarantors, claims to
/// accounts. Transactions to ledger entries are in <see cref="ClaimLedgerPlanner"/>.
/// </summary>
public static class SyntheaMapping
{
    /// <summary>payers.csv NAME of Synthea's "no insurance" payer: its claims are self-pay.</summary>
    public const string NoInsurance = "NO_INSURANCE";

    public static (GuarantorPlan? Plan, IReadOnlyList<SyntheaError> Errors) MapPatient(SyntheaPatient p)
    {
        var errors = new List<SyntheaError>();
        void Error(string column, string reason) => errors.Add(new SyntheaError(SyntheaSchema.Patients, p.Row, column, reason));

        if (p.Id is null) Error("Id", "required; the cell is empty");
        else if (!Identifiers.IsGuarantorId(p.Id)) Error("Id", $"'{p.Id}' cannot be a guarantor id (1 to 40 letters, digits, '-', '_' or '.')");
        DateOnly? birth = null;
        if (p.BirthDate is null) Error("BIRTHDATE", "required; the cell is empty");
        else if (SyntheaValues.TryDate(p.BirthDate, out var b)) birth = b;
        else Error("BIRTHDATE", $"'{p.BirthDate}' is not a date (yyyy-MM-dd)");
        string? deceasedNote = null;
        if (p.DeathDate is not null)
        {
            if (SyntheaValues.TryDate(p.DeathDate, out var death)) deceasedNote = $"Deceased {death:yyyy-MM-dd} (Synthea patients.csv DEATHDATE)";
            else Error("DEATHDATE", $"'{p.DeathDate}' is not a date (yyyy-MM-dd)");
        }
        var state = StateCodes.ToCode(p.State);
        if (p.State is not null && state is null) Error("STATE", $"'{p.State}' is not a US state or territory name or two-letter code");
        if (errors.Count > 0) return (null, errors);

        var body = new JsonObject
        {
            ["guarantorId"] = p.Id,
            ["firstName"] = p.First,
            ["lastName"] = p.Last,
            ["dateOfBirth"] = birth?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        // Real exports leave ZIP blank (about half of Synthea's patients) or lose its leading zero in a spreadsheet: a
        // patient without a usable ZIP is registered all the same, the address flagged for review.
        var zip = Zip(p.Zip);
        if (p.Address is not null || p.City is not null || state is not null || p.Zip is not null)
            body["address"] = new JsonObject { ["line1"] = p.Address, ["city"] = p.City, ["state"] = state, ["zip"] = zip };
        return (new GuarantorPlan(p.Row, p.Id!, body, deceasedNote, AddressIncomplete: zip is null), errors);
    }

    /// <summary>A ZIP as the engine takes it: 12345 or 12345-6789; four digits get their lost leading zero; anything else is no ZIP.</summary>
    public static string? Zip(string? raw)
    {
        var digits = new string((raw ?? "").Where(char.IsAsciiDigit).ToArray());
        if (raw is null || digits.Length != raw.Trim().Replace("-", "", StringComparison.Ordinal).Length) return null;
        return digits.Length switch
        {
            4 => "0" + digits,
            5 => digits,
            8 => $"0{digits[..4]}-{digits[4..]}",
            9 => $"{digits[..5]}-{digits[5..]}",
            _ => null,
        };
    }

    /// <summary>
    /// The account for a claim: account number = claim Id, guarantor = the claim's patient, facility = <paramref name="facility"/>
    /// when given, else derived from the encounter's ORGANIZATION; primary payer = payers.csv NAME (NO_INSURANCE: self-pay).
    /// </summary>
    public static (AccountPlan? Plan, IReadOnlyList<SyntheaError> Errors) MapClaim(
        SyntheaClaim c, SyntheaEncounter? encounter, IReadOnlyDictionary<string, string> payerNames, string? facility)
    {
        var errors = new List<SyntheaError>();
        void Error(string column, string reason) => errors.Add(new SyntheaError(SyntheaSchema.Claims, c.Row, column, reason));

        if (c.Id is null) Error("Id", "required; the cell is empty");
        else if (!Identifiers.IsAccountNumber(c.Id)) Error("Id", $"'{c.Id}' cannot be an account number (1 to 40 letters, digits, '-', '_' or '.')");
        if (c.PatientId is null) Error("PATIENTID", "required; the cell is empty");
        else if (!Identifiers.IsGuarantorId(c.PatientId)) Error("PATIENTID", $"'{c.PatientId}' cannot be a guarantor id");
        var primary = Payer(c.PrimaryInsuranceId, "PRIMARYPATIENTINSURANCEID");
        var secondary = Payer(c.SecondaryInsuranceId, "SECONDARYPATIENTINSURANCEID");

        if (facility is null)
        {
            if (encounter is null)
                Error("APPOINTMENTID", c.AppointmentId is null
                    ? "empty: the facility comes from the encounter's ORGANIZATION (or pass --facility)"
                    : $"no encounter '{c.AppointmentId}' in encounters.csv: the facility comes from its ORGANIZATION (or pass --facility)");
            else if (FacilityFor(encounter.Organization) is { } derived) facility = derived;
            else Error("APPOINTMENTID", $"the encounter's ORGANIZATION '{encounter.Organization}' cannot be made a facility code; pass --facility");
        }

        DateOnly? admit = null, discharge = null;
        if (encounter is not null)
        {
            if (SyntheaValues.TryDate(encounter.Start, out var start)) admit = start;
            if (SyntheaValues.TryDate(encounter.Stop, out var stop) && (admit is null || stop >= admit)) discharge = stop;
        }
        else if (SyntheaValues.TryDate(c.ServiceDate, out var service)) admit = service;

        var outstanding1 = Amount(c.Outstanding1, "OUTSTANDING1");
        var outstanding2 = Amount(c.Outstanding2, "OUTSTANDING2");
        var outstandingP = Amount(c.OutstandingP, "OUTSTANDINGP");
        if (errors.Count > 0) return (null, errors);

        var body = new JsonObject
        {
            ["facility"] = facility,
            ["accountNumber"] = c.Id,
            ["guarantorId"] = c.PatientId,
            ["primaryPayer"] = primary,
            ["admitDate"] = admit?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["dischargeDate"] = discharge?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        return (new AccountPlan(c.Row, c.Id!, c.PatientId!, facility!, c.Id!, body, primary, secondary,
            new ClaimBalances(outstanding1 + outstanding2, outstandingP)), errors);

        string? Payer(string? id, string column)
        {
            if (id is null or "0") return null; // empty (Synthea 3) or 0 (earlier versions): no insurance
            if (!payerNames.TryGetValue(id, out var name))
            {
                Error(column, $"no payer '{id}' in payers.csv");
                return null;
            }
            return name.Equals(NoInsurance, StringComparison.OrdinalIgnoreCase) ? null : name;
        }

        decimal Amount(string? value, string column)
        {
            if (value is null) return 0m;
            if (SyntheaValues.TryAmount(value, out var amount)) return amount;
            Error(column, $"'{value}' is not a decimal amount");
            return 0m;
        }
    }

    /// <summary>
    /// A facility code (1–32 letters, digits, '-', '_') for an organization id: itself when it already is one, a Synthea
    /// UUID without its hyphens (32 hex digits, so distinct organizations stay distinct), otherwise null.
    /// </summary>
    public static string? FacilityFor(string? organization)
    {
        if (organization is null) return null;
        if (Identifiers.IsFacility(organization)) return organization;
        if (Guid.TryParseExact(organization, "D", out var uuid)) return uuid.ToString("N");
        return null;
    }
}

/// <summary>The JSON body of <c>POST /api/accounts/{f}/{n}/entries</c> for an <see cref="EntryRequest"/> (the key goes in the header).</summary>
public static class EntryJson
{
    public static JsonObject From(EntryRequest r)
    {
        var body = new JsonObject { ["kind"] = Name(r.Kind) };
        if (r.Amount is { } amount) body["amount"] = amount;
        Add("effectiveDate", r.EffectiveDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("party", Name(r.Party));
        Add("serviceDate", r.ServiceDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("code", r.Code);
        Add("description", r.Description);
        Add("payer", r.Payer);
        Add("claimReference", r.ClaimReference);
        Add("method", Name(r.Method));
        Add("reference", r.Reference);
        Add("category", Name(r.Category));
        Add("reasonCode", r.ReasonCode);
        Add("direction", Name(r.Direction));
        Add("note", r.Note);
        return body;

        void Add(string name, string? value)
        {
            if (value is not null) body[name] = value;
        }
    }

    private static string? Name<T>(T? value) where T : struct, Enum =>
        value is { } v ? JsonNamingPolicy.CamelCase.ConvertName(v.ToString()) : null;
}
