using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>The worklist over real HTTP: queues, next, outcomes, leases, the supervisor's view, bad input.</summary>
[Collection(EngineCollection.Name)]
public sealed class WorklistApiTests(EngineFixture engine)
{

    private static string NewFacility() => "WQ" + Guid.NewGuid().ToString("N")[..10];

    private static string KeyId(string token) => token.Split('_')[1];

    private sealed record Team(string Facility, string AgentOne, string AgentTwo, HttpClient One, HttpClient Two) : IDisposable
    {
        public void Dispose()
        {
            One.Dispose();
            Two.Dispose();
        }
    }

    /// <summary>
    /// A facility of its own whose default queue (named by the facility code) two new agents work. The queue orders by
    /// balance: this engine scores accounts with whatever model is live at the moment (other tests promote models), so an
    /// order by expected recovery would depend on timing here; that order is proven in the domain and grain tests.
    /// </summary>
    private async Task<Team> TeamAsync(HttpClient admin)
    {
        var facility = NewFacility();
        var one = await engine.KeyForAsync("agent");
        var two = await engine.KeyForAsync("agent");
        var saved = await admin.PutAsJsonAsync($"/api/worklist/queues/{facility}", new
        {
            name = "Main line", facility, agents = new[] { KeyId(one), KeyId(two) }, ordering = "balance", leaseMinutes = 20,
        });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        return new Team(facility, KeyId(one), KeyId(two), engine.As(one), engine.As(two));
    }

