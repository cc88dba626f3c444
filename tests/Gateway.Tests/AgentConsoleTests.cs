using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;

namespace Collections.Gateway.Tests;

/// <summary>
/// The agents' console in a real headless Chromium (Debian's chromium and chromedriver, installed by scripts/test.sh):
/// sign in, take the next account, see whom to call and why, record the outcome; errors shown as the API words them.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class AgentConsoleTests(EngineFixture engine) : IDisposable
{
    private readonly ChromeDriver browser = Browser.Start();

    public void Dispose() => browser.Quit();

    private WebDriverWait Wait() => new(browser, TimeSpan.FromSeconds(20));

    private IWebElement Element(string id) => browser.FindElement(By.Id(id));

    /// <summary>Waits for <paramref name="condition"/>; on a timeout, says what the page's problem box showed.</summary>
    private void WaitFor(Func<bool> condition)
    {
        try
        {
            Wait().Until(_ => condition());
        }
        catch (WebDriverTimeoutException timeout)
        {
            var problem = browser.ExecuteScript("return (document.getElementById('problem')?.textContent ?? '') + ' / tiles: ' + (document.getElementById('kpi-tiles')?.textContent ?? '') + ' / facility: ' + (document.getElementById('kpi-facility')?.textContent ?? '')");
            throw new WebDriverTimeoutException($"{timeout.Message}; the page's problem box: '{problem}'", timeout);
        }
    }


    /// <summary>A facility of its own with one account owing <paramref name="charge"/>, and an agent key working its queue.</summary>
    private async Task<(string Facility, string AccountNumber, string AgentKey)> AccountToCallAsync(decimal charge)
    {
        var agentKey = await engine.KeyForAsync("agent");
        var (facility, accountNumber) = await ConsoleScenario.AccountToCallAsync(engine, agentKey.Split('_')[1], charge);
        return (facility, accountNumber, agentKey);
    }

    /// <summary>Signs in with <paramref name="key"/> and waits for the page the role lands on (none: for a refusal).</summary>
    private void SignIn(string key, string? landsOn = "work-panel")
    {
        browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, "/console"));
        Element("api-key").SendKeys(key);
        Element("sign-in").Submit();
        if (landsOn is not null) WaitFor(() => Element(landsOn).Displayed);
    }

    private void TakeNext(string queueId)
    {
        var queue = Element("queue-id");
        queue.Clear();
        queue.SendKeys(queueId);
        Element("next").Click();
    }

    private void SetValue(string id, string value) =>
        ((IJavaScriptExecutor)browser).ExecuteScript("arguments[0].value = arguments[1];", Element(id), value);

    [Fact]
    public async Task An_agent_takes_the_next_account_sees_whom_to_call_and_why_and_records_a_promise_that_pauses_the_cadence()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(450.00m);

        SignIn(agentKey);
        TakeNext(facility);
        WaitFor(() => Element("account").Displayed && Element("account-number").Text == accountNumber);

        Assert.Equal(facility, Element("account-facility").Text);
        WaitFor(() => Element("guarantor-name").Text == "Rosa Delgado");
        Assert.Contains("(512) 555-0142", Element("guarantor-phones").Text, StringComparison.Ordinal);
        Assert.Equal("$450.00", Element("patient-balance").Text);
        Assert.False(string.IsNullOrWhiteSpace(Element("probability").Text));
        Assert.Contains("Office visit", Element("ledger").Text, StringComparison.Ordinal);
        // The age says what it counts from: the statement went out with the charge, the service was five days before.
        Assert.StartsWith("0 days since the first statement on ", Element("aging").Text, StringComparison.Ordinal);
        Assert.EndsWith("(5 days ago)", Element("oldest-service").Text, StringComparison.Ordinal);
        Assert.False(Element("view-dashboard").Displayed); // an agent has no dashboard
        browser.AssertAccessible("agent console with an account");
        browser.Photograph("console-1-account");
        Assert.Equal("", Element("message").Text); // a first offer, not one the agent already held
        Assert.False(Element("promise-fields").Displayed);

        var promisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(12);
        browser.FindElement(By.CssSelector("input[name=outcome][value=promiseToPay]")).Click();
        WaitFor(() => Element("promise-fields").Displayed);
        Element("promise-amount").SendKeys("150.00");
        SetValue("promise-date", promisedDate.ToString("yyyy-MM-dd"));
        Element("record").Click();

        WaitFor(() => Element("message").Text.Contains("Recorded promise to pay", StringComparison.Ordinal));
        Assert.False(Element("account").Displayed);
        using var admin = engine.Admin();
        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        Assert.Equal("promisePending", account.GetProperty("cadence").GetProperty("status").GetString());
        var promise = Assert.Single(account.GetProperty("promises").EnumerateArray());
        Assert.Equal(150.00m, promise.GetProperty("amount").GetDecimal());
        Assert.Equal(promisedDate.ToString("yyyy-MM-dd"), promise.GetProperty("promisedDate").GetString());

        // With the promise made, nothing is left to call in this queue.
        TakeNext(facility);
        WaitFor(() => Element("message").Text.StartsWith("Nobody to call right now", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_promise_without_an_amount_is_refused_with_the_field_named_and_the_account_stays_with_the_agent()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(275.00m);
        SignIn(agentKey);
        TakeNext(facility);
        WaitFor(() => Element("account-number").Text == accountNumber);

        browser.FindElement(By.CssSelector("input[name=outcome][value=promiseToPay]")).Click();
        SetValue("promise-date", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(7).ToString("yyyy-MM-dd"));
        Element("record").Click();

        WaitFor(() => Element("problem").Displayed);
        Assert.Contains("amount", Element("problem").Text, StringComparison.Ordinal);
        Assert.True(Element("account").Displayed);
        using var admin = engine.Admin();
        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        Assert.Empty(account.GetProperty("promises").EnumerateArray());

        // Giving the account back leaves it for the next agent.
        Element("release").Click();
        WaitFor(() => Element("message").Text.StartsWith("Gave", StringComparison.Ordinal));
        var stats = await admin.GetJsonAsync($"/api/worklist/queues/{facility}/stats");
        Assert.Equal((1, 0), (stats.GetProperty("depth").GetInt32(), stats.GetProperty("leased").GetInt32()));
    }

    [Fact]
    public async Task A_supervisor_lands_on_the_dashboard_whose_figures_and_chart_come_from_the_kpis_and_an_agent_is_refused_them()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(450.00m);
        using (var billing = engine.Admin()) // a check in the mail: cash on today's bar
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(billing, $"/api/accounts/{facility}/{accountNumber}", new { kind = "patientPayment", amount = 50.00m, method = "check" })).StatusCode);
        await engine.ProjectionsCaughtUpAsync();
        var supervisorKey = await engine.KeyForAsync("supervisor");

        SignIn(supervisorKey, landsOn: "dashboard-panel");
        Assert.False(Element("work-panel").Displayed);
        Assert.Contains("(supervisor)", Element("signed-in").Text, StringComparison.Ordinal);
        Element("dashboard-facility").SendKeys(facility);
        Element("dashboard-show").Click();
        WaitFor(() => Element("kpi-facility").Text == facility && Element("kpi-tiles").Text.Contains("$400.00", StringComparison.Ordinal));
        Assert.Contains("1 account with a balance", Element("kpi-tiles").Text, StringComparison.Ordinal);
        // Six buckets, one bar each; the 0-30 bar holds the whole A/R, and the table says the same in words.
        var bars = browser.FindElements(By.CssSelector("#aging-chart rect.bar"));
        Assert.Equal(6, bars.Count);
        Assert.True(double.Parse(bars[0].GetAttribute("height")!, System.Globalization.CultureInfo.InvariantCulture) > 100);
        Assert.Contains("0-30 1 $400.00", Element("aging-table").Text, StringComparison.Ordinal);
        WaitFor(() => browser.FindElements(By.CssSelector("#trends figure.trend")).Count == 13); // 9 figures and 4 daily flows
        Assert.Contains("Total A/R: $400.00 on", Element("trends").Text, StringComparison.Ordinal); // today, as of now
        Assert.Contains("Cash received per day: $50.00 on", Element("trends").Text, StringComparison.Ordinal);
        Assert.Single(browser.FindElements(By.CssSelector("#trends figure.trend")).First().FindElements(By.CssSelector("circle")));
        WaitFor(() => Element("queue-table").Text.Contains(facility, StringComparison.Ordinal));
        Assert.Contains($"Console {facility} 1 1 0 0 since ", Element("queue-table").Text, StringComparison.Ordinal);
        Assert.Equal("No worklist calls in the last 24 hours.", Element("rpc-rate").Text);
        Assert.Contains("Mail $50.00 $50.00 $50.00", Element("cash-table").Text, StringComparison.Ordinal);
        Assert.Contains("All channels $50.00 $50.00 $50.00", Element("cash-table").Text, StringComparison.Ordinal);
        Assert.Single(browser.FindElements(By.CssSelector("#cash-chart rect.cash-bar")));
        Assert.Equal(6, browser.FindElements(By.CssSelector("#cash-chart text")).Count - 4); // the axis labels and one legend entry per channel
        WaitFor(() => Element("agent-period-words").Text.Contains("(UTC days)", StringComparison.Ordinal));
        Assert.Contains("Allowed allowed 1 1 1", Element("decision-table").Text, StringComparison.Ordinal); // the statement the charge sent
        Assert.Contains("unclear replies", Element("review-table").Text, StringComparison.Ordinal);
        browser.AssertAccessible("supervisor dashboard");
        browser.Photograph("console-2-dashboard");
        browser.ExecuteScript("document.getElementById('cash-title').scrollIntoView()");
        browser.Photograph("console-2b-dashboard-cash-and-aging");
        browser.ExecuteScript("document.getElementById('agents-title').scrollIntoView()");
        browser.Photograph("console-2c-dashboard-agents");

        // The supervisor can also work the list; the agent cannot read the portfolio's figures.
        Element("view-worklist").Click();
        WaitFor(() => Element("work-panel").Displayed && !Element("dashboard-panel").Displayed);
        using var agent = engine.As(agentKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync($"/api/kpis?facility={facility}")).StatusCode);
        var me = await agent.GetJsonAsync("/api/me");
        Assert.Equal(("agent", "worklist"), (me.GetProperty("role").GetString(), me.GetProperty("landing").GetString()));
    }

    [Fact]
    public async Task Someone_calling_in_is_found_by_account_number_and_their_promise_is_recorded_as_an_inbound_call()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(320.00m);
        SignIn(agentKey);
        browser.FindElement(By.CssSelector("#inbound summary")).Click();
        Element("caller-facility").SendKeys(facility);
        Element("caller-account").SendKeys(accountNumber);
        Element("find-caller").Click();
        WaitFor(() => Element("callers").Text.Contains("Rosa Delgado, born 1975-09-12, Austin TX", StringComparison.Ordinal));
        browser.AssertAccessible("inbound caller search");
        browser.FindElements(By.CssSelector("#callers button")).Single(b => b.Text.Contains(accountNumber, StringComparison.Ordinal)).Click();

        WaitFor(() => Element("account").Displayed && Element("account-number").Text == accountNumber && Element("inbound-label").Displayed);
        Assert.False(Element("lease").Displayed);
        Assert.False(browser.FindElement(By.CssSelector("input[name=outcome][value=noAnswer]")).Displayed); // they called: someone answered
        WaitFor(() => Element("guarantor-email").Text == "rosa@example.org");
        Assert.Contains("40 Oak Ave", Element("guarantor-address").Text, StringComparison.Ordinal);
        Assert.Contains("None", Element("holds").Text, StringComparison.Ordinal);
        WaitFor(() => Element("other-accounts").Text.Contains($"{facility} / {accountNumber} (this call): owes $", StringComparison.Ordinal));
        Assert.Contains("Charge", Element("ledger").Text, StringComparison.Ordinal); // kinds in words, not "charge" or "patientPayment"
        WaitFor(() => Element("contacts").Text.Contains("statement", StringComparison.Ordinal)); // the statement the charge sent
        WaitFor(() => Element("call-now").Text.Length > 0 && !Element("call-now").Text.StartsWith("Checking", StringComparison.Ordinal));
        Element("new-note").SendKeys("Called in about the statement; will pay 120 next week.");
        Element("add-note").Click();
        WaitFor(() => Element("notes").Text.Contains("will pay 120 next week", StringComparison.Ordinal));
        Assert.Equal("", Element("new-note").GetAttribute("value"));
        browser.Photograph("console-3-inbound");

        browser.FindElement(By.CssSelector("input[name=outcome][value=promiseToPay]")).Click();
        Element("promise-amount").SendKeys("120.00");
        SetValue("promise-date", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(6).ToString("yyyy-MM-dd"));
        Element("record").Click();
        WaitFor(() => Element("message").Text.Contains("Recorded promise to pay", StringComparison.Ordinal));

        using var admin = engine.Admin();
        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        Assert.Equal(120.00m, Assert.Single(account.GetProperty("promises").EnumerateArray()).GetProperty("amount").GetDecimal());
        var guarantor = await admin.GetJsonAsync($"/api/guarantors/{account.GetProperty("guarantorId").GetString()}");
        Assert.Contains(guarantor.GetProperty("recentContacts").EnumerateArray(), c => c.GetProperty("initiator").GetString() == "inbound");
    }

    [Fact]
    public async Task An_agent_takes_a_card_payment_on_the_processors_page_and_the_ledger_and_the_receipt_follow()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(260.00m);
        SignIn(agentKey);
        TakeNext(facility);
        WaitFor(() => Element("account-number").Text == accountNumber);
        var console = browser.CurrentWindowHandle;

        Element("payment-amount").SendKeys("100.00");
        Element("take-payment").Click();
        WaitFor(() => browser.WindowHandles.Count == 2);
        browser.SwitchTo().Window(browser.WindowHandles.Single(h => h != console));
        WaitFor(() => browser.Url.Contains("/sandbox/checkout/", StringComparison.Ordinal));
        Assert.DoesNotContain("/console", browser.Url, StringComparison.Ordinal); // the card is keyed into the processor's page, not ours
        Element("card").SendKeys("4242 4242 4242 4242");
        Element("submit-card").Click();
        WaitFor(() => browser.Url.EndsWith("/console/paid", StringComparison.Ordinal));
        browser.Close();
        browser.SwitchTo().Window(console);

        WaitFor(() => Element("payment-status").Text.Contains("accepted", StringComparison.Ordinal));
        Assert.Contains("$100.00", Element("payment-status").Text, StringComparison.Ordinal);
        WaitFor(() => Element("patient-balance").Text == "$160.00");
        Assert.Contains("Paid by card on a call", Element("ledger").Text, StringComparison.Ordinal);
        browser.Photograph("console-4-card-payment");

        using var admin = engine.Admin();
        Assert.Contains("$100.00", (await ReceiptAsync(admin, facility, accountNumber)).GetProperty("body").GetString(), StringComparison.Ordinal);
        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        Assert.Single(account.GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "patientPayment");
    }

    /// <summary>The receipt the outbox sent for the account's payment (a projection of the committed payment: waited for, then looked up).</summary>
    private async Task<JsonElement> ReceiptAsync(HttpClient admin, string facility, string accountNumber)
    {
        await engine.ProjectionsCaughtUpAsync();
        for (var i = 0; i < 200; i++)
        {
            var messages = await admin.GetJsonAsync($"/api/sandbox/messages?account={Uri.EscapeDataString($"{facility}/{accountNumber}")}");
            var receipt = messages.EnumerateArray().FirstOrDefault(m => m.GetProperty("action").GetString() == "paymentReceipt");
            if (receipt.ValueKind != JsonValueKind.Undefined) return receipt;
            await Task.Delay(50); // the outbox sends after the projection asked the gate
        }
        throw new TimeoutException("No receipt was sent for the account's payment.");
    }

    [Fact]
    public async Task With_shortcuts_an_agent_takes_the_next_account_records_a_conversation_and_a_check_and_sees_the_tally()
    {
        var (facility, accountNumber, agentKey) = await AccountToCallAsync(90.00m);
        SignIn(agentKey);
        WaitFor(() => Element("tally").Text.StartsWith("Today: 0 calls", StringComparison.Ordinal));

        new Actions(browser).SendKeys("n").Perform(); // the agent's only queue is this facility's
        WaitFor(() => Element("account").Displayed && Element("account-number").Text == accountNumber);
        Element("payment-method").SendKeys("Check");
        WaitFor(() => Element("payment-reference").Displayed);
        Element("payment-amount").SendKeys("40.00");
        Element("payment-reference").SendKeys("1042");
        Element("take-payment").Click();
        WaitFor(() => Element("payment-status").Text == "Recorded a check payment of $40.00.");
        WaitFor(() => Element("patient-balance").Text == "$50.00");

        Element("payment-status").Click(); // out of the form's fields, so single keys are shortcuts again
        new Actions(browser).SendKeys("4").Perform(); // the fourth outcome: spoke to the guarantor
        Assert.True(browser.FindElement(By.CssSelector("input[name=outcome][value=rightPartyContact]")).Selected);
        Element("record").Click();
        WaitFor(() => Element("tally").Text.StartsWith("Today: 1 call, 1 reached the guarantor", StringComparison.Ordinal));

        using var admin = engine.Admin();
        var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{accountNumber}");
        var check = Assert.Single(account.GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "patientPayment");
        Assert.Equal(("check", "1042", 40.00m, "agent"), (check.GetProperty("method").GetString(), check.GetProperty("reference").GetString(),
            check.GetProperty("amount").GetDecimal(), check.GetProperty("channel").GetString()));
        Assert.Contains("We received your payment of $40.00", (await ReceiptAsync(admin, facility, accountNumber)).GetProperty("body").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_data_team_lands_on_the_models_page_with_the_champion_its_drift_and_the_outcomes_and_a_supervisor_may_only_read_it()
    {
        var dataTeam = await engine.KeyForAsync("data-team");
        var version = "console-" + Guid.NewGuid().ToString("N")[..8];
        using (var data = engine.As(dataTeam))
            Assert.Equal(HttpStatusCode.Created, (await ModelApiTests.UploadAsync(data, ModelApiTests.TrainedModelFile(seed: 11), $"?version={version}&notes=console%20test")).StatusCode);

        using (var admin = engine.Admin()) // an account owing something, so the fairness report has a group
        {
            var opened = await Api.OpenAccountAsync(admin);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, opened, Api.Charge(90m))).StatusCode);
            await engine.ProjectionsCaughtUpAsync();
        }
        SignIn(dataTeam, landsOn: "models-panel");
        Assert.False(Element("view-worklist").Displayed);
        Assert.False(Element("view-dashboard").Displayed);
        WaitFor(() => browser.FindElements(By.CssSelector("#model-table tbody tr")).Any(r => r.Text.StartsWith(version, StringComparison.Ordinal)));
        var mine = browser.FindElements(By.CssSelector("#model-table tbody tr")).Single(r => r.Text.StartsWith(version, StringComparison.Ordinal));
        Assert.Contains("console test", mine.Text, StringComparison.Ordinal);
        mine.FindElement(By.XPath(".//button[text()='Details']")).Click();
        WaitFor(() => Element("detail-version").Text == version && Element("drift-summary").Text.Length > 0);
        Assert.Equal(10, browser.FindElements(By.CssSelector("#drift-table tbody tr")).Count);
        Assert.Contains("AUC", Element("detail-summary").Text, StringComparison.Ordinal);
        if (Element("model-chart").Displayed) // the chart, fetched with the caller's key, under the page's CSP
            WaitFor(() => (long)((IJavaScriptExecutor)browser).ExecuteScript("return document.getElementById('model-chart').naturalWidth;")! > 0);
        Assert.True(Element("model-change").Displayed);
        using (var data = engine.As(dataTeam))
        {
            var drift = await data.GetJsonAsync($"/api/models/{version}/drift");
            Assert.Equal(10, drift.GetProperty("bins").GetArrayLength());
            Assert.True(drift.GetProperty("testSetScores").GetInt32() > 0);
            Assert.Equal((0, JsonValueKind.Null, false), (drift.GetProperty("liveScores").GetInt32(), drift.GetProperty("psi").ValueKind, drift.GetProperty("flagged").GetBoolean()));
            Assert.Equal((0, 0), (drift.GetProperty("liveFeatureRows").GetInt32(), drift.GetProperty("features").GetArrayLength()));
            Assert.StartsWith("No feature comparison yet", Element("feature-drift-summary").Text, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await data.GetAsync("/api/models/no-such-version/drift")).StatusCode);
        }
        browser.AssertAccessible("models page");
        browser.Photograph("console-5-models");

        // What outreach adds and the fairness groups, below the versions, each loaded on its own.
        WaitFor(() => Element("uplift-summary").Text.Length > 0 && Element("fairness-summary").Text.Length > 0);
        Assert.Matches("control group|in control", Element("uplift-summary").Text);
        Assert.Contains("Income bands from zip-income-b19013.csv", Element("fairness-summary").Text, StringComparison.Ordinal);
        Assert.NotEmpty(browser.FindElements(By.CssSelector("#fairness-table tbody tr")));
        ((IJavaScriptExecutor)browser).ExecuteScript("document.getElementById('uplift-title').scrollIntoView();");
        browser.AssertAccessible("models page with the uplift and fairness reports");
        browser.Photograph("console-5b-models-uplift-fairness");

        // Without a reason nothing changes; a supervisor sees the page but no change buttons.
        var promote = browser.FindElements(By.XPath("//button[text()='Make champion']"));
        if (promote.Count > 0)
        {
            promote[0].Click();
            WaitFor(() => Element("problem").Displayed && Element("problem").Text.Contains("Say why", StringComparison.Ordinal));
        }
        Element("sign-out").Click();
        SignIn(await engine.KeyForAsync("supervisor"), landsOn: "dashboard-panel");
        Element("view-models").Click();
        WaitFor(() => Element("models-panel").Displayed && browser.FindElements(By.CssSelector("#model-table tbody tr")).Count > 0);
        Assert.Empty(browser.FindElements(By.XPath("//button[text()='Make champion']")));
        Assert.False(Element("model-change").Displayed);
    }

    [Fact]
    public void A_key_the_engine_does_not_accept_is_sent_back_to_sign_in_and_shows_no_account()
    {
        SignIn("ck_nosuchkey_notasecret", landsOn: null);

        WaitFor(() => Element("problem").Displayed);
        Assert.Contains("Your sign-in was not accepted", Element("problem").Text, StringComparison.Ordinal);
        Assert.True(Element("sign-in-panel").Displayed);
        Assert.False(Element("account").Displayed);
    }
}

