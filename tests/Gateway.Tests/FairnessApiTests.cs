using System.Net;
using System.Net.Http.Json;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Gateway.Tests;

/// <summary>The fairness report over real HTTP: accounts grouped by their guarantor's language and ZIP income band.</summary>
[Collection(EngineCollection.Name)]
public sealed class FairnessApiTests(EngineFixture engine)
{
    [Fact]
    public async Task Accounts_are_grouped_by_language_and_the_income_band_of_their_zip_never_by_person()
    {
        using var admin = engine.Admin();
        var facility = "FR" + Guid.NewGuid().ToString("N")[..10];
        var people = Enumerable.Repeat(("es", "78702"), 11).Append(("en", "78701")).Append(("vi", "30301"));
        foreach (var (language, zip) in people)
        {
            var guarantorId = Api.NewId("G");
            var person = new
            {
                guarantorId, firstName = "Ana", lastName = "Reyes", dateOfBirth = "1975-02-03",
                address = new { line1 = "1 Main St", city = "Austin", state = "TX", zip },
                phones = new[] { new { number = "512-555-0100", type = "mobile" } }, email = "ana@example.org", preferredChannel = "email", preferredLanguage = language,
            };
            (await admin.PostAsJsonAsync("/api/guarantors", person)).EnsureSuccessStatusCode();
            var number = Api.NewId("A");
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = number, guarantorId })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{number}", Api.Charge(120m))).StatusCode);
        }
        await engine.ProjectionsCaughtUpAsync();

        var fairness = await admin.GetJsonAsync($"/api/models/fairness?facility={facility}");

        Assert.Equal("zip-income-b19013.csv", fairness.GetProperty("incomeTable").GetString());
        var summary = fairness.GetProperty("summary");
        Assert.Equal(13, summary.GetProperty("accounts").GetInt64());
        var groups = summary.GetProperty("groups").EnumerateArray()
            .ToDictionary(g => $"{g.GetProperty("dimension").GetString()}/{g.GetProperty("group").GetString()}", g => g.TryGetProperty("accounts", out var n) ? n.GetInt64() : -1); // a small group's count is left out
        Assert.Equal(new Dictionary<string, long>
        {
            ["language/es"] = 11, ["language/(groups under 11 accounts)"] = -1, // en and vi: one account each, neither named nor counted
            ["incomeBand/$40k-60k"] = 11, ["incomeBand/(groups under 11 accounts)"] = -1,
        }, groups);
        // What the projection stored for the small groups (read here, never shown): a band from the table, or unknown.
        var stored = new List<(string, string)>();
        await foreach (var row in engine.Services.GetRequiredService<KpiStore>().FairnessAsync(facility)) stored.Add((row.Language, row.IncomeBand));
        Assert.Contains(("en", "$85k-120k"), stored);
        Assert.Contains(("vi", "unknown"), stored); // 30301 is not in the table
        Assert.DoesNotContain("78701", fairness.GetRawText(), StringComparison.Ordinal); // a band, never the ZIP
        Assert.DoesNotContain("Reyes", fairness.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("fairness.contact-ratio",
            (await (await admin.GetAsync("/api/models/fairness?contactRatio=1.5")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("fairness.score-gap",
            (await (await admin.GetAsync("/api/models/fairness?scoreGap=NaN")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
    }
}
