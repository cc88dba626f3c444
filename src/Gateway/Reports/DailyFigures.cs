using System.Text.Json.Serialization;
using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Persistence;

namespace Collections.Gateway.Reports;

/// <summary>
/// One day's flows: cash by channel (and in all), agency placements and recalls, agents' calls (inbound among them) and
/// right-party contacts, and the right-party contact rate of the outbound calls (someone who calls in is always reached).
/// </summary>
public sealed record DailyFigure(
    DateOnly Day, IReadOnlyDictionary<string, decimal> Cash, decimal CashTotal, int Placed, int Recalled, int Calls, int Inbound, int Contacts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? RightPartyContactRate);

public sealed record DailyFigures(string Facility, DateOnly From, DateOnly To, IReadOnlyList<string> Channels, IReadOnlyList<DailyFigure> Days);

/// <summary>An agent's work over a period (or one day); the right-party contact rate is of their outbound calls.</summary>
public sealed record AgentFigures(
    string Agent, int Calls, int Inbound, int Contacts, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? RightPartyContactRate,
    int Promises, int PromisesKept, int Plans, decimal CollectedAfterContact, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? AverageHandleSeconds);

public sealed record AgentDay(DateOnly Day, IReadOnlyList<AgentFigures> Agents);

public sealed record AgentPerformance(string Facility, DateOnly From, DateOnly To, int AttributionDays, IReadOnlyList<AgentFigures> Agents, IReadOnlyList<AgentDay> Days);

/// <summary>
/// The supervisors' daily flows and agents' performance, summed from the KPI projection's per-day rows (no patient data:
/// channels, counts, amounts and agents' key ids).
/// </summary>
public sealed class DailyReports(KpiStore store, TimeProvider clock)
{
    private static readonly string[] FlowMeasures = [.. new[] { KpiMeasure.Cash, KpiMeasure.Placed, KpiMeasure.Recalled, KpiMeasure.AgentCalls, KpiMeasure.AgentContacts, KpiMeasure.AgentInbound }.Select(KpiDayFacts.Name)];
    private static readonly string[] AgentMeasures = [.. Enum.GetValues<KpiMeasure>().Where(m => m.ToString().StartsWith("Agent", StringComparison.Ordinal)).Select(KpiDayFacts.Name)];

    public static readonly IReadOnlyList<string> Channels = [.. Enum.GetValues<PaymentChannel>().Select(KpiDayFacts.Name)];

    private DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public async Task<DailyFigures> FlowsAsync(string? facility, int days, CancellationToken cancellationToken = default)
    {
        var (from, to) = (Today.AddDays(-(days - 1)), Today);
        var rows = await store.DaysAsync(facility, FlowMeasures, from, to, cancellationToken: cancellationToken);
        return new DailyFigures(facility ?? KpiTrendStore.AllFacilities, from, to, Channels, Flows(rows, from, to));
    }

    public async Task<AgentPerformance> AgentsAsync(string? facility, int days, CancellationToken cancellationToken = default)
    {
        var (from, to) = (Today.AddDays(-(days - 1)), Today);
        var rows = await store.DaysAsync(facility, AgentMeasures, from, to, cancellationToken: cancellationToken);
        return new AgentPerformance(facility ?? KpiTrendStore.AllFacilities, from, to, KpiDayFacts.AttributionDays, Agents(rows),
            rows.GroupBy(r => r.Day).OrderBy(g => g.Key).Select(g => new AgentDay(g.Key, Agents(g.ToList()))).ToList());
    }

    /// <summary>One agent's figures over the UTC days from <paramref name="since"/>'s to today (every facility); null when none.</summary>
    public async Task<AgentFigures?> AgentSinceAsync(string agent, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var rows = await store.DaysAsync(null, AgentMeasures, DateOnly.FromDateTime(since.UtcDateTime), Today, agent, cancellationToken);
        var figures = Agents(rows);
        return figures.Count > 0 ? figures[0] : null;
    }

    /// <summary>One figure per day from <paramref name="from"/> to <paramref name="to"/> (days without rows as zeros).</summary>
    public static IReadOnlyList<DailyFigure> Flows(IReadOnlyList<KpiMeasureRow> rows, DateOnly from, DateOnly to)
    {
        var byDay = rows.ToLookup(r => r.Day);
        var list = new List<DailyFigure>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var today = byDay[day].ToList();
            var cash = Channels.ToDictionary(c => c, c => KpiTrends.Amount(Cents(today.Where(r => r.Subject == c), KpiMeasure.Cash)));
            var calls = (int)Quantity(today, KpiMeasure.AgentCalls);
            var contacts = (int)Quantity(today, KpiMeasure.AgentContacts);
            var inbound = (int)Quantity(today, KpiMeasure.AgentInbound);
            list.Add(new DailyFigure(day, cash, cash.Values.Sum(), (int)Quantity(today, KpiMeasure.Placed), (int)Quantity(today, KpiMeasure.Recalled),
                calls, inbound, contacts, Rate(contacts - inbound, calls - inbound)));
        }
        return list;
    }

    /// <summary>Each agent's figures summed over <paramref name="rows"/>, most calls first.</summary>
    public static IReadOnlyList<AgentFigures> Agents(IReadOnlyList<KpiMeasureRow> rows) => rows.GroupBy(r => r.Subject)
        .Select(g =>
        {
            var list = g.ToList();
            var calls = (int)Quantity(list, KpiMeasure.AgentCalls);
            var contacts = (int)Quantity(list, KpiMeasure.AgentContacts);
            var inbound = (int)Quantity(list, KpiMeasure.AgentInbound);
            var handled = Quantity(list, KpiMeasure.AgentHandled);
            var seconds = Cents(list, KpiMeasure.AgentHandled) / 100;
            return new AgentFigures(g.Key, calls, inbound, contacts, Rate(contacts - inbound, calls - inbound),
                (int)Quantity(list, KpiMeasure.AgentPromises), (int)Quantity(list, KpiMeasure.AgentPromisesKept), (int)Quantity(list, KpiMeasure.AgentPlans),
                KpiTrends.Amount(Cents(list, KpiMeasure.AgentCollected)),
                handled > 0 ? (int)Math.Round((double)seconds / handled) : null);
        })
        .OrderByDescending(a => a.Calls).ThenBy(a => a.Agent, StringComparer.Ordinal).ToList();

    private static long Cents(IEnumerable<KpiMeasureRow> rows, KpiMeasure measure)
    {
        var name = KpiDayFacts.Name(measure);
        return rows.Where(r => r.Measure == name).Sum(r => r.AmountCents);
    }

    private static long Quantity(IEnumerable<KpiMeasureRow> rows, KpiMeasure measure)
    {
        var name = KpiDayFacts.Name(measure);
        return rows.Where(r => r.Measure == name).Sum(r => r.Quantity);
    }

    private static decimal? Rate(int part, int whole) => whole > 0 ? decimal.Round((decimal)part / whole, 4, MidpointRounding.AwayFromZero) : null;
}
