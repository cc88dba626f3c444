using System.Net.Http.Json;
using System.Text.Json;
using Collections.Outreach;
using Collections.Payments;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Collections.Gateway.Tests;

/// <summary>
/// The self-service page in headless Chromium on a phone-sized window, with the sandbox processor: the text's link,
/// the identity check, a partial payment by card, the receipt; a declined card; the lock; Spanish. Every page is
/// checked with axe-core (WCAG 2.1 A and AA rules) and photographed into artifacts/screenshots.
/// </summary>
[Collection(PortalEngineCollection.Name)]
public sealed class PortalBrowserTests(PortalEngineFixture engine) : IDisposable
{
    private readonly ChromeDriver browser = StartPhone();

    public void Dispose() => browser.Quit();

    private static ChromeDriver StartPhone()
    {
        var driver = Browser.Start();
        driver.Manage().Window.Size = new System.Drawing.Size(390, 844);
        return driver;
    }

    private IWebElement Element(string id) => browser.FindElement(By.Id(id));

    /// <summary>Waits for the condition; an element of the page being replaced (a form's answer loading) is looked for again.</summary>
    private void WaitFor(Func<bool> condition)
    {
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(20));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        wait.Until(_ =>
        {
            try
            {
                return condition();
            }
            catch (UnknownErrorException e) when (Replaced(e))
            {
                return false;
            }
        });
    }

    /// <summary>Chrome's other way of saying an element is stale: the page replaced it while it was being read.</summary>
    private static bool Replaced(UnknownErrorException e) => e.Message.Contains("does not belong to the document", StringComparison.Ordinal);

    private string Alert()
    {
        try
        {
            return browser.FindElements(By.CssSelector("[role=alert]")).FirstOrDefault()?.Text ?? "";
        }
        catch (StaleElementReferenceException)
        {
            return ""; // the page is being replaced
        }
        catch (UnknownErrorException e) when (Replaced(e))
        {
            return "";
        }
    }

    private void Accessible(string page) => browser.AssertAccessible(page);

    private void Photograph(string name) => browser.Photograph($"portal-{name}");

    private void EnterDateOfBirth(string month, string day, string year)
    {
        foreach (var (id, value) in new[] { ("dob-month", month), ("dob-day", day), ("dob-year", year) })
        {
            Element(id).Clear();
            Element(id).SendKeys(value);
        }
        browser.FindElement(By.CssSelector("main form button[type=submit]")).Click();
    }

    private async Task AllWebhooksDeliveredAsync()
    {
        var sandbox = engine.Services.GetRequiredService<SandboxPaymentProcessor>();
        for (var i = 0; i < 400 && sandbox.DeliveriesUnderway > 0; i++) await Task.Delay(25);
    }

    [Fact]
    public async Task A_patient_follows_the_link_proves_who_they_are_pays_part_by_card_and_gets_a_receipt()
    {
        var household = await Household.CreateAsync(engine, 200.00m);
        browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, $"/p/{household.Code}"));
        Assert.DoesNotContain("Rosa", browser.PageSource, StringComparison.Ordinal);
        Accessible("link");
        Photograph("1-link");

        EnterDateOfBirth("12", "9", "1975");
        WaitFor(() => Alert().Contains("does not match", StringComparison.Ordinal));
        Accessible("wrong date of birth");
        EnterDateOfBirth("9", "12", "1975");
        WaitFor(() => browser.FindElement(By.TagName("h1")).Text == "Hello, Rosa");
        Assert.Contains("You owe $200.00 in all.", browser.PageSource, StringComparison.Ordinal);
        Accessible("home");
        Photograph("2-home");

        Element("amount").Clear();
        Element("amount").SendKeys("40.00");
        Element("pay").Click();
        WaitFor(() => browser.Url.Contains("/sandbox/checkout/", StringComparison.Ordinal));
        Accessible("processor's checkout");
        Photograph("3-checkout");
        Element("card").SendKeys("4242 4242 4242 4242");
        Element("submit-card").Click();
        WaitFor(() => browser.Url.Contains("/pay/return/", StringComparison.Ordinal));
        Assert.Contains("Thank you. We received your payment of $40.00.", browser.FindElement(By.TagName("h1")).Text, StringComparison.Ordinal);
        Accessible("receipt page");
        Photograph("4-paid");

        await AllWebhooksDeliveredAsync();
        Assert.Equal([40.00m], await Household.PatientPaymentsAsync(engine, household.Accounts[0]));
        await engine.ProjectionsCaughtUpAsync(); // the receipt is a projection of the committed payment
        using var admin = engine.Admin();
        JsonElement receipt = default;
        for (var i = 0; i < 200 && receipt.ValueKind == JsonValueKind.Undefined; i++)
        {
            var messages = await admin.GetFromJsonAsync<JsonElement>($"/api/sandbox/messages?account={Uri.EscapeDataString(household.Accounts[0])}");
            receipt = messages.EnumerateArray().FirstOrDefault(m => m.GetProperty("action").GetString() == "paymentReceipt");
            if (receipt.ValueKind == JsonValueKind.Undefined) await Task.Delay(50);
        }
        Assert.Contains("$40.00", receipt.GetProperty("body").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_declined_card_is_said_plainly_and_nothing_is_charged()
    {
        var household = await Household.CreateAsync(engine, 90.00m);
        browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, $"/p/{household.Code}"));
        EnterDateOfBirth("9", "12", "1975");
        WaitFor(() => browser.Url.EndsWith("/pay/home", StringComparison.Ordinal));
        Element("pay").Click();
        WaitFor(() => browser.Url.Contains("/sandbox/checkout/", StringComparison.Ordinal));
        Element("card").SendKeys("4000 0000 0000 0002");
        Element("submit-card").Click();
        WaitFor(() => Alert().Contains("declined", StringComparison.Ordinal));
        Accessible("declined");
        Photograph("5-declined");
        await AllWebhooksDeliveredAsync();
        Assert.Empty(await Household.PatientPaymentsAsync(engine, household.Accounts[0]));
    }

    [Fact]
    public async Task Five_wrong_dates_of_birth_lock_the_page_with_a_plain_message()
    {
        var household = await Household.CreateAsync(engine, 35.00m);
        browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, $"/p/{household.Code}"));
        for (var left = 4; left > 0; left--)
        {
            EnterDateOfBirth("1", "1", "1990");
            WaitFor(() => Alert().Contains($"Tries left: {left}.", StringComparison.Ordinal));
        }
        EnterDateOfBirth("1", "1", "1990");
        WaitFor(() => Alert().Contains("Too many tries", StringComparison.Ordinal));
        Accessible("locked");
        Photograph("6-locked");
    }

    [Fact]
    public async Task The_page_speaks_Spanish_when_asked()
    {
        var household = await Household.CreateAsync(engine, 120.00m);
        browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, $"/p/{household.Code}?lang=es"));
        Assert.Equal("es", browser.FindElement(By.TagName("html")).GetAttribute("lang"));
        Assert.Contains("Para ver su factura", browser.PageSource, StringComparison.Ordinal);
        EnterDateOfBirth("9", "12", "1975");
        WaitFor(() => browser.FindElement(By.TagName("h1")).Text == "Hola, Rosa");
        Assert.Contains("Pagar con tarjeta", browser.PageSource, StringComparison.Ordinal);
        Accessible("home in Spanish");
        Photograph("7-home-es");
    }
}

/// <summary>Where a test run keeps what a person may want to look at afterwards (screenshots): artifacts/ at the repository root.</summary>
internal static class Artifacts
{
    public static string Folder(string name)
    {
        var root = Environment.GetEnvironmentVariable("COLLECTIONS_TEST_ARTIFACTS");
        if (string.IsNullOrEmpty(root))
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Collections.sln"))) dir = dir.Parent;
            root = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "artifacts");
        }
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