    private async Task<string> OpenAccountAsync(HttpClient admin, string facility, decimal charge, string? language = null)
    {
        var guarantorId = Api.NewId("G");
        var registered = await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Maria", lastName = "Lopez", dateOfBirth = "1980-04-02",
            address = new { line1 = "12 Elm St", city = "Austin", state = "TX", zip = "78701" },
            phones = new[] { new { number = $"512555{Random.Shared.Next(1000, 9999)}", type = "mobile" } },
            email = "maria@example.org", preferredChannel = "email", timeZone = Api.DaytimeZone(), preferredLanguage = language,
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var accountNumber = Api.NewId("A");
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var charged = await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{accountNumber}",
            new { kind = "charge", amount = charge, serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3).ToString("yyyy-MM-dd"), code = "99214" });
        Assert.Equal(HttpStatusCode.Created, charged.StatusCode);
        await admin.GetAsync($"/api/accounts/{facility}/{accountNumber}"); // answered after the statement step the charge made due
        await engine.ProjectionsCaughtUpAsync(); // the worklist is a projection of the accounts' committed events
        return accountNumber;
    }

    private static Task<HttpResponseMessage> NextAsync(HttpClient client, string? queueId = null) =>
        client.PostAsync("/api/worklist/next", queueId is null ? null : JsonContent.Create(new { queueId }));

    private static Task<HttpResponseMessage> OutcomeAsync(HttpClient client, string facility, string accountNumber, object body, string? idempotencyKey = "auto")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/worklist/leases/{facility}/{accountNumber}/outcome")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey == "auto" ? Guid.NewGuid().ToString() : idempotencyKey);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task Two_agents_calling_next_at_the_same_moment_get_different_accounts_and_a_promise_to_pay_pauses_the_cadence_until_the_promised_date()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        var big = await OpenAccountAsync(admin, team.Facility, 500.00m);
        var middle = await OpenAccountAsync(admin, team.Facility, 400.00m);
        var small = await OpenAccountAsync(admin, team.Facility, 300.00m);

        var answers = await Task.WhenAll(NextAsync(team.One), NextAsync(team.Two));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var offers = await Task.WhenAll(answers.Select(a => a.JsonAsync()));
        var offered = offers.Select(o => o.GetProperty("accountNumber").GetString()!).ToList();
        Assert.NotEqual(offered[0], offered[1]);
        Assert.Equal(new[] { big, middle }.Order(StringComparer.Ordinal), offered.Order(StringComparer.Ordinal)); // the two best
        Assert.All(offers, o => Assert.Equal(team.Facility, o.GetProperty("queueId").GetString()));
        var mine = offers[0];
        Assert.All(offers, o => Assert.False(o.GetProperty("reoffered").GetBoolean())); // first offers, not leases already held
        var balance = mine.GetProperty("patientBalance").GetDecimal();
        // Probability times balance; before the account's first score, the 0.5 prior.
        var probability = mine.TryGetProperty("probability", out var p) ? p.GetDouble() : 0.5;
        Assert.Equal(Math.Round((decimal)probability * balance, 2, MidpointRounding.AwayFromZero), mine.GetProperty("expectedRecovery").GetDecimal());
        var leaseUntil = mine.GetProperty("leaseExpiresAt").GetDateTimeOffset();
        Assert.Equal(mine.GetProperty("leasedAt").GetDateTimeOffset().AddMinutes(20), leaseUntil);

        // Agent one talks to the guarantor, who promises to pay 100.00 in ten days.
        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(10);
        var recorded = await OutcomeAsync(team.One, team.Facility, offered[0], new { outcome = "promiseToPay", amount = 100.00m, promisedDate = promisedDate.ToString("yyyy-MM-dd") });
        Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        var result = await recorded.JsonAsync();
        Assert.True(result.GetProperty("completed").GetBoolean());
        Assert.Equal("allow", result.GetProperty("call").GetProperty("verdict").GetString());
        var account = result.GetProperty("account");
        var promise = Assert.Single(account.GetProperty("promises").EnumerateArray());
        Assert.Equal("pending", promise.GetProperty("status").GetString());
        Assert.Equal(promisedDate.ToString("yyyy-MM-dd"), promise.GetProperty("promisedDate").GetString());
        var cadence = account.GetProperty("cadence");
        Assert.Equal("promisePending", cadence.GetProperty("status").GetString());
        // Paused until the promised date (plus the grace days, 5 by default): nothing is due before it.
        var resumesAt = cadence.GetProperty("nextActionAt").GetDateTimeOffset();
        // The patient's days: midnight where they live, after the promised date and its grace days.
        var guarantor = await admin.GetJsonAsync($"/api/guarantors/{account.GetProperty("guarantorId").GetString()}");
        var zone = TimeZoneInfo.FindSystemTimeZoneById(guarantor.GetProperty("profile").GetProperty("timeZone").GetProperty("zone").GetString()!);
        var local = TimeZoneInfo.ConvertTime(resumesAt, zone);
        Assert.Equal((promisedDate.AddDays(6), TimeOnly.MinValue), (DateOnly.FromDateTime(local.DateTime), TimeOnly.FromDateTime(local.DateTime)));
        var view = await admin.GetJsonAsync($"/api/accounts/{team.Facility}/{offered[0]}");
        Assert.Equal("promisePending", view.GetProperty("cadence").GetProperty("status").GetString());
        Assert.Contains(view.GetProperty("cadence").GetProperty("decisions").EnumerateArray(), d => d.GetProperty("stepId").GetString() == "agent-call");

        // The account has left the queue: agent one's next account is the one nobody holds.
        await engine.ProjectionsCaughtUpAsync(); // the promise's removal reaches the queue through the worklist projection
        var stats = await admin.GetJsonAsync($"/api/worklist/queues/{team.Facility}/stats");
        Assert.Equal(2, stats.GetProperty("depth").GetInt32());
        var nextOne = await (await NextAsync(team.One)).JsonAsync();
        Assert.Equal(small, nextOne.GetProperty("accountNumber").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await NextAsync(engine.As(await engine.KeyForAsync("supervisor")), team.Facility)).StatusCode);

        // The supervisor sees who worked what, when asking for the detail (the counts come without it).
        Assert.Empty(Assert.Single((await admin.GetJsonAsync($"/api/worklist/queues/{team.Facility}/stats")).GetProperty("agents").EnumerateArray(),
            a => a.GetProperty("agent").GetString() == team.AgentOne).GetProperty("worked").EnumerateArray());
        stats = await admin.GetJsonAsync($"/api/worklist/queues/{team.Facility}/stats?detail=true");
        Assert.Equal((2, 2, 0), (stats.GetProperty("depth").GetInt32(), stats.GetProperty("leased").GetInt32(), stats.GetProperty("callableNow").GetInt32()));
        Assert.InRange(stats.GetProperty("unscored").GetInt32(), 0, 2); // scored or not yet, depending on the live model's timing
        var agentOne = stats.GetProperty("agents").EnumerateArray().Single(a => a.GetProperty("agent").GetString() == team.AgentOne);
        Assert.Equal(small, agentOne.GetProperty("leasedAccountNumber").GetString());
        var worked = Assert.Single(agentOne.GetProperty("worked").EnumerateArray());
        Assert.Equal((offered[0], "promiseToPay"), (worked.GetProperty("accountNumber").GetString(), worked.GetProperty("outcome").GetString()));
        // Each account the stats named, worked or held, is in that account's audit trail as shown to the supervisor.
        foreach (var named in new[] { offered[0], small })
            Assert.Contains((await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={team.Facility}/{named}")).EnumerateArray(),
                e => e.GetProperty("action").GetString() == "worklist.stats.read");

        // Every offer is audited as a read of the account.
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={team.Facility}/{offered[1]}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.read" && e.GetProperty("actor").GetString() == team.AgentTwo
                                                     && e.GetProperty("detail").GetString()!.StartsWith($"worklist={team.Facility}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_the_lease_holder_records_an_outcome_and_a_retry_with_the_same_key_records_it_once()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        var first = await OpenAccountAsync(admin, team.Facility, 250.00m);
        var second = await OpenAccountAsync(admin, team.Facility, 150.00m);

        Assert.Equal(first, (await (await NextAsync(team.One)).JsonAsync()).GetProperty("accountNumber").GetString());
        var notHeld = await (await OutcomeAsync(team.Two, team.Facility, first, new { outcome = "noAnswer" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("lease.held-by-other", notHeld.GetProperty("code").GetString());
        var none = await (await OutcomeAsync(team.Two, team.Facility, second, new { outcome = "noAnswer" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("lease.not-held", none.GetProperty("code").GetString());

        var once = await OutcomeAsync(team.One, team.Facility, first, new { outcome = "noAnswer" }, "call-1");
        Assert.Equal(HttpStatusCode.OK, once.StatusCode);
        var again = await OutcomeAsync(team.One, team.Facility, first, new { outcome = "noAnswer" }, "call-1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        var guarantorId = (await again.JsonAsync()).GetProperty("account").GetProperty("guarantorId").GetString();
        var guarantor = await admin.GetJsonAsync($"/api/guarantors/{guarantorId}");
        Assert.Single(guarantor.GetProperty("recentContacts").EnumerateArray(), c => c.GetProperty("outcome").GetString() == "noAnswer");

        // No answer: the account waits the queue's retry time (four hours by default) before it is offered again.
        var stats = await admin.GetJsonAsync($"/api/worklist/queues/{team.Facility}/stats");
        Assert.Equal((2, 1, 1), (stats.GetProperty("depth").GetInt32(), stats.GetProperty("deferred").GetInt32(), stats.GetProperty("callableNow").GetInt32()));
        Assert.Equal(second, (await (await NextAsync(team.Two)).JsonAsync()).GetProperty("accountNumber").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await NextAsync(team.One)).StatusCode);
    }

    [Fact]
    public async Task A_worked_call_whose_promise_the_rules_refuse_logs_no_call_and_the_corrected_promise_logs_it_once_with_the_promise()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        var account = await OpenAccountAsync(admin, team.Facility, 300.00m);
        Assert.Equal(account, (await (await NextAsync(team.One)).JsonAsync()).GetProperty("accountNumber").GetString());
        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(7).ToString("yyyy-MM-dd");

        // More than the patient owes: refused whole, so no call is logged and the lease is still the agent's.
        var refused = await OutcomeAsync(team.One, team.Facility, account, new { outcome = "promiseToPay", amount = 5000.00m, promisedDate }, "call-1");
        Assert.False(refused.IsSuccessStatusCode);
        var view = await admin.GetJsonAsync($"/api/accounts/{team.Facility}/{account}");
        var guarantorId = view.GetProperty("guarantorId").GetString();
        Assert.Empty(view.GetProperty("promises").EnumerateArray());
        Assert.DoesNotContain((await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("recentContacts").EnumerateArray(),
            c => c.TryGetProperty("channel", out var channel) && channel.GetString() == "voice");

        var kept = await OutcomeAsync(team.One, team.Facility, account, new { outcome = "promiseToPay", amount = 120.00m, promisedDate }, "call-2");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        var promise = Assert.Single((await kept.JsonAsync()).GetProperty("account").GetProperty("promises").EnumerateArray());
        Assert.Equal(120.00m, promise.GetProperty("amount").GetDecimal());
        Assert.Single((await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("recentContacts").EnumerateArray(),
            c => c.TryGetProperty("channel", out var channel) && channel.GetString() == "voice");
    }

    [Fact]
    public async Task Releasing_a_lease_gives_the_account_to_the_next_agent_and_a_dispute_takes_it_off_the_worklist()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        var account = await OpenAccountAsync(admin, team.Facility, 275.00m);

        Assert.Equal(HttpStatusCode.OK, (await NextAsync(team.One)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await NextAsync(team.Two)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await team.One.DeleteAsync($"/api/worklist/leases/{team.Facility}/{account}")).StatusCode);
        (await (await team.One.DeleteAsync($"/api/worklist/leases/{team.Facility}/{account}")).AssertProblemAsync(HttpStatusCode.Conflict)).GetProperty("code");

        Assert.Equal(account, (await (await NextAsync(team.Two)).JsonAsync()).GetProperty("accountNumber").GetString());
        var disputed = await OutcomeAsync(team.Two, team.Facility, account, new { outcome = "dispute", note = "Says the visit was covered by insurance" });
        Assert.Equal(HttpStatusCode.OK, disputed.StatusCode);
        var hold = Assert.Single((await disputed.JsonAsync()).GetProperty("account").GetProperty("holds").EnumerateArray());
        Assert.Equal("dispute", hold.GetProperty("reason").GetString());
        await engine.ProjectionsCaughtUpAsync();
        Assert.Equal(0, (await admin.GetJsonAsync($"/api/worklist/queues/{team.Facility}/stats")).GetProperty("depth").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await NextAsync(team.One)).StatusCode);
    }

    [Fact]
    public async Task A_spanish_speaking_guarantors_account_goes_to_the_spanish_queue_of_its_facility()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        var spanishAgent = await engine.KeyForAsync("agent");
        var spanishQueue = $"{team.Facility}-ES";
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/worklist/queues/{spanishQueue}",
            new { name = "Spanish line", facility = team.Facility, language = "ES", agents = new[] { KeyId(spanishAgent) } })).StatusCode);
        var english = await OpenAccountAsync(admin, team.Facility, 200.00m);
        var spanish = await OpenAccountAsync(admin, team.Facility, 900.00m, language: "es");

        using var spanishClient = engine.As(spanishAgent);
        Assert.Equal(spanish, (await (await NextAsync(spanishClient)).JsonAsync()).GetProperty("accountNumber").GetString());
        Assert.Equal(english, (await (await NextAsync(team.One)).JsonAsync()).GetProperty("accountNumber").GetString());
        var queue = await admin.GetJsonAsync($"/api/worklist/queues/{spanishQueue}");
        Assert.Equal(("es", 1), (queue.GetProperty("language").GetString(), queue.GetProperty("version").GetInt32()));
        Assert.Contains((await admin.GetJsonAsync("/api/worklist/queues")).EnumerateArray(), q => q.GetProperty("queueId").GetString() == spanishQueue);
    }

    [Fact]
    public async Task Agents_may_work_only_their_queues_and_only_supervisors_define_and_watch_them()
    {
        using var admin = engine.Admin();
        using var team = await TeamAsync(admin);
        using var stranger = engine.As(await engine.KeyForAsync("agent"));

        var noQueue = await (await NextAsync(stranger)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("worklist.no-queue", noQueue.GetProperty("code").GetString());
        await (await NextAsync(stranger, team.Facility)).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Forbidden, (await team.One.GetAsync($"/api/worklist/queues/{team.Facility}/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await team.One.PutAsJsonAsync($"/api/worklist/queues/{team.Facility}", new { name = "mine" })).StatusCode);
        using var integration = engine.As(await engine.KeyForAsync("integration"));
        Assert.Equal(HttpStatusCode.Forbidden, (await NextAsync(integration)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await NextAsync(team.One)).StatusCode); // a queue with nothing in it
        await (await admin.GetAsync("/api/worklist/queues/NOPE" + Guid.NewGuid().ToString("N")[..6])).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_problem_naming_every_field()
    {
        using var admin = engine.Admin();
        var queue = await (await admin.PutAsJsonAsync("/api/worklist/queues/bad!id", new
        {
            name = "", facility = "no such facility", language = "Spanish", agents = new[] { "x y" }, ordering = "expectedRecovery", leaseMinutes = 0, retryMinutes = 99999,
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["queueId", "name", "facility", "language", "agents[0]", "leaseMinutes", "retryMinutes"],
            queue.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()));
        await (await admin.PutAsJsonAsync("/api/worklist/queues/Q1", new { name = "x", ordering = "loudest" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PutAsJsonAsync("/api/worklist/queues/Q1", new { name = "x", colour = "red" })).AssertProblemAsync(HttpStatusCode.BadRequest);

        var outcome = await (await OutcomeAsync(admin, "MAIN", "A1", new { outcome = "promiseToPay", amount = 10.001m, installmentCount = 3 }, idempotencyKey: null))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["Idempotency-Key", "amount", "promisedDate", "installmentCount"], outcome.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()));
        var missing = await (await OutcomeAsync(admin, "MAIN", "A1", new { note = "hello" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("outcome.required", missing.GetProperty("code").GetString());
        var plan = await (await OutcomeAsync(admin, "MAIN", "A1", new { outcome = "paymentPlanRequested", installmentCount = 6 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["frequency", "firstDueDate"], plan.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()));
        await (await OutcomeAsync(admin, "MAIN", "A1", new { outcome = "gaveUp" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await OutcomeAsync(admin, "MA IN", "A1", new { outcome = "noAnswer" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await NextAsync(admin, "bad id")).AssertProblemAsync(HttpStatusCode.BadRequest);

        var guarantor = await (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId = Api.NewId("G"), firstName = "Maria", lastName = "Lopez", dateOfBirth = "1980-04-02",
            address = new { line1 = "12 Elm St", city = "Austin", state = "TX", zip = "78701" }, preferredLanguage = "klingon",
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("preferredLanguage", Assert.Single(guarantor.GetProperty("errors").EnumerateArray()).GetProperty("field").GetString());
    }
}
