using Collections.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Collections.Grains;

public static class ProjectionServiceCollectionExtensions
{
    /// <summary>The account journal (one commit per command) and the projections fed from its event log, run on every silo.</summary>
    public static IServiceCollection AddCollectionsJournal(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<AccountJournal>();
        services.TryAddSingleton<LegacyAccountStates>();
        services.TryAddSingleton<AccountEventLog>();
        services.TryAddSingleton(configuration.GetSection("Collections:Projections").Get<ProjectionSettings>() ?? new ProjectionSettings());
        services.AddSingleton<IAccountProjection, WebhookProjection>();
        services.AddSingleton<IAccountProjection, KpiProjection>();
        services.AddSingleton<IAccountProjection, WorklistProjection>();
        services.AddSingleton<IAccountProjection, CreditBalanceProjection>();
        services.AddSingleton<IAccountProjection, PlacementProjection>();
        services.AddSingleton<IAccountProjection, ScoreOutcomeProjection>();
        services.AddSingleton<IAccountProjection, OutboxReactionProjection>();
        services.AddSingleton<IAccountProjection, ReceiptProjection>();
        services.TryAddSingleton(sp => new GateDecisionStore(sp.GetRequiredService<DatabaseOptions>()));
        services.AddSingleton<IAccountProjection, GateDecisionProjection>();
        services.TryAddSingleton<CallerIndexStore>();
        services.AddSingleton<IAccountProjection, CallerIndexProjection>();
        services.TryAddSingleton<Outreach.IOutboxSendCheck, AccountSendCheck>();
        services.TryAddSingleton<ProjectionRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        return services;
    }
}
