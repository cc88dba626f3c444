using System.Text.Json.Nodes;
using Collections.Cli.Synthea;
using Collections.Domain;

namespace Collections.Cli.Tests;

/// <summary>Synthea claims_transactions rows → ledger entries, without the engine (the planner uses the engine's posting rules).</summary>
public class SyntheaPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static AccountPlan Claim(string? primary = "Acme Health", string? secondary = null) =>
        new(2, "C1", "P1", "FAC", "C1", new JsonObject(), primary, secondary, default);

    private static SyntheaTransaction Tx(long row, long chargeId, string type, string? amount = null, string? method = null, string? payments = null,
        string? adjustments = null, string? transfers = null, string? transferType = null, string? transferOutId = null,
        string? fromDate = "2025-03-10T14:00:00Z", string? code = "185349003", string? id = null) =>
        new(row, id ?? $"T{chargeId}", "C1", chargeId.ToString(System.Globalization.CultureInfo.InvariantCulture), "P1", type, amount, method, fromDate, code,
            "Encounter for check up (procedure)", transferOutId, transferType, payments, adjustments, transfers);

    /// <summary>Synthea 3.x's sequence for one line: charge, copay, contractual adjustment, payer payment, the rest to the patient, the patient pays.</summary>
    private static List<SyntheaTransaction> SettledOnTheDay() =>
    [
        Tx(2, 1, "CHARGE", amount: "200.00", transferType: "1", payments: "0.00", adjustments: "0.00"),
        Tx(3, 2, "PAYMENT", method: "COPAY", payments: "20.00", adjustments: "0.00"),
        Tx(4, 3, "ADJUSTMENT", method: "SYSTEM", payments: "0.00", adjustments: "50.00"),
        Tx(5, 4, "PAYMENT", method: "ECHECK", payments: "100.00", adjustments: "0.00"),
        Tx(6, 5, "TRANSFEROUT", transfers: "30.00", payments: "0.00", adjustments: "0.00"),
        Tx(7, 6, "TRANSFERIN", amount: "30.00", transferOutId: "5", transferType: "p", transfers: "30.00", payments: "0.00", adjustments: "0.00"),
        Tx(8, 7, "PAYMENT", method: "CC", payments: "30.00", adjustments: "0.00"),
    ];

    [Fact]
    public void An_insured_claim_settled_on_the_day_posts_the_copay_share_and_pays_the_patients_share_before_moving_it()
    {
        var plan = ClaimLedgerPlanner.Plan(Claim(), SettledOnTheDay(), Now);

        Assert.Empty(plan.Errors);
        Assert.Equal(
        [
            ("synthea:T1", EntryKind.Charge, 200.00m),
            ("synthea:T2", EntryKind.PatientPayment, 20.00m),
            ("synthea:T2:copay-share", EntryKind.Transfer, 20.00m),
            ("synthea:T3", EntryKind.Adjustment, 50.00m),
            ("synthea:T4", EntryKind.InsurancePayment, 100.00m),
            ("synthea:T7", EntryKind.PatientPayment, 30.00m),
            ("synthea:T6", EntryKind.Transfer, 30.00m),
        ], plan.Entries.Select(e => (e.IdempotencyKey, e.Request.Kind!.Value, e.Request.Amount!.Value)));
        var entries = plan.Entries.ToDictionary(e => e.IdempotencyKey, e => e.Request);
        Assert.Null(entries["synthea:T1"].Party); // the insured account's default: insurance
        Assert.Equal((PaymentMethod.Other, "COPAY"), (entries["synthea:T2"].Method!.Value, entries["synthea:T2"].Reference));
        Assert.Equal((TransferDirection.InsuranceToPatient, "PR-3"), (entries["synthea:T2:copay-share"].Direction!.Value, entries["synthea:T2:copay-share"].ReasonCode));
        Assert.Equal((AdjustmentCategory.Contractual, "CO-45", "Acme Health"), (entries["synthea:T3"].Category!.Value, entries["synthea:T3"].ReasonCode, entries["synthea:T3"].Payer));
        Assert.Equal(("Acme Health", "C1"), (entries["synthea:T4"].Payer, entries["synthea:T4"].ClaimReference));
        Assert.Equal(PaymentMethod.Card, entries["synthea:T7"].Method);
        Assert.Equal(new DateOnly(2025, 3, 10), entries["synthea:T1"].ServiceDate);
        Assert.Equal(1, plan.RowsWithoutEntry); // the TRANSFEROUT: posted with its TRANSFERIN
        Assert.Equal(new ClaimBalances(0m, 0m), plan.Balances);
    }

    [Fact]
    public void A_share_the_patient_paid_only_in_part_stays_on_the_patient()
    {
        var rows = SettledOnTheDay();
        rows[^1] = Tx(8, 7, "PAYMENT", method: "CHECK", payments: "12.50", adjustments: "0.00");

        var plan = ClaimLedgerPlanner.Plan(Claim(), rows, Now);

        Assert.Empty(plan.Errors);
        Assert.Equal(new ClaimBalances(0m, 17.50m), plan.Balances);
    }

    [Fact]
    public void The_plan_does_not_depend_on_the_order_of_the_rows_in_the_file()
    {
        var sorted = ClaimLedgerPlanner.Plan(Claim(), SettledOnTheDay(), Now);
        var shuffled = SettledOnTheDay();
        shuffled.Reverse();
        (shuffled[1], shuffled[4]) = (shuffled[4], shuffled[1]);

        var plan = ClaimLedgerPlanner.Plan(Claim(), shuffled, Now);

        Assert.Equal(sorted.Entries.Select(e => e.IdempotencyKey), plan.Entries.Select(e => e.IdempotencyKey));
        Assert.Equal(sorted.Balances, plan.Balances);
    }

    [Fact]
    public void A_move_from_primary_to_secondary_insurance_posts_nothing_and_the_secondary_payer_is_named_on_its_payment()
    {
        var rows = new List<SyntheaTransaction>
        {
            Tx(2, 21, "CHARGE", amount: "500.00", transferType: "1"),
            Tx(3, 22, "ADJUSTMENT", method: "SYSTEM", adjustments: "100.00"),
            Tx(4, 23, "PAYMENT", method: "ECHECK", payments: "320.00"),
            Tx(5, 24, "TRANSFEROUT", transfers: "80.00"),
            Tx(6, 25, "TRANSFERIN", amount: "80.00", transferOutId: "24", transferType: "2", transfers: "80.00"),
            Tx(7, 26, "PAYMENT", method: "ECHECK", payments: "80.00"),
        };

        var plan = ClaimLedgerPlanner.Plan(Claim("Medicare", "Medicaid"), rows, Now);

        Assert.Empty(plan.Errors);
        Assert.Equal([EntryKind.Charge, EntryKind.Adjustment, EntryKind.InsurancePayment, EntryKind.InsurancePayment], plan.Entries.Select(e => e.Request.Kind!.Value));
        Assert.Equal(["Medicare", "Medicaid"], plan.Entries.Where(e => e.Request.Kind == EntryKind.InsurancePayment).Select(e => e.Request.Payer));
        Assert.Equal(2, plan.RowsWithoutEntry);
        Assert.Equal(new ClaimBalances(0m, 0m), plan.Balances);
    }

    [Fact]
    public void A_self_pay_claim_bills_the_patient_and_its_adjustment_is_administrative()
    {
        var rows = new List<SyntheaTransaction>
        {
            Tx(2, 1, "CHARGE", amount: "150.00", transferType: "p"),
            Tx(3, 2, "ADJUSTMENT", method: "SYSTEM", adjustments: "15.00"),
            Tx(4, 3, "PAYMENT", method: "CASH", payments: "35.00"),
        };

        var plan = ClaimLedgerPlanner.Plan(Claim(primary: null), rows, Now);

        Assert.Empty(plan.Errors);
        Assert.Null(plan.Entries[0].Request.Party); // a self-pay account's default: the patient
        Assert.Equal((AdjustmentCategory.Administrative, "SELF-PAY-DISCOUNT"), (plan.Entries[1].Request.Category!.Value, plan.Entries[1].Request.ReasonCode));
        Assert.Equal((EntryKind.PatientPayment, PaymentMethod.Cash), (plan.Entries[2].Request.Kind!.Value, plan.Entries[2].Request.Method!.Value));
        Assert.Equal(new ClaimBalances(0m, 100m), plan.Balances);
    }

    [Fact]
    public void A_patient_charge_on_an_insured_claim_is_billed_to_the_patient()
    {
        var plan = ClaimLedgerPlanner.Plan(Claim(), [Tx(2, 1, "CHARGE", amount: "40.00", transferType: "p")], Now);

        Assert.Equal(ResponsibleParty.Patient, plan.Entries.Single().Request.Party);
        Assert.Equal(new ClaimBalances(0m, 40m), plan.Balances);
    }

    [Fact]
    public void Bad_rows_are_reported_by_row_and_column_and_the_good_rows_are_still_planned()
    {
        var rows = new List<SyntheaTransaction>
        {
            Tx(2, 1, "CHARGE", amount: "100.00", transferType: "1"),
            Tx(3, 2, "PAYMENT", method: "ECHECK", payments: "12.3x"),
            Tx(4, 3, "REFUND", amount: "5.00"),
            Tx(5, 4, "ADJUSTMENT", method: "SYSTEM", adjustments: "-5.00"),
            Tx(6, 5, "PAYMENT", method: "ECHECK", payments: "10.00", fromDate: null),
            Tx(7, 6, "PAYMENT", method: "BITCOIN", payments: "10.00", transferType: "p"),
            Tx(8, 7, "TRANSFEROUT", transfers: "10.00"),
            Tx(9, 8, "CHARGE", amount: "10.00", code: null),
            Tx(10, 9, "PAYMENT", method: "ECHECK", payments: "60.00"),
        };

        var plan = ClaimLedgerPlanner.Plan(Claim(), rows, Now);

        Assert.Equal([(3L, "PAYMENTS"), (4L, "TYPE"), (5L, "ADJUSTMENTS"), (6L, "FROMDATE"), (7L, "METHOD"), (8L, "TRANSFEROUTID"), (9L, "PROCEDURECODE")],
            plan.Errors.Select(e => (e.Row, e.Column)));
        Assert.All(plan.Errors, e => Assert.Equal("claims_transactions.csv", e.File));
        Assert.Equal(["synthea:T1", "synthea:T9"], plan.Entries.Select(e => e.IdempotencyKey));
        Assert.Equal(new ClaimBalances(40m, 0m), plan.Balances);
    }

    [Fact]
    public void An_entry_the_engine_would_refuse_is_reported_with_the_engines_reason_before_anything_is_posted()
    {
        var rows = new List<SyntheaTransaction>
        {
            Tx(2, 1, "CHARGE", amount: "100.00", transferType: "1"),
            Tx(3, 2, "TRANSFEROUT", transfers: "150.00"),
            Tx(4, 3, "TRANSFERIN", amount: "150.00", transferOutId: "2", transferType: "p"),
            Tx(5, 4, "CHARGE", amount: "10.00", transferType: "1", fromDate: "1985-06-01T10:00:00Z"),
        };

        var plan = ClaimLedgerPlanner.Plan(Claim(), rows, Now);

        Assert.Equal([(4L, "AMOUNT"), (5L, "FROMDATE")], plan.Errors.Select(e => (e.Row, e.Column)).Distinct());
        Assert.Contains("may not move more than the insurance balance", plan.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("1990-01-01", plan.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Equal(["synthea:T1"], plan.Entries.Select(e => e.IdempotencyKey));
    }

    [Fact]
    public void Zero_amounts_post_nothing()
    {
        var plan = ClaimLedgerPlanner.Plan(Claim(), [Tx(2, 1, "CHARGE", amount: "0.00", transferType: "1"), Tx(3, 2, "PAYMENT", method: "ECHECK", payments: "0.00")], Now);

        Assert.Empty(plan.Errors);
        Assert.Empty(plan.Entries);
        Assert.Equal(2, plan.RowsWithoutEntry);
    }

    [Fact]
    public void The_entry_body_carries_the_api_field_names_and_no_idempotency_key()
    {
        var plan = ClaimLedgerPlanner.Plan(Claim(), SettledOnTheDay(), Now);

        var body = EntryJson.From(plan.Entries[2].Request).ToJsonString();

        Assert.Equal("""{"kind":"transfer","amount":20.00,"effectiveDate":"2025-03-10","payer":"Acme Health","claimReference":"C1","reasonCode":"PR-3","direction":"insuranceToPatient"}""", body);
    }
}
