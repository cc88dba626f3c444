using Collections.Persistence;
using Collections.TestSupport;

namespace Collections.Grains.Tests;

/// <summary>One deployment per PostgreSQL database and schema: a local engine alone, a cluster's silos together.</summary>
public sealed class DeploymentLockTests
{
    [PostgresFact]
    public async Task A_local_engine_holds_its_database_alone_and_a_clusters_silos_hold_it_together()
    {
        var database = await TestDatabases.PostgresAsync();

        await using (var local = await DeploymentLock.TryTakeAsync(database, shared: false))
        {
            Assert.NotNull(local);
            Assert.Null(await DeploymentLock.TryTakeAsync(database, shared: false)); // a second local engine
            Assert.Null(await DeploymentLock.TryTakeAsync(database, shared: true)); // a cluster's silo
        }

        // The local engine stopped: a cluster's silos take the database together, and a local engine is refused while any runs.
        var silo1 = await DeploymentLock.TryTakeAsync(database, shared: true);
        var silo2 = await DeploymentLock.TryTakeAsync(database, shared: true);
        Assert.NotNull(silo1);
        Assert.NotNull(silo2);
        Assert.Null(await DeploymentLock.TryTakeAsync(database, shared: false));
        await silo1!.DisposeAsync();
        Assert.Null(await DeploymentLock.TryTakeAsync(database, shared: false));
        await silo2!.DisposeAsync();
        await using var after = await DeploymentLock.TryTakeAsync(database, shared: false);
        Assert.NotNull(after);

        // Another database on the same server is another deployment.
        await using var elsewhere = await DeploymentLock.TryTakeAsync(await TestDatabases.PostgresAsync(), shared: false);
        Assert.NotNull(elsewhere);
    }
}
