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
            Assert.Equal((30999L, 0L, 1), (aging.PatientBalanceCents, aging.InsuranceBalanceCents, aging.Accounts));
            Assert.Contains(aging.AgingBasisDate, new DateOnly?[] { today.AddDays(-5), today }); // the service date, or the first statement's once sent
            Assert.Equal(34999L, totals.ChargesInWindowCents);                          // the charge 200 days ago is outside
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
                Assert.Equal(309.99m, figures.RootElement.GetProperty("totalAr").GetDecimal());
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
}
