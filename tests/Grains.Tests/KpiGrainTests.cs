using Collections.Domain;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Grains.Tests;

/// <summary>Accounts keep their KPI rows current through the real store, on SQLite and on PostgreSQL.</summary>
public sealed class KpiGrainTests
{
    [Fact]
    public Task Postings_keep_the_kpi_rows_current_on_sqlite() => PostingsKeepRowsCurrent(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Postings_keep_the_kpi_rows_current_on_postgresql() => PostingsKeepRowsCurrent(TestDatabases.PostgresAsync);

    private static async Task PostingsKeepRowsCurrent(Func<Task<DatabaseOptions>> newDatabase)
    {
        var database = await newDatabase();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId());
        try
        {
            var facility = "KPI" + Guid.NewGuid().ToString("N")[..8];
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var owing = await Samples.OpenAccountAsync(cluster.Client, facility);
            Assert.True((await owing.Post(Samples.Charge(250.00m, "c1") with { ServiceDate = today.AddDays(-5) })).Succeeded);
            Assert.True((await owing.Post(Samples.Charge(99.99m, "c2") with { ServiceDate = today.AddDays(-5) })).Succeeded);
            Assert.True((await owing.Post(Samples.Payment(40.00m, "p1"))).Succeeded);
            Assert.True((await owing.Post(new EntryRequest { Kind = EntryKind.Adjustment, Amount = 12.34m, Category = AdjustmentCategory.Administrative, ReasonCode = "A1", IdempotencyKey = "a1" })).Succeeded);
            var wrong = await owing.Post(Samples.Payment(10.00m, "p2"));
            Assert.True((await owing.Post(new EntryRequest { Kind = EntryKind.Reversal, ReversesEntryId = wrong.Value!.Entry.EntryId, IdempotencyKey = "r1" })).Succeeded);
            var inCredit = await Samples.OpenAccountAsync(cluster.Client, facility);
            Assert.True((await inCredit.Post(Samples.Charge(20.00m, "c1") with { ServiceDate = today.AddDays(-200) })).Succeeded);
            Assert.True((await inCredit.Post(Samples.Payment(25.00m, "p1"))).Succeeded);
            var elsewhere = await Samples.OpenAccountAsync(cluster.Client, "OTHER" + facility);
            Assert.True((await elsewhere.Post(Samples.Charge(1000.00m, "c1"))).Succeeded);

            var store = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<KpiStore>();
            await cluster.ProjectionsCaughtUpAsync(); // the KPI rows are a projection of the committed events
            var totals = await store.QueryAsync(facility, today.AddDays(-89), today);

            var aging = Assert.Single(totals.Aging);
            Assert.Equal((29765L, 0L, 1), (aging.PatientBalanceCents, aging.InsuranceBalanceCents, aging.Accounts));
            Assert.Contains(aging.AgingBasisDate, new DateOnly?[] { today.AddDays(-5), today }); // the service date, or the first statement's once sent
            Assert.Equal(34999L, totals.ChargesInWindowCents);                          // the charge 200 days ago is outside
            Assert.Equal(1234L, totals.RevenueDeductionsInWindowCents);                 // the write-off, a revenue deduction
            Assert.Equal((6500L, 36999L), (totals.PatientPaidCents, totals.PatientResponsibilityCents));
            Assert.Equal((1, 500L), (totals.CreditAccounts, totals.CreditCents));
            Assert.Equal((0, 0L), (totals.PlacedAccounts, totals.PlacedPatientCents));

            var everywhere = await store.QueryAsync(null, today.AddDays(-89), today);
            Assert.True(everywhere.PatientResponsibilityCents >= totals.PatientResponsibilityCents + 100000L);

            // The trend: today's figures recorded per facility (and for all), and a backfill never replaces a recorded day.
            var trendStore = new KpiTrendStore(database, TimeProvider.System);
            var trends = new Gateway.Reports.KpiTrends(store, trendStore, new AccountDirectory(database), cluster.Client, TimeProvider.System);
            Assert.True(await trends.RecordTodayAsync() >= 3);
            var recorded = Assert.Single(await trendStore.ReadAsync(facility, today, today));
            Assert.Equal(KpiTrendStore.Live, recorded.Source);
            using (var figures = System.Text.Json.JsonDocument.Parse(recorded.Figures))
            {
                Assert.Equal(297.65m, figures.RootElement.GetProperty("totalAr").GetDecimal());
                Assert.Equal(337.65m, figures.RootElement.GetProperty("netRevenueLast90Days").GetDecimal()); // 349.99 - 12.34
            }
            Assert.Equal(0, await trendStore.SaveBackfillAsync([(facility, today, "{}")]));
            Assert.Equal(recorded, Assert.Single(await trendStore.ReadAsync(facility, today, today)));
            Assert.Single(await trendStore.ReadAsync(KpiTrendStore.AllFacilities, today, today));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public Task Saving_an_accounts_rows_again_replaces_them_whole_and_the_last_of_a_group_wins_on_sqlite() => SavingReplaces(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Saving_an_accounts_rows_again_replaces_them_whole_and_the_last_of_a_group_wins_on_postgresql() => SavingReplaces(TestDatabases.PostgresAsync);

    private static async Task SavingReplaces(Func<Task<DatabaseOptions>> newDatabase)
    {
        var database = await newDatabase();
        await using var store = new KpiStore(database, Microsoft.Extensions.Logging.Abstractions.NullLogger<KpiStore>.Instance);
        var facility = "KPS" + Guid.NewGuid().ToString("N")[..8];
        var day = new DateOnly(2026, 11, 2);
        AccountKpiRow Row(string number, long owed, DateOnly? basis, bool treated, double? score, params (DateOnly, long)[] charges) =>
            new(facility, number, owed, 0, 0, basis, owed, 0, 0, 0, false, charges, DateTimeOffset.UtcNow)
            {
                Days = charges.Length == 0 ? [] : [new KpiMeasureRow("cash", day, "card", owed / 10, 1)],
                Treatment = treated ? new AccountTreatmentRow("P1", Control: number == "2", 0.1m, day, score is null ? null : "0.4-0.6", owed, 0, ["statement"]) : null,
                Fairness = score is null ? null : new AccountFairnessRow("es", "low", score, 1, 0),
            };
        // Every column its own value, read back whole.
        var other = new AccountKpiRow(facility, "3", 1_111, 2_222, 3_333, day.AddDays(-7), 4_444, 5_555, 6, 7, true, [(day.AddDays(-2), 8_888)], DateTimeOffset.UtcNow)
        {
            Days = [new KpiMeasureRow("placed", day.AddDays(-1), "agency-a", 9_999, 12)],
            Treatment = new AccountTreatmentRow("P9", true, 0.25m, day.AddDays(-6), "0.8-1.0", 13_131, 14_141, ["statement", "final-notice"]),
            Fairness = new AccountFairnessRow("vi", "high", 0.875, 15, 16),
        };

        // One group: account 1 given twice (the second wins), account 2 with a treatment and no score, account 3 once.
        await store.SaveAllAsync([
            Row("1", 10_000, day, treated: true, score: 0.5, (day, 10_000)),
            Row("2", 5_000, null, treated: true, score: null, (day, 2_000), (day.AddDays(-1), 3_000)),
            Row("1", 20_000, day.AddDays(-3), treated: true, score: 0.25, (day, 20_000), (day.AddDays(-3), 500)),
            other,
        ]);
        var totals = await store.QueryAsync(facility, day.AddDays(-10), day);
        Assert.Equal(34_388L, totals.ChargesInWindowCents);
        Assert.Equal([((DateOnly?)day.AddDays(-7), 1_111L, 2_222L), (day.AddDays(-3), 20_000L, 0L), (null, 5_000L, 0L)],
            totals.Aging.OrderBy(a => a.AgingBasisDate ?? DateOnly.MaxValue).Select(a => (a.AgingBasisDate, a.PatientBalanceCents, a.InsuranceBalanceCents)));
        Assert.Equal((29_444L, 5_555L, 6, 7), (totals.PatientResponsibilityCents, totals.PatientPaidCents, totals.PromisesKept, totals.PromisesBroken));
        Assert.Equal((1, 3_333L, 1, 1_111L), (totals.CreditAccounts, totals.CreditCents, totals.PlacedAccounts, totals.PlacedPatientCents));
        Assert.Equal(2_500L, (await store.DaysAsync(facility, ["cash"], day, day)).Sum(d => d.AmountCents));
        Assert.Equal(new KpiMeasureRow("placed", day.AddDays(-1), "agency-a", 9_999, 12), Assert.Single(await store.DaysAsync(facility, ["placed"], day.AddDays(-1), day)));
        var treatments = await store.TreatmentsAsync(facility).ToListAsync();
        Assert.Equal([(false, 20_000L, "0.4-0.6"), (true, 5_000L, (string?)null), (true, 13_131L, "0.8-1.0")],
            treatments.OrderBy(t => t.OwedCents != 20_000).ThenBy(t => t.OwedCents).Select(t => (t.Control, t.OwedCents, t.ScoreBand)));
        var theirs = Assert.Single(treatments, t => t.PolicyId == "P9");
        Assert.Equal((0.25m, day.AddDays(-6), 14_141L), (theirs.ControlShare, theirs.AssignedOn, theirs.CollectedCents));
        Assert.Equal(["statement", "final-notice"], theirs.Steps);
        Assert.Equal([new AccountFairnessRow("es", "low", 0.25, 1, 0), new AccountFairnessRow("vi", "high", 0.875, 15, 16)],
            (await store.FairnessAsync(facility).ToListAsync()).OrderBy(f => f.Language));

        // Again, without account 3: account 1 loses its treatment, its score and one charge; account 2 gains a score
        // and loses its charges and days. Account 3's rows stay as they were.
        await store.SaveAllAsync([
            Row("1", 7_000, day, treated: false, score: null, (day, 7_000)),
            Row("2", 5_000, null, treated: true, score: 0.75),
        ]);
        totals = await store.QueryAsync(facility, day.AddDays(-10), day);
        Assert.Equal(15_888L, totals.ChargesInWindowCents);
        Assert.Equal(700L, (await store.DaysAsync(facility, ["cash"], day, day)).Sum(d => d.AmountCents));
        Assert.Single(await store.DaysAsync(facility, ["placed"], day.AddDays(-1), day));
        Assert.Equal([5_000L, 13_131L], (await store.TreatmentsAsync(facility).ToListAsync()).Select(t => t.OwedCents).Order());
        Assert.Equal([0.75, 0.875], (await store.FairnessAsync(facility).ToListAsync()).Select(f => f.Score!.Value).Order());
    }
}
