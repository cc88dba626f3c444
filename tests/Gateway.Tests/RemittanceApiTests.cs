using System.Net;
using System.Net.Http.Json;
using System.Text;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

[Collection(EngineCollection.Name)]
public sealed class RemittanceApiTests(EngineFixture engine)
{
    private static Task<HttpResponseMessage> PostFile(HttpClient client, string facility, string text) =>
        client.PostAsync($"/api/remittances/{facility}", new StringContent(text, Encoding.UTF8, "text/plain"));

    /// <summary>A facility of its own per test, so the sample's fixed account numbers never collide.</summary>
    private static string NewFacility() => "F" + Guid.NewGuid().ToString("N")[..8];

    private static async Task OpenInsuredAccount(HttpClient client, string facility, string accountNumber, decimal charge)
    {
        var guarantorId = Api.NewId("G");
        (await client.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId, primaryPayer = "RUSHMORE LIFE" })).EnsureSuccessStatusCode();
        var posted = await Api.PostEntryAsync(client, $"/api/accounts/{facility}/{accountNumber}", new { kind = "charge", amount = charge, serviceDate = "2002-03-01", code = "99211" });
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
    }

    [SharedSampleFact]
    public async Task Posting_a_remittance_gives_the_balances_the_file_states_and_posting_it_again_changes_nothing()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        await OpenInsuredAccount(client, facility, "5554555444", 800.00m);
        await OpenInsuredAccount(client, facility, "8765432112", 1200.00m);
        var file = SharedSamples.Read835("lfh_managed-care.835");

        var first = await (await PostFile(client, facility, file)).JsonAsync();
        var second = await (await PostFile(client, facility, file)).JsonAsync();

        Assert.Equal(2, first[0].GetProperty("claimsPosted").GetInt32());
        Assert.Equal(0, second[0].GetProperty("claimsPosted").GetInt32());
        Assert.Equal(2, second[0].GetProperty("claimsAlreadyPosted").GetInt32());
        var one = await client.GetJsonAsync($"/api/accounts/{facility}/5554555444");
        Assert.Equal(300.00m, one.GetProperty("balances").GetProperty("patientResponsibility").GetDecimal()); // PR-1 deductible
        Assert.Equal(0.00m, one.GetProperty("balances").GetProperty("insurancePending").GetDecimal());
        Assert.Equal(4, one.GetProperty("entries").GetArrayLength()); // charge, payment, CO adjustment, transfer
        var two = await client.GetJsonAsync($"/api/accounts/{facility}/8765432112");
        Assert.Equal(600.00m, two.GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
        // The transfer to the patient started the cadence.
        Assert.Equal("active", two.GetProperty("cadence").GetProperty("status").GetString());
    }

    [SharedSampleFact]
    public async Task An_unbalanced_file_is_refused_with_the_difference_and_posts_nothing()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        await OpenInsuredAccount(client, facility, "5554555444", 800.00m);
        var unbalanced = SharedSamples.Read835("lfh_managed-care.835").Replace("BPR*I*945.00", "BPR*I*955.00");

        var problem = await (await PostFile(client, facility, unbalanced)).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("remittance.unbalanced", problem.GetProperty("code").GetString());
        Assert.Equal(10.00m, problem.GetProperty("difference").GetDecimal());
        Assert.Equal(1, (await client.GetJsonAsync($"/api/accounts/{facility}/5554555444")).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task A_malformed_file_is_refused_naming_the_segment()
    {
        using var client = engine.Admin();
        var problem = await (await PostFile(client, NewFacility(), "ISA*00*this is not a real header~")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("x12.malformed", problem.GetProperty("code").GetString());
        Assert.Equal(1, problem.GetProperty("segment").GetInt32());
    }

    [SharedSampleFact]
    public async Task A_claim_for_an_unknown_account_waits_on_the_exceptions_list_until_a_supervisor_matches_it()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        await OpenInsuredAccount(client, facility, "5554555444", 800.00m);
        await OpenInsuredAccount(client, facility, "B-8765", 1200.00m); // the billing system's number differs from the claim's

        var summary = await (await PostFile(client, facility, SharedSamples.Read835("lfh_managed-care.835"))).JsonAsync();
        Assert.Equal(1, summary[0].GetProperty("exceptions").GetInt32());
        var open = await client.GetJsonAsync($"/api/remittances/{facility}/exceptions");
        var exceptionId = Assert.Single(open.EnumerateArray()).GetProperty("exceptionId").GetString()!;

        var matched = await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{exceptionId}/match", new { accountNumber = "B-8765" });

        Assert.Equal(HttpStatusCode.OK, matched.StatusCode);
        Assert.Equal(600.00m, (await client.GetJsonAsync($"/api/accounts/{facility}/B-8765")).GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
        Assert.Empty((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions")).EnumerateArray());
    }
}
