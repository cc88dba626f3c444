using Collections.Domain;
using Collections.Domain.Kpi;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>The account's row in the supervisors' KPI tables.</summary>
public sealed partial class PatientAccountGrain
{
    /// <summary>
    /// Keeps the account's KPI row current, at the end of every cadence run (every posting runs one): the facts are
    /// written only when their fingerprint differs from the one last written, and the new fingerprint is kept in the
    /// state. The row is an idempotent upsert, so writing it twice is harmless. A failure keeps the old fingerprint, so
    /// the next run writes again; the warning names no patient.
    /// </summary>
    private async Task PublishKpiFactsAsync(AccountBalances balances, DateTimeOffset now)
    {
        try
        {
            var facts = KpiFacts(balances, now);
            var fingerprint = facts.Fingerprint();
            if (fingerprint == State.KpiFingerprint) return;
            await kpis.SaveAsync(KpiRows.From(facts, now));
            // Kept in memory and written with the account's next state write, not by a write of its own (that would be
            // one more durable write on every posting): after a restart before then, the row is only written again.
            State.KpiFingerprint = fingerprint;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger<PatientAccountGrain>()
                .LogWarning("Could not update an account's KPI row ({Error}); the next cadence run tries again", ex.GetType().Name);
        }
    }

    private AccountKpiFacts KpiFacts(AccountBalances balances, DateTimeOffset now) => AccountKpiFacts.Of(
        Key, State.Entries, balances, State.Promises,
        Aging.Of(State.FirstPatientStatementDate, State.Entries, DateOnly.FromDateTime(State.OpenedAt.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime)).BasisDate,
        placedWithAgency: State.PlacedWithAgencyAt is not null && State.RecalledFromAgencyAt is null);
}

/// <summary>An account's KPI facts as the store's row (amounts in cents).</summary>
public static class KpiRows
{
    public static AccountKpiRow From(AccountKpiFacts f, DateTimeOffset now) => new(
        f.Facility, f.AccountNumber, AccountKpiFacts.Cents(f.PatientBalance), AccountKpiFacts.Cents(f.InsuranceBalance), AccountKpiFacts.Cents(f.CreditBalance),
        f.AgingBasisDate, AccountKpiFacts.Cents(f.PatientResponsibilityTotal), AccountKpiFacts.Cents(f.PatientPaidTotal), f.PromisesKept, f.PromisesBroken,
        f.PlacedWithAgency, f.ChargesByDate.Select(c => (c.EffectiveDate, AccountKpiFacts.Cents(c.Amount))).ToList(), now);
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
