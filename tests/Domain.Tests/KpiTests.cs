using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Kpi;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

public sealed class KpiTests
{
    private static readonly AccountKey Account = new("MAIN", "A1");
    private static readonly DateOnly Today = new(2026, 11, 23);

    private static AccountKpiFacts FactsOf(LedgerBuilder ledger, IEnumerable<PromiseToPay>? promises = null, bool placed = false) =>
        AccountKpiFacts.Of(Account, ledger.Entries, ledger.Balances, promises ?? [], new DateOnly(2026, 10, 1), placed);

    private static PromiseToPay Promise(string id, PromiseStatus status) => new()
    {
        PromiseId = id, Amount = 10m, PromisedDate = Today, CreatedAt = Now, CreatedBy = "test", Status = status,
    };

    [Fact]
    public void Responsibility_is_patient_charges_and_transfers_to_the_patient_and_paid_leaves_out_reversed_payments()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(1000m, serviceDate: new DateOnly(2026, 10, 1)));
        ledger.Post(InsurancePayment(700m));
        ledger.Post(ToPatient(200m));
        ledger.Post(Charge(50m, ResponsibleParty.Patient, new DateOnly(2026, 10, 5)));
        ledger.Post(PatientPayment(100m));
        var mistake = ledger.Post(PatientPayment(30m));
        ledger.Post(Reverse(mistake.EntryId));

        var facts = FactsOf(ledger);

        Assert.Equal(250m, facts.PatientResponsibilityTotal);
        Assert.Equal(100m, facts.PatientPaidTotal);
        Assert.Equal(150m, facts.PatientBalance);
        Assert.Equal(100m, facts.InsuranceBalance);
        Assert.Equal(0m, facts.CreditBalance);
    }

    [Fact]
    public void A_transfer_back_to_insurance_takes_the_share_off_the_patients_responsibility()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(500m));
        ledger.Post(ToPatient(200m));
        ledger.Post(new EntryRequest { Kind = EntryKind.Transfer, Amount = 50m, Direction = TransferDirection.PatientToInsurance });

        Assert.Equal(150m, FactsOf(ledger).PatientResponsibilityTotal);
    }

    [Fact]
    public void A_refund_to_the_patient_is_taken_off_what_they_paid_and_ends_the_credit_balance()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(100m));
        ledger.Post(PatientPayment(130m));

        var inCredit = FactsOf(ledger);
        Assert.Equal(130m, inCredit.PatientPaidTotal);
        Assert.Equal(30m, inCredit.CreditBalance);
        Assert.Equal(-30m, inCredit.Balance);

        ledger.Post(new EntryRequest { Kind = EntryKind.Refund, Amount = 30m, Method = PaymentMethod.Check });
        var refunded = FactsOf(ledger);
        Assert.Equal(100m, refunded.PatientPaidTotal);
        Assert.Equal(100m, refunded.PatientResponsibilityTotal);
        Assert.Equal(0m, refunded.CreditBalance);
    }

    [Fact]
    public void Charges_are_summed_by_effective_date_and_a_reversed_charge_is_left_out()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(100m, serviceDate: new DateOnly(2026, 10, 1)));
        ledger.Post(Charge(25m, serviceDate: new DateOnly(2026, 10, 1)));
        ledger.Post(Charge(40m, ResponsibleParty.Patient, new DateOnly(2026, 9, 15)));
        var wrong = ledger.Post(Charge(80m, serviceDate: new DateOnly(2026, 11, 2)));
        ledger.Post(Reverse(wrong.EntryId));

        var facts = FactsOf(ledger);

        Assert.Equal([new ChargeOnDate(new DateOnly(2026, 9, 15), 40m), new ChargeOnDate(new DateOnly(2026, 10, 1), 125m)], facts.ChargesByDate);
        Assert.Equal(40m, facts.PatientResponsibilityTotal);
    }

    [Fact]
    public void Kept_and_broken_promises_are_counted_and_pending_ones_are_not()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(100m));
        var facts = FactsOf(ledger, [Promise("P1", PromiseStatus.Broken), Promise("P2", PromiseStatus.Kept), Promise("P3", PromiseStatus.Broken), Promise("P4", PromiseStatus.Pending)]);

        Assert.Equal(1, facts.PromisesKept);
        Assert.Equal(2, facts.PromisesBroken);
    }

    [Fact]
    public void The_fingerprint_is_the_same_for_the_same_facts_and_changes_with_any_of_them()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(100m));
        var first = FactsOf(ledger).Fingerprint();

        Assert.Equal(first, FactsOf(ledger).Fingerprint());
        Assert.Matches("^[0-9a-f]{64}$", first);
        Assert.NotEqual(first, FactsOf(ledger, placed: true).Fingerprint());
        Assert.NotEqual(first, FactsOf(ledger, [Promise("P1", PromiseStatus.Kept)]).Fingerprint());
        ledger.Post(ToPatient(10m));
        Assert.NotEqual(first, FactsOf(ledger).Fingerprint());
    }

    private static AccountKpiFacts Facts(string number, decimal patient, decimal insurance, int ageDays, params (int DaysAgo, decimal Amount)[] charges) => new()
    {
        Facility = "MAIN", AccountNumber = number, PatientBalance = patient, InsuranceBalance = insurance,
        CreditBalance = Math.Max(-(patient + insurance), 0m), AgingBasisDate = Today.AddDays(-ageDays),
        PatientResponsibilityTotal = 0m, PatientPaidTotal = 0m, PromisesKept = 0, PromisesBroken = 0, PlacedWithAgency = false,
        ChargesByDate = charges.Select(c => new ChargeOnDate(Today.AddDays(-c.DaysAgo), c.Amount)).ToList(),
    };

    [Fact]
    public void Portfolio_figures_bucket_the_ar_by_age_leave_out_credit_balances_and_measure_days_in_ar_against_90_days_of_charges()
    {
        var accounts = new[]
        {
            Facts("A", 100m, 0m, 10, (5, 100m)) with { PatientResponsibilityTotal = 100m, PromisesKept = 1 },
            Facts("B", 50m, 200m, 45, (45, 250m)) with { PatientResponsibilityTotal = 50m, PromisesBroken = 1 },
            Facts("C", -40m, 0m, 70, (89, 60m), (90, 1000m)) with { PatientResponsibilityTotal = 60m, PatientPaidTotal = 100m },
            Facts("D", 300m, 0m, 200, (200, 300m)) with { PatientResponsibilityTotal = 300m, PromisesBroken = 2, PlacedWithAgency = true },
        };

        var kpis = PortfolioKpis.Compute(PortfolioTotals.Of(accounts, Today), Today);

        Assert.Equal(3, kpis.AccountsWithBalance);
        Assert.Equal(650m, kpis.TotalAr);
        Assert.Equal(450m, kpis.PatientAr);
        Assert.Equal(200m, kpis.InsuranceAr);
        Assert.Equal(
            [("0-30", 100m, 1), ("31-60", 250m, 1), ("61-90", 0m, 0), ("91-120", 0m, 0), ("121-180", 0m, 0), ("180+", 300m, 1)],
            kpis.Aging.Select(b => (b.Label, b.Amount, b.Accounts)));
        Assert.Equal(410m, kpis.GrossChargesLast90Days); // the charge 89 days ago is in the window, the one 90 days ago is not
        Assert.Equal(142.7m, kpis.DaysInAr);              // 650 / (410 / 90)
        Assert.Equal(0.1961m, kpis.CollectionRate);       // 100 / 510
        Assert.Equal(0.25m, kpis.PromiseKeptRate);        // 1 / (1 + 3)
        Assert.Equal((1, 3), (kpis.PromisesKept, kpis.PromisesBroken));
        Assert.Equal((1, 40m), (kpis.CreditBalanceAccounts, kpis.CreditBalanceAmount));
        Assert.Equal((1, 300m), (kpis.PlacedAccounts, kpis.PlacedAmount));
    }

    [Theory]
    [InlineData(30, "0-30")]
    [InlineData(31, "31-60")]
    [InlineData(90, "61-90")]
    [InlineData(91, "91-120")]
    [InlineData(180, "121-180")]
    [InlineData(181, "180+")]
    public void Portfolio_aging_uses_the_accounts_aging_buckets(int ageDays, string label)
    {
        var kpis = PortfolioKpis.Compute(PortfolioTotals.Of([Facts("A", 10m, 0m, ageDays)], Today), Today);

        Assert.Equal(label, Assert.Single(kpis.Aging, b => b.Accounts == 1).Label);
    }

    [Fact]
    public void Without_charges_payments_due_or_settled_promises_the_rates_are_null_not_zero()
    {
        var kpis = PortfolioKpis.Compute(new PortfolioTotals(), Today);

        Assert.Null(kpis.DaysInAr);
        Assert.Null(kpis.CollectionRate);
        Assert.Null(kpis.PromiseKeptRate);
        Assert.Equal(0m, kpis.TotalAr);
        Assert.Equal(6, kpis.Aging.Count);
        Assert.All(kpis.Aging, b => Assert.Equal((0m, 0), (b.Amount, b.Accounts)));
    }
}
