using Collections.Hosting;
using Collections.Outreach;
using Collections.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>Starts an in-process Orleans cluster wired exactly as the engine is: ADO.NET storage and reminders, audit trail, outreach.</summary>
public static class TestClusters
{
    /// <param name="clock">
    /// A fake clock for the grains and for Orleans' reminders (its keyed <c>Orleans.Reminders</c> time provider), so a
    /// test can move time forward and watch reminders fire; Orleans' own background work stays on real time.
    /// </param>
    /// <param name="services">More services for the silos (registered first, so they replace the engine's defaults).</param>
    public static async Task<InProcessTestCluster> StartAsync(DatabaseOptions database, string serviceId, short silos = 1,
        FakeTimeProvider? clock = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        // Scoring is off unless a test turns it on: training a bootstrap model costs seconds of CPU other tests do not need.
        var values = new Dictionary<string, string?> { ["Collections:Scoring:Enabled"] = "false" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSiloHost((_, host) =>
        {
            services?.Invoke(host.Services);
            host.Services.AddKnownGrainInterfaceTypes();
            host.Services.AddSingleton(database);
            host.Services.AddSingleton<IAuditTrail, DatabaseAuditTrail>();
            host.Services.AddSingleton(SiloConfiguration.CadenceSettingsFrom(configuration));
            host.Services.AddSingleton(SiloConfiguration.RemittanceRulesFrom(configuration));
            host.Services.AddSingleton(SiloConfiguration.ZipIncomeBandsFrom(configuration));
            if (clock is not null)
            {
                host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
                host.Services.AddSingleton<TimeProvider>(clock);
                host.Services.AddKeyedSingleton<TimeProvider>("Orleans.Reminders", clock);
            }
            host.Services.AddCollectionsOutreach(configuration);
            host.Services.AddCollectionsScoring(configuration);
            host.Services.AddCollectionsWorklist();
            host.Services.AddCollectionsKpis();
            host.Services.AddCollectionsJournal(configuration);
            host.Services.AddCollectionsPortal(configuration);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddCollectionsStorage(database);
            silo.AddIncomingGrainCallFilter<GrainCallCycleGuard>().AddOutgoingGrainCallFilter<GrainCallCycleGuard>();
            // Orleans keeps only reminders due within this window in memory and loads later ones on a periodic
            // refresh that runs on real time; a fake clock racing ahead must find every reminder already loaded.
            if (clock is not null)
                silo.Configure<Orleans.Hosting.ReminderOptions>(o => o.ReminderLoadingWindow = TimeSpan.FromDays(3650));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Waits until every projection (worklist, KPIs, registers, webhooks, outbox reactions) has applied every event committed so far.</summary>
    /// <summary>Stops every silo, then disposes the cluster.</summary>
    public static async Task StopAsync(this InProcessTestCluster cluster)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }

    public static Task ProjectionsCaughtUpAsync(this InProcessTestCluster cluster) =>
        cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<ProjectionRunner>().CatchUpAsync(TimeSpan.FromSeconds(20));
}

/// <summary>One SQLite-backed cluster shared by the tests of a collection.</summary>
public sealed class SqliteClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public DatabaseOptions Database { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        Database = await TestSupport.TestDatabases.NewSqliteAsync();
        Cluster = await TestClusters.StartAsync(Database, TestSupport.TestDatabases.NewServiceId());
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SqliteClusterCollection : ICollectionFixture<SqliteClusterFixture>
{
    public const string Name = "SQLite cluster";
}
