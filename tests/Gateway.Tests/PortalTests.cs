using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Collections.Domain.Payments;
using Collections.Gateway.Security;
using Collections.Payments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Collections.Gateway.Tests;

/// <summary>The engine with the self-service page's limits a test can reach (the per-address limit has its own test).</summary>
public sealed class PortalEngineFixture : EngineFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--Collections:Portal:MaxFailuresPerAddress", "100000"];
}

[CollectionDefinition(Name)]
public sealed class PortalEngineCollection : ICollectionFixture<PortalEngineFixture>
{
    public const string Name = "portal engine";
}

/// <summary>The patients' self-service page over real HTTP, with the sandbox processor: identity, bills, card payments, requests.</summary>
[Collection(PortalEngineCollection.Name)]
public sealed class PortalTests(PortalEngineFixture engine)
{
    private async Task<string[]> AuditActionsAsync(string resourceType, string resourceId)
    {
        using var admin = engine.Admin();
        var events = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?resourceType={resourceType}&resourceId={Uri.EscapeDataString(resourceId)}&limit=200");
        return events.EnumerateArray().Select(e => $"{e.GetProperty("action").GetString()}:{e.GetProperty("outcome").GetString()}").ToArray();
    }

    [Fact]
    public async Task A_link_and_the_right_date_of_birth_show_every_bill_of_the_household_and_nothing_shows_before()
    {
        var household = await Household.CreateAsync(engine, 120.00m, 80.00m);
        using var patient = new PatientClient(engine.BaseAddress);

        var first = await (await patient.GetAsync($"/p/{household.Code}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("Rosa", first, StringComparison.Ordinal);
        Assert.DoesNotContain(household.Accounts[0].Split('/')[1], first, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await patient.GetAsync("/pay/home")) is { StatusCode: HttpStatusCode.Unauthorized } ? HttpStatusCode.Redirect : HttpStatusCode.OK);

        var signedIn = await patient.SignInAsync(household.Code);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/pay/home", signedIn.Headers.Location!.OriginalString);
        var (home, _) = await patient.HomeAsync();
        Assert.Contains("Hello, Rosa", home, StringComparison.Ordinal);
        Assert.Contains("You owe $200.00 in all.", home, StringComparison.Ordinal);
        Assert.Contains("$120.00", home, StringComparison.Ordinal);
        Assert.Contains("$80.00", home, StringComparison.Ordinal);
        // Each bill is told apart by its account number, in the heading and in the forms' choices, and the page's title
        // names the site once.
        foreach (var account in household.Accounts)
            Assert.Contains($", account {account.Split('/')[1]}", home, StringComparison.Ordinal);
        Assert.DoesNotContain("Pay your bill - Pay your bill", first + home, StringComparison.Ordinal);
        Assert.DoesNotContain("Visit on 20", home, StringComparison.Ordinal); // dates in words, as everywhere on the page

        // One statement for the whole household, and each bill's own.
        Assert.Contains("One statement for all your bills", home, StringComparison.Ordinal);
        var combined = await patient.GetAsync("/pay/statement");
        Assert.Equal("application/pdf", combined.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("%PDF", System.Text.Encoding.ASCII.GetString((await combined.Content.ReadAsByteArrayAsync())[..4]), StringComparison.Ordinal);
        var own = await patient.GetAsync($"/pay/statement/{household.Accounts[0]}");
        Assert.Equal("application/pdf", own.Content.Headers.ContentType!.MediaType);
        // An address changed by hand to a bill that is not theirs: a page that leads back, not a bare 404, and nothing of
        // that bill.
        var facility = household.Accounts[0].Split('/')[0];
        var notTheirs = await patient.GetAsync($"/pay/statement/{facility}/NOT-THEIRS-{Guid.NewGuid():N}"[..60]);
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        Assert.Equal("text/html", notTheirs.Content.Headers.ContentType!.MediaType);
        var page = await notTheirs.Content.ReadAsStringAsync();
        Assert.Contains("We could not find a statement for this bill.", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/pay/home\"", page, StringComparison.Ordinal);

        // The check, the person shown and each bill shown are audited.
        Assert.Contains("portal.verify:ok", await AuditActionsAsync("guarantor", household.GuarantorId));
        Assert.Contains("portal.view:ok", await AuditActionsAsync("guarantor", household.GuarantorId));
        Assert.Contains("portal.view:ok", await AuditActionsAsync("account", household.Accounts[1]));
        Assert.Contains("portal.statement.view:ok", await AuditActionsAsync("account", household.Accounts[1]));
        // The bill's own statement shows the person's name and address too, and the grains' reads for it name the patient.
        var (views, patientReads) = await StatementAuditAsync(household.GuarantorId);
        (await patient.GetAsync($"/pay/statement/{household.Accounts[1]}")).EnsureSuccessStatusCode();
        var (viewsAfter, patientReadsAfter) = await StatementAuditAsync(household.GuarantorId);
        Assert.Equal(views + 1, viewsAfter);
        Assert.True(patientReadsAfter > patientReads, "the guarantor's read for the statement is recorded as the patient's");
    }

    private async Task<(int Views, int PatientReads)> StatementAuditAsync(string guarantorId)
    {
        using var admin = engine.Admin();
        var events = (await admin.GetFromJsonAsync<JsonElement>($"/api/audit?resourceType=guarantor&resourceId={Uri.EscapeDataString(guarantorId)}&limit=500")).EnumerateArray().ToList();
        return (events.Count(e => e.GetProperty("action").GetString() == "portal.statement.view"),
            events.Count(e => e.GetProperty("action").GetString() == "guarantor.read" && e.GetProperty("actorRole").GetString() == "patient"));
    }

    [Fact]
    public async Task Five_wrong_dates_of_birth_lock_every_way_in_to_the_person_and_each_try_is_audited()
    {
        var household = await Household.CreateAsync(engine, 50.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        for (var i = 0; i < 4; i++)
        {
            var wrong = await patient.SignInAsync(household.Code, "1975-12-09");
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains($"Tries left: {4 - i}.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal((HttpStatusCode)429, (await patient.SignInAsync(household.Code, "1975-12-09")).StatusCode);
        // Locked: even the right date, by the link or by the statement code, opens nothing now.
        var right = await patient.SignInAsync(household.Code);
        Assert.Equal((HttpStatusCode)429, right.StatusCode);
        Assert.NotNull(right.Headers.RetryAfter);
        var typed = await patient.PostFormAsync("/pay", ("code", household.Code.ToLowerInvariant()), ("month", "9"), ("day", "12"), ("year", "1975"));
        Assert.Equal((HttpStatusCode)429, typed.StatusCode);
        var audited = await AuditActionsAsync("guarantor", household.GuarantorId);
        Assert.Equal(4, audited.Count(a => a == "portal.verify:failed"));
        Assert.Contains("portal.verify:failed-locked", audited);
        Assert.Equal(2, audited.Count(a => a == "portal.verify:locked"));
    }

    [Fact]
    public async Task Signing_out_ends_the_session_for_a_copy_of_its_cookie_too()
    {
        var household = await Household.CreateAsync(engine, 50.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        Assert.Equal(HttpStatusCode.Redirect, (await patient.SignInAsync(household.Code)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync("/pay/home")).StatusCode);
        var copied = patient.CookieHeader; // a shared computer, a cookie taken before sign-out

        Assert.Equal(HttpStatusCode.Redirect, (await patient.PostFormAsync("/pay/signout")).StatusCode);

        using var other = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = engine.BaseAddress };
        using var replay = new HttpRequestMessage(HttpMethod.Get, "/pay/home");
        replay.Headers.Add("Cookie", copied);
        var answer = await other.SendAsync(replay);
        Assert.NotEqual(HttpStatusCode.OK, answer.StatusCode);
        Assert.DoesNotContain("Hello", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("portal.signout:ok", await AuditActionsAsync("guarantor", household.GuarantorId));
        // Signing in again opens a new session.
        Assert.Equal(HttpStatusCode.Redirect, (await patient.SignInAsync(household.Code)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync("/pay/home")).StatusCode);
    }

    [Fact]
    public async Task A_date_that_cannot_be_a_date_of_birth_is_a_typing_mistake_said_so_and_costs_no_try()
    {
        var household = await Household.CreateAsync(engine, 50.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        (string Month, string Day, string Year)[] mistakes = [("", "", ""), ("2", "30", "1990"), ("13", "1", "1980"), ("4", "2", "2090"), ("a", "b", "c")];
        foreach (var (month, day, year) in mistakes)
        {
            var typo = await patient.PostFormAsync($"/p/{household.Code}", ("month", month), ("day", day), ("year", year));
            Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
            Assert.Contains("This did not count as a try.", await typo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var wrong = await patient.SignInAsync(household.Code, "1975-12-09");
        Assert.Contains("Tries left: 4.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the first try
        Assert.Equal(HttpStatusCode.Redirect, (await patient.SignInAsync(household.Code)).StatusCode);
        Assert.Equal(mistakes.Length, (await AuditActionsAsync("guarantor", household.GuarantorId)).Count(a => a == "portal.verify:invalid-date"));
    }

    [Fact]
    public async Task A_statement_code_typed_with_dashes_and_in_lower_case_opens_the_page_and_a_made_up_one_does_not()
    {
        var household = await Household.CreateAsync(engine, 60.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        var printed = PaymentLinkCode(household.Code).ToLowerInvariant();
        var made = await patient.PostFormAsync("/pay", ("code", "ABCDE-FGHJK-MNPQR"), ("month", "9"), ("day", "12"), ("year", "1975"));
        Assert.Equal(HttpStatusCode.BadRequest, made.StatusCode);
        Assert.Contains("We could not find that statement code", await made.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await patient.GetAsync("/p/ABCDEFGHJKMNPQR")).StatusCode);

        var typed = await patient.PostFormAsync("/pay", ("code", printed), ("month", "09"), ("day", "12"), ("year", "1975"));
        Assert.Equal(HttpStatusCode.Redirect, typed.StatusCode);
        Assert.Contains("Hello, Rosa", (await patient.HomeAsync()).Html, StringComparison.Ordinal);
    }

    private static string PaymentLinkCode(string code) => $"{code[..5]}-{code[5..10]}-{code[10..]}";

    [Fact]
    public async Task Paying_part_by_card_posts_to_the_oldest_bill_once_and_a_forged_webhook_is_refused()
    {
        var household = await Household.CreateAsync(engine, 100.00m, 300.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        await patient.SignInAsync(household.Code);
        var (_, csrf) = await patient.HomeAsync();
        // A decimal comma is not read as thousands: "130,00" is refused with an example, never taken as 13,000.
        var comma = await patient.PostFormAsync("/pay/checkout", ("csrf", csrf), ("amount", "130,00"));
        Assert.Contains("for example 25.00", await comma.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var checkout = await patient.PostFormAsync("/pay/checkout", ("csrf", csrf), ("amount", "$130.00"));
        Assert.Equal(HttpStatusCode.Redirect, checkout.StatusCode);
        var processorPage = checkout.Headers.Location!;
        Assert.Contains("/sandbox/checkout/", processorPage.AbsolutePath, StringComparison.Ordinal);
        var paid = await patient.PostFormAsync(processorPage.AbsolutePath, ("card", "4242 4242 4242 4242"), ("action", "pay"));
        Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        var back = await (await patient.GetAsync(paid.Headers.Location!.AbsolutePath)).Content.ReadAsStringAsync();
        Assert.Contains("Thank you. We received your payment of $130.00.", back, StringComparison.Ordinal);

        var sandbox = engine.Services.GetRequiredService<SandboxPaymentProcessor>();
        for (var i = 0; i < 400 && sandbox.DeliveriesUnderway > 0; i++) await Task.Delay(25); // both copies of the webhook
        Assert.Equal([100.00m], await Household.PatientPaymentsAsync(engine, household.Accounts[0]));
        Assert.Equal([30.00m], await Household.PatientPaymentsAsync(engine, household.Accounts[1]));

        using var anonymous = engine.Anonymous();
        var paymentId = paid.Headers.Location!.AbsolutePath.Split('/')[^1];
        var body = JsonSerializer.Serialize(new { id = "evt_forged", kind = "PaymentSucceeded", created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), data = new { payment_id = paymentId, processor_payment_id = "pi_forged", amount_cents = 13000 } });
        var forged = new StringContent(body);
        forged.Headers.Add(SandboxPaymentProcessor.SignatureHeader, $"t={DateTimeOffset.UtcNow.ToUnixTimeSeconds()},v1=00");
        var refused = await anonymous.PostAsync("/webhooks/payments", forged);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("webhook.signature-invalid", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        // A genuine replay of the confirmation posts nothing again.
        var replay = new StringContent(body);
        replay.Headers.Add(SandboxPaymentProcessor.SignatureHeader, sandbox.SignatureFor(body));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.PostAsync("/webhooks/payments", replay)).StatusCode);
        Assert.Equal([100.00m], await Household.PatientPaymentsAsync(engine, household.Accounts[0]));

        using var admin = engine.Admin();
        var payment = await admin.GetFromJsonAsync<JsonElement>($"/api/payments/{paymentId}");
        Assert.Equal("succeeded", payment.GetProperty("status").GetString());
        Assert.Equal("4242", payment.GetProperty("cardLast4").GetString());
    }

    [Fact]
    public async Task A_form_without_the_pages_own_token_changes_nothing()
    {
        var household = await Household.CreateAsync(engine, 100.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        await patient.SignInAsync(household.Code);
        var forged = await patient.PostFormAsync("/pay/dispute", ("account", household.Accounts[0]), ("text", "not mine"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var holds = (await Household.AccountAsync(engine, household.Accounts[0])).GetProperty("holds");
        Assert.Equal(0, holds.GetArrayLength());
    }

    [Fact]
    public async Task A_bill_waiting_for_insurance_says_so_and_a_refusal_is_in_the_patients_words()
    {
        var household = await Household.CreateAsync(engine, 100.00m);
        using var admin = engine.Admin();
        var facility = household.Accounts[0].Split('/')[0];
        var insured = Api.NewId("A");
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = insured, guarantorId = household.GuarantorId, primaryPayer = "Acme Health" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{insured}",
            new { kind = "charge", amount = 500.00m, party = "insurance", serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-10).ToString("yyyy-MM-dd"), code = "99214", description = "Office visit" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{insured}",
            new { kind = "transfer", amount = 100.00m, direction = "insuranceToPatient" })).StatusCode);
        using var patient = new PatientClient(engine.BaseAddress);
        await patient.SignInAsync(household.Code);

        var (home, csrf) = await patient.HomeAsync();

        // Charges 500, insurance paid nothing yet, the patient owes 100: the 400 is insurance's, and the page says so.
        Assert.Contains("Waiting for your insurance: $400.00.", home, StringComparison.Ordinal);
        var tooMuch = await patient.PostFormAsync("/pay/promise", ("csrf", csrf), ("account", $"{facility}/{insured}"), ("amount", "900.00"),
            ("date", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(10).ToString("yyyy-MM-dd")));
        Assert.Equal(HttpStatusCode.BadRequest, tooMuch.StatusCode);
        var page = await tooMuch.Content.ReadAsStringAsync();
        Assert.Contains("That amount is more than you owe on this bill.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("the patient owes", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_patient_sets_up_a_plan_asks_for_assistance_disputes_chooses_channels_and_writes_and_staff_see_it()
    {
        var household = await Household.CreateAsync(engine, 600.00m, 90.00m);
        using var patient = new PatientClient(engine.BaseAddress);
        await patient.SignInAsync(household.Code);
        var (_, csrf) = await patient.HomeAsync();
        var due = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(20).ToString("yyyy-MM-dd");

        var plan = await patient.PostFormAsync("/pay/plan", ("csrf", csrf), ("account", household.Accounts[0]), ("installments", "6"), ("firstDue", due));
        Assert.True(plan.StatusCode == HttpStatusCode.Redirect, await plan.Content.ReadAsStringAsync());
        Assert.Equal("/pay/home?notice=plan.done", plan.Headers.Location!.OriginalString);
        var planned = (await Household.AccountAsync(engine, household.Accounts[0])).GetProperty("plans")[0];
        Assert.Equal(6, planned.GetProperty("installments").GetArrayLength());

        var tooMany = await patient.PostFormAsync("/pay/plan", ("csrf", csrf), ("account", household.Accounts[1]), ("installments", "6"), ("firstDue", due));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode); // the facility's plan rules answer (15.00 a month is under the minimum)
        Assert.Contains("under the minimum", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var requestId = Guid.NewGuid().ToString("N");
        for (var i = 0; i < 2; i++) // sent twice (a double tap): one application, one hold
            Assert.Equal(HttpStatusCode.Redirect, (await patient.PostFormAsync("/pay/assistance", ("csrf", csrf), ("requestId", requestId), ("household", "4"), ("income", "31,000"), ("note", "lost my job"))).StatusCode);
        var held = (await Household.AccountAsync(engine, household.Accounts[1])).GetProperty("holds");
        Assert.Equal("financialAssistancePending", Assert.Single(held.EnumerateArray()).GetProperty("reason").GetString());

        Assert.Equal(HttpStatusCode.Redirect, (await patient.PostFormAsync("/pay/message", ("csrf", csrf), ("requestId", Guid.NewGuid().ToString("N")), ("text", "Can I pay by check?"))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await patient.PostFormAsync("/pay/channels", ("csrf", csrf), ("sms", "on"))).StatusCode); // email off, texts on

        using var admin = engine.Admin();
        var requests = await admin.GetFromJsonAsync<JsonElement>("/api/billing-office/requests?limit=1000");
        var mine = requests.EnumerateArray().Where(r => r.GetProperty("guarantorId").GetString() == household.GuarantorId).ToList();
        Assert.Equal(["financialAssistance", "message"], mine.Select(r => r.GetProperty("kind").GetString()!).Order());
        var application = mine.Single(r => r.GetProperty("kind").GetString() == "financialAssistance");
        Assert.Equal((4, 31000m), (application.GetProperty("householdSize").GetInt32(), application.GetProperty("annualIncome").GetDecimal()));
        var guarantor = await admin.GetFromJsonAsync<JsonElement>($"/api/guarantors/{household.GuarantorId}");
        var consents = guarantor.GetProperty("consents").EnumerateArray().ToDictionary(c => c.GetProperty("channel").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal(("optedOut", "granted"), (consents["email"], consents["sms"]));
        var closed = await admin.PostAsJsonAsync($"/api/billing-office/requests/{application.GetProperty("requestId").GetString()}/close", new { note = "Approved 100%" });
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
    }

    [Fact]
    public void One_client_address_that_guesses_for_many_people_is_locked_out_too()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var throttle = new PortalAddressThrottle(new PortalAccessRules { MaxFailuresPerAddress = 3, Window = TimeSpan.FromMinutes(30), Lockout = TimeSpan.FromMinutes(30) }, clock);
        var address = IPAddress.Parse("203.0.113.7");
        Assert.Null(throttle.RecordFailure(address));
        Assert.Null(throttle.RecordFailure(address));
        Assert.NotNull(throttle.RecordFailure(address));
        Assert.NotNull(throttle.LockedUntil(address));
        Assert.Null(throttle.LockedUntil(IPAddress.Parse("203.0.113.8")));
        clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(throttle.LockedUntil(address));
    }
}
