using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>
/// What an agent needs on a call, over real HTTP: who is calling in (by phone or account number), recording a call the
/// worklist did not offer, taking a card payment on the processor's page, the agent's own tally, and who they are.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class AgentCallTests(EngineFixture engine)
{
    /// <summary>An agent on a call: the administrator's and the agent's clients, and the account in a queue the agent works.</summary>
    private sealed record Call(HttpClient Admin, HttpClient Agent, string AgentKey, string Facility, string AccountNumber, string GuarantorId, string Phone) : IDisposable
    {
        public string AgentId => AgentKey.Split('_')[1];

        public void Dispose()
        {
            Admin.Dispose();
            Agent.Dispose();
        }
    }

    /// <summary>A new agent key, and a guarantor with a phone number of their own and one account owing <paramref name="charge"/> in a queue that agent works.</summary>
    private async Task<Call> CallAsync(decimal charge, string lastName = "Ruiz")
    {
        var admin = engine.Admin();
        var agentKey = await engine.KeyForAsync("agent");
        var facility = "AC" + Guid.NewGuid().ToString("N")[..10];
        (await admin.PutAsJsonAsync($"/api/worklist/queues/{facility}", new { name = "Calls", facility, agents = new[] { agentKey.Split('_')[1] } })).EnsureSuccessStatusCode();
        var guarantorId = Api.NewId("G");
        // An exchange of 2-9 then two digits that are never "11" (N11 codes such as 911 are no subscriber's number).
        var phone = $"737{Random.Shared.Next(2, 10)}{Random.Shared.Next(20, 100)}{Random.Shared.Next(1000, 9999)}";
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Ana", lastName, dateOfBirth = "1969-03-14",
            address = new { line1 = "9 Pine St", city = "Austin", state = "TX", zip = "78704" },
            phones = new[] { new { number = phone, type = "mobile" } },
            email = "ana@example.org", preferredChannel = "email", timeZone = Api.DaytimeZone(),
        })).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("A");
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{accountNumber}", Api.Charge(charge))).StatusCode);
        await admin.GetAsync($"/api/accounts/{facility}/{accountNumber}");
        await engine.ProjectionsCaughtUpAsync();
        return new Call(admin, engine.As(agentKey), agentKey, facility, accountNumber, guarantorId, phone);
    }

    /// <summary>The request was refused as bad input with this problem code.</summary>
    private static async Task AssertRefusedAsync(Task<HttpResponseMessage> request, string code)
    {
        var refused = await request;
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(code, (await refused.JsonAsync()).GetProperty("code").GetString());
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task A_caller_is_found_by_phone_or_account_number_and_each_person_shown_is_audited()
    {
        using var call = await CallAsync(180.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber, guarantorId, phone) = (call.Facility, call.AccountNumber, call.GuarantorId, call.Phone);

        var byPhone = await agent.GetJsonAsync($"/api/worklist/callers?phone=({phone[..3]}) {phone[3..6]}-{phone[6..]}");
        var caller = Assert.Single(byPhone.EnumerateArray());
        Assert.Equal((guarantorId, "Ana", "Ruiz", "1969-03-14"), (caller.GetProperty("guarantorId").GetString(), caller.GetProperty("firstName").GetString(),
            caller.GetProperty("lastName").GetString(), caller.GetProperty("dateOfBirth").GetString()));
        var account = Assert.Single(caller.GetProperty("accounts").EnumerateArray());
        Assert.Equal((facility, accountNumber, 180.00m), (account.GetProperty("facility").GetString(), account.GetProperty("accountNumber").GetString(), account.GetProperty("patientBalance").GetDecimal()));

        var byAccount = await agent.GetJsonAsync($"/api/worklist/callers?facility={facility}&accountNumber={accountNumber}");
        Assert.Equal(guarantorId, Assert.Single(byAccount.EnumerateArray()).GetProperty("guarantorId").GetString());
        Assert.Empty((await agent.GetJsonAsync($"/api/worklist/callers?facility={facility}&accountNumber=NOSUCH1")).EnumerateArray());

        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=guarantor&resourceId={guarantorId}&limit=100");
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "caller.search"));

        foreach (var (query, code) in new[] { ("phone=555", "phone.invalid"), ($"phone={phone}&facility={facility}&accountNumber={accountNumber}", "caller.one-way"), ("", "caller.search-required") })
        {
            await AssertRefusedAsync(agent.GetAsync($"/api/worklist/callers?{query}"), code);
        }
    }

    [Fact]
    public async Task A_caller_is_found_by_last_name_and_date_of_birth_whatever_the_accents_case_and_punctuation()
    {
        var suffix = new string(Guid.NewGuid().ToString("N").Where(char.IsLetter).Take(6).ToArray());
        using var call = await CallAsync(60.00m, lastName: $"O'Brien-Núñez {suffix}");
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber, guarantorId) = (call.Facility, call.AccountNumber, call.GuarantorId);

        var found = await agent.GetJsonAsync($"/api/worklist/callers?lastName={Uri.EscapeDataString($"obrien nunez{suffix.ToUpperInvariant()}")}&dateOfBirth=1969-03-14");
        var caller = Assert.Single(found.EnumerateArray());
        Assert.Equal(guarantorId, caller.GetProperty("guarantorId").GetString());
        Assert.Equal((facility, accountNumber), (caller.GetProperty("accounts")[0].GetProperty("facility").GetString(), caller.GetProperty("accounts")[0].GetProperty("accountNumber").GetString()));
        Assert.Single((await agent.GetJsonAsync($"/api/worklist/callers?lastName=OBrienNunez{suffix}&dateOfBirth=1969-03-14&firstName=ann")).EnumerateArray());
        Assert.Empty((await agent.GetJsonAsync($"/api/worklist/callers?lastName=OBrienNunez{suffix}&dateOfBirth=1969-03-14&firstName=Beth")).EnumerateArray());
        Assert.Empty((await agent.GetJsonAsync($"/api/worklist/callers?lastName=OBrienNunez{suffix}&dateOfBirth=1969-03-15")).EnumerateArray());
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=guarantor&resourceId={guarantorId}&limit=100");
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "caller.search"));
        // The index read the person's name and date of birth to file them: the engine's own read, shown to no one, is
        // not in the trail as a person read.
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "guarantor.read" && e.GetProperty("actor").GetString() == "system");

        foreach (var (query, code) in new[]
                 {
                     ("lastName=Ruiz", "date-of-birth.invalid"), ("dateOfBirth=1969-03-14", "last-name.required"), ("lastName=Ruiz&dateOfBirth=14/03/1969", "date-of-birth.invalid"),
                     ("lastName=-'&dateOfBirth=1969-03-14", "last-name.required"), ("phone=5125550100&lastName=Ruiz&dateOfBirth=1969-03-14", "caller.one-way"),
                     ("phone=5125550100&firstName=Ana", "caller.one-way"),
                 })
        {
            await AssertRefusedAsync(agent.GetAsync($"/api/worklist/callers?{query}"), code);
        }
    }

    [Fact]
    public async Task An_inbound_call_with_a_promise_is_recorded_once_as_inbound_and_a_retry_replays_it()
    {
        using var call = await CallAsync(240.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber, guarantorId) = (call.Facility, call.AccountNumber, call.GuarantorId);
        var path = $"/api/accounts/{facility}/{accountNumber}/calls/outcome";
        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(9).ToString("yyyy-MM-dd");
        var body = new { outcome = "promiseToPay", amount = 90.00m, promisedDate, initiator = "inbound" };

        var first = await PostAsync(agent, path, body, "inbound-1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var again = await PostAsync(agent, path, body, "inbound-1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));

        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        Assert.Equal(90.00m, Assert.Single(account.GetProperty("promises").EnumerateArray()).GetProperty("amount").GetDecimal());
        var guarantor = await admin.GetJsonAsync($"/api/guarantors/{guarantorId}");
        var logged = Assert.Single(guarantor.GetProperty("recentContacts").EnumerateArray(), c => c.GetProperty("action").GetString() == "callTask");
        Assert.Equal(("inbound", "rightPartyContact"), (logged.GetProperty("initiator").GetString(), logged.GetProperty("outcome").GetString()));

        // The key again with another answer: refused, and what was recorded stays.
        var other = await PostAsync(agent, path, new { outcome = "dispute", initiator = "inbound" }, "inbound-1");
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("idempotency-key.reused", (await other.JsonAsync()).GetProperty("code").GetString());
        Assert.Empty((await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}")).GetProperty("holds").EnumerateArray());

        // An inbound call reached someone; the worklist's own calls go on their lease; the key is required.
        foreach (var (refusedBody, key, code) in new (object, string?, string)[]
                 {
                     (new { outcome = "noAnswer", initiator = "inbound" }, "k2", "outcome.not-inbound"),
                     (new { outcome = "rightPartyContact", initiator = "agent" }, "k3", "initiator.invalid"),
                     (new { outcome = "rightPartyContact" }, null, "idempotency-key.required"),
                 })
        {
            var refused = await PostAsync(agent, path, refusedBody, key);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains(code, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_agent_opens_the_processors_checkout_for_a_card_payment_once_per_key_and_never_for_more_than_is_owed()
    {
        using var call = await CallAsync(120.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber, guarantorId) = (call.Facility, call.AccountNumber, call.GuarantorId);
        var path = $"/api/accounts/{facility}/{accountNumber}/card-payments";

        var started = await PostAsync(agent, path, new { amount = 50.00m }, "card-1");
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var payment = await started.JsonAsync();
        Assert.Equal((guarantorId, 50.00m, "agent"), (payment.GetProperty("guarantorId").GetString(), payment.GetProperty("amount").GetDecimal(), payment.GetProperty("source").GetString()));
        Assert.Contains("/sandbox/checkout/", payment.GetProperty("checkoutUrl").GetString(), StringComparison.Ordinal);
        var retry = await (await PostAsync(agent, path, new { amount = 50.00m }, "card-1")).JsonAsync();
        Assert.Equal(payment.GetProperty("paymentId").GetString(), retry.GetProperty("paymentId").GetString());
        Assert.Equal(payment.GetProperty("checkoutUrl").GetString(), retry.GetProperty("checkoutUrl").GetString());

        var reused = await PostAsync(agent, path, new { amount = 60.00m }, "card-1");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Equal("idempotency-key.reused", (await reused.JsonAsync()).GetProperty("code").GetString());
        var tooMuch = await PostAsync(agent, path, new { amount = 500.00m }, "card-2");
        Assert.Equal(HttpStatusCode.BadRequest, tooMuch.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(agent, path, new { amount = 10.00m }, null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(agent, path, new { }, "card-3")).StatusCode);
    }

    [Fact]
    public async Task Each_agents_calls_inbound_calls_handle_time_promises_and_the_money_paid_after_their_conversation_are_reported_to_supervisors()
    {
        using var call = await CallAsync(300.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber) = (call.Facility, call.AccountNumber);
        var account = $"/api/accounts/{facility}/{accountNumber}";

        // A worklist call that reaches the guarantor, a check taken on it, and later the guarantor calls in with a promise.
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync("/api/worklist/next", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(agent, $"/api/worklist/leases/{facility}/{accountNumber}/outcome", new { outcome = "rightPartyContact" }, Guid.NewGuid().ToString())).StatusCode);
        var check = await PostAsync(agent, $"{account}/entries", new { kind = "patientPayment", amount = 100.00m, method = "check", reference = "1042", channel = "agent" }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, check.StatusCode);
        Assert.Equal("agent", (await check.JsonAsync()).GetProperty("entry").GetProperty("channel").GetString()); // taken on the call, not in the mail
        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(9).ToString("yyyy-MM-dd");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(agent, $"{account}/calls/outcome", new { outcome = "promiseToPay", amount = 50.00m, promisedDate, initiator = "inbound" }, Guid.NewGuid().ToString())).StatusCode);
        // Another agent takes the guarantor's next call: inbound, so no handle time from a lease.
        var colleagueKey = await engine.KeyForAsync("agent");
        using (var colleague = engine.As(colleagueKey))
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(colleague, $"{account}/calls/outcome", new { outcome = "rightPartyContact", initiator = "inbound" }, Guid.NewGuid().ToString())).StatusCode);
        // The mail brings another check, posted by the billing integration.
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(admin, $"{account}/entries", new { kind = "patientPayment", amount = 20.00m, method = "check" }, Guid.NewGuid().ToString())).StatusCode);
        await engine.ProjectionsCaughtUpAsync(); // the figures are a projection of the committed facts

        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        var performance = await supervisor.GetJsonAsync($"/api/kpis/agents?facility={facility}&days=1");
        var agents = performance.GetProperty("agents").EnumerateArray().ToList();
        Assert.Equal(2, agents.Count);
        var mine = agents.Single(a => a.GetProperty("agent").GetString() == call.AgentId);
        var theirs = agents.Single(a => a.GetProperty("agent").GetString() == colleagueKey.Split('_')[1]);
        Assert.Equal((1, 1, JsonValueKind.Null, JsonValueKind.Null), (theirs.GetProperty("calls").GetInt32(), theirs.GetProperty("inbound").GetInt32(),
            theirs.GetProperty("averageHandleSeconds").ValueKind, theirs.GetProperty("rightPartyContactRate").ValueKind)); // no outbound call, no lease
        Assert.Equal(20.00m, theirs.GetProperty("collectedAfterContact").GetDecimal()); // the mailed check came after their conversation
        Assert.Equal((2, 1, 2, 1, 0), (mine.GetProperty("calls").GetInt32(), mine.GetProperty("inbound").GetInt32(), mine.GetProperty("contacts").GetInt32(),
            mine.GetProperty("promises").GetInt32(), mine.GetProperty("plans").GetInt32()));
        Assert.Equal(1m, mine.GetProperty("rightPartyContactRate").GetDecimal());
        Assert.Equal(100.00m, mine.GetProperty("collectedAfterContact").GetDecimal()); // the check taken on the call
        Assert.True(mine.GetProperty("averageHandleSeconds").GetInt32() >= 0);          // the worklist call had a lease; the inbound one does not count
        Assert.Single(performance.GetProperty("days").EnumerateArray());

        var daily = await supervisor.GetJsonAsync($"/api/kpis/daily?facility={facility}&days=7");
        var days = daily.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(7, days.Count);
        var today = days[^1];
        Assert.Equal((100.00m, 20.00m, 120.00m), (today.GetProperty("cash").GetProperty("agent").GetDecimal(), today.GetProperty("cash").GetProperty("mail").GetDecimal(),
            today.GetProperty("cashTotal").GetDecimal()));
        Assert.Equal((3, 2, 3), (today.GetProperty("calls").GetInt32(), today.GetProperty("inbound").GetInt32(), today.GetProperty("contacts").GetInt32()));
        Assert.Equal(1m, today.GetProperty("rightPartyContactRate").GetDecimal()); // of the one outbound call
        Assert.All(days[..^1], d => Assert.Equal(0m, d.GetProperty("cashTotal").GetDecimal()));

        var tally = await agent.GetJsonAsync($"/api/worklist/tally?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("o"))}");
        Assert.Equal((1, 1, 100.00m), (tally.GetProperty("calls").GetInt32(), tally.GetProperty("inboundCalls").GetInt32(), tally.GetProperty("collectedAfterContact").GetDecimal()));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync($"/api/kpis/agents?facility={facility}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await supervisor.GetAsync("/api/kpis/daily?days=0")).StatusCode);
    }

    [Fact]
    public async Task The_agents_tally_counts_their_own_calls_today_and_each_role_is_told_its_landing_page()
    {
        using var call = await CallAsync(75.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber) = (call.Facility, call.AccountNumber);
        var since = DateTimeOffset.UtcNow.AddHours(-1).ToString("o");
        var before = await agent.GetJsonAsync($"/api/worklist/tally?since={Uri.EscapeDataString(since)}");
        Assert.Equal(0, before.GetProperty("calls").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync("/api/worklist/next", null)).StatusCode);
        var outcome = await PostAsync(agent, $"/api/worklist/leases/{facility}/{accountNumber}/outcome", new { outcome = "rightPartyContact" }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.OK, outcome.StatusCode);
        var after = await agent.GetJsonAsync($"/api/worklist/tally?since={Uri.EscapeDataString(since)}");
        Assert.Equal((1, 1, 0), (after.GetProperty("calls").GetInt32(), after.GetProperty("reached").GetInt32(), after.GetProperty("promises").GetInt32()));
        var tooOld = await agent.GetAsync($"/api/worklist/tally?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-30).ToString("o"))}");
        Assert.Equal(HttpStatusCode.BadRequest, tooOld.StatusCode);

        foreach (var (role, landing) in new[] { ("agent", "worklist"), ("supervisor", "dashboard"), ("data-team", "models"), ("integration", "none") })
        {
            using var client = engine.As(await engine.KeyForAsync(role));
            var me = await client.GetJsonAsync("/api/me");
            Assert.Equal((role, landing), (me.GetProperty("role").GetString(), me.GetProperty("landing").GetString()));
        }
        using var anonymous = engine.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task What_an_agent_writes_about_a_call_is_kept_on_the_account_once_and_a_full_list_keeps_the_call_and_says_so()
    {
        using var call = await CallAsync(80.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var account = $"/api/accounts/{call.Facility}/{call.AccountNumber}";
        var said = "Son answered; she is back from hospital Friday.";
        var body = new { outcome = "rightPartyContact", initiator = "inbound", note = said };

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(agent, $"{account}/calls/outcome", body, "talk-1")).StatusCode);
        Assert.True((await PostAsync(agent, $"{account}/calls/outcome", body, "talk-1")).Headers.Contains("Idempotent-Replayed"));
        var note = Assert.Single((await agent.GetJsonAsync($"{account}/notes")).EnumerateArray());
        Assert.Equal(($"Call, rightPartyContact: {said}", call.AgentId), (note.GetProperty("text").GetString(), note.GetProperty("writtenBy").GetString()));
        // An agent's own note under the same key is another note, not a reused key.
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(agent, $"{account}/notes", new { text = "Follow up Friday" }, "talk-1")).StatusCode);

        for (var i = 2; (await agent.GetJsonAsync($"{account}/notes")).GetArrayLength() < Domain.AccountNotes.MaxNotes; i++)
            Assert.Equal(HttpStatusCode.Created, (await PostAsync(agent, $"{account}/notes", new { text = $"note {i}" }, $"fill-{i}")).StatusCode);
        var full = await PostAsync(agent, $"{account}/calls/outcome", body with { note = "Asked for an itemised bill." }, "talk-2");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Contains("at most 50 notes", (await full.JsonAsync()).GetProperty("noteNotKept").GetString(), StringComparison.Ordinal);
        // A retry after a lost answer is told the same, not that all went well.
        var retried = await PostAsync(agent, $"{account}/calls/outcome", body with { note = "Asked for an itemised bill." }, "talk-2");
        Assert.True(retried.Headers.Contains("Idempotent-Replayed"));
        Assert.Contains("they were full", (await retried.JsonAsync()).GetProperty("noteNotKept").GetString(), StringComparison.Ordinal);
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString($"{call.Facility}/{call.AccountNumber}")}&limit=200");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.note.add" && e.GetProperty("outcome").GetString() == "refused:notes.too-many");
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.ToString().Contains("hospital Friday", StringComparison.Ordinal) || e.ToString().Contains("itemised", StringComparison.Ordinal));
        var guarantor = await admin.GetJsonAsync($"/api/guarantors/{call.GuarantorId}");
        Assert.Equal(2, guarantor.GetProperty("recentContacts").EnumerateArray().Count(c => c.GetProperty("action").GetString() == "callTask"));
        Assert.DoesNotContain((await agent.GetJsonAsync($"{account}/notes")).EnumerateArray(), n => n.GetProperty("text").GetString()!.Contains("itemised", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_worklist_calls_note_is_kept_on_the_account_with_the_lease_completed()
    {
        using var call = await CallAsync(150.00m);
        var account = $"/api/accounts/{call.Facility}/{call.AccountNumber}";
        Assert.Equal(HttpStatusCode.OK, (await call.Agent.PostAsync("/api/worklist/next", null)).StatusCode);

        var recorded = await PostAsync(call.Agent, $"/api/worklist/leases/{call.Facility}/{call.AccountNumber}/outcome",
            new { outcome = "leftMessage", note = "Voicemail names the daughter; ask for Ana." }, "lease-note-1");

        Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        var answer = await recorded.JsonAsync();
        Assert.True(answer.GetProperty("completed").GetBoolean());
        Assert.False(answer.TryGetProperty("noteNotKept", out _));
        Assert.Equal("Call, leftMessage: Voicemail names the daughter; ask for Ana.",
            Assert.Single((await call.Agent.GetJsonAsync($"{account}/notes")).EnumerateArray()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_worklist_calls_note_the_full_notes_cannot_keep_is_reported_and_again_on_a_retry_after_the_lease_completed()
    {
        using var call = await CallAsync(150.00m);
        var account = $"/api/accounts/{call.Facility}/{call.AccountNumber}";
        for (var i = 0; (await call.Agent.GetJsonAsync($"{account}/notes")).GetArrayLength() < Domain.AccountNotes.MaxNotes; i++)
            Assert.Equal(HttpStatusCode.Created, (await PostAsync(call.Agent, $"{account}/notes", new { text = $"note {i}" }, $"fill-{i}")).StatusCode);
        await engine.ProjectionsCaughtUpAsync();
        Assert.Equal(HttpStatusCode.OK, (await call.Agent.PostAsync("/api/worklist/next", null)).StatusCode);
        var outcome = $"/api/worklist/leases/{call.Facility}/{call.AccountNumber}/outcome";
        var body = new { outcome = "leftMessage", note = "Voicemail names the daughter; ask for Ana." };

        var recorded = await PostAsync(call.Agent, outcome, body, "lease-full-1");
        Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        var answer = await recorded.JsonAsync();
        Assert.True(answer.GetProperty("completed").GetBoolean());
        Assert.Contains("at most 50 notes", answer.GetProperty("noteNotKept").GetString(), StringComparison.Ordinal);

        // The lease is completed: the retry is answered from it, and still says the note is not on the account.
        var retried = await PostAsync(call.Agent, outcome, body, "lease-full-1");
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.True(retried.Headers.Contains("Idempotent-Replayed"));
        Assert.Contains("they were full", (await retried.JsonAsync()).GetProperty("noteNotKept").GetString(), StringComparison.Ordinal);

        // The key used again for another outcome is a second call under one key: refused, as on the account's own path.
        var reused = await PostAsync(call.Agent, outcome, new { outcome = "noAnswer" }, "lease-full-1");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Equal("idempotency-key.reused", (await reused.JsonAsync()).GetProperty("code").GetString());
        Assert.False(reused.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task A_retry_after_the_lease_completed_is_replayed_only_when_it_asks_what_the_first_asked_not_just_the_same_outcome()
    {
        using var call = await CallAsync(150.00m);
        Assert.Equal(HttpStatusCode.OK, (await call.Agent.PostAsync("/api/worklist/next", null)).StatusCode);
        var outcome = $"/api/worklist/leases/{call.Facility}/{call.AccountNumber}/outcome";
        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(9).ToString("yyyy-MM-dd");
        var recorded = await PostAsync(call.Agent, outcome, new { outcome = "promiseToPay", amount = 50.00m, promisedDate }, "lease-terms-1");
        Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        Assert.True((await recorded.JsonAsync()).GetProperty("completed").GetBoolean());

        // The same outcome with other terms under the key: another promise, refused as the account refuses it.
        var otherTerms = await PostAsync(call.Agent, outcome, new { outcome = "promiseToPay", amount = 60.00m, promisedDate }, "lease-terms-1");
        Assert.Equal(HttpStatusCode.Conflict, otherTerms.StatusCode);
        Assert.Equal("idempotency-key.reused", (await otherTerms.JsonAsync()).GetProperty("code").GetString());
        Assert.False(otherTerms.Headers.Contains("Idempotent-Replayed"));

        var retried = await PostAsync(call.Agent, outcome, new { outcome = "promiseToPay", amount = 50.00m, promisedDate }, "lease-terms-1");
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.True(retried.Headers.Contains("Idempotent-Replayed"));
        // The amount written another way (50 for 50.00) is still what the first asked.
        var rewritten = await PostAsync(call.Agent, outcome, new { outcome = "promiseToPay", amount = 50m, promisedDate }, "lease-terms-1");
        Assert.Equal(HttpStatusCode.OK, rewritten.StatusCode);
        Assert.True(rewritten.Headers.Contains("Idempotent-Replayed"));
        var promises = (await call.Agent.GetJsonAsync($"/api/accounts/{call.Facility}/{call.AccountNumber}")).GetProperty("promises");
        Assert.Equal(50.00m, Assert.Single(promises.EnumerateArray()).GetProperty("amount").GetDecimal());
    }

    [Fact]
    public async Task An_agent_adds_a_note_once_per_key_the_account_shows_it_and_the_audit_keeps_its_length_not_its_words()
    {
        using var call = await CallAsync(60.00m);
        var (admin, agent) = (call.Admin, call.Agent);
        var (facility, accountNumber) = (call.Facility, call.AccountNumber);
        var path = $"/api/accounts/{facility}/{accountNumber}/notes";
        var words = "Spoke to her daughter; call back after 5 pm.";

        var added = await PostAsync(agent, path, new { text = words }, "note-1");
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var retry = await PostAsync(agent, path, new { text = words }, "note-1");
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal((await added.JsonAsync()).GetProperty("noteId").GetString(), (await retry.JsonAsync()).GetProperty("noteId").GetString());

        var note = Assert.Single((await agent.GetJsonAsync(path)).EnumerateArray());
        Assert.False((await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}")).TryGetProperty("notes", out _)); // not in the account's answer, which integrations read
        Assert.Equal((words, call.AgentId), (note.GetProperty("text").GetString(), note.GetProperty("writtenBy").GetString()));
        Assert.False(note.TryGetProperty("idempotencyKey", out _));
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString($"{facility}/{accountNumber}")}&limit=100");
        var recorded = Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.note.add");
        Assert.Equal($"note=N1;length={words.Length}", recorded.GetProperty("detail").GetString());
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.note.replay");
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.ToString().Contains("daughter", StringComparison.Ordinal));
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "account.notes.read");

        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(agent, path, new { text = "" }, "note-2")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(agent, path, new { text = "other words" }, "note-1")).StatusCode);
        using var integration = engine.As(await engine.KeyForAsync("integration"));
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(integration, path, new { text = "x" }, "note-3")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await integration.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(agent, $"/api/accounts/{facility}/NOSUCH1/notes", new { text = "x" }, "note-4")).StatusCode);
    }
}
