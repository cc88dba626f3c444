using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Collections.Scoring;

namespace Collections.Gateway.Tests;

/// <summary>Scoring and the data team's model loop over real HTTP, on the engine as the run command starts it.</summary>
[Collection(EngineCollection.Name)]
public sealed class ModelApiTests(EngineFixture engine)
{
    private static async Task<JsonElement> EventuallyAsync(HttpClient client, string url, Func<JsonElement, bool> done, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var json = await client.GetJsonAsync(url);
            if (done(json)) return json;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}: {json}");
            await Task.Delay(200);
        }
    }

    private static async Task<string> OwingAccountAsync(HttpClient client, decimal amount = 350.00m)
    {
        var account = await Api.OpenAccountAsync(client);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(amount))).StatusCode);
        return account;
    }

    private static string? ScoreVersion(JsonElement account) =>
        account.TryGetProperty("score", out var score) ? score.GetProperty("modelVersion").GetString() : null;

    internal static byte[] TrainedModelFile(int seed)
    {
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = seed, Accounts = 1200 }).ToList();
        var result = ModelTrainer.Train(rows, new TrainingOptions { Seed = seed, NumberOfTrees = 30, Version = $"trained-{seed}" });
        return result.Model.ToBytes();
    }

    /// <summary>A model trained on a CSV of other columns (income, age, plan) than the engine's account features.</summary>
    private static byte[] ForeignModelFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"collections-outside-{Guid.NewGuid():N}.csv");
        try
        {
            var random = new Random(7);
            var lines = new List<string> { "id,income,age,plan,paid" };
            for (var i = 0; i < 600; i++)
            {
                var income = random.Next(20, 150);
                lines.Add($"{i},{income},{random.Next(18, 90)},{(i % 3 == 0 ? "gold" : "basic")},{(income + random.Next(0, 60) > 100 ? 1 : 0)}");
            }
            File.WriteAllLines(path, lines);
            return ModelTrainer.TrainFromCsv(path, "paid", new TrainingOptions { Seed = 7, NumberOfTrees = 10, Version = "outside" }).Model.ToBytes();
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] file, string query)
    {
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return client.PostAsync($"/api/models{query}", content);
    }

    [Fact]
    public async Task A_fresh_engine_scores_accounts_with_its_bootstrap_model_and_the_account_shows_probability_version_and_reasons()
    {
        using var admin = engine.Admin();
        var account = await OwingAccountAsync(admin);

        // Other tests in this engine promote and roll back; silos follow within seconds, and the rescore pass corrects
        // a score made just before a silo caught up, so wait for the bootstrap version rather than take the first score.
        var view = await EventuallyAsync(admin, account, a => ScoreVersion(a) == "bootstrap-1", "a score by the bootstrap model");
        var score = view.GetProperty("score");
        Assert.InRange(score.GetProperty("probability").GetDouble(), 0, 1);
        Assert.True(score.GetProperty("reasons").GetArrayLength() > 0);
        Assert.False(string.IsNullOrWhiteSpace(score.GetProperty("reasons")[0].GetProperty("text").GetString()));

        var models = await admin.GetJsonAsync("/api/models");
        Assert.Contains(models.GetProperty("versions").EnumerateArray(), v => v.GetProperty("version").GetString() == "bootstrap-1" && v.GetProperty("kind").GetString() == "bootstrap");
    }

    [Fact]
    public async Task The_data_team_registers_and_promotes_a_model_and_new_scores_carry_its_version_without_a_restart()
    {
        using var admin = engine.Admin();
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        var account = await OwingAccountAsync(admin);
        await EventuallyAsync(admin, account, a => ScoreVersion(a) is not null, "the account's first score");
        var version = $"v{Guid.NewGuid().ToString("N")[..8]}";

        var registered = await UploadAsync(data, TrainedModelFile(seed: 5), $"?version={version}&notes=test");
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var again = await UploadAsync(data, TrainedModelFile(seed: 5), $"?version={version}");
        Assert.True(again.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict); // same bytes: a retry; training is not bit-for-bit stable everywhere
        var detail = await data.GetJsonAsync($"/api/models/{version}");
        Assert.True(detail.GetProperty("report").TryGetProperty("auc", out _));

        var promoted = await data.PostAsJsonAsync($"/api/models/{version}/promote", new { reason = "trained on last quarter" });
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        Assert.Equal(version, (await promoted.JsonAsync()).GetProperty("champion").GetString());

        // A change to the account rescores it at once; the background pass would get there too.
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Payment(10.00m))).StatusCode);
        await EventuallyAsync(admin, account, a => ScoreVersion(a) == version, "the promoted version on the account's score");

        // The account's features at that first score are a projection too: each feature's drift from the training rows.
        await engine.ProjectionsCaughtUpAsync();
        var drift = await data.GetJsonAsync($"/api/models/{version}/drift");
        Assert.True(drift.GetProperty("liveFeatureRows").GetInt32() >= 1);
        var features = drift.GetProperty("features").EnumerateArray().ToList();
        Assert.Contains(features, f => f.GetProperty("feature").GetString() == "PatientBalance");
        Assert.All(features, f => Assert.True(f.GetProperty("psi").GetDouble() >= 0));
        Assert.Equal(features.Select(f => f.GetProperty("psi").GetDouble()).OrderByDescending(p => p), features.Select(f => f.GetProperty("psi").GetDouble()));

        // Rolled back with a key, and sent again with it (the first answer lost): once.
        HttpRequestMessage Rollback()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/models/rollback") { Content = JsonContent.Create(new { reason = "test" }) };
            request.Headers.Add("Idempotency-Key", "rollback-after-drift-check");
            return request;
        }
        var rolledBack = await data.SendAsync(Rollback());
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        var champion = (await rolledBack.JsonAsync()).GetProperty("champion").GetString();
        Assert.NotEqual(version, champion);
        var rolledBackAgain = await data.SendAsync(Rollback());
        Assert.Equal("true", rolledBackAgain.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(champion, (await rolledBackAgain.JsonAsync()).GetProperty("champion").GetString());
    }

    [Fact]
    public async Task Agents_cannot_touch_models_and_supervisors_can_only_read_them()
    {
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(agent, [1, 2, 3], "")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/scoring/training-set")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await supervisor.GetAsync("/api/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.PostAsJsonAsync("/api/models/rollback", new { })).StatusCode);
    }

    [Fact]
    public async Task Bad_model_files_versions_and_shares_are_refused_with_problems_and_nothing_is_registered()
    {
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        var garbage = await (await UploadAsync(data, "not a model"u8.ToArray(), "?version=garbage-1")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("model.unreadable", garbage.GetProperty("code").GetString());
        var empty = await (await UploadAsync(data, [], "")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("model.required", empty.GetProperty("code").GetString());
        var badName = await (await UploadAsync(data, TrainedModelFile(seed: 3), "?version=has%20spaces")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("version.invalid", badName.GetProperty("code").GetString());
        var unknown = await (await data.PostAsJsonAsync("/api/models/no-such/promote", new { reason = "test" })).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("model.not-found", unknown.GetProperty("code").GetString());
        foreach (var (path, body) in new (string, object)[] { ("/api/models/bootstrap-1/promote", new { }), ("/api/models/rollback", new { reason = "  " }) })
        {
            var reasonless = await (await data.PostAsJsonAsync(path, body)).AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.Equal("reason.required", reasonless.GetProperty("code").GetString());
        }
        var share = await (await data.PutAsJsonAsync("/api/models/challenger", new { version = "bootstrap-1" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("share.required", share.GetProperty("code").GetString());

        // A model trained on another file's columns could never score an account: refused, before anyone can promote it.
        var foreign = await (await UploadAsync(data, ForeignModelFile(), "?version=outside-1")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("model.features-unknown", foreign.GetProperty("code").GetString());
        Assert.Contains("income", foreign.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var models = await data.GetJsonAsync("/api/models");
        Assert.DoesNotContain(models.GetProperty("versions").EnumerateArray(), v => v.GetProperty("version").GetString() is "garbage-1" or "has spaces" or "outside-1");
    }

    [Fact]
    public async Task The_training_set_export_is_a_csv_with_one_header_and_bad_queries_are_refused()
    {
        using var admin = engine.Admin();
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        await OwingAccountAsync(admin);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var response = await data.GetAsync($"/api/scoring/training-set?from={today.AddDays(-20):yyyy-MM-dd}&to={today:yyyy-MM-dd}&everyDays=10&windowDays=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.Single(lines, l => l == lines[0]); // one header, whatever the number of accounts
        Assert.Contains("Label", lines[0], StringComparison.OrdinalIgnoreCase);

        var bad = await (await data.GetAsync("/api/scoring/training-set?paidShare=2")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("training-set.invalid", bad.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_data_team_reads_one_account_as_the_model_sees_it_without_the_person_and_the_read_is_audited()
    {
        using var admin = engine.Admin();
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        var account = await OwingAccountAsync(admin);
        var scoring = account.Replace("/api/accounts/", "/api/scoring/accounts/", StringComparison.Ordinal);

        // The account may be rescored between the two reads (its statement step, a model another test promotes in this
        // engine): read both again until they were taken of one score.
        JsonElement held, view;
        string body;
        var tries = 0;
        while (true)
        {
            held = (await admin.GetJsonAsync(account)).TryGetProperty("score", out var score) ? score : default; // none until the first model is live
            var response = await data.GetAsync(scoring);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            body = await response.Content.ReadAsStringAsync();
            view = System.Text.Json.JsonDocument.Parse(body).RootElement;
            if (++tries == 40) break;
            if (held.ValueKind == JsonValueKind.Object && view.TryGetProperty("score", out var seen) && seen.ValueKind == JsonValueKind.Object
                && held.GetProperty("modelVersion").GetString() == seen.GetProperty("modelVersion").GetString()
                && held.GetProperty("probability").GetDouble() == seen.GetProperty("probability").GetDouble()) break;
            await Task.Delay(250);
        }
        Assert.Equal(held.GetProperty("modelVersion").GetString(), view.GetProperty("score").GetProperty("modelVersion").GetString());
        Assert.Equal(held.GetProperty("probability").GetDouble(), view.GetProperty("score").GetProperty("probability").GetDouble());
        Assert.Equal(PaymentFeatures.Count, view.GetProperty("features").EnumerateObject().Count());
        Assert.Equal(350.0, view.GetProperty("features").GetProperty("PatientBalance").GetDouble());
        Assert.DoesNotContain("Maria", body, StringComparison.Ordinal); // the person is not in it
        Assert.DoesNotContain("dateOfBirth", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"patient\"", body, StringComparison.OrdinalIgnoreCase);
        var audited = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(account.Replace("/api/accounts/", "", StringComparison.Ordinal))}&action=account.history.export");
        Assert.NotEmpty(audited.EnumerateArray());

        var missing = await (await data.GetAsync("/api/scoring/accounts/MAIN/NO-SUCH-ACCOUNT")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("account.not-found", missing.GetProperty("code").GetString());
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync(scoring)).StatusCode);
    }

    [Fact]
    public async Task An_imported_history_gives_training_rows_for_the_dates_it_covers()
    {
        using var admin = engine.Admin();
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("H");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber, guarantorId, importing = true })).StatusCode);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var history = new
        {
            entries = new object[]
            {
                new { kind = "charge", amount = 300.00m, serviceDate = today.AddDays(-200), effectiveDate = today.AddDays(-200), code = "99213", description = "Office visit", idempotencyKey = "h-charge" },
                new { kind = "patientPayment", amount = 300.00m, method = "check", effectiveDate = today.AddDays(-150), idempotencyKey = "h-payment" },
            },
            settleImport = true,
        };
        (await admin.PostAsJsonAsync($"/api/accounts/MAIN/{accountNumber}/entries/batch", history)).EnsureSuccessStatusCode();

        var csv = await (await data.GetAsync($"/api/scoring/training-set?from={today.AddDays(-180):yyyy-MM-dd}&to={today.AddDays(-100):yyyy-MM-dd}&everyDays=30&windowDays=60")).Content.ReadAsStringAsync();

        // Known from the history's own dates, not the day it was imported: scored 180 days ago (the charge known, the
        // payment not yet), the payment 30 days later falls in the 60-day label window.
        var rows = csv.Split('\n').Where(l => l.Contains(accountNumber, StringComparison.Ordinal)).Select(l => l.Split(',')).ToList();
        Assert.NotEmpty(rows);
        Assert.StartsWith(today.AddDays(-180).ToString("yyyy-MM-dd"), rows[0][1], StringComparison.Ordinal);
        Assert.Equal("1", rows[0][2]);
    }

    [Fact]
    public async Task A_challenger_scores_its_share_and_the_comparison_tracks_what_each_version_predicted_and_collected()
    {
        using var admin = engine.Admin();
        using var data = engine.As(await engine.KeyForAsync("data-team"));
        var version = $"c{Guid.NewGuid().ToString("N")[..8]}";
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(data, TrainedModelFile(seed: 9), $"?version={version}")).StatusCode);
        var champion = (await EventuallyAsync(data, "/api/models", m => m.GetProperty("assignment").TryGetProperty("champion", out _), "a champion"))
            .GetProperty("assignment").GetProperty("champion").GetString();
        try
        {
            var set = await data.PutAsJsonAsync("/api/models/challenger", new { version, share = 0.5, reason = "trial" });
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            Assert.Equal(version, (await set.JsonAsync()).GetProperty("challenger").GetString());
            var seen = new HashSet<string>();
            // A new assignment reaches the silo's scorer within Collections:Scoring:RefreshInterval (2 s), so accounts
            // are opened until both versions have scored one (a fast engine opens 40 accounts in under a second).
            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (var i = 0; seen.Count < 2 && (i < 40 || DateTime.UtcNow < deadline); i++)
            {
                var account = await OwingAccountAsync(admin, 200.00m);
                var view = await EventuallyAsync(admin, account, a => ScoreVersion(a) is { } v && (v == version || v == champion), "a score by the champion or the challenger");
                var score = view.GetProperty("score");
                Assert.Equal(score.GetProperty("modelVersion").GetString() == version, score.GetProperty("isChallenger").GetBoolean());
                seen.Add(score.GetProperty("modelVersion").GetString()!);
                Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Payment(25.00m))).StatusCode);
            }
            Assert.Equal(2, seen.Count);

            await engine.ProjectionsCaughtUpAsync(); // outcomes per version are a projection of the committed events
            var comparison = await data.GetJsonAsync("/api/models/comparison");
            var challenger = comparison.EnumerateArray().Single(v => v.GetProperty("version").GetString() == version);
            Assert.Equal("challenger", challenger.GetProperty("role").GetString());
            Assert.True(challenger.GetProperty("accountsScored").GetInt32() >= 1);
            Assert.True(challenger.GetProperty("collected").GetDecimal() >= 25.00m);
            Assert.Contains(comparison.EnumerateArray(), v => v.GetProperty("role").GetString() == "champion");
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await data.DeleteAsync("/api/models/challenger")).StatusCode);
        }
    }
}
