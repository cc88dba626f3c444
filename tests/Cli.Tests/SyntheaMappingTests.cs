using Collections.Cli.Synthea;

namespace Collections.Cli.Tests;

/// <summary>Synthea patients and claims → guarantor and account requests, without the engine.</summary>
public class SyntheaMappingTests
{
    private static readonly Dictionary<string, string> Payers = new()
    {
        ["pay-1"] = "Blue Cross Blue Shield",
        ["pay-2"] = "Medicaid",
        ["pay-none"] = "NO_INSURANCE",
    };

    private static SyntheaPatient Patient(string? birth = "1980-04-02", string? death = null, string? state = "Massachusetts") =>
        new(2, "a1000000-5e1a-4000-8000-000000000001", birth, death, "Ana123", "Lopez456", "12 Elm St", "Boston", state, "02118");

    private static SyntheaClaim Claim(string? primary = "pay-1", string? secondary = null, string? appointment = "enc-1",
        string? o1 = "10.00", string? o2 = "2.50", string? op = "35.00") =>
        new(3, "c1000000-5e1a-4000-8000-000000000002", "a1000000-5e1a-4000-8000-000000000001", primary, secondary, appointment,
            "2025-06-02T09:00:00Z", o1, o2, op);

    private static readonly SyntheaEncounter Encounter = new("enc-1", "2025-06-02T09:00:00Z", "2025-06-04T10:00:00Z", "0a000000-5e1a-4000-8000-000000000010");

    [Fact]
    public void A_patient_becomes_a_guarantor_with_the_two_letter_state_and_no_hold_while_alive()
    {
        var (plan, errors) = SyntheaMapping.MapPatient(Patient());

        Assert.Empty(errors);
        Assert.Equal("a1000000-5e1a-4000-8000-000000000001", plan!.GuarantorId);
        Assert.Equal("""{"guarantorId":"a1000000-5e1a-4000-8000-000000000001","firstName":"Ana123","lastName":"Lopez456","dateOfBirth":"1980-04-02","address":{"line1":"12 Elm St","city":"Boston","state":"MA","zip":"02118"}}""",
            plan.Body.ToJsonString());
        Assert.Null(plan.DeceasedHoldNote);
    }

    [Fact]
    public void A_deceased_patient_gets_a_deceased_hold_naming_the_date()
    {
        var (plan, _) = SyntheaMapping.MapPatient(Patient(death: "2025-09-30"));

        Assert.Equal("Deceased 2025-09-30 (Synthea patients.csv DEATHDATE)", plan!.DeceasedHoldNote);
    }

    [Theory]
    [InlineData("1980-02-30", "Massachusetts", "BIRTHDATE")]
    [InlineData(null, "Massachusetts", "BIRTHDATE")]
    [InlineData("1980-04-02", "Atlantis", "STATE")]
    public void A_patient_row_that_cannot_be_a_guarantor_is_reported_by_column(string? birth, string state, string column)
    {
        var (plan, errors) = SyntheaMapping.MapPatient(Patient(birth, state: state));

        Assert.Null(plan);
        Assert.Equal(("patients.csv", 2L, column), (errors.Single().File, errors.Single().Row, errors.Single().Column));
    }

    [Theory]
    [InlineData("Massachusetts", "MA")]
    [InlineData("district of columbia", "DC")]
    [InlineData("MA", "MA")]
    [InlineData("pr", "PR")]
    [InlineData("Narnia", null)]
    public void State_names_and_codes_become_codes(string state, string? code) => Assert.Equal(code, StateCodes.ToCode(state));

