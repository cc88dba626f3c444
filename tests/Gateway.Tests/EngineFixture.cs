using System.Net.Http.Headers;
using System.Net.Http.Json;
using Collections.Hosting;
using Collections.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Collections.Gateway.Tests;

/// <summary>The engine exactly as the run command starts it (local profile, SQLite), on free ports, in this process.</summary>
public class EngineFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataFolder { get; } = TestDatabases.NewFolder();
    public Uri BaseAddress { get; private set; } = null!;
    public string AdminKey { get; private set; } = "";

    /// <summary>More command-line settings for a fixture that needs them (e.g. fast webhook retries).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>What a fixture adds to the host before it is built (e.g. an in-memory telemetry exporter).</summary>
    protected virtual void Configure(WebApplicationBuilder builder) { }

    public virtual async Task InitializeAsync()
    {
        var httpPort = Ports.Free();
        BaseAddress = new Uri($"http://127.0.0.1:{httpPort}");
        _app = EngineHost.Build(
        [
            "--data", DataFolder, "--urls", BaseAddress.ToString(),
            "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString(),
            "--Collections:ApiKeyCacheSeconds", "0",
            // The API tests run at any hour, with people whose address, phones and zones span the country: the contact
            // window is the whole day here (the window itself is proven in Domain.Tests and on the fake-clock cluster).
            "--Collections:Compliance:WindowStart", "00:00:00", "--Collections:Compliance:WindowEnd", "23:59:59",
            // Tests make many deliberately wrong requests from 127.0.0.1; the lockout has its own fixture.
            "--Collections:FailedAuthenticationsPerMinute", "100000",
            // ZIP income bands from a small table in data.census.gov's B19013 layout (our own figures).
            "--Collections:Fairness:ZipIncomeFile", Path.Combine(AppContext.BaseDirectory, "fixtures", "zip-income-b19013.csv"),
            .. ExtraArguments,
        ], Configure);
        await _app.StartAsync();
        AdminKey = (await File.ReadAllTextAsync(Path.Combine(DataFolder, "admin-api-key"))).Trim();
    }

    /// <summary>The engine's services (for what a test cannot reach over HTTP, such as the link an email carries).</summary>
    public IServiceProvider Services => _app!.Services;

    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress };

    public HttpClient As(string key)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HttpClient Admin() => As(AdminKey);

    /// <summary>
    /// Saves a policy for a facility of its own that keeps half its accounts as a control group, with one step (a mailed
    /// statement on day 0) and, when given, a segment; returns the facility and the policy's id.
    /// </summary>
    public static async Task<(string Facility, string PolicyId)> SaveHalfControlPolicyAsync(HttpClient client, string prefix, string name, object? segment = null)
    {
        var facility = prefix.ToUpperInvariant() + Guid.NewGuid().ToString("N")[..10];
        var policyId = prefix.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        object[] steps = [new { stepId = "statement", day = 0, action = "patientStatement", channel = "mail" }];
        object policy = segment is null
            ? new { name, facility, priority = 1000, controlShare = 0.5m, steps }
            : new { name, facility, priority = 1000, controlShare = 0.5m, segment, steps };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/policies/{policyId}", policy)).StatusCode);
        return (facility, policyId);
    }

    /// <summary>
    /// Waits until every projection of the account event log (worklist, KPIs, webhooks, registers, outbox reactions)
    /// has applied every event committed so far, as an operator would see it in GET /api/admin/projections.
    /// </summary>
    public async Task ProjectionsCaughtUpAsync()
    {
        using var admin = Admin();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var status = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/admin/projections");
            if (status.EnumerateArray().All(p => p.GetProperty("caughtUp").GetBoolean())) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Projections still behind: {status}");
            await Task.Delay(20);
        }
    }

    /// <summary>Creates an API key for a role through the admin API.</summary>
    public async Task<string> KeyForAsync(string role)
    {
        using var admin = Admin();
        var response = await admin.PostAsJsonAsync("/api/keys", new { name = $"test {role}", role });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString()!;
    }

    public virtual async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}
