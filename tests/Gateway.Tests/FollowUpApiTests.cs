using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>The follow-up API over real HTTP: holds, the STOP webhook, the call limits, policies, the outbox.</summary>
[Collection(EngineCollection.Name)]
public sealed class FollowUpApiTests(EngineFixture engine)
{

    /// <summary>The account's outbox once a message matching <paramref name="wanted"/> is in it (the cadence's tick writes it just after the command).</summary>
    private static async Task<List<JsonElement>> OutboxAsync(HttpClient client, string account, Func<JsonElement, bool> wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var messages = (await client.GetJsonAsync($"/api/outbox?account={Uri.EscapeDataString(account["/api/accounts/".Length..])}")).EnumerateArray().ToList();
            if (messages.Any(wanted)) return messages;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No such message in the outbox: {string.Join(", ", messages.Select(m => m.GetProperty("messageId").GetString()))}");
            await Task.Delay(50);
        }
    }

    private async Task<(string Account, string GuarantorId)> SelfPayAccountAsync(HttpClient client, bool smsConsent = false)
    {
        var guarantorId = Api.NewId("G");
        var registered = await client.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Maria", lastName = "Lopez", dateOfBirth = "1980-04-02",
            address = new { line1 = "12 Elm St", city = "Austin", state = "TX", zip = "78701" },
            phones = new[] { new { number = $"512555{Random.Shared.Next(1000, 9999)}", type = "mobile" } },
            email = "maria@example.org", preferredChannel = "email", timeZone = Api.DaytimeZone(),
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        if (smsConsent)
            (await client.PostAsJsonAsync($"/api/guarantors/{guarantorId}/consents", new { channel = "sms", status = "granted", source = "registration form" })).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("A");
        (await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var account = $"/api/accounts/MAIN/{accountNumber}";
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, new { kind = "charge", amount = 480.00m, serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3).ToString("yyyy-MM-dd"), code = "99214" })).StatusCode);
        return (account, guarantorId);
    }

    [Fact]
    public async Task A_self_pay_balance_gets_its_statement_in_the_outbox_at_once()
    {
        using var client = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(client);

        var messages = await OutboxAsync(client, account, m => m.GetProperty("action").GetString() == "patientStatement");

        var statement = Assert.Single(messages);
        Assert.Equal("patientStatement", statement.GetProperty("action").GetString());
        var cadence = (await client.GetJsonAsync(account)).GetProperty("cadence");
        Assert.Equal("standard v1", cadence.GetProperty("policyReference").GetString());
        Assert.Equal(JsonValueKind.String, cadence.GetProperty("nextActionAt").ValueKind);
    }

    [Fact]
    public async Task Every_email_carries_a_link_that_stops_emails_to_that_person_without_signing_in()
    {
        using var client = engine.Admin();
        var (_, guarantorId) = await SelfPayAccountAsync(client);
        // The link every email carries (the emails themselves are checked in Outreach.Tests; here, what the link does).
        var url = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Outreach.EmailOptOutLinks>(engine.Services).UrlAsync(guarantorId);
        var link = new Uri(url).AbsolutePath;
        Assert.StartsWith("/optout/email/", link, StringComparison.Ordinal);

        using var patient = engine.Anonymous();
        var page = await patient.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<form method=\"post\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain((await client.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("consents").EnumerateArray(),
            c => c.GetProperty("channel").GetString() == "email"); // looking at the page changes nothing (mail scanners follow links)

        var stopped = await patient.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.True(stopped.Headers.CacheControl?.NoStore);
        var consents = (await client.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("consents").EnumerateArray();
        Assert.Contains(consents, c => c.GetProperty("channel").GetString() == "email" && c.GetProperty("status").GetString() == "optedOut");

        var done = await stopped.Content.ReadAsStringAsync();
        Assert.Contains("Emails stopped", done, StringComparison.Ordinal);
        Assert.Contains("href=\"/pay\"", done, StringComparison.Ordinal); // where they can turn emails on again

        Assert.Equal(HttpStatusCode.NotFound, (await patient.PostAsync(link + "A", null)).StatusCode);
        var broken = await patient.GetAsync("/optout/email/Rzk.AAAA");
        Assert.Equal(HttpStatusCode.NotFound, broken.StatusCode);
        Assert.Contains("This link is not valid", await broken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_email_opt_out_page_speaks_spanish_when_the_patient_reads_spanish()
    {
        using var client = engine.Admin();
        var (_, guarantorId) = await SelfPayAccountAsync(client);
        var url = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Outreach.EmailOptOutLinks>(engine.Services).UrlAsync(guarantorId);
        using var patient = engine.Anonymous();
        patient.DefaultRequestHeaders.AcceptLanguage.ParseAdd("es-US");

        var page = await (await patient.GetAsync(new Uri(url).AbsolutePath)).Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"es\"", page, StringComparison.Ordinal);
        Assert.Contains("Dejar de recibir correos", page, StringComparison.Ordinal);
        Assert.Contains("href=\"?lang=en\"", page, StringComparison.Ordinal); // and English one press away

        var stopped = await (await patient.PostAsync(new Uri(url).AbsolutePath, null)).Content.ReadAsStringAsync();
        Assert.Contains("Ya no recibir", stopped, StringComparison.Ordinal);
        Assert.Contains("Para volver a recibir correos", stopped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_represented_guarantor_s_statement_goes_to_the_attorney_and_never_to_the_patient()
    {
        using var client = engine.Admin();
        var guarantorId = Api.NewId("G");
        (await client.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var refused = await client.PutAsJsonAsync($"/api/guarantors/{guarantorId}/representative", new { kind = "attorney", name = "Dana Reyes" });
        Assert.Equal("address.required", (await refused.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        var set = await client.PutAsJsonAsync($"/api/guarantors/{guarantorId}/representative", new
        {
            kind = "attorney", name = "Dana Reyes", organization = "Reyes Law", phone = "617-555-0199",
            address = new { line1 = "1 Court St", city = "Boston", state = "MA", zip = "02108" },
        });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("attorney", (await set.JsonAsync()).GetProperty("representative").GetProperty("kind").GetString());

        var accountNumber = Api.NewId("A");
        (await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var account = $"/api/accounts/MAIN/{accountNumber}";
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(90m))).StatusCode);

        var statement = (await OutboxAsync(client, account, m => m.GetProperty("action").GetString() == "patientStatement")).Single();
        Assert.Equal("Dana Reyes, Reyes Law, attorney for Maria Lopez", statement.GetProperty("recipientName").GetString());
        Assert.Contains("1 Court St", statement.GetProperty("recipient").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Elm", statement.GetProperty("recipient").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/guarantors/{guarantorId}/representative/end", new { })).StatusCode);
        var ended = await client.PostAsJsonAsync($"/api/guarantors/{guarantorId}/representative/end", new { note = "Attorney withdrew (letter of 1 Dec)" });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.False((await ended.JsonAsync()).TryGetProperty("representative", out _));
    }

    [Fact]
    public async Task A_dispute_hold_stops_the_cadence_and_its_release_needs_the_verification()
    {
        using var client = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(client);

        var held = await client.PostAsJsonAsync($"{account}/holds", new { reason = "dispute", note = "Patient called: disputes the lab charge" });
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        var cadence = (await held.JsonAsync()).GetProperty("cadence");
        Assert.Equal("onHold", cadence.GetProperty("status").GetString());
        Assert.False(cadence.TryGetProperty("nextActionAt", out _)); // no reminder armed while on hold

        await (await client.PostAsJsonAsync($"{account}/holds/H1/release", new { })).AssertProblemAsync(HttpStatusCode.BadRequest);
        var released = await client.PostAsJsonAsync($"{account}/holds/H1/release", new { note = "Itemized bill sent as verification" });
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        Assert.Equal("active", (await released.JsonAsync()).GetProperty("cadence").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_stop_reply_closes_texts_at_once_with_one_confirmation()
    {
        using var admin = engine.Admin();
        var (_, guarantorId) = await SelfPayAccountAsync(admin, smsConsent: true);
        var phone = (await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("profile").GetProperty("phones")[0].GetProperty("number").GetString();
        using var vendor = engine.As(await engine.KeyForAsync("integration"));

        var first = await (await vendor.PostAsJsonAsync("/api/outreach/replies", new { channel = "sms", from = phone, text = "STOP" })).JsonAsync();
        var second = await (await vendor.PostAsJsonAsync("/api/outreach/replies", new { channel = "sms", from = phone, text = "Stop please" })).JsonAsync();

        Assert.Equal(1, first.GetProperty("optedOut").GetInt32());
        Assert.Equal(1, first.GetProperty("confirmationsSent").GetInt32());
        Assert.Equal(0, second.GetProperty("confirmationsSent").GetInt32());
        var consents = (await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("consents").EnumerateArray();
        Assert.Contains(consents, c => c.GetProperty("channel").GetString() == "sms" && c.GetProperty("status").GetString() == "optedOut");
    }

    [Theory]
    [InlineData("ALTO")]
    [InlineData("stop por favor")]
    [InlineData("Please stop texting me")]
    public async Task A_revocation_in_Spanish_or_in_plain_words_closes_texts(string text)
    {
        using var admin = engine.Admin();
        var (_, guarantorId) = await SelfPayAccountAsync(admin, smsConsent: true);
        var phone = (await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("profile").GetProperty("phones")[0].GetProperty("number").GetString();
        using var vendor = engine.As(await engine.KeyForAsync("integration"));

        var answer = await (await vendor.PostAsJsonAsync("/api/outreach/replies", new { channel = "sms", from = phone, text })).JsonAsync();

        Assert.Equal("optOut", answer.GetProperty("meaning").GetString());
        Assert.Equal(1, answer.GetProperty("optedOut").GetInt32());
    }

    [Fact]
    public async Task A_reply_no_rule_understands_waits_for_a_person_who_may_read_it_as_a_revocation()
    {
        using var admin = engine.Admin();
        var (_, guarantorId) = await SelfPayAccountAsync(admin, smsConsent: true);
        var phone = (await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("profile").GetProperty("phones")[0].GetProperty("number").GetString();
        using var vendor = engine.As(await engine.KeyForAsync("integration"));
        var text = $"I told you people already, this is my work phone {Guid.NewGuid():N}";

        var answer = await (await vendor.PostAsJsonAsync("/api/outreach/replies", new { channel = "sms", from = phone, text })).JsonAsync();
        Assert.Equal("needsReview", answer.GetProperty("meaning").GetString());
        Assert.Equal(0, answer.GetProperty("optedOut").GetInt32());
        var reviewId = answer.GetProperty("reviewId").GetString()!;

        using var agent = engine.As(await engine.KeyForAsync("agent"));
        var open = await agent.GetJsonAsync("/api/outreach/replies/review");
        var review = Assert.Single(open.EnumerateArray(), r => r.GetProperty("reviewId").GetString() == reviewId);
        Assert.Equal(text, review.GetProperty("text").GetString());
        Assert.Contains(guarantorId, review.GetProperty("guarantorIds").EnumerateArray().Select(g => g.GetString()));

        var decided = await agent.PostAsJsonAsync($"/api/outreach/replies/review/{reviewId}/resolve", new { decision = "optedOut", note = "Asked us to stop, in other words" });
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        Assert.DoesNotContain((await agent.GetJsonAsync("/api/outreach/replies/review")).EnumerateArray(), r => r.GetProperty("reviewId").GetString() == reviewId);
        var consents = (await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("consents").EnumerateArray();
        Assert.Contains(consents, c => c.GetProperty("channel").GetString() == "sms" && c.GetProperty("status").GetString() == "optedOut");
        await (await agent.PostAsJsonAsync($"/api/outreach/replies/review/{reviewId}/resolve", new { decision = "noAction" })).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task After_seven_calls_in_seven_days_the_next_call_is_deferred_and_a_call_made_anyway_is_recorded_with_the_rule_it_broke()
    {
        using var client = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(client);

        async Task<HttpResponseMessage> Call(int n)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"{account}/calls") { Content = JsonContent.Create(new { initiator = "agent", outcome = "noAnswer" }) };
            request.Headers.Add("Idempotency-Key", $"call-{n}");
            return await client.SendAsync(request);
        }

        for (var n = 1; n <= 7; n++) Assert.Equal(HttpStatusCode.Created, (await Call(n)).StatusCode);
        var check = await (await client.GetAsync($"{account}/calls/check")).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("calls.7-in-7", check.GetProperty("code").GetString());
        Assert.Equal("defer", check.GetProperty("verdict").GetString());
        Assert.True(check.GetProperty("notBefore").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(6));
        Assert.Contains("7 call attempts", check.GetProperty("detail").GetString());

        // The agent called anyway: what happened is recorded, never refused, and flagged with the rule it broke.
        var eighth = await Call(8);
        Assert.Equal(HttpStatusCode.Created, eighth.StatusCode);
        Assert.Equal("recorded.calls.7-in-7", (await eighth.JsonAsync()).GetProperty("rule").GetString());
        var audit = await client.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(account["/api/accounts/".Length..])}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.call.log" && e.GetProperty("detail").GetString()!.Contains("rule-broken=calls.7-in-7", StringComparison.Ordinal));
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.call.check"); // the gate's answer tells about the person
        // A retry of a call already logged records nothing new, and says so.
        var retried = await Call(3);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal("true", retried.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(eighth.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task A_call_logged_afterwards_takes_the_time_it_was_made_and_a_time_in_the_future_is_a_problem_naming_calledAt()
    {
        using var client = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(client);
        async Task<HttpResponseMessage> Call(string key, object calledAt)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"{account}/calls") { Content = JsonContent.Create(new { initiator = "agent", outcome = "noAnswer", calledAt }) };
            request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }

        var future = await (await Call("later", DateTimeOffset.UtcNow.AddHours(3))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("called-at.future", future.GetRawText(), StringComparison.Ordinal);
        // A dialer's local time without its offset would be read in the server's zone: refused, naming the field.
        var local = await (await Call("no-offset", DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ss"))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("called-at.invalid", local.GetRawText(), StringComparison.Ordinal);

        var calledAt = new DateTimeOffset(DateTimeOffset.UtcNow.AddDays(-2).UtcDateTime.Date.AddHours(15), TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.Created, (await Call("dialer-file-1", calledAt)).StatusCode);
        var guarantor = (await client.GetJsonAsync(account)).GetProperty("guarantorId").GetString();
        var contacts = (await client.GetJsonAsync($"/api/guarantors/{guarantor}")).GetProperty("recentContacts").EnumerateArray();
        Assert.Contains(contacts, c => c.GetProperty("requestId").GetString()!.EndsWith("dialer-file-1", StringComparison.Ordinal) && c.GetProperty("at").GetDateTimeOffset() == calledAt);
    }

    [Fact]
    public async Task A_policy_with_mistakes_is_refused_with_each_one_named_and_a_good_one_gets_a_new_version()
    {
        using var client = engine.As(await engine.KeyForAsync("supervisor"));
        var bad = await client.PutAsJsonAsync("/api/policies/large-balance-call", new
        {
            name = "Early call",
            steps = new object[]
            {
                new { stepId = "statement", day = 0, action = "patientStatement", channel = "sms" },
                new { stepId = "agency", day = 60, action = "agencyPlacement" },
            },
        });
        var problem = await bad.AssertProblemAsync(HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("steps[0].channel", fields);
        Assert.Contains("steps[1]", fields);

        var good = await client.PutAsJsonAsync("/api/policies/large-balance-call", new
        {
            name = "Early call for large balances",
            segment = new { minimumBalance = 1000.00m },
            priority = 5,
            steps = new object[]
            {
                new { stepId = "statement", day = 0, action = "patientStatement", channel = "mail" },
                new { stepId = "call-10", day = 10, action = "callTask", channel = "voice" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(1, (await good.JsonAsync()).GetProperty("version").GetInt32());
        var active = await client.GetJsonAsync("/api/policies");
        Assert.Contains(active.EnumerateArray(), p => p.GetProperty("policyId").GetString() == "large-balance-call");
    }

    [Fact]
    public async Task A_hold_or_a_promise_sent_again_with_its_key_or_a_hold_double_clicked_is_made_once_and_answered_as_a_replay()
    {
        using var client = engine.As(await engine.KeyForAsync("agent"));
        using var admin = engine.Admin();
        var (account, guarantorId) = await SelfPayAccountAsync(admin);

        async Task<HttpResponseMessage> Send(HttpClient c, string path, object body, string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            return await c.SendAsync(request);
        }
        static bool Replayed(HttpResponseMessage r) => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true";

        // A promise, then its retry (a timeout): one promise, the retry answered as a replay, not "a promise is pending".
        var promise = new { amount = 100.00m, promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(14).ToString("yyyy-MM-dd") };
        var first = await Send(client, $"{account}/promises", promise, "promise-1");
        var again = await Send(client, $"{account}/promises", promise, "promise-1");
        Assert.Equal((HttpStatusCode.OK, false), (first.StatusCode, Replayed(first)));
        Assert.Equal((HttpStatusCode.OK, true), (again.StatusCode, Replayed(again)));
        Assert.Single((await again.JsonAsync()).GetProperty("promises").EnumerateArray());
        var otherPromise = await Send(client, $"{account}/promises", new { amount = 90.00m, promise.promisedDate }, "promise-1");
        Assert.Equal(HttpStatusCode.Conflict, otherPromise.StatusCode);
        Assert.Equal("idempotency-key.reused", (await otherPromise.JsonAsync()).GetProperty("code").GetString());

        // Holds: by key, and a double click without one, make one hold, which one release ends.
        var hold = new { reason = "dispute", note = "Patient says the 3 May visit was billed twice" };
        Assert.False(Replayed(await Send(client, $"{account}/holds", hold, "hold-1")));
        Assert.True(Replayed(await Send(client, $"{account}/holds", hold, "hold-1")));
        Assert.True(Replayed(await Send(client, $"{account}/holds", hold, null)));
        var reused = await Send(client, $"{account}/holds", new { reason = "manual", note = "Other" }, "hold-1");
        Assert.Equal("idempotency-key.reused", (await reused.JsonAsync()).GetProperty("code").GetString());
        var holds = (await admin.GetJsonAsync(account)).GetProperty("holds").EnumerateArray().ToList();
        var only = Assert.Single(holds);
        var released = await admin.PostAsJsonAsync($"{account}/holds/{only.GetProperty("holdId").GetString()}/release", new { note = "Verified: billed once; EOB sent" });
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        var after = await admin.GetJsonAsync(account);
        Assert.DoesNotContain(after.GetProperty("holds").EnumerateArray(), h => h.GetProperty("isActive").GetBoolean());
        Assert.NotEqual("onHold", after.GetProperty("cadence").GetProperty("status").GetString());

        var audit = (await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(account["/api/accounts/".Length..])}&limit=200"))
            .EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(2, audit.Count(a => a == "account.hold.replay"));
        Assert.Equal(1, audit.Count(a => a == "account.promise.replay"));

        // The person's hold the same way, and a double click without a key.
        var personHold = new { reason = "manual", note = "Called to say they are in hospital" };
        Assert.False(Replayed(await Send(admin, $"/api/guarantors/{guarantorId}/holds", personHold, "g-hold-1")));
        var personAgain = await Send(admin, $"/api/guarantors/{guarantorId}/holds", personHold, "g-hold-1");
        Assert.True(Replayed(personAgain));
        Assert.True(Replayed(await Send(admin, $"/api/guarantors/{guarantorId}/holds", personHold, null)));
        Assert.Single((await admin.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("holds").EnumerateArray());
    }

    [Fact]
    public async Task A_payment_plan_sent_again_with_its_key_is_started_once()
    {
        using var client = engine.As(await engine.KeyForAsync("agent"));
        using var admin = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(admin);
        var plan = new { installmentCount = 4, frequency = "monthly", firstDueDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(20).ToString("yyyy-MM-dd") };

        using var first = new HttpRequestMessage(HttpMethod.Post, $"{account}/plans") { Content = JsonContent.Create(plan) };
        first.Headers.Add("Idempotency-Key", "plan-1");
        using var again = new HttpRequestMessage(HttpMethod.Post, $"{account}/plans") { Content = JsonContent.Create(plan) };
        again.Headers.Add("Idempotency-Key", "plan-1");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(first)).StatusCode);
        var repeated = await client.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        Assert.Equal("true", repeated.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Single((await repeated.JsonAsync()).GetProperty("plans").EnumerateArray());
    }

    [Fact]
    public async Task A_promise_to_pay_pauses_the_cadence()
    {
        using var client = engine.As(await engine.KeyForAsync("agent"));
        using var admin = engine.Admin();
        var (account, _) = await SelfPayAccountAsync(admin);

        var promised = await client.PostAsJsonAsync($"{account}/promises", new { amount = 100.00m, promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(14).ToString("yyyy-MM-dd") });

        Assert.Equal(HttpStatusCode.OK, promised.StatusCode);
        Assert.Equal("promisePending", (await promised.JsonAsync()).GetProperty("cadence").GetProperty("status").GetString());
    }
}

[Collection(EngineCollection.Name)]
public sealed class CreditBalanceApiTests(EngineFixture engine)
{
    [Fact]
    public async Task An_overpaid_account_shows_a_credit_balance_leaves_the_cadence_and_is_refunded_with_approval()
    {
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        var facility = account.Split('/')[3];
        await Api.PostEntryAsync(admin, account, Api.Charge(100.00m));
        await Api.PostEntryAsync(admin, account, Api.Payment(130.00m));

        var view = await admin.GetJsonAsync(account);
        Assert.Equal(30.00m, view.GetProperty("balances").GetProperty("creditBalance").GetDecimal());
        Assert.Equal("idle", view.GetProperty("cadence").GetProperty("status").GetString());
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(60).ToString("yyyy-MM-dd"), view.GetProperty("refundDueBy").GetString());
        await engine.ProjectionsCaughtUpAsync(); // the register is a projection of the committed events
        var report = await admin.GetJsonAsync($"/api/reports/credit-balances/{facility}");
        Assert.Contains(report.GetProperty("items").EnumerateArray(), i => i.GetProperty("account").GetProperty("accountNumber").GetString() == account.Split('/')[^1]);

        using var agent = engine.As(await engine.KeyForAsync("agent"));
        var refund = new HttpRequestMessage(HttpMethod.Post, $"{account}/refunds") { Content = JsonContent.Create(new { method = "check", reference = "CHK-1001" }) };
        refund.Headers.Add("Idempotency-Key", "refund-1");
        await (await agent.SendAsync(refund)).AssertProblemAsync(HttpStatusCode.Forbidden); // only a supervisor approves

        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        var approved = new HttpRequestMessage(HttpMethod.Post, $"{account}/refunds") { Content = JsonContent.Create(new { method = "check", reference = "CHK-1001" }) };
        approved.Headers.Add("Idempotency-Key", "refund-1");
        Assert.Equal(HttpStatusCode.Created, (await supervisor.SendAsync(approved)).StatusCode);

        var after = await admin.GetJsonAsync(account);
        Assert.Equal(0.00m, after.GetProperty("balances").GetProperty("creditBalance").GetDecimal());
        Assert.False(after.TryGetProperty("refundDueBy", out _));
        await engine.ProjectionsCaughtUpAsync();
        var reportAfter = await admin.GetJsonAsync($"/api/reports/credit-balances/{facility}");
        Assert.DoesNotContain(reportAfter.GetProperty("items").EnumerateArray(), i => i.GetProperty("account").GetProperty("accountNumber").GetString() == account.Split('/')[^1]);
    }
}