    [Fact]
    public void A_claim_becomes_an_account_at_its_encounters_organization_with_its_payer_and_outstanding_amounts()
    {
        var (plan, errors) = SyntheaMapping.MapClaim(Claim(secondary: "pay-2"), Encounter, Payers, facility: null);

        Assert.Empty(errors);
        Assert.Equal("0a0000005e1a40008000000000000010", plan!.Facility); // the organization's UUID without hyphens: 32 characters
        Assert.Equal("c1000000-5e1a-4000-8000-000000000002", plan.AccountNumber);
        Assert.Equal(("Blue Cross Blue Shield", "Medicaid"), (plan.PrimaryPayer, plan.SecondaryPayer));
        Assert.Equal(new ClaimBalances(12.50m, 35.00m), plan.Outstanding);
        Assert.Equal("""{"facility":"0a0000005e1a40008000000000000010","accountNumber":"c1000000-5e1a-4000-8000-000000000002","guarantorId":"a1000000-5e1a-4000-8000-000000000001","primaryPayer":"Blue Cross Blue Shield","admitDate":"2025-06-02","dischargeDate":"2025-06-04"}""",
            plan.Body.ToJsonString());
    }

    [Theory]
    [InlineData("pay-none")]
    [InlineData(null)]
    [InlineData("0")]
    public void No_insurance_an_empty_payer_or_payer_0_make_a_self_pay_account(string? primary)
    {
        var (plan, errors) = SyntheaMapping.MapClaim(Claim(primary), Encounter, Payers, facility: null);

        Assert.Empty(errors);
        Assert.False(plan!.Insured);
        Assert.Null(plan.Body["primaryPayer"]);
    }

    [Fact]
    public void A_claim_with_an_unknown_payer_or_a_missing_encounter_is_reported_and_the_facility_option_needs_no_encounter()
    {
        var unknownPayer = SyntheaMapping.MapClaim(Claim("pay-404"), Encounter, Payers, facility: null);
        var noEncounter = SyntheaMapping.MapClaim(Claim(appointment: "enc-404"), null, Payers, facility: null);
        var badAmount = SyntheaMapping.MapClaim(Claim(op: "3,50"), Encounter, Payers, facility: null);
        var fixedFacility = SyntheaMapping.MapClaim(Claim(appointment: "enc-404"), null, Payers, facility: "DEMO");

        Assert.Equal("PRIMARYPATIENTINSURANCEID", unknownPayer.Errors.Single().Column);
        Assert.Equal("APPOINTMENTID", noEncounter.Errors.Single().Column);
        Assert.Contains("--facility", noEncounter.Errors.Single().Reason, StringComparison.Ordinal);
        Assert.Equal("OUTSTANDINGP", badAmount.Errors.Single().Column);
        Assert.Empty(fixedFacility.Errors);
        Assert.Equal("DEMO", fixedFacility.Plan!.Facility);
        Assert.Equal("2025-06-02", (string?)fixedFacility.Plan.Body["admitDate"]); // the claim's SERVICEDATE
    }

    [Theory]
    [InlineData("MAIN", "MAIN")]
    [InlineData("0a000000-5e1a-4000-8000-000000000010", "0a0000005e1a40008000000000000010")]
    [InlineData("St. Mary's", null)]
    public void Organizations_become_facility_codes(string organization, string? facility) => Assert.Equal(facility, SyntheaMapping.FacilityFor(organization));

    [Fact]
    public void A_header_without_a_required_column_is_named_with_its_file()
    {
        Assert.Null(SyntheaSchema.CheckHeader("payers.csv", ["id", "name", "OWNERSHIP"]));
        Assert.Equal("claims.csv: missing required columns OUTSTANDING2, OUTSTANDINGP (see docs/import.md, \"Synthea\")",
            SyntheaSchema.CheckHeader("claims.csv", ["Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID", "APPOINTMENTID", "SERVICEDATE", "OUTSTANDING1"]));
    }

    [Theory]
    [InlineData("2025-03-10", true)]
    [InlineData("2025-03-10T14:00:00Z", true)]
    [InlineData("2025-03-10T14:00Z", true)]
    [InlineData("2025-02-30", false)]
    [InlineData("10/03/2025", false)]
    public void Synthea_dates_and_timestamps_are_read_as_their_calendar_date(string value, bool valid)
    {
        Assert.Equal(valid, SyntheaValues.TryDate(value, out var date));
        if (valid) Assert.Equal(new DateOnly(2025, 3, 10), date);
    }
}
