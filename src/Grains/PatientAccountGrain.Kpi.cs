using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Collections.Grains;

/// <summary>The account's row in the supervisors' KPI tables.</summary>
public sealed partial class PatientAccountGrain
{
    /// <summary>
    /// Publishes the account's KPI facts for the KPI projection when their fingerprint differs from the last published
    /// (at the end of every cadence run, which every change runs). The fingerprint is kept in the state, committed
    /// with the facts, so a restart neither loses nor repeats them.
    /// </summary>
    /// <param name="person">The guarantor as the cadence run read them (language, income band); null outside a run (the last run's are kept).</param>
    private void PublishKpiFacts(AccountBalances balances, DateTimeOffset now, GuarantorContactSummary? person = null)
    {
        var facts = KpiFacts(balances, now);
        if (person is not null)
        {
            State.GuarantorLanguage = person.PreferredLanguage;
            State.GuarantorIncomeBand = person.IncomeBand;
        }
        if (State is { GuarantorLanguage: { } language, GuarantorIncomeBand: { } band })
        {
            var calls = State.AgentCalls.Count(c => !c.Inbound);
            facts = facts with
            {
                Fairness = new FairnessFacts
                {
                    Language = language, IncomeBand = band, Score = State.Score is { } score ? Math.Round(score.Probability, 2) : null, // to 0.01: a rescore need not rewrite the row
                    OutreachContacts = State.Decisions.Count(d => d.Decision.Verdict == Domain.Compliance.GateVerdict.Allow && FairnessFacts.IsOutreach(d.Action)) + calls,
                    Calls = calls,
                },
            };
        }
        var fingerprint = facts.Fingerprint();
        if (fingerprint == State.KpiFingerprint) return;
        State.KpiFingerprint = fingerprint;
        AddFacts(now, f => f with { Kpi = facts });
    }

    public Task<AccountKpiHistory?> GetKpiHistory() => Task.FromResult(State.IsOpen
        ? new AccountKpiHistory
        {
            // Only what the figures need: no description, note, code, payer, claim or reference leaves the account.
            Account = Key, Opened = DateOnly.FromDateTime(State.OpenedAt.UtcDateTime),
            Entries = State.Entries.Select(e => e with { Description = null, Note = null, Code = null, Payer = null, ClaimReference = null, Reference = null }).ToList(),
            Promises = State.Promises.ToList(),
            FirstPatientStatementDate = State.FirstPatientStatementDate, PlacedWithAgencyAt = State.PlacedWithAgencyAt, RecalledFromAgencyAt = State.RecalledFromAgencyAt,
            EarlierPlacements = State.EarlierPlacements?.ToList() ?? [],
            CreditBalanceSince = State.CreditBalanceSince, RefundDueBy = RefundDueBy,
        }
        : null);

    private AccountKpiFacts KpiFacts(AccountBalances balances, DateTimeOffset now) => AccountKpiFacts.Of(
        Key, State.Entries, balances, State.Promises,
        Aging.Of(State.FirstPatientStatementDate, State.Entries, DateOnly.FromDateTime(State.OpenedAt.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime)).BasisDate,
        placedWithAgency: State.PlacedWithAgencyAt is not null && State.RecalledFromAgencyAt is null) with
    {
        Days = KpiDayFacts.Of(State.Entries, balances, State.FirstPatientStatementDate, Day(State.PlacedWithAgencyAt), Day(State.RecalledFromAgencyAt),
            RefundDueBy, State.Promises, State.Plans, State.AgentCalls, State.EarlierPlacements),
        Treatment = State.Treatment is { } assigned ? TreatmentOutcome.Of(assigned, State.Entries) : null,
    };

    /// <summary>The day a credit balance must be refunded by (null without one).</summary>
    private DateOnly? RefundDueBy => State.CreditBalanceSince is { } since ? DateOnly.FromDateTime(since.UtcDateTime).AddDays(settings.RefundDueDays) : null;

    private static DateOnly? Day(DateTimeOffset? at) => at is { } t ? DateOnly.FromDateTime(t.UtcDateTime) : null;
}

/// <summary>An account's KPI facts as the store's row (amounts in cents).</summary>
public static class KpiRows
{

    public static AccountKpiRow From(AccountKpiFacts f, DateTimeOffset now) => new(
        f.Facility, f.AccountNumber, AccountKpiFacts.Cents(f.PatientBalance), AccountKpiFacts.Cents(f.InsuranceBalance), AccountKpiFacts.Cents(f.CreditBalance),
        f.AgingBasisDate, AccountKpiFacts.Cents(f.PatientResponsibilityTotal), AccountKpiFacts.Cents(f.PatientPaidTotal), f.PromisesKept, f.PromisesBroken,
        f.PlacedWithAgency, f.ChargesByDate.Select(c => (c.EffectiveDate, AccountKpiFacts.Cents(c.Amount))).ToList(), now)
    {
        Days = f.Days.Select(d => new KpiMeasureRow(KpiDayFacts.Name(d.Measure), d.Day, d.Subject, AccountKpiFacts.Cents(d.Amount), d.Count)).ToList(),
        Fairness = f.Fairness is { } fair ? new AccountFairnessRow(fair.Language, fair.IncomeBand, fair.Score, fair.OutreachContacts, fair.Calls) : null,
        Treatment = f.Treatment is { } t
            ? new AccountTreatmentRow(t.PolicyId, t.Control, t.ControlShare, t.AssignedOn, Scoring.UpliftReport.Band(t.ScoreAtAssignment), AccountKpiFacts.Cents(t.Owed), AccountKpiFacts.Cents(t.Collected), t.Steps)
            : null,
    };
}

public static class KpiServiceCollectionExtensions
{
    /// <summary>The KPI reporting store (its tables, group commit) the accounts write to and the API reads.</summary>
    public static IServiceCollection AddCollectionsKpis(this IServiceCollection services)
    {
        services.TryAddSingleton<KpiStore>();
        return services;
    }
}
