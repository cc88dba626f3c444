using Collections.Domain.Arrangements;
using Collections.Domain.Kpi;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

/// <summary>An account's KPI facts on past days (the trend backfill), and the portfolio sums built one account at a time.</summary>
public sealed class KpiHistoryTests
{
    private static readonly AccountKey Account = new("MAIN", "A1");
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);

    private static AccountKpiHistory History(LedgerBuilder ledger, IReadOnlyList<PromiseToPay>? promises = null, DateOnly? firstStatement = null,
        DateTimeOffset? placed = null, DateTimeOffset? recalled = null) => new()
    {
        Account = Account, Opened = Today, Entries = ledger.Entries, Promises = promises ?? [], FirstPatientStatementDate = firstStatement,
        PlacedWithAgencyAt = placed, RecalledFromAgencyAt = recalled,
    };

    [Fact]
    public void Money_counts_from_its_effective_date_so_an_imported_history_lands_where_it_happened()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(400m, serviceDate: Today.AddDays(-30)));
        ledger.Post(PatientPayment(150m) with { EffectiveDate = Today.AddDays(-10) });
        var history = History(ledger);

        Assert.Null(history.AsOf(Today.AddDays(-31)));                 // nothing yet, and not opened yet
        Assert.Equal(400m, history.AsOf(Today.AddDays(-30))!.Balance);
        Assert.Equal(400m, history.AsOf(Today.AddDays(-11))!.Balance);
        Assert.Equal(250m, history.AsOf(Today.AddDays(-10))!.Balance);
        Assert.Equal(Today.AddDays(-30), history.AsOf(Today.AddDays(-20))!.AgingBasisDate); // before a statement: the service date
    }

    [Fact]
    public void Promises_statements_and_placements_count_from_the_day_they_happened()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(200m, serviceDate: Today.AddDays(-60)));
        var kept = new PromiseToPay
        {
            PromiseId = "P1", Amount = 50m, PromisedDate = Today.AddDays(-20), CreatedAt = Now.AddDays(-40), CreatedBy = "agent",
            Status = PromiseStatus.Kept, ResolvedAt = Now.AddDays(-21),
        };
        var history = History(ledger, [kept], firstStatement: Today.AddDays(-50), placed: Now.AddDays(-15), recalled: Now.AddDays(-5));

        Assert.Equal(0, history.AsOf(Today.AddDays(-22))!.PromisesKept);
        Assert.Equal(1, history.AsOf(Today.AddDays(-21))!.PromisesKept);
        Assert.Equal(Today.AddDays(-60), history.AsOf(Today.AddDays(-51))!.AgingBasisDate);
        Assert.Equal(Today.AddDays(-50), history.AsOf(Today.AddDays(-50))!.AgingBasisDate);
        Assert.False(history.AsOf(Today.AddDays(-16))!.PlacedWithAgency);
        Assert.True(history.AsOf(Today.AddDays(-15))!.PlacedWithAgency);
        Assert.False(history.AsOf(Today.AddDays(-5))!.PlacedWithAgency);
    }

    [Fact]
    public void On_the_last_day_the_history_gives_the_facts_the_account_publishes_now()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(1000m, serviceDate: Today.AddDays(-40)));
        ledger.Post(InsurancePayment(700m) with { EffectiveDate = Today.AddDays(-20) });
        ledger.Post(ToPatient(200m) with { EffectiveDate = Today.AddDays(-20) });
        var mistake = ledger.Post(PatientPayment(30m) with { EffectiveDate = Today.AddDays(-3) });
        ledger.Post(Reverse(mistake.EntryId));
        ledger.Post(PatientPayment(80m));
        var statement = Today.AddDays(-18);

        var live = AccountKpiFacts.Of(Account, ledger.Entries, ledger.Balances, [], statement, placedWithAgency: false) with
        {
            Days = KpiDayFacts.Of(ledger.Entries, ledger.Balances, statement, null, null, null, [], [], []), // no agent worked it
        };
        var rebuilt = History(ledger, firstStatement: statement).AsOf(Today)!;

        Assert.Equal(live.Fingerprint(), rebuilt.Fingerprint());
    }

    [Fact]
    public void Portfolio_totals_built_one_account_at_a_time_equal_the_sums()
    {
        var a = new LedgerBuilder();
        a.Post(Charge(300m, ResponsibleParty.Patient, Today.AddDays(-100)));
        a.Post(PatientPayment(400m));
        var b = new LedgerBuilder();
        b.Post(Charge(250m, ResponsibleParty.Patient, Today.AddDays(-5)));
        var facts = new[]
        {
            AccountKpiFacts.Of(new AccountKey("MAIN", "A"), a.Entries, a.Balances, [], Today.AddDays(-100), false),
            AccountKpiFacts.Of(new AccountKey("MAIN", "B"), b.Entries, b.Balances, [], Today.AddDays(-5), true),
            AccountKpiFacts.Of(new AccountKey("MAIN", "C"), b.Entries, b.Balances, [], null, false),
        };
        var totals = PortfolioTotals.Of(facts, Today);

        Assert.Equal((1, 100m), (totals.CreditAccounts, totals.CreditAmount));
        Assert.Equal((1, 250m), (totals.PlacedAccounts, totals.PlacedAmount));
        Assert.Equal(500m, totals.GrossChargesInWindow);                  // the charge 100 days ago is outside the 90 days
        Assert.Equal(2, totals.Aging.Count);                              // dated and undated, the account in credit left out
        Assert.Equal(500m, totals.Aging.Sum(g => g.PatientBalance));
        Assert.Equal((400m, 800m), (totals.PatientPaid, totals.PatientResponsibility));
    }
}
