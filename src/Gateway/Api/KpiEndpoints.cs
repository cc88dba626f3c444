using System.Text.Json.Serialization;
using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Gateway.Security;
using Collections.Gateway.Reports;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>Supervisors' portfolio KPIs: A/R by aging bucket, days in A/R, collection rate, promise-kept rate.</summary>
public static class KpiEndpoints
{
    public static RouteGroupBuilder MapKpis(this RouteGroupBuilder api)
    {
        api.MapGet("/kpis/trend", Trend).WithTags("Reports").RequireAuthorization(Policies.ReadKpis).WithName("KpiTrend")
            .WithSummary("The same figures per day over the last days (days=90, at most 400) for one facility (facility=CODE) or all, oldest first: each past day as recorded that day (source live) or rebuilt from the ledgers (source backfill), and today as of now (source now). Days nobody recorded and no backfill covered are left out.");
        api.MapPost("/admin/kpis/backfill", Backfill).WithTags("Reports").RequireAuthorization(Policies.OperateCluster).WithName("BackfillKpiTrend")
            .WithSummary("Rebuilds the KPI trend's past days (days=90, at most 400) from every account's ledger, money by its effective date, adding the days not yet recorded (a recorded day is kept). For a portfolio that arrived with its history. Walks every account: minutes for a large portfolio.");
        api.MapGet("/compliance", Compliance).WithTags("Reports").RequireAuthorization(Policies.ReadAudit).WithName("ComplianceView")
            .WithSummary("The compliance view of one facility (facility=CODE) or all, over the last days (days=30, at most 400): the compliance gate's decisions counted by day, verdict (allow, deny, defer) and rule, and the queues waiting for a person (unclear replies, patient messages, financial-assistance applications, disputes) with how many are open and the oldest's arrival. No patient data.");
        api.MapGet("/kpis/daily", Daily).WithTags("Reports").RequireAuthorization(Policies.ReadKpis).WithName("KpiDaily")
            .WithSummary("One facility's (facility=CODE) or every facility's flows per day over the last days (days=90, at most 400), every day listed: cash received by channel (agent, patientPage, mail, agency, remittance, other; payments by their effective date, reversed payments left out) and in all, accounts placed with and recalled from agencies, agents' calls and right-party contacts with their rate. No patient data.");
        api.MapGet("/kpis/agents", AgentPerformance).WithTags("Reports").RequireAuthorization(Policies.ReadKpis).WithName("AgentPerformance")
            .WithSummary("Each agent's work over the last days (days=1 is today, UTC; at most 400), in all and per day: calls (inbound among them), right-party contacts and their rate, promises taken and kept, plans set up, patient payments received within 30 days after the agent's conversation with the guarantor (the latest such agent gets them), and the average handle time of worklist calls (from taking the account to recording the outcome). Agents by key id; no patient data.");
        api.MapGet("/kpis", Get).WithTags("Reports").RequireAuthorization(Policies.ReadKpis)
            .WithSummary("Portfolio KPIs of one facility (facility=CODE) or all: A/R by aging bucket (credit balances excluded), patient and insurance A/R, days in A/R against the last 90 days of net patient revenue (gross charges less adjustments), collection rate, promise-kept rate, credit balances and agency placements. Each account's figures are current as of its last posting or cadence run.");
        return api;
    }

    public sealed record BucketResponse(string Label, decimal Amount, int Accounts);

    public sealed record CountAmount(int Accounts, decimal Amount);

    public sealed record KpiResponse(
        DateOnly AsOf, string Facility, int AccountsWithBalance, decimal TotalAr, decimal PatientAr, decimal InsuranceAr,
        IReadOnlyList<BucketResponse> Aging, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? DaysInAr, decimal GrossChargesLast90Days,
        decimal NetRevenueLast90Days,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? CollectionRate,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? PromiseKeptRate,
        int PromisesKept, int PromisesBroken, CountAmount CreditBalances, CountAmount PlacedWithAgency,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? AverageDaysToPaidInFull, int PaidInFullLast90Days,
        CountAmount RefundsOverdue);

    /// <summary>What the response calls "every facility".</summary>
    public const string AllFacilities = "*";

    public sealed record TrendDay(DateOnly Day, string Source, System.Text.Json.JsonElement Figures);

    public sealed record TrendResponse(string Facility, IReadOnlyList<TrendDay> Days);

    private static ProblemHttpResult? CheckFacility(string? facility) => facility is not null && !Identifiers.IsFacility(facility)
        ? Problems.Invalid("facility", "facility.invalid", "The facility code must be 1 to 32 letters, digits, '-' or '_' (leave it out for every facility).")
        : null;

    private static ProblemHttpResult? CheckDays(int days) => days is < 1 or > KpiTrends.MaxBackfillDays
        ? Problems.Invalid("days", "days.out-of-range", $"days must be between 1 and {KpiTrends.MaxBackfillDays}.")
        : null;

