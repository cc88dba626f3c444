using Collections.Domain;
using Collections.Persistence;
using Collections.Scoring;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>A two-silo SQLite cluster with live scoring on: a small bootstrap model, silos looking for promotions every 200 ms.</summary>
public sealed class ScoringClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public DatabaseOptions Database { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        Database = await TestSupport.TestDatabases.NewSqliteAsync();
        Cluster = await TestClusters.StartAsync(Database, TestSupport.TestDatabases.NewServiceId(), silos: 2, settings: new Dictionary<string, string?>
        {
            ["Collections:Scoring:Enabled"] = "true",
            ["Collections:Scoring:BootstrapAccounts"] = "1500",
            ["Collections:Scoring:RefreshInterval"] = "00:00:00.2",
            ["Collections:Scoring:RescoreAccountsPerSecond"] = "500",
        });
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ScoringClusterCollection : ICollectionFixture<ScoringClusterFixture>
{
    public const string Name = "scoring cluster";
}

[Collection(ScoringClusterCollection.Name)]
public sealed class ScoringGrainTests(ScoringClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;
    private IScoringModelRegistryGrain Registry => Grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key);

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    private async Task<IPatientAccountGrain> OwingAccountAsync(decimal amount = 480.00m)
    {
        var account = await Samples.OpenAccountAsync(Grains);
        Assert.True((await account.Post(Samples.Charge(amount, Samples.NewId("c")))).Succeeded);
        return account;
    }