/// <summary>Debian's headless Chromium through its chromedriver (no Selenium Manager, no download).</summary>
internal static class ConsoleScenario
{
    /// <summary>
    /// A facility of its own with one account owing <paramref name="charge"/> to Rosa Delgado, in a queue worked by
    /// <paramref name="agentId"/> (an API key's id, or a signed-in person's subject).
    /// </summary>
    public static async Task<(string Facility, string AccountNumber)> AccountToCallAsync(EngineFixture engine, string agentId, decimal charge)
    {
        using var admin = engine.Admin();
        var facility = "UI" + Guid.NewGuid().ToString("N")[..10];
        var queue = await admin.PutAsJsonAsync($"/api/worklist/queues/{facility}", new { name = "Console", facility, agents = new[] { agentId } });
        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Rosa", lastName = "Delgado", dateOfBirth = "1975-09-12",
            address = new { line1 = "40 Oak Ave", city = "Austin", state = "TX", zip = "78702" },
            phones = new[] { new { number = "512-555-0142", type = "mobile" } },
            email = "rosa@example.org", preferredChannel = "email", timeZone = Api.DaytimeZone(),
        })).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("A");
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var charged = await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{accountNumber}",
            new { kind = "charge", amount = charge, serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-5).ToString("yyyy-MM-dd"), code = "99214", description = "Office visit" });
        Assert.Equal(HttpStatusCode.Created, charged.StatusCode);
        await admin.GetAsync($"/api/accounts/{facility}/{accountNumber}"); // answered after the statement step the charge made due
        await engine.ProjectionsCaughtUpAsync(); // the worklist is a projection of the accounts' committed events
        return (facility, accountNumber);
    }
}

