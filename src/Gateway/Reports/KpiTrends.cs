using System.Text.Json;
using System.Text.Json.Serialization;
using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Grains;
using Collections.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Collections.Gateway.Reports;

/// <summary>
/// The supervisors' KPI trends: each facility's figures (and every facility's together) per day. Today's are recorded
/// from the KPI projection's current totals, again and again through the day, so a day's row ends as its last
/// recording; past days missing from the table are rebuilt from the accounts' ledgers by the backfill, which never
/// overwrites a recorded day. No patient data: figures only.
/// </summary>
public sealed class KpiTrends(KpiStore kpis, KpiTrendStore trends, AccountDirectory directory, IGrainFactory grains, TimeProvider clock)
{
    /// <summary>How figures are stored and answered: the API's JSON (camelCase, enums as names).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    /// <summary>The most days a backfill rebuilds.</summary>
    public const int MaxBackfillDays = 400;

    private DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public static string Serialize(PortfolioKpis figures) => JsonSerializer.Serialize(figures, Json);

    /// <summary>The store's sums (cents) as the domain's totals.</summary>
    public static PortfolioTotals ToTotals(KpiTotalsRow r) => new()
    {
        Aging = r.Aging.Select(a => new AgingGroup(a.AgingBasisDate, Amount(a.PatientBalanceCents), Amount(a.InsuranceBalanceCents), a.Accounts)).ToList(),
        PatientPaid = Amount(r.PatientPaidCents),
        PatientResponsibility = Amount(r.PatientResponsibilityCents),
        PromisesKept = r.PromisesKept,
        PromisesBroken = r.PromisesBroken,
        CreditAccounts = r.CreditAccounts,
        CreditAmount = Amount(r.CreditCents),
        PlacedAccounts = r.PlacedAccounts,
        PlacedAmount = Amount(r.PlacedPatientCents),
        GrossChargesInWindow = Amount(r.ChargesInWindowCents),
        RevenueDeductionsInWindow = Amount(r.RevenueDeductionsInWindowCents),
        PaidInFullAccounts = r.PaidInFullAccounts,
        PaidInFullDays = r.PaidInFullDays,
        RefundsOverdueAccounts = r.RefundsOverdueAccounts,
        RefundsOverdueAmount = Amount(r.RefundsOverdueCents),
    };

    public static decimal Amount(long cents) => Money.Normalize(cents / 100m);

    /// <summary>The figures now for one facility, or every facility (null): what GET /api/kpis answers.</summary>
    public async Task<PortfolioKpis> NowAsync(string? facility, CancellationToken cancellationToken = default)
    {
        var today = Today;
        var totals = await kpis.QueryAsync(facility, PortfolioKpis.ChargeWindowStart(today), today, cancellationToken);
        return PortfolioKpis.Compute(ToTotals(totals), today);
    }

    /// <summary>How far behind the KPI projection is allowed to be when today's figures are recorded.</summary>
    public static readonly TimeSpan MaxProjectionLag = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Records today's figures for every facility and for all of them. Returns how many rows it wrote: none while the KPI
    /// projection is far behind (rebuilding, or catching up after a restart), so a day never ends on half-applied totals.
    /// </summary>
    public async Task<int> RecordTodayAsync(CancellationToken cancellationToken = default)
    {
        var status = await grains.GetGrain<IProjectionControlGrain>(0).Status();
        if (status.FirstOrDefault(p => p.Name == "kpi") is { } kpi && kpi.LagSeconds > MaxProjectionLag.TotalSeconds) return 0;
        var today = Today;
        var rows = new List<(string, DateOnly, string)>();
        foreach (var facility in (await kpis.FacilitiesAsync(cancellationToken)).Append(null))
            rows.Add((facility ?? KpiTrendStore.AllFacilities, today, Serialize(await NowAsync(facility, cancellationToken))));
        await trends.SaveLiveAsync(rows, cancellationToken);
        return rows.Count;
    }

    /// <summary>
    /// Rebuilds the <paramref name="days"/> days before today from every account's history (money by its effective
    /// date) and adds those the table does not have. Returns the rows added. On the way it asks every account to run its
    /// cadence (one way): an account whose facts changed meaning since it last published them (an upgrade that added
    /// figures) publishes them again, so the daily figures and the caller index cover accounts nothing has touched since.
    /// </summary>
    public async Task<int> BackfillAsync(int days, CancellationToken cancellationToken = default)
    {
        var today = Today;
        var first = today.AddDays(-days);
        var sums = new Dictionary<(string Facility, DateOnly Day), PortfolioTotalsBuilder>();
        void Add(string facility, DateOnly day, AccountKpiFacts facts)
        {
            if (!sums.TryGetValue((facility, day), out var builder)) sums[(facility, day)] = builder = new PortfolioTotalsBuilder(day);
            builder.Add(facts);
        }
        await foreach (var key in directory.AllAsync(cancellationToken: cancellationToken))
        {
            var account = grains.GetGrain<IPatientAccountGrain>(key);
            if (await account.GetKpiHistory() is not { } history) continue;
            await account.Reevaluate(); // one-way: publishes its facts again only if they changed
            for (var day = first; day < today; day = day.AddDays(1))
            {
                if (history.AsOf(day) is not { } facts) continue;
                Add(history.Account.Facility, day, facts);
                Add(KpiTrendStore.AllFacilities, day, facts);
            }
        }
        var rows = sums.OrderBy(s => s.Key.Day).Select(s => (s.Key.Facility, s.Key.Day, Serialize(PortfolioKpis.Compute(s.Value.Build(), s.Key.Day)))).ToList();
        var added = 0;
        foreach (var chunk in rows.Chunk(500)) added += await trends.SaveBackfillAsync(chunk, cancellationToken);
        return added;
    }
}

/// <summary>Records today's KPI figures every <c>Collections:Kpi:TrendMinutes</c> (15 by default), on every silo (the rows are the same whoever writes them).</summary>
public sealed class KpiTrendRecorder(KpiTrends trends, IConfiguration configuration, TimeProvider clock, ILogger<KpiTrendRecorder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromMinutes(Math.Clamp(configuration.GetValue("Collections:Kpi:TrendMinutes", 15.0), 0.05, 24 * 60));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await trends.RecordTodayAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Recording today's KPI figures failed; trying again in {Minutes} min", every.TotalMinutes);
            }
            try
            {
                await Task.Delay(every, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

public static class KpiTrendServiceCollectionExtensions
{
    /// <summary>The KPI tables, the trend table and the trends service (the API's reads and the backfill).</summary>
    public static IServiceCollection AddCollectionsKpiTrends(this IServiceCollection services)
    {
        services.TryAddSingleton<KpiStore>();
        services.TryAddSingleton<KpiTrendStore>();
        services.TryAddSingleton(sp => new AccountDirectory(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton<KpiTrends>();
        services.TryAddSingleton<DailyReports>();
        services.TryAddSingleton(sp => new GateDecisionStore(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton<ComplianceOverview>();
        return services;
    }

    /// <summary>Today's figures recorded every few minutes: on silos, where the KPI projection runs.</summary>
    public static IServiceCollection AddCollectionsKpiTrendRecorder(this IServiceCollection services)
    {
        services.AddCollectionsKpiTrends();
        services.AddHostedService<KpiTrendRecorder>();
        return services;
    }
}