    /// <summary>Trains a small model on the synthetic generator and registers it the way the API does.</summary>
    private async Task<string> RegisterTrainedModelAsync(int seed)
    {
        var version = $"test-{seed}-{Guid.NewGuid().ToString("N")[..6]}";
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = seed, Accounts = 1200 }).ToList();
        var result = ModelTrainer.Train(rows, new TrainingOptions { Seed = seed, NumberOfTrees = 30, Version = version });
        var bytes = result.Model.ToBytes();
        var record = new ScoringModelRecord(version, "trained", DateTimeOffset.UtcNow, "test", null, result.Report.ToJson(), ScoringModelCatalog.Sha256Of(bytes));
        Assert.True((await new ScoringModelCatalog(fixture.Database).AddAsync(record, bytes, null)).Added);
        var registered = await Registry.Register(ModelVersionInfo.Describe(version, "trained", record.RegisteredAt, "test", null, record.ReportJson));
        Assert.True(registered.Succeeded);
        return version;
    }

    [Fact]
    public async Task A_first_start_trains_a_bootstrap_model_and_scores_accounts_with_reason_codes()
    {
        var account = await OwingAccountAsync();
        var view = await Eventually(account.Get, v => v?.Score is not null, "the account to be scored");

        var score = view!.Score!;
        Assert.Equal("bootstrap-1", score.ModelVersion);
        Assert.InRange(score.Probability, 0.0, 1.0);
        Assert.Equal(480.00m, score.PatientBalance);
        Assert.Equal(decimal.Round((decimal)score.Probability * 480.00m, 2), score.ExpectedRecovery);
        Assert.NotEmpty(score.Reasons);
        Assert.All(score.Reasons, r => Assert.False(string.IsNullOrWhiteSpace(r.Text)));
        var registry = await Registry.Get();
        Assert.Contains(registry.Versions, v => v.Version == "bootstrap-1" && v.Kind == ModelKind.Bootstrap);
        Assert.Contains(registry.History, c => c.Action == "bootstrap");
    }

    [Fact]
    public async Task Promoting_a_version_rescores_accounts_with_it_on_every_silo_without_a_restart_and_rollback_goes_back()
    {
        var accounts = new List<IPatientAccountGrain>();
        for (var i = 0; i < 6; i++) accounts.Add(await OwingAccountAsync(100m + i * 50m));
        foreach (var account in accounts) await Eventually(account.Get, v => v?.Score is not null, "the accounts to be scored");
        var before = (await Registry.GetAssignment()).Champion!;

        var version = await RegisterTrainedModelAsync(seed: 7);
        var promoted = await Registry.Promote(version, "better on the hold-out");
        Assert.True(promoted.Succeeded);
        foreach (var account in accounts)
            await Eventually(account.Get, v => v!.Score!.ModelVersion == version, $"the account to be rescored by {version}");

        var rolledBack = await Registry.Rollback("test");
        Assert.True(rolledBack.Succeeded);
        Assert.Equal(before, rolledBack.Value!.Champion);
        foreach (var account in accounts)
            await Eventually(account.Get, v => v!.Score!.ModelVersion == before, "the account to be rescored by the earlier champion");
    }

    [Fact]
    public async Task A_rollback_asked_again_with_its_key_rolls_nothing_further_back()
    {
        // The first start adopts its bootstrap model in the background: this test may run before it is the champion.
        var before = (await Eventually(Registry.GetAssignment, a => a.Champion is not null, "the bootstrap model to be the champion")).Champion!;
        var first = await RegisterTrainedModelAsync(seed: 21);
        var second = await RegisterTrainedModelAsync(seed: 22);
        Assert.True((await Registry.Promote(first, "first")).Succeeded);
        Assert.True((await Registry.Promote(second, "second")).Succeeded);
        var key = Guid.NewGuid().ToString("N");

        var once = await Registry.RollbackOnce("calibration drifted", key);
        var again = await Registry.RollbackOnce("calibration drifted", key); // the first answer was lost

        Assert.Equal((first, false), (once.Value!.Champion, once.Replayed));
        Assert.Equal((first, true), (again.Value!.Champion, again.Replayed));
        Assert.Single((await Registry.Get()).History, c => c.IdempotencyKey == key);
        Assert.Equal(first, (await Registry.GetAssignment()).Champion);
        Assert.Equal(before, (await Registry.Rollback("the cluster's other tests score with it")).Value!.Champion); // a new rollback, without the key, goes on back
    }

    [Fact]
    public async Task A_challenger_scores_its_stable_share_of_accounts_and_the_champion_the_rest()
    {
        var challenger = await RegisterTrainedModelAsync(seed: 11);
        var accounts = new List<(string Key, IPatientAccountGrain Grain)>();
        for (var i = 0; i < 16; i++)
        {
            var grain = await OwingAccountAsync(200m + i);
            accounts.Add((grain.GetPrimaryKeyString(), grain));
        }
        Assert.True((await Registry.SetChallenger(challenger, 0.5, "trial")).Succeeded);
        var champion = (await Registry.GetAssignment()).Champion!;
        try
        {
            foreach (var (key, grain) in accounts)
            {
                var expectChallenger = ChallengerBucket.Of(key) < 0.5;
                var view = await Eventually(grain.Get, v => v!.Score is { } s && s.ModelVersion == (expectChallenger ? challenger : champion), "the split to apply");
                Assert.Equal(expectChallenger, view!.Score!.IsChallenger);
            }
        }
        finally
        {
            await Registry.ClearChallenger("done");
        }
    }

    [Fact]
    public async Task The_registry_refuses_unknown_versions_a_challenger_that_is_the_champion_and_shares_out_of_range()
    {
        Assert.Equal("model.not-found", (await Registry.Promote("no-such-version", null)).Errors[0].Code);
        await Eventually(Registry.GetAssignment, a => a.Champion is not null, "a champion");
        var champion = (await Registry.GetAssignment()).Champion!;
        Assert.Equal("model.challenger-is-champion", (await Registry.SetChallenger(champion, 0.1, null)).Errors[0].Code);
        var other = await RegisterTrainedModelAsync(seed: 13);
        Assert.Equal("share.out-of-range", (await Registry.SetChallenger(other, 0.9, null)).Errors[0].Code);
        Assert.Equal("share.out-of-range", (await Registry.SetChallenger(other, 0, null)).Errors[0].Code);
    }

    [Fact]
    public async Task A_paid_off_account_has_no_score()
    {
        var account = await OwingAccountAsync(120m);
        await Eventually(account.Get, v => v?.Score is not null, "the account to be scored");
        Assert.True((await account.Post(Samples.Payment(120m, Samples.NewId("p")))).Succeeded);
        var view = await account.Get();
        Assert.Null(view!.Score);
    }
}
