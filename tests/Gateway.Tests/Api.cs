using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>Small helpers to drive the API the way a client would.</summary>
internal static class Api
{
    private static int _next;

    public static string NewId(string prefix) => $"{prefix}{Interlocked.Increment(ref _next)}{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>A time zone where it is business hours right now, so the contact window never decides a test.</summary>
    public static string DaytimeZone()
    {
        foreach (var zone in new[] { "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo", "Asia/Kolkata", "Europe/London", "America/New_York", "Australia/Sydney" })
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(zone));
            if (local.Hour is >= 9 and < 18) return zone;
        }
        throw new InvalidOperationException("No listed zone is in business hours (cannot happen: they span the globe).");
    }

    public static object Guarantor(string id) => new
    {
        guarantorId = id,
        firstName = "Maria",
        lastName = "Lopez",
        dateOfBirth = "1980-04-02",
        address = new { line1 = "12 Elm St", city = "Austin", state = "TX", zip = "78701" },
        phones = new[] { new { number = "512-555-0100", type = "mobile" } },
        email = "maria@example.org",
        preferredChannel = "email",
    };

    /// <summary>Registers a guarantor and opens an account; returns the account's URL.</summary>
    public static async Task<string> OpenAccountAsync(HttpClient client, string? primaryPayer = null)
    {
        var guarantorId = NewId("G");
        (await client.PostAsJsonAsync("/api/guarantors", Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var accountNumber = NewId("A");
        var opened = await client.PostAsJsonAsync("/api/accounts", new { facility = "MAIN", accountNumber, guarantorId, primaryPayer });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        return $"/api/accounts/MAIN/{accountNumber}";
    }

    public static Task<HttpResponseMessage> PostEntryAsync(HttpClient client, string account, object entry, string? idempotencyKey = null) =>
        PostRawAsync(client, account, JsonSerializer.Serialize(entry), idempotencyKey ?? Guid.NewGuid().ToString());

    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string account, string json, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{account}/entries") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static object Charge(decimal amount) => new { kind = "charge", amount, serviceDate = "2026-10-01", code = "99213", description = "Office visit" };

    public static object Payment(decimal amount) => new { kind = "patientPayment", amount, method = "card" };

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    /// <summary>Asserts an RFC 7807 problem with the status and returns it.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}
