using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Collections.Gateway.Tests;

/// <summary>A guarantor with bills, made through the API, and the payment link their first statement carries.</summary>
internal sealed partial record Household(string GuarantorId, string[] Accounts, string Code)
{
    public const string Dob = "1975-09-12";

    public static async Task<Household> CreateAsync(EngineFixture engine, params decimal[] charges)
    {
        using var admin = engine.Admin();
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Rosa", lastName = "Delgado", dateOfBirth = Dob,
            address = new { line1 = "40 Oak Ave", city = "Austin", state = "TX", zip = "78702" },
            phones = new[] { new { number = "512-555-0142", type = "mobile" } },
            email = $"{guarantorId.ToLowerInvariant()}@example.org", preferredChannel = "email", timeZone = Api.DaytimeZone(),
        })).EnsureSuccessStatusCode();
        var accounts = new List<string>();
        var facility = "PAY" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        for (var i = 0; i < charges.Length; i++)
        {
            var accountNumber = Api.NewId("A");
            (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId })).EnsureSuccessStatusCode();
            var charged = await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{accountNumber}",
                new { kind = "charge", amount = charges[i], party = "patient", serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-20 + i).ToString("yyyy-MM-dd"), code = "99214", description = "Office visit" });
            Assert.Equal(HttpStatusCode.Created, charged.StatusCode);
            accounts.Add($"{facility}/{accountNumber}");
        }
        // The statement the charge made due carries the person's payment link.
        for (var i = 0; i < 400; i++)
        {
            await admin.GetAsync($"/api/accounts/{accounts[0]}");
            var messages = await admin.GetFromJsonAsync<JsonElement>($"/api/sandbox/messages?account={Uri.EscapeDataString(accounts[0])}");
            foreach (var message in messages.EnumerateArray())
                if (Link().Match(message.GetProperty("body").GetString()!) is { Success: true } match)
                    return new Household(guarantorId, [.. accounts], match.Groups[1].Value);
            await Task.Delay(25);
        }
        throw new TimeoutException("No statement with a payment link was sent.");
    }

    [GeneratedRegex("/p/([0-9A-Z]{15})")]
    private static partial Regex Link();

    public static async Task<JsonElement> AccountAsync(EngineFixture engine, string account)
    {
        using var admin = engine.Admin();
        return await admin.GetFromJsonAsync<JsonElement>($"/api/accounts/{account}");
    }

    public static async Task<decimal[]> PatientPaymentsAsync(EngineFixture engine, string account) =>
        (await AccountAsync(engine, account)).GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "patientPayment").Select(e => e.GetProperty("amount").GetDecimal()).ToArray();
}

/// <summary>A patient's browser without a browser: cookies kept, redirects followed by hand so each step can be checked.</summary>
internal sealed class PatientClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly CookieContainer _cookies = new();

    public PatientClient(Uri baseAddress)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
    }

    /// <summary>The Cookie header this browser sends now (what someone copying it would hold).</summary>
    public string CookieHeader => _cookies.GetCookieHeader(_http.BaseAddress!);

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path);

    public Task<HttpResponseMessage> PostFormAsync(string path, params (string Key, string Value)[] fields) =>
        _http.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    public Task<HttpResponseMessage> SignInAsync(string code, string dob = Household.Dob)
    {
        var date = DateOnly.Parse(dob, System.Globalization.CultureInfo.InvariantCulture);
        return PostFormAsync($"/p/{code}", ("month", date.Month.ToString()), ("day", date.Day.ToString()), ("year", date.Year.ToString()));
    }

    /// <summary>The home page and the token its forms carry.</summary>
    public async Task<(string Html, string Csrf)> HomeAsync()
    {
        var html = await (await _http.GetAsync("/pay/home")).Content.ReadAsStringAsync();
        var csrf = Regex.Match(html, "name=\"csrf\" value=\"([0-9a-f]+)\"").Groups[1].Value;
        return (html, csrf);
    }

    public void Dispose() => _http.Dispose();
}
