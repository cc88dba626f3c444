using System.Net;
using System.Net.Http.Json;

namespace Collections.Gateway.Tests;

[Collection(EngineCollection.Name)]
public sealed class SecurityTests(EngineFixture engine)
{
    [Theory]
    [InlineData("/api/accounts/MAIN/A1")]
    [InlineData("/api/guarantors/G1")]
    [InlineData("/api/keys")]
    public async Task Without_a_credential_the_api_answers_401(string url)
    {
        using var client = engine.Anonymous();
        var problem = await (await client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_made_up_key_is_refused()
    {
        using var client = engine.As("ck_000000000000_notarealsecretnotarealsecret");
        await (await client.GetAsync("/api/accounts/MAIN/A1")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_agent_on_an_admin_endpoint_gets_403_and_the_refusal_is_audited()
    {
        using var agent = engine.As(await engine.KeyForAsync("agent"));

        await (await agent.GetAsync("/api/keys")).AssertProblemAsync(HttpStatusCode.Forbidden);

        using var admin = engine.Admin();
        var denied = await admin.GetJsonAsync("/api/audit?resourceType=endpoint&resourceId=/api/keys/");
        Assert.Contains(denied.EnumerateArray(), e => e.GetProperty("outcome").GetString() == "denied");
    }

    [Fact]
    public async Task An_agent_may_take_a_patient_payment_but_not_post_a_charge()
    {
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        await Api.PostEntryAsync(admin, account, Api.Charge(100m));
        using var agent = engine.As(await engine.KeyForAsync("agent"));

        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(agent, account, Api.Payment(20m))).StatusCode);
        await (await Api.PostEntryAsync(agent, account, Api.Charge(5m))).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(80.00m, (await agent.GetJsonAsync(account)).GetProperty("balances").GetProperty("balance").GetDecimal());
    }

    [Fact]
    public async Task An_agent_cannot_open_accounts()
    {
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        var response = await agent.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber = "X1", guarantorId = "G1" });
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_revoked_key_stops_working()
    {
        var token = await engine.KeyForAsync("supervisor");
        var keyId = token.Split('_')[1];
        using var admin = engine.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{keyId}")).StatusCode);

        using var revoked = engine.As(token);
        await (await revoked.GetAsync("/api/guarantors/G1")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_key_made_to_expire_says_when_and_a_lifetime_out_of_range_is_refused()
    {
        using var admin = engine.Admin();
        var before = DateTimeOffset.UtcNow;
        var created = await admin.PostAsJsonAsync("/api/keys", new { name = "clearinghouse 2027", role = "integration", expiresInDays = 365 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var expiresAt = body.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, before.AddDays(365), DateTimeOffset.UtcNow.AddDays(365));
        var keyId = body.GetProperty("keyId").GetString();
        var listed = (await admin.GetJsonAsync("/api/keys")).EnumerateArray().Single(k => k.GetProperty("keyId").GetString() == keyId);
        Assert.Equal(expiresAt, listed.GetProperty("expiresAt").GetDateTimeOffset());
        using var integration = engine.As(body.GetProperty("token").GetString()!);
        await (await integration.GetAsync("/api/keys")).AssertProblemAsync(HttpStatusCode.Forbidden); // it works: refused for its role, not unknown

        // A key that expired (made, as if long ago, for a day): a 401 that says so, with the time.
        var longAgo = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2025, 1, 6, 9, 0, 0, TimeSpan.Zero));
        var (_, expiredToken) = await new Collections.Persistence.ApiKeyStore(
                Collections.Persistence.DatabaseOptions.SqliteFile(Path.Combine(engine.DataFolder, "collections.db")), longAgo)
            .CreateAsync("last year's vendor", "integration", "test", longAgo.GetUtcNow().AddDays(1));
        using var expired = engine.As(expiredToken);
        var unauthorized = await (await expired.GetAsync("/api/keys")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("expired at 2025-01-07T09:00:00Z", unauthorized.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var refused = await admin.PostAsJsonAsync("/api/keys", new { name = "forever", role = "agent", expiresInDays = 0 });
        var problem = await refused.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("expires-in-days.out-of-range", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_engine_on_the_same_embedded_database_is_refused_in_one_line_until_the_first_stops()
    {
        var folder = Directory.CreateTempSubdirectory("collections-lock-").FullName;
        var database = Path.Combine(folder, "collections.db");
        var first = Collections.Hosting.EngineLock.Take(database);

        var refused = Assert.Throws<Collections.Hosting.EngineStartException>(() => Collections.Hosting.EngineLock.Take(database));
        Assert.Contains("Another engine is already running on", refused.Message, StringComparison.Ordinal);
        Assert.Equal(refused.Message, Collections.Hosting.StartFailure.Explain(new AggregateException(refused)));

        first.Dispose(); // stopped (or killed: the system releases it)
        Collections.Hosting.EngineLock.Take(database).Dispose();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_working_key_made_before_the_maximum_lifetime_was_set_is_marked_when_it_lives_longer()
    {
        var now = new DateTimeOffset(2027, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var made = now.AddDays(-10);
        Collections.Persistence.ApiKeyRecord Key(DateTimeOffset? expires, DateTimeOffset? revoked = null) => new("k1", "vendor", "integration", made, "admin", revoked, expires);
        var settings = new Collections.Hosting.EngineSettings { ApiKeyMaxLifetimeDays = 90 };

        Assert.True(settings.OutlivesMaxLifetime(Key(null), now));                  // never expires
        Assert.True(settings.OutlivesMaxLifetime(Key(made.AddDays(365)), now));     // a year
        Assert.False(settings.OutlivesMaxLifetime(Key(made.AddDays(90)), now));     // within it
        Assert.False(settings.OutlivesMaxLifetime(Key(null, revoked: now), now));   // revoked: nothing to do
        Assert.False(new Collections.Hosting.EngineSettings().OutlivesMaxLifetime(Key(null), now)); // no maximum set
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_bootstrap_admin_key_file_is_readable_by_its_owner_only()
    {
        var mode = File.GetUnixFileMode(Path.Combine(engine.DataFolder, "admin-api-key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task Logs_carry_no_names_birth_dates_addresses_phones_or_emails()
    {
        using var client = engine.Admin();
        var guarantorId = Api.NewId("G");
        var pii = new
        {
            guarantorId, firstName = "Zebulon", lastName = "Quixotic", dateOfBirth = "1977-07-13",
            address = new { line1 = "9876 Unlikely Blvd", city = "Xanadu", state = "TX", zip = "78701" },
            phones = new[] { new { number = "5125559876", type = "mobile" } }, email = "zebulon.q@example.org",
        };
        var refusalsBefore = GuarantorConflictsLogged(EngineLogs());
        await client.PostAsJsonAsync("/api/guarantors", pii);
        await client.GetAsync($"/api/guarantors/{guarantorId}");
        await client.PostAsJsonAsync("/api/guarantors", pii); // a conflict, logged as a refusal
        var logs = await LoggedAfterAsync(refusalsBefore);
        foreach (var secret in new[] { "Zebulon", "Quixotic", "1977-07-13", "Unlikely Blvd", "5125559876", "zebulon.q@example.org" })
            Assert.DoesNotContain(secret, logs, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_engine_keeps_writing_its_own_log_after_another_engine_in_the_same_process_stops()
    {
        // A host embedding the engine twice (as these tests do) must not share one logger: the second would take the
        // first's lines, and its stop would silence both.
        var folder = Collections.TestSupport.TestDatabases.NewFolder();
        await using (var second = Collections.Hosting.EngineHost.Build(["--data", folder, "--urls", $"http://127.0.0.1:{Collections.TestSupport.Ports.Free()}",
                         "--silo-port", Collections.TestSupport.Ports.Free().ToString(), "--gateway-port", Collections.TestSupport.Ports.Free().ToString(),
                         "--Collections:Outreach:Sender:Enabled", "false"]))
        {
            await second.StartAsync();
            await second.StopAsync();
        }

        using var client = engine.Admin();
        var guarantorId = Api.NewId("G");
        var person = new { guarantorId, firstName = "Ada", lastName = "Second", dateOfBirth = "1980-01-01",
                           address = new { line1 = "1 Main St", city = "Austin", state = "TX", zip = "78701" } };
        var before = GuarantorConflictsLogged(EngineLogs());
        await client.PostAsJsonAsync("/api/guarantors", person);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/guarantors", person)).StatusCode);
        await LoggedAfterAsync(before);
    }

    /// <summary>The engine's log files, read while it writes them.</summary>
    private string EngineLogs() => string.Join("\n", Directory.GetFiles(Path.Combine(engine.DataFolder, "logs")).Select(f =>
    {
        using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }));

    private static int GuarantorConflictsLogged(string logs) => logs.Split('\n').Count(line =>
        line.Contains("\"RouteTemplate\":\"/api/guarantors/\"", StringComparison.Ordinal) && line.Contains("\"StatusCode\":409", StringComparison.Ordinal));

    /// <summary>
    /// The logs once a guarantor conflict after <paramref name="before"/> of them is in the engine's file (each line is
    /// written as it is logged, just after its answer): waits for that line, not for a while.
    /// </summary>
    private async Task<string> LoggedAfterAsync(int before)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string logs;
        while (GuarantorConflictsLogged(logs = EngineLogs()) <= before && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(GuarantorConflictsLogged(logs) > before, "the conflict's request line never reached the engine's log file");
        return logs;
    }
}

[Collection(EngineCollection.Name)]
public sealed class DashboardAccessTests(EngineFixture engine)
{
    [Fact]
    public async Task The_orleans_dashboard_shows_grain_state_to_administrators_only_and_audits_each_look()
    {
        using var anonymous = engine.Anonymous();
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        using var admin = engine.Admin();

        await (await anonymous.GetAsync("/dashboard/DashboardCounters")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await agent.GetAsync("/dashboard/DashboardCounters")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await agent.GetAsync("/dashboard/index.html")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await supervisor.GetAsync("/dashboard/Reminders")).AssertProblemAsync(HttpStatusCode.Forbidden);

        var counters = await admin.GetAsync("/dashboard/DashboardCounters");
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Equal("no-store", counters.Headers.CacheControl?.ToString());
        // The reminders list names accounts: turned off; each account's next step is in its own audited answer.
        var reminders = await (await admin.GetAsync("/dashboard/Reminders")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("dashboard.reminders-hidden", reminders.GetProperty("code").GetString());
        await (await admin.GetAsync("/dashboard/Reminders/2")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_look_at_an_accounts_grain_state_on_the_dashboard_is_in_that_accounts_audit_trail()
    {
        using var admin = engine.Admin();
        var account = (await Household.CreateAsync(engine, 100m)).Accounts[0];
        await admin.GetAsync($"/dashboard/GrainState?grainType=Collections.Grains.PatientAccountGrain&grainId={Uri.EscapeDataString(account)}");
        var trail = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(account)}");
        Assert.Contains(trail.EnumerateArray(), e => e.GetProperty("action").GetString() == "dashboard.grain-state");
        // A grain that names many patients (here, the phone directory, keyed by a phone number) is not shown at all.
        var hidden = await (await admin.GetAsync("/dashboard/GrainState?grainType=Collections.Grains.PhoneDirectoryGrain&grainId=5125550142")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("dashboard.grain-state-hidden", hidden.GetProperty("code").GetString());
    }
}
