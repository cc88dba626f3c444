using Collections.Domain;
using Collections.Persistence;
using Collections.TestSupport;

namespace Collections.Grains.Tests;

/// <summary>State written through one cluster is found by a new cluster on the same database.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public Task Ledgers_survive_a_full_cluster_restart_on_sqlite() => LedgerSurvivesRestart(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Ledgers_survive_a_full_cluster_restart_on_postgresql() => LedgerSurvivesRestart(TestDatabases.PostgresAsync);

    [Fact]
    public async Task Applying_the_schema_again_keeps_every_row_on_sqlite()
    {
        var database = await TestDatabases.NewSqliteAsync();
        await SchemaReapplyKeepsState(database);
    }

    [PostgresFact]
    public async Task Applying_the_schema_again_keeps_every_row_on_postgresql()
    {
        var database = await TestDatabases.PostgresAsync();
        await SchemaReapplyKeepsState(database);
    }

    [PostgresFact]
    public async Task An_account_is_still_served_after_the_silo_holding_it_is_killed()
    {
        var database = await TestDatabases.PostgresAsync();
        var cluster = await TestClusters.StartAsync(database, TestDatabases.NewServiceId(), silos: 2);
        try
        {
            var accounts = new List<IPatientAccountGrain>();
            for (var i = 0; i < 6; i++)
            {
                var account = await Samples.OpenAccountAsync(cluster.Client);
                await account.Post(Samples.Charge(250.00m, "c1"));
                await account.Post(Samples.Payment(40.00m, "p1"));
                accounts.Add(account);
            }

            // Kill the secondary silo abruptly: the accounts it held are reactivated on the survivor from PostgreSQL.
            await cluster.KillSiloAsync(cluster.Silos[1]);

            foreach (var account in accounts)
            {
                var view = await RetryAsync(() => account.Get());
                Assert.Equal(210.00m, view!.Balances.Balance);
                Assert.Equal(2, view.Entries.Count);
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task LedgerSurvivesRestart(Func<Task<DatabaseOptions>> database)
    {
        var db = await database();
        var serviceId = TestDatabases.NewServiceId();
        string key;
        var first = await TestClusters.StartAsync(db, serviceId);
        try
        {
            var account = await Samples.OpenAccountAsync(first.Client);
            await account.Post(Samples.Charge(250.00m, "c1"));
            await account.Post(Samples.Payment(40.00m, "p1"));
            key = account.GetPrimaryKeyString();
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var second = await TestClusters.StartAsync(db, serviceId);
        try
        {
            var account = second.Client.GetGrain<IPatientAccountGrain>(key);
            var view = await account.Get();
            Assert.Equal(210.00m, view!.Balances.Balance);
            Assert.Equal([EntryKind.Charge, EntryKind.PatientPayment], view.Entries.Select(e => e.Kind));

            // The idempotency keys survived too: a late retry of the payment posts nothing.
            var retry = await account.Post(Samples.Payment(40.00m, "p1"));
            Assert.True(retry.Value!.IsReplay);
            Assert.Equal(210.00m, (await account.Get())!.Balances.Balance);
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    private static async Task SchemaReapplyKeepsState(DatabaseOptions database)
    {
        var serviceId = TestDatabases.NewServiceId();
        var cluster = await TestClusters.StartAsync(database, serviceId);
        try
        {
            var account = await Samples.OpenAccountAsync(cluster.Client);
            await account.Post(Samples.Charge(99.99m, "c1"));

            await DatabaseSchema.ApplyAsync(database, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            await DatabaseSchema.ApplyAsync(database, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

            await cluster.DeactivateAsync(account);
            Assert.Equal(99.99m, (await account.Get())!.Balances.Balance);
            await account.Post(Samples.Payment(9.99m, "p1"));
            Assert.Equal(90.00m, (await account.Get())!.Balances.Balance);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