internal static class Browser
{
    private static readonly string AxeSource = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Accessibility", "axe.min.js"));

    /// <summary>Runs axe-core in the page: no WCAG 2.1 A or AA violation may be found.</summary>
    public static void AssertAccessible(this ChromeDriver browser, string page)
    {
        browser.ExecuteScript(AxeSource);
        var violations = (string?)browser.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1];" +
            "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })" +
            ".then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')).join('\\n')))" +
            ".catch(e => done('axe failed: ' + e));");
        Assert.True(string.IsNullOrEmpty(violations), $"{page}: {violations}");
    }

    /// <summary>Saves what the browser shows as artifacts/screenshots/<paramref name="name"/>.png.</summary>
    public static void Photograph(this ChromeDriver browser, string name) =>
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(Artifacts.Folder("screenshots"), $"{name}.png"));

    public static ChromeDriver Start()
    {
        var chromium = Environment.GetEnvironmentVariable("COLLECTIONS_TEST_CHROMIUM") ?? "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable("COLLECTIONS_TEST_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
        if (!File.Exists(chromium) || !File.Exists(driver))
            throw new InvalidOperationException($"Chromium ({chromium}) or ChromeDriver ({driver}) is missing: run scripts/browser.sh install (scripts/test.sh does).");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000", "--lang=en-US");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
