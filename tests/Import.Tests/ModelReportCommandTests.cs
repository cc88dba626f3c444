using System.Net;
using System.Net.Http.Json;
using Collections.Gateway.Tests;

namespace Collections.Import.Tests;

/// <summary><c>collections model uplift|fairness</c> against the running engine: the engine's reports as terminal tables.</summary>
[Collection(EngineCollection.Name)]
public sealed class ModelReportCommandTests(EngineFixture engine)
{
    private Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => engine.RunCliAsync(args);

    [Fact]
    public async Task Uplift_and_fairness_print_the_engines_groups_and_a_bad_option_is_one_line()
    {
        using var admin = engine.Admin();
        var (facility, policyId) = await EngineFixture.SaveHalfControlPolicyAsync(admin, "mr", "Half in control");
        for (var i = 0; i < 6; i++)
        {
            var guarantorId = "G" + Guid.NewGuid().ToString("N")[..10];
            (await admin.PostAsJsonAsync("/api/guarantors", new
            {
                guarantorId, firstName = "Ada", lastName = "Lovelace", dateOfBirth = "1980-02-03",
                address = new { line1 = "1 Main St", city = "Austin", state = "TX", zip = "78701" }, email = "ada@example.com", preferredChannel = "email",
            })).EnsureSuccessStatusCode();
            var number = "A" + Guid.NewGuid().ToString("N")[..10];
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = number, guarantorId })).StatusCode);
            var charge = new HttpRequestMessage(HttpMethod.Post, $"/api/accounts/{facility}/{number}/entries")
            {
                Content = JsonContent.Create(new { kind = "charge", amount = 80.00m, serviceDate = "2026-10-15", code = "99214" }),
            };
            charge.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            (await admin.SendAsync(charge)).EnsureSuccessStatusCode();
        }
        await engine.ProjectionsCaughtUpAsync();

        var uplift = await RunAsync("model", "uplift", "--facility", facility);
        Assert.Equal((0, ""), (uplift.Code, uplift.Error));
        Assert.StartsWith("6 accounts under policies with a control group", uplift.Output);
        Assert.Contains("all accounts", uplift.Output);
        Assert.Contains($"policy {policyId}", uplift.Output);
        Assert.Contains("too few", uplift.Output);

        var fairness = await RunAsync("model", "fairness", "--facility", facility);
        Assert.Equal((0, ""), (fairness.Code, fairness.Error));
        Assert.Contains("income bands from zip-income-b19013.csv", fairness.Output);
        Assert.Contains("language (groups under 11 accounts)", fairness.Output); // six accounts: too few to show

        // The training-set export holds account keys and balances: the file is its owner's only.
        var export = Path.Combine(Directory.CreateTempSubdirectory("export-").FullName, "history.csv");
        var exported = await RunAsync("model", "export", "--out", export);
        Assert.Equal((0, ""), (exported.Code, exported.Error));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(export));

        var bad = await RunAsync("model", "uplift", "--confidence", "0.5");
        Assert.Equal("", bad.Output);
        Assert.NotEqual(0, bad.Code);
        Assert.Single(bad.Error.Trim().Split('\n'));
        Assert.Contains("confidence must be between 0.8 and 0.995", bad.Error);
    }

    [Fact]
    public async Task List_challenger_and_drift_read_and_change_the_registry_from_the_command_line()
    {
        // A fresh engine trains its bootstrap model first: wait until it is the champion.
        var listed = await RunAsync("model", "list");
        for (var i = 0; i < 240 && !listed.Output.Contains("[champion]", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500);
            listed = await RunAsync("model", "list");
        }
        Assert.Equal((0, ""), (listed.Code, listed.Error));
        Assert.StartsWith("champion ", listed.Output);
        var champion = listed.Output.Split('\n').Single(l => l.Contains("[champion]", StringComparison.Ordinal)).Split('[')[0].Trim();
        Assert.Contains("AUC", listed.Output);

        var drift = await RunAsync("model", "drift", "--version", champion);
        Assert.Equal((0, ""), (drift.Code, drift.Error));
        Assert.StartsWith($"{champion}: PSI ", drift.Output);

        // The champion cannot be its own challenger: the engine's refusal, in one line, and a non-zero exit.
        var refused = await RunAsync("model", "challenger", "--version", champion, "--share", "0.1", "--reason", "test");
        Assert.NotEqual(0, refused.Code);
        Assert.Single(refused.Error.Trim().Split('\n'));
        var incomplete = await RunAsync("model", "challenger", "--version", champion);
        Assert.NotEqual(0, incomplete.Code);
        Assert.Contains("--share", incomplete.Error);

        var stopped = await RunAsync("model", "challenger", "--stop");
        Assert.Equal((0, ""), (stopped.Code, stopped.Error));
        Assert.StartsWith($"challenger: champion {champion}", stopped.Output);

        // A retrained version promoted, then rolled back: the command says the engine is back on its synthetic model.
        var file = Path.Combine(Directory.CreateTempSubdirectory("model-").FullName, "m.zip");
        var rows = Collections.Scoring.SyntheticHistory.Rows(new Collections.Scoring.SyntheticOptions { Seed = 11, Accounts = 1200 }).ToList();
        await File.WriteAllBytesAsync(file, Collections.Scoring.ModelTrainer.Train(rows, new Collections.Scoring.TrainingOptions { Seed = 11, NumberOfTrees = 20, Version = "cli-11" }).Model.ToBytes());
        var version = "cli-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await RunAsync("model", "register", "--file", file, "--version", version)).Code);
        Assert.Equal(0, (await RunAsync("model", "promote", "--version", version, "--reason", "test")).Code);
        var back = await RunAsync("model", "rollback", "--reason", "test");
        Assert.Equal((0, ""), (back.Code, back.Error));
        Assert.Contains($"rollback: champion {champion}", back.Output);
        if (champion.StartsWith("bootstrap", StringComparison.Ordinal)) Assert.Contains("synthetic accounts", back.Output);
    }
}
