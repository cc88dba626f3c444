using System.Net;
using System.Net.Http.Json;

namespace Collections.Gateway.Tests;

/// <summary>Each bad input gets RFC 7807 problem details with a fitting status, and the account is left unchanged.</summary>
[Collection(EngineCollection.Name)]
public sealed class BadInputTests(EngineFixture engine)
{
    private async Task<(HttpClient Client, string Account)> AccountWithOneChargeAsync()
    {
        var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client);
        await Api.PostEntryAsync(client, account, Api.Charge(250.00m));
        return (client, account);
    }

    private static async Task AssertUnchangedAsync(HttpClient client, string account)
    {
        var view = await client.GetJsonAsync(account);
        Assert.Equal(1, view.GetProperty("entries").GetArrayLength());
        Assert.Equal(250.00m, view.GetProperty("balances").GetProperty("balance").GetDecimal());
    }

    /// <summary>
    /// A body the endpoint cannot read is the client's mistake: its request line is a refusal (Information, its 400),
    /// not an error an operator is paged for; a real failure still is one.
    /// </summary>
    [Fact]
    public void An_unreadable_body_is_logged_as_a_refusal_and_a_failure_as_an_error()
    {
        var unreadable = new Microsoft.AspNetCore.Http.BadHttpRequestException("Failed to read parameter \"body\" from the request body as JSON.", 400);

        Assert.Equal(Serilog.Events.LogEventLevel.Information, Collections.Hosting.HostingExtensions.RequestLogLevel(500, unreadable));
        Assert.Equal(Serilog.Events.LogEventLevel.Error, Collections.Hosting.HostingExtensions.RequestLogLevel(200, new InvalidOperationException()));
        Assert.Equal(Serilog.Events.LogEventLevel.Error, Collections.Hosting.HostingExtensions.RequestLogLevel(503, null));
        Assert.Equal(Serilog.Events.LogEventLevel.Information, Collections.Hosting.HostingExtensions.RequestLogLevel(404, null));
        Assert.Equal(Serilog.Events.LogEventLevel.Debug, Collections.Hosting.HostingExtensions.RequestLogLevel(201, null));
    }

    [Theory]
    [InlineData("2026-03-02T21:30:00-06:00", "2026-03-03T03:30:00Z")]
    [InlineData("2026-03-02T21:30:00.125+05:30", "2026-03-02T16:00:00.125Z")]
    [InlineData("2026-03-02T21:30-0600", "2026-03-03T03:30:00Z")]
    [InlineData("2026-03-02 21:30:00z", "2026-03-02T21:30:00Z")]
    [InlineData("2026-03-02t21:30:00Z", "2026-03-02T21:30:00Z")]
    [InlineData("2026-03-02T21:30:00", null)]       // no offset: the server's zone would be guessed
    [InlineData("2026-03-02", null)]
    [InlineData("2026-03-02Z", null)]
    [InlineData("21:30Z", null)]
    [InlineData("last Tuesday", null)]
    public void A_call_time_is_read_only_with_its_date_time_and_offset(string text, string? utc)
    {
        var ok = Collections.Gateway.Api.CollectionsEndpoints.TryReadCalledAt(text, out var at);
        Assert.Equal(utc is not null, ok);
        if (utc is not null) Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), at);
    }

    /// <summary>The request's log line names the status the client was answered, not the 500 any exception would suggest.</summary>
    [Fact]
    public void A_failed_request_is_logged_with_the_status_it_was_answered()
    {
        Assert.Equal(400, Collections.Gateway.Api.RequestExceptionHandler.StatusFor("POST", new Microsoft.AspNetCore.Http.BadHttpRequestException("unreadable", 400)));
        Assert.Equal(503, Collections.Gateway.Api.RequestExceptionHandler.StatusFor("GET", new Collections.Grains.StoreUnavailableException()));       // an outage, on a read
        Assert.Equal(503, Collections.Gateway.Api.RequestExceptionHandler.StatusFor("POST", new Collections.Grains.CommandNotStoredException("rolled back")));
        Assert.Equal(500, Collections.Gateway.Api.RequestExceptionHandler.StatusFor("POST", new Collections.Grains.StoreUnavailableException())); // a change: outcome unknown
        Assert.Equal(500, Collections.Gateway.Api.RequestExceptionHandler.StatusFor("GET", new InvalidOperationException()));
    }

    [Theory]
    [InlineData("limit=0", "limit.out-of-range")]
    [InlineData("limit=-1", "limit.out-of-range")]
    [InlineData("limit=10001", "limit.out-of-range")]
    [InlineData("since=2026-11-02&until=2026-11-01", "until.before-since")]
    public async Task An_audit_query_out_of_range_is_refused_not_quietly_read_another_way(string query, string code)
    {
        using var admin = engine.Admin();
        var problem = await (await admin.GetAsync($"/api/audit?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(code, problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_audit_trail_is_read_by_actor_and_action()
    {
        using var admin = engine.Admin();
        var (client, account) = await AccountWithOneChargeAsync();
        using (client) await client.GetJsonAsync(account);
        var mine = await admin.GetJsonAsync($"/api/audit?action=account.read&limit=50");
        Assert.NotEmpty(mine.EnumerateArray());
        Assert.All(mine.EnumerateArray(), e => Assert.Equal("account.read", e.GetProperty("action").GetString()));
        var actor = mine.EnumerateArray().First().GetProperty("actor").GetString()!;
        Assert.All((await admin.GetJsonAsync($"/api/audit?actor={actor}&limit=50")).EnumerateArray(), e => Assert.Equal(actor, e.GetProperty("actor").GetString()));
    }

    [Theory]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":40.00,", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":\"forty\",\"method\":\"card\"}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":40.00,\"method\":\"card\",\"amout\":1}", "body.invalid-json")]
    [InlineData("{\"kind\":\"gift\",\"amount\":40.00}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":\"1.00\",\"method\":\"card\"}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":\"1e2\",\"method\":\"card\"}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":1.00,\"amount\":900.00,\"method\":\"card\"}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"kind\":\"charge\",\"amount\":1.00,\"method\":\"card\"}", "body.invalid-json")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":-40.00,\"method\":\"card\"}", "amount.negative")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":0,\"method\":\"card\"}", "amount.zero")]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":40.001,\"method\":\"card\"}", "amount.precision")]
    [InlineData("{\"kind\":\"charge\",\"amount\":10.00,\"serviceDate\":\"2999-01-01\",\"code\":\"99213\"}", "date.future")]
    [InlineData("", "request.invalid")]
    public async Task Malformed_or_invalid_entries_are_400_and_change_nothing(string body, string code)
    {
        var (client, account) = await AccountWithOneChargeAsync();

        var problem = await (await Api.PostRawAsync(client, account, body, Guid.NewGuid().ToString())).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(code, problem.GetProperty("code").GetString());
        await AssertUnchangedAsync(client, account);
    }

    /// <summary>List filters take the values the API writes (camelCase), in any case; anything else is refused naming the field and its values.</summary>
    [Theory]
    [InlineData("/api/remittances/MAIN/exceptions", "dismissed", "open, matched, dismissed")]
    [InlineData("/api/call-tasks/MAIN", "open", "open, done")]
    [InlineData("/api/placements/MAIN", "placed", "placed, recalled")]
    [InlineData("/api/outreach/replies/review", "optedOut", "open, optedOut, noAction")]
    [InlineData("/api/outbox", "pending", "pending, sending, sent, delivered, failed, bounced, cancelled")]
    [InlineData("/api/billing-office/requests", "done", "open, done")]
    public async Task A_list_filter_takes_its_documented_values_in_any_case_and_names_them_when_refused(string path, string value, string values)
    {
        var client = engine.Admin();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{path}?status={value}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{path}?status={value.ToUpperInvariant()}")).StatusCode);
        foreach (var bad in new[] { "bogus", "1", "%2B1", "open,done" })
        {
            var problem = await (await client.GetAsync($"{path}?status={bad}")).AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.Equal("status.invalid", problem.GetProperty("code").GetString());
            Assert.Equal($"status must be one of: {values}.", problem.GetProperty("detail").GetString());
            Assert.Equal("status", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        }
    }

    [Theory]
    [InlineData("{\"kind\":\"patientPayment\",\"amount\":\"5.00\",\"method\":\"card\"}", "$.amount", "a JSON number")]
    [InlineData("{\"kind\":\"charge\",\"amount\":5.00,\"serviceDate\":\"2026-13-45\",\"code\":\"99213\"}", "$.serviceDate", "yyyy-MM-dd")]
    public async Task A_value_of_the_wrong_form_is_refused_saying_what_the_field_takes(string body, string field, string takes)
    {
        var (client, account) = await AccountWithOneChargeAsync();

        var problem = await (await Api.PostRawAsync(client, account, body, Guid.NewGuid().ToString())).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("body.invalid-json", problem.GetProperty("code").GetString());
        Assert.Contains(takes, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, problem.GetProperty("errors")[0].GetProperty("field").GetString());
        await AssertUnchangedAsync(client, account);
    }

    [Fact]
    public async Task A_guarantor_with_a_bad_id_and_bad_details_is_refused_naming_every_problem_at_once()
    {
        using var admin = engine.Admin();

        var problem = await (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId = "bad id!", firstName = "Maria", lastName = "", dateOfBirth = "1980-04-02",
            address = new { line1 = "12 Elm St", city = "Austin", state = "TX", zip = "7870" },
            email = "not-an-email", preferredChannel = "email",
        })).AssertProblemAsync(HttpStatusCode.BadRequest);

        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("guarantorId", fields);
        Assert.True(fields.Count >= 3, string.Join(", ", fields)); // the last name, the ZIP and the email too
    }

    [Fact]
    public async Task A_refusal_by_role_or_by_content_type_says_why()
    {
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        var forbidden = await (await agent.GetAsync("/api/kpis")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("auth.forbidden", forbidden.GetProperty("code").GetString());
        Assert.Contains("'agent' may not do this", forbidden.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var admin = engine.Admin();
        var json = await (await admin.PostAsync("/api/remittances/MAIN", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
            .AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("media-type.unsupported", json.GetProperty("code").GetString());
        Assert.Contains("text/plain", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_a_field_does_not_take_is_refused_with_the_values_it_does()
    {
        var (client, account) = await AccountWithOneChargeAsync();

        var problem = await (await Api.PostRawAsync(client, account, "{\"kind\":\"donation\",\"amount\":40.00}", Guid.NewGuid().ToString())).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("body.invalid-json", problem.GetProperty("code").GetString());
        Assert.Contains("one of charge, insurancePayment, patientPayment, adjustment, transfer, refund, reversal", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(client, account);
    }

    [Fact]
    public async Task A_query_parameter_the_framework_cannot_read_is_named_with_what_it_takes()
    {
        // Not hex: the answer's trace id (random hex) once held "abc" by chance.
        var problem = await (await engine.Admin().GetAsync("/api/kpis/trend?days=seventy")).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("request.invalid", problem.GetProperty("code").GetString());
        Assert.Equal("The parameter days could not be read: it must be a whole number.", problem.GetProperty("detail").GetString());
        Assert.Equal("days", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.DoesNotContain("seventy", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_posting_without_an_idempotency_key_is_400()
    {
        var (client, account) = await AccountWithOneChargeAsync();
        var problem = await (await Api.PostRawAsync(client, account, "{\"kind\":\"patientPayment\",\"amount\":40.00,\"method\":\"card\"}", null))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("idempotency-key.required", problem.GetProperty("code").GetString());
        await AssertUnchangedAsync(client, account);
    }

    [Fact]
    public async Task Reversing_an_entry_that_does_not_exist_is_404()
    {
        var (client, account) = await AccountWithOneChargeAsync();
        var problem = await (await Api.PostEntryAsync(client, account, new { kind = "reversal", reversesEntryId = "E42" })).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("entry.not-found", problem.GetProperty("code").GetString());
        await AssertUnchangedAsync(client, account);
    }

    [Fact]
    public async Task Posting_to_an_unknown_account_is_404()
    {
        using var client = engine.Admin();
        await (await Api.PostEntryAsync(client, "/api/accounts/MAIN/NO-SUCH-ACCOUNT", Api.Payment(10m))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/api/accounts/MAIN/NO-SUCH-ACCOUNT")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Opening_a_duplicate_account_number_is_409_and_keeps_the_first_account()
    {
        var (client, account) = await AccountWithOneChargeAsync();
        var accountNumber = account.Split('/').Last();
        var guarantorId = (await client.GetJsonAsync(account)).GetProperty("guarantorId").GetString();

        var problem = await (await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber, guarantorId }))
            .AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("account.exists", problem.GetProperty("code").GetString());
        await AssertUnchangedAsync(client, account);
    }

    [Fact]
    public async Task Reusing_an_idempotency_key_for_a_different_payment_is_409()
    {
        var (client, account) = await AccountWithOneChargeAsync();
        await Api.PostEntryAsync(client, account, Api.Payment(40m), "k-reused");

        await (await Api.PostEntryAsync(client, account, Api.Payment(45m), "k-reused")).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(2, (await client.GetJsonAsync(account)).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task An_invalid_guarantor_lists_every_field_error()
    {
        using var client = engine.Admin();
        var problem = await (await client.PostAsJsonAsync("/api/guarantors", new { firstName = "", dateOfBirth = "2999-01-01", address = new { line1 = "1 Main", city = "X", state = "ZZ", zip = "1" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);

        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("firstName", fields);
        Assert.Contains("lastName", fields);
        Assert.Contains("dateOfBirth", fields);
        Assert.Contains("address.state", fields);
        Assert.Contains("address.zip", fields);
    }

    [Fact]
    public async Task An_account_number_with_illegal_characters_is_400()
    {
        using var client = engine.Admin();
        await (await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber = "has space", guarantorId = "G1" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
