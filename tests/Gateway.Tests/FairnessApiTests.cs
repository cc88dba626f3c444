using System.Net;
using System.Net.Http.Json;

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
        foreach (var (language, zip) in new[] { ("es", "78701"), ("es", "78702"), ("en", "78702"), ("vi", "30301") })
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
        Assert.Equal(4, summary.GetProperty("accounts").GetInt64());
        var groups = summary.GetProperty("groups").EnumerateArray()
            .ToDictionary(g => $"{g.GetProperty("dimension").GetString()}/{g.GetProperty("group").GetString()}", g => g.GetProperty("accounts").GetInt64());
        Assert.Equal(new Dictionary<string, long>
        {
            ["language/es"] = 2, ["language/en"] = 1, ["language/vi"] = 1,
            ["incomeBand/$40k-60k"] = 2, ["incomeBand/$85k-120k"] = 1, ["incomeBand/unknown"] = 1, // 30301 is not in the table
        }, groups);
        Assert.DoesNotContain("78701", fairness.GetRawText(), StringComparison.Ordinal); // a band, never the ZIP
        Assert.DoesNotContain("Reyes", fairness.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("fairness.contact-ratio",
            (await (await admin.GetAsync("/api/models/fairness?contactRatio=1.5")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
    }
}
