using Collections.Hosting;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>Starts an in-process Orleans cluster wired exactly as the engine is: ADO.NET storage and reminders, audit trail.</summary>
public static class TestClusters
{
    public static async Task<InProcessTestCluster> StartAsync(DatabaseOptions database, string serviceId, short silos = 1)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.AddSingleton(database);
            host.Services.AddSingleton<IAuditTrail, DatabaseAuditTrail>();
        });
        builder.ConfigureSilo((_, silo) => silo.AddCollectionsStorage(database));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
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