    private static async Task<Results<Ok<TrendResponse>, ProblemHttpResult>> Trend(
        string? facility, int? days, KpiTrends trends, KpiTrendStore store, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if ((CheckFacility(facility) ?? CheckDays(days ?? 90)) is { } invalid) return invalid;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var stored = await store.ReadAsync(facility ?? KpiTrendStore.AllFacilities, today.AddDays(-(days ?? 90) + 1), today.AddDays(-1), cancellationToken);
        var list = stored.Select(d => new TrendDay(d.Day, d.Source, Figures(d.Figures))).ToList();
        var now = await trends.NowAsync(facility, cancellationToken);
        list.Add(new TrendDay(today, "now", System.Text.Json.JsonSerializer.SerializeToElement(now, KpiTrends.Json)));
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "kpi.trend.read", "portfolio", facility ?? AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, $"days={list.Count}"), cancellationToken);
        return TypedResults.Ok(new TrendResponse(facility ?? AllFacilities, list));
    }

    private static async Task<Results<Ok<ComplianceView>, ProblemHttpResult>> Compliance(
        string? facility, int? days, ComplianceOverview overview, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if ((CheckFacility(facility) ?? CheckDays(days ?? 30)) is { } invalid) return invalid;
        var view = await overview.GetAsync(facility, days ?? 30, cancellationToken);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "compliance.read", "portfolio", facility ?? AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, $"days={days ?? 30}"), cancellationToken);
        return TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<DailyFigures>, ProblemHttpResult>> Daily(
        string? facility, int? days, DailyReports reports, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if ((CheckFacility(facility) ?? CheckDays(days ?? 90)) is { } invalid) return invalid;
        var figures = await reports.FlowsAsync(facility, days ?? 90, cancellationToken);
        await ReadAsync(audit, clock, http, "kpi.daily.read", facility, $"days={days ?? 90}", cancellationToken);
        return TypedResults.Ok(figures);
    }

    private static async Task<Results<Ok<AgentPerformance>, ProblemHttpResult>> AgentPerformance(
        string? facility, int? days, DailyReports reports, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if ((CheckFacility(facility) ?? CheckDays(days ?? 7)) is { } invalid) return invalid;
        var performance = await reports.AgentsAsync(facility, days ?? 7, cancellationToken);
        await ReadAsync(audit, clock, http, "kpi.agents.read", facility, $"days={days ?? 7};agents={performance.Agents.Count}", cancellationToken);
        return TypedResults.Ok(performance);
    }

    /// <summary>Audits a read of portfolio figures (no person in them: one record for the facility).</summary>
    private static Task ReadAsync(IAuditTrail audit, TimeProvider clock, HttpContext http, string action, string? facility, string detail, CancellationToken cancellationToken)
    {
        var caller = http.ToCaller();
        return audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, action, "portfolio", facility ?? AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, detail), cancellationToken);
    }

    private static System.Text.Json.JsonElement Figures(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public sealed record BackfillResponse(int Days, int RowsAdded);

    private static async Task<Results<Ok<BackfillResponse>, ProblemHttpResult>> Backfill(
        int? days, KpiTrends trends, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if (CheckDays(days ?? 90) is { } invalid) return invalid;
        var added = await trends.BackfillAsync(days ?? 90, cancellationToken);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "kpi.trend.backfill", "portfolio", AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, $"days={days ?? 90};rows={added}"), cancellationToken);
        return TypedResults.Ok(new BackfillResponse(days ?? 90, added));
    }

    private static async Task<Results<Ok<KpiResponse>, ProblemHttpResult>> Get(
        string? facility, KpiTrends trends, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        if (CheckFacility(facility) is { } invalid) return invalid;
        var now = clock.GetUtcNow();
        var kpis = await trends.NowAsync(facility, cancellationToken);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(now, caller.Actor, caller.Role, "kpi.read", "portfolio", facility ?? AllFacilities, "ok",
            caller.ClientAddress, caller.CorrelationId, $"accounts={kpis.AccountsWithBalance}"), cancellationToken);
        return TypedResults.Ok(new KpiResponse(
            kpis.AsOf, facility ?? AllFacilities, kpis.AccountsWithBalance, kpis.TotalAr, kpis.PatientAr, kpis.InsuranceAr,
            kpis.Aging.Select(b => new BucketResponse(b.Label, b.Amount, b.Accounts)).ToList(),
            kpis.DaysInAr, kpis.GrossChargesLast90Days, kpis.NetRevenueLast90Days, kpis.CollectionRate, kpis.PromiseKeptRate, kpis.PromisesKept, kpis.PromisesBroken,
            new CountAmount(kpis.CreditBalanceAccounts, kpis.CreditBalanceAmount), new CountAmount(kpis.PlacedAccounts, kpis.PlacedAmount),
            kpis.AverageDaysToPaidInFull, kpis.PaidInFullLast90Days, new CountAmount(kpis.RefundsOverdueAccounts, kpis.RefundsOverdueAmount)));
    }
}
