using System.Net;
using System.Net.Http.Json;

namespace Collections.Gateway.Tests;

[Collection(EngineCollection.Name)]
public sealed class AccountApiTests(EngineFixture engine)
{
    [Fact]
    public async Task A_charge_of_250_and_a_payment_of_40_leave_a_balance_of_210()
    {
        using var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client);

        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(250.00m))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Payment(40.00m))).StatusCode);

        var view = await client.GetJsonAsync(account);
        Assert.Equal("210.00", view.GetProperty("balances").GetProperty("balance").GetRawText());
        Assert.Equal(210.00m, view.GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
        Assert.Equal(2, view.GetProperty("entries").GetArrayLength());
        // The self-pay charge made the patient's share positive: the first statement went out at once, and aging counts from it.
        Assert.Equal("firstPatientStatement", view.GetProperty("aging").GetProperty("basis").GetString());
        Assert.Equal(0, view.GetProperty("aging").GetProperty("days").GetInt32());
        Assert.Equal("0-30", view.GetProperty("aging").GetProperty("bucket").GetString());
        Assert.Equal("active", view.GetProperty("cadence").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_same_payment_posted_twice_with_one_idempotency_key_is_one_entry()
    {
        using var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client);
        await Api.PostEntryAsync(client, account, Api.Charge(250.00m));

        var first = await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "pay-once");
        var second = await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "pay-once");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.True(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal((await first.JsonAsync()).GetProperty("entry").GetProperty("entryId").GetString(),
            (await second.JsonAsync()).GetProperty("entry").GetProperty("entryId").GetString());
        Assert.Equal(2, (await client.GetJsonAsync(account)).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Every_entry_kind_can_be_posted_and_the_balances_follow()
    {
        using var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client, primaryPayer: "Acme Health");

        async Task<string> Post(object entry)
        {
            var response = await Api.PostEntryAsync(client, account, entry);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.JsonAsync()).GetProperty("entry").GetProperty("entryId").GetString()!;
        }

        await Post(Api.Charge(1000.00m));
        await Post(new { kind = "insurancePayment", amount = 600.00m, payer = "Acme Health", claimReference = "CLM-1" });
        await Post(new { kind = "adjustment", amount = 250.00m, category = "contractual", reasonCode = "45" });
        await Post(new { kind = "transfer", amount = 150.00m, direction = "insuranceToPatient", reasonCode = "PR-1" });
        var wrong = await Post(Api.Payment(200.00m));
        await Post(new { kind = "reversal", reversesEntryId = wrong, note = "keyed against the wrong account" });
        await Post(Api.Payment(160.00m));
        await Post(new { kind = "refund", amount = 10.00m, method = "check", reference = "CHK-77" });

        var balances = (await client.GetJsonAsync(account)).GetProperty("balances");
        Assert.Equal(0.00m, balances.GetProperty("balance").GetDecimal());
        Assert.Equal(0.00m, balances.GetProperty("insurancePending").GetDecimal());
        Assert.Equal(0.00m, balances.GetProperty("creditBalance").GetDecimal());
    }

    [Fact]
    public async Task A_discharge_date_recorded_after_opening_is_kept_and_a_bad_one_is_refused_with_its_code()
    {
        using var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client);
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var recorded = await client.PutAsJsonAsync($"{account}/discharge", new { dischargeDate = yesterday });
        Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        Assert.Equal(yesterday, (await recorded.JsonAsync()).GetProperty("dischargeDate").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"{account}/discharge", new { dischargeDate = yesterday })).StatusCode); // again: the same

        var future = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(5).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("date.future", (await (await client.PutAsJsonAsync($"{account}/discharge", new { dischargeDate = future }))
            .AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("discharge-date.required", (await (await client.PutAsJsonAsync($"{account}/discharge", new { }))
            .AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("account.not-found", (await (await client.PutAsJsonAsync("/api/accounts/MAIN/NOSUCH-1/discharge", new { dischargeDate = yesterday }))
            .AssertProblemAsync(HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PutAsJsonAsync($"{account}/discharge", new { dischargeDate = yesterday })).StatusCode);
        Assert.Equal(yesterday, (await client.GetJsonAsync(account)).GetProperty("dischargeDate").GetString());
    }

    [Fact]
    public async Task A_guarantor_shows_their_accounts_and_consents()
    {
        using var client = engine.Admin();
        var guarantorId = Api.NewId("G");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).StatusCode);
        await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber = Api.NewId("A"), guarantorId });
        var consent = await client.PostAsJsonAsync($"/api/guarantors/{guarantorId}/consents", new { channel = "sms", status = "granted", source = "registration form" });
        Assert.Equal(HttpStatusCode.OK, consent.StatusCode);

        var guarantor = await client.GetJsonAsync($"/api/guarantors/{guarantorId}");

        Assert.Equal(1, guarantor.GetProperty("accounts").GetArrayLength());
        Assert.Equal("granted", guarantor.GetProperty("consents")[0].GetProperty("status").GetString());
        Assert.Equal("America/Chicago", guarantor.GetProperty("profile").GetProperty("timeZone").GetProperty("zone").GetString());
    }

    /// <summary>A new guarantor, and where their consents are recorded.</summary>
    private static async Task<(string GuarantorId, string ConsentsPath)> NewGuarantorAsync(HttpClient client)
    {
        var guarantorId = Api.NewId("G");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).StatusCode);
        return (guarantorId, $"/api/guarantors/{guarantorId}/consents");
    }

    [Fact]
    public async Task A_consent_sent_again_as_it_stands_is_recorded_once_and_answered_as_a_replay()
    {
        using var client = engine.Admin();
        var (guarantorId, path) = await NewGuarantorAsync(client);
        var granted = new { channel = "sms", status = "granted", source = "registration form" };

        var first = await client.PostAsJsonAsync(path, granted);
        var again = await client.PostAsJsonAsync(path, granted); // a retry: the endpoint takes no key
        var optedOut = await client.PostAsJsonAsync(path, new { channel = "sms", status = "optedOut", source = "phone call" });
        var grantedAgain = await client.PostAsJsonAsync(path, granted); // a change back: recorded

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { first.StatusCode, again.StatusCode, optedOut.StatusCode, grantedAgain.StatusCode });
        Assert.Equal([false, true, false, false], new[] { first, again, optedOut, grantedAgain }.Select(r => r.Headers.Contains("Idempotent-Replayed")).ToArray());
        Assert.Equal("granted", (await again.JsonAsync()).GetProperty("consents")[0].GetProperty("status").GetString());
        var audit = await client.GetJsonAsync($"/api/audit?resourceType=guarantor&resourceId={guarantorId}&limit=100");
        Assert.Equal(3, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "guarantor.consent.record"));
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "guarantor.consent.repeat");
    }

    [Fact]
    public async Task A_consent_retried_late_under_its_key_after_an_opt_out_changes_nothing_and_a_key_reused_for_another_is_refused()
    {
        using var client = engine.Admin();
        var (guarantorId, path) = await NewGuarantorAsync(client);
        Task<HttpResponseMessage> Send(object body, string? key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            return client.SendAsync(request);
        }
        var granted = new { channel = "sms", status = "granted", source = "registration form" };

        var withoutKey = await Send(granted, null); // a client of an earlier release
        var first = await Send(granted, "consent-1"); // the channel already stands so: kept anyway, for its key
        var optedOut = await Send(new { channel = "sms", status = "optedOut", source = "phone call" }, "consent-2");
        var lateRetry = await Send(granted, "consent-1"); // the keyed one's answer was lost; its retry comes after the opt-out

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { withoutKey.StatusCode, first.StatusCode, optedOut.StatusCode, lateRetry.StatusCode });
        Assert.Equal([false, false, false, true], new[] { withoutKey, first, optedOut, lateRetry }.Select(r => r.Headers.Contains("Idempotent-Replayed")).ToArray());
        Assert.DoesNotContain("consent-1", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal); // a key is never shown
        Assert.Equal("optedOut", (await lateRetry.JsonAsync()).GetProperty("consents")[0].GetProperty("status").GetString());
        var reused = await (await Send(new { channel = "email", status = "granted", source = "registration form" }, "consent-1")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("idempotency-key.reused", reused.GetProperty("code").GetString());
        var invalid = await (await Send(granted, new string('k', 300))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("idempotency-key.invalid", invalid.GetProperty("code").GetString());
        Assert.Equal("optedOut", (await client.GetJsonAsync($"/api/guarantors/{guarantorId}")).GetProperty("consents")[0].GetProperty("status").GetString());
        var audit = await client.GetJsonAsync($"/api/audit?resourceType=guarantor&resourceId={guarantorId}&limit=100");
        Assert.Equal(3, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "guarantor.consent.record" && e.GetProperty("outcome").GetString() == "ok"));
        // A malformed key is said even when the body is wrong too.
        var both = await (await Send(new { channel = "sms" }, new string('k', 300))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("idempotency-key.invalid", both.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_and_changes_are_in_the_audit_trail()
    {
        using var client = engine.Admin();
        var account = await Api.OpenAccountAsync(client);
        await Api.PostEntryAsync(client, account, Api.Charge(10m));
        await client.GetAsync(account);
        var resourceId = account["/api/accounts/".Length..];

        var events = await client.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(resourceId)}");

        var actions = events.EnumerateArray().Where(e => e.GetProperty("actor").GetString() != "system:cadence").Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["account.read", "account.entry.post", "account.open"], actions);
        Assert.All(events.EnumerateArray().Where(e => e.GetProperty("actor").GetString() != "system:cadence"), e => Assert.Equal("127.0.0.1", e.GetProperty("clientAddress").GetString()));
    }

    [Fact]
    public async Task The_openapi_document_and_health_endpoints_answer_without_a_key()
    {
        using var client = engine.Anonymous();

        var openApi = await client.GetJsonAsync("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/accounts/{facility}/{accountNumber}/entries", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}
