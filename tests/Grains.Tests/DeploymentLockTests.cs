using Collections.Persistence;
using Collections.TestSupport;

namespace Collections.Grains.Tests;

/// <summary>One deployment per PostgreSQL database and schema: a local engine alone, one cluster's silos together.</summary>
public sealed class DeploymentLockTests
{
    private static async Task<DeploymentLock?> TakeAsync(DatabaseOptions database, string? clusterId, DeploymentRefusal expected = DeploymentRefusal.None)
    {
        var (held, refusal) = await DeploymentLock.TryTakeAsync(database, clusterId);
        Assert.Equal(expected, refusal);
        Assert.Equal(expected == DeploymentRefusal.None, held is not null);
        return held;
    }

    [PostgresFact]
    public async Task A_local_engine_holds_its_database_alone_and_a_clusters_silos_hold_it_together()
    {
        var database = await TestDatabases.PostgresAsync();

        await using (await TakeAsync(database, null))
        {
            await TakeAsync(database, null, DeploymentRefusal.InUse); // a second local engine
            await TakeAsync(database, "blue", DeploymentRefusal.HeldAlone); // a cluster's silo
        }

        // The local engine stopped: a cluster's silos take the database together, and a local engine is refused while any runs.
        var silo1 = await TakeAsync(database, "blue");
        var silo2 = await TakeAsync(database, "blue");
        await TakeAsync(database, null, DeploymentRefusal.InUse);
        await silo1!.DisposeAsync();
        await TakeAsync(database, null, DeploymentRefusal.InUse);
        await silo2!.DisposeAsync();
        await using var after = await TakeAsync(database, null);

        // Another database on the same server is another deployment.
        await using var elsewhere = await TakeAsync(await TestDatabases.PostgresAsync(), null);
    }

    [PostgresFact]
    public async Task A_silo_of_another_cluster_is_refused_on_a_database_a_cluster_runs_on()
    {
        var database = await TestDatabases.PostgresAsync();
        await using (await TakeAsync(database, "blue"))
        {
            await TakeAsync(database, "green", DeploymentRefusal.AnotherCluster);
            await using var sameCluster = await TakeAsync(database, "blue"); // its other silos (of any release that takes the lock)
        }
        // Blue's silos all stopped: green may have the database (and blue is refused while green runs).
        await using var green = await TakeAsync(database, "green");
        await TakeAsync(database, "blue", DeploymentRefusal.AnotherCluster);
    }
}
