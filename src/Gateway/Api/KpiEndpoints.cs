using System.Text.Json.Serialization;
using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Gateway.Security;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>Supervisors' portfolio KPIs: A/R by aging bucket, days in A/R, collection rate, promise-kept rate.</summary>
public static class KpiEndpoints
{
    public static RouteGroupBuilder MapKpis(this RouteGroupBuilder api)
    {
        api.MapGet("/kpis", Get).WithTags("Reports").RequireAuthorization(Policies.ReadKpis)
            .WithSummary("Portfolio KPIs of one facility (facility=CODE) or all: A/R by aging bucket (credit balances excluded), patient and insurance A/R, days in A/R against the last 90 days of gross charges, collection rate, promise-kept rate, credit balances and agency placements. Each account's figures are current as of its last posting or cadence run.");
        return api;
    }

    public sealed record BucketResponse(string Label, decimal Amount, int Accounts);

    public sealed record CountAmount(int Accounts, decimal Amount);

    public sealed record KpiResponse(
        DateOnly AsOf, string Facility, int AccountsWithBalance, decimal TotalAr, decimal PatientAr, decimal InsuranceAr,
        IReadOnlyList<BucketResponse> Aging, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? DaysInAr, decimal GrossChargesLast90Days,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? CollectionRate,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? PromiseKeptRate,
        int PromisesKept, int PromisesBroken, CountAmount CreditBalances, CountAmount PlacedWithAgency);

    /// <summary>What the response calls "every facility".</summary>
    public const string AllFacilities = "*";

    private static async Task<Results<Ok<KpiResponse>, ProblemHttpResult>> Get(
        string? facility, KpiStore store, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if (facility is not null && !Identifiers.IsFacility(facility))
            return Problems.Invalid("facility", "facility.invalid", "The facility code must be 1 to 32 letters, digits, '-' or '_' (leave it out for every facility).");
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var totals = await store.QueryAsync(facility, PortfolioKpis.ChargeWindowStart(today), today, cancellationToken);
        var kpis = PortfolioKpis.Compute(ToTotals(totals), today);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(now, caller.Actor, caller.Role, "kpi.read", "portfolio", facility ?? AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, $"accounts={kpis.AccountsWithBalance}"), cancellationToken);
        return TypedResults.Ok(new KpiResponse(
            kpis.AsOf, facility ?? AllFacilities, kpis.AccountsWithBalance, kpis.TotalAr, kpis.PatientAr, kpis.InsuranceAr,
            kpis.Aging.Select(b => new BucketResponse(b.Label, b.Amount, b.Accounts)).ToList(),
            kpis.DaysInAr, kpis.GrossChargesLast90Days, kpis.CollectionRate, kpis.PromiseKeptRate, kpis.PromisesKept, kpis.PromisesBroken,
            new CountAmount(kpis.CreditBalanceAccounts, kpis.CreditBalanceAmount), new CountAmount(kpis.PlacedAccounts, kpis.PlacedAmount)));
    }

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
    };

    private static decimal Amount(long cents) => Money.Normalize(cents / 100m);
}
