using Collections.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Collections.Grains;

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// Live scoring in a silo: the model catalog and outcome log in the engine's database, this silo's live models
    /// (kept current by a background refresher that also trains the bootstrap model on a first start), and the
    /// account directory the portfolio rescore walks. Settings from <c>Collections:Scoring</c>.
    /// </summary>
    public static IServiceCollection AddCollectionsScoring(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("Collections:Scoring").Get<ScoringSettings>() ?? new ScoringSettings();
        if (settings.RescoreAccountsPerSecond < 1)
            throw new InvalidOperationException("Collections:Scoring:RescoreAccountsPerSecond must be at least 1.");
        if (settings.RefreshInterval < TimeSpan.FromMilliseconds(100))
            throw new InvalidOperationException("Collections:Scoring:RefreshInterval must be at least 00:00:00.1.");
        services.TryAddSingleton(settings);
        services.TryAddSingleton(sp => new ScoringModelCatalog(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton(sp => new ScoreOutcomeLog(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton(sp => new AccountDirectory(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton<LiveScoringModels>();
        services.TryAddSingleton<AccountScoring>();
        if (settings.Enabled) services.AddHostedService<ScoringModelRefresher>();
        return services;
    }
}
