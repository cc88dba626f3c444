using System.Net;
using System.Net.Http.Json;
using System.Text;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

[Collection(EngineCollection.Name)]
public sealed class RemittanceApiTests(EngineFixture engine)
{
    /// <summary>The public samples are test interchanges (ISA15 = T): posted as a training system would.</summary>
    private static Task<HttpResponseMessage> PostFile(HttpClient client, string facility, string text) =>
        client.PostAsync($"/api/remittances/{facility}?allowTestData=true", new StringContent(text, Encoding.UTF8, "text/plain"));

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

/// <summary>835 files as real senders produce them: resent, duplicated, test-flagged, checked before posting.</summary>
[Collection(EngineCollection.Name)]
public sealed class RemittanceEdgeApiTests(EngineFixture engine)
{
    private static Task<HttpResponseMessage> PostFile(HttpClient client, string facility, string text, bool dryRun = false) =>
        client.PostAsync($"/api/remittances/{facility}{(dryRun ? "?dryRun=true" : "")}", new StringContent(text, Encoding.UTF8, "text/plain"));

    private static string NewFacility() => "F" + Guid.NewGuid().ToString("N")[..8];

    private const string File835 =
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000001*0*P*:~" +
        "GS*HP*PAYER*HOSPITAL*20261101*0900*1*X*005010X221A1~ST*835*0001~" +
        "BPR*I*160.00*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261101~TRN*1*EFT-{trace}*1234567890~" +
        "N1*PR*ACME HEALTH PLAN~N1*PE*GENERAL HOSPITAL*XX*1999999999~LX*1~" +
        "CLP*{account}*1*100.00*80.00**12*PCN-9~CAS*CO*45*20.00~" +
        "CLP*{account}*1*100.00*80.00**12*PCN-9~CAS*CO*45*20.00~" +
        "CLP*{missing}*1*10.00*0.00**12*PCN-10~CAS*CO*45*10.00~" +
        "SE*12*0001~GE*1*1~IEA*1*000000001~";

    private static async Task<string> OpenInsuredAccountAsync(HttpClient client, string facility, decimal charge)
    {
        var guarantorId = Api.NewId("G");
        (await client.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("R");
        (await client.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId, primaryPayer = "ACME HEALTH PLAN" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, $"/api/accounts/{facility}/{accountNumber}", new { kind = "charge", amount = charge, serviceDate = "2026-10-01", code = "99213" })).StatusCode);
        return accountNumber;
    }

    [Fact]
    public async Task Two_loops_of_one_claim_both_post_and_a_resent_file_posts_nothing_and_lists_no_exception_twice()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        var account = await OpenInsuredAccountAsync(client, facility, 200m);
        var file = File835.Replace("{trace}", "1").Replace("{account}", account).Replace("{missing}", "NOPE-1");

        var first = (await (await PostFile(client, facility, file)).JsonAsync())[0];
        Assert.Equal(2, first.GetProperty("claimsPosted").GetInt32());
        Assert.Equal(1, first.GetProperty("exceptions").GetInt32());
        var view = await client.GetJsonAsync($"/api/accounts/{facility}/{account}");
        Assert.Equal(0m, view.GetProperty("balances").GetProperty("balance").GetDecimal()); // 200 - 2 × (80 paid + 20 contractual)

        // The same file again, in a new interchange with the file 156 times over: nothing posts, nothing is listed twice.
        var resent = string.Concat(Enumerable.Repeat(file.Replace("000000001", "000000777"), 156));
        var again = await (await PostFile(client, facility, resent)).JsonAsync();
        Assert.Equal(156, again.GetArrayLength());
        Assert.Equal(0, again.EnumerateArray().Sum(r => r.GetProperty("claimsPosted").GetInt32()));
        Assert.Equal(0, again.EnumerateArray().Sum(r => r.GetProperty("exceptions").GetInt32()));
        Assert.Equal(1, again[0].GetProperty("exceptionsAlreadyListed").GetInt32());
        Assert.Equal(155, again.EnumerateArray().Count(r => r.TryGetProperty("duplicateOf", out _)));
        Assert.Single((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions")).EnumerateArray());
        Assert.Equal(0m, (await client.GetJsonAsync($"/api/accounts/{facility}/{account}")).GetProperty("balances").GetProperty("balance").GetDecimal());
    }

    [Fact]
    public async Task Two_transactions_of_one_interchange_are_not_warned_about_sharing_its_control_number()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        var account = await OpenInsuredAccountAsync(client, facility, 400m);
        var one = File835.Replace("{trace}", "M1").Replace("{account}", account).Replace("{missing}", "NOPE-M1");
        var body = one[one.IndexOf("ST*835", StringComparison.Ordinal)..one.IndexOf("GE*", StringComparison.Ordinal)];
        var second = body.Replace("ST*835*0001", "ST*835*0002").Replace("SE*12*0001", "SE*12*0002").Replace("EFT-M1", "EFT-M2").Replace("NOPE-M1", "NOPE-M2");
        var file = one.Replace("GE*1*1~", second + "GE*2*1~");

        var posted = await (await PostFile(client, facility, file)).JsonAsync();

        Assert.Equal(2, posted.GetArrayLength());
        Assert.All(posted.EnumerateArray(), r => Assert.DoesNotContain(r.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("was also used by remittance", StringComparison.Ordinal)));
        // Another file that reuses the interchange number for other content is still warned about.
        var reused = File835.Replace("{trace}", "M3").Replace("{account}", account).Replace("{missing}", "NOPE-M3");
        var warned = (await (await PostFile(client, facility, reused)).JsonAsync())[0];
        Assert.Contains(warned.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("was also used by remittance", StringComparison.Ordinal));
    }

    /// <summary>A denial (status 4) of a 300.00 claim, written as a payer's system writes it in two forms.</summary>
    private static string Denial(string interchange, string trace, string account, bool otherForm) =>
        $"ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*{interchange}*0*P*:~" +
        "GS*HP*PAYER*HOSPITAL*20261101*0900*1*X*005010X221A1~ST*835*0001~" +
        (otherForm ? "BPR*H*0*C*NON************20261101~" : "BPR*I*0.00*C*CHK************20261101~") +
        $"TRN*1*{trace}*1234567890~N1*PR*ACME HEALTH PLAN~N1*PE*GENERAL HOSPITAL*XX*1999999999~LX*1~" +
        (otherForm ? $"CLP*{account}*4*300*0**12*PCN-D~CAS*CO*97*300~" : $"CLP*{account}*4*300.00*0.00**12*PCN-D~CAS*CO*97*300.00~") +
        $"SE*9*0001~GE*1*1~IEA*1*{interchange}~";

    [Fact]
    public async Task A_decided_denial_sent_again_in_another_form_is_not_listed_again_and_never_written_off_twice()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        var matched = await OpenInsuredAccountAsync(client, facility, 300m);
        var elsewhere = await OpenInsuredAccountAsync(client, facility, 300m);
        var dismissed = await OpenInsuredAccountAsync(client, facility, 300m);
        var trace = "TRN-D-" + Guid.NewGuid().ToString("N")[..8];
        async Task<string> OpenExceptionAsync() =>
            Assert.Single((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions?status=open")).EnumerateArray()).GetProperty("exceptionId").GetString()!;
        async Task<decimal> BalanceAsync(string account) =>
            (await client.GetJsonAsync($"/api/accounts/{facility}/{account}")).GetProperty("balances").GetProperty("balance").GetDecimal();

        // Matched to its own account (the denial written off), then the same denial in another form: already posted.
        Assert.Equal(1, (await (await PostFile(client, facility, Denial("000000401", trace + "A", matched, otherForm: false))).JsonAsync())[0].GetProperty("exceptions").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{await OpenExceptionAsync()}/match", new { accountNumber = matched })).StatusCode);
        Assert.Equal(0m, await BalanceAsync(matched));
        var again = (await (await PostFile(client, facility, Denial("000000402", trace + "A", matched, otherForm: true))).JsonAsync())[0];
        Assert.Equal(0, again.GetProperty("exceptions").GetInt32());
        Assert.Equal(1, again.GetProperty("claimsAlreadyPosted").GetInt32());
        Assert.Equal(0m, await BalanceAsync(matched));

        // Matched to another account than the one the claim names (the billing system's number differs): the claim sent
        // again is listed as already matched, not open, and cannot be matched again.
        Assert.Equal(1, (await (await PostFile(client, facility, Denial("000000403", trace + "B", "NOPE-D", otherForm: false))).JsonAsync())[0].GetProperty("exceptions").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{await OpenExceptionAsync()}/match", new { accountNumber = elsewhere })).StatusCode);
        var resent = (await (await PostFile(client, facility, Denial("000000404", trace + "B", "NOPE-D", otherForm: true))).JsonAsync())[0];
        Assert.Equal(0, resent.GetProperty("exceptions").GetInt32());
        Assert.Equal(1, resent.GetProperty("exceptionsAlreadyListed").GetInt32());
        Assert.Empty((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions?status=open")).EnumerateArray());
        var twin = (await client.GetJsonAsync($"/api/remittances/{facility}/exceptions?status=matched")).EnumerateArray()
            .Single(e => e.GetProperty("remittanceId").GetString() == resent.GetProperty("remittanceId").GetString());
        Assert.Equal("matched", twin.GetProperty("status").GetString());
        Assert.Contains("sent again in another form", twin.GetProperty("resolution").GetString(), StringComparison.Ordinal);
        var refused = await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{twin.GetProperty("exceptionId").GetString()}/match", new { accountNumber = elsewhere });
        Assert.Equal("exception.resolved", (await refused.AssertProblemAsync(HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(0m, await BalanceAsync(elsewhere));

        // Sent again while its exception still waits: listed once, and the new file's record says where it is decided.
        var waitingTrace = trace + "W";
        await PostFile(client, facility, Denial("000000407", waitingTrace, "NOPE-W", otherForm: false));
        var waitingAgain = (await (await PostFile(client, facility, Denial("000000408", waitingTrace, "NOPE-W", otherForm: true))).JsonAsync())[0];
        Assert.Equal(0, waitingAgain.GetProperty("exceptions").GetInt32());
        Assert.Equal(1, waitingAgain.GetProperty("exceptionsAlreadyListed").GetInt32());
        var waitingRecord = await client.GetJsonAsync($"/api/remittances/{facility}/{waitingAgain.GetProperty("remittanceId").GetString()}");
        Assert.Contains("which waits for a person: decide it there", waitingRecord.GetProperty("claims")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{await OpenExceptionAsync()}/dismiss", new { reason = "not ours" })).StatusCode);

        // Dismissed (an appeal filed), then sent again in another form: it stays dismissed.
        await PostFile(client, facility, Denial("000000405", trace + "C", dismissed, otherForm: false));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/remittances/{facility}/exceptions/{await OpenExceptionAsync()}/dismiss", new { reason = "appeal filed" })).StatusCode);
        var dismissedAgain = (await (await PostFile(client, facility, Denial("000000406", trace + "C", dismissed, otherForm: true))).JsonAsync())[0];
        Assert.Equal(0, dismissedAgain.GetProperty("exceptions").GetInt32());
        Assert.Empty((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions?status=open")).EnumerateArray());
        Assert.Equal(300m, await BalanceAsync(dismissed));
    }

    [Fact]
    public async Task A_dry_run_shows_each_claim_and_its_account_and_posts_nothing()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        var account = await OpenInsuredAccountAsync(client, facility, 200m);
        var file = File835.Replace("{trace}", "2").Replace("{account}", account).Replace("{missing}", "NOPE-2");

        var check = (await (await PostFile(client, facility, file, dryRun: true)).JsonAsync())[0];

        Assert.True(check.GetProperty("dryRun").GetBoolean());
        Assert.Equal(2, check.GetProperty("claimsToPost").GetInt32());
        Assert.Equal(1, check.GetProperty("exceptions").GetInt32());
        var claims = check.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(["wouldPost", "wouldPost", "exception"], claims.Select(c => c.GetProperty("outcome").GetString()));
        Assert.Equal(account, claims[0].GetProperty("patientControlNumber").GetString());
        Assert.Equal(80m, claims[1].GetProperty("entries")[0].GetProperty("amount").GetDecimal());
        Assert.Contains("No account NOPE-2", claims[2].GetProperty("reason").GetString());
        Assert.Equal(1, (await client.GetJsonAsync($"/api/accounts/{facility}/{account}")).GetProperty("entries").GetArrayLength());
        Assert.Empty((await client.GetJsonAsync($"/api/remittances/{facility}/exceptions")).EnumerateArray());
    }

    [Fact]
    public async Task A_test_file_is_refused_but_may_be_checked()
    {
        using var client = engine.Admin();
        var facility = NewFacility();
        var account = await OpenInsuredAccountAsync(client, facility, 200m);
        var file = File835.Replace("{trace}", "3").Replace("{account}", account).Replace("{missing}", "NOPE-3").Replace("*000000001*0*P*:~", "*000000001*0*T*:~");

        var problem = await (await PostFile(client, facility, file)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("x12.test-interchange", problem.GetProperty("code").GetString());
        Assert.Equal(1, problem.GetProperty("segment").GetInt32()); // the ISA, where ISA15 says T
        var check = (await (await PostFile(client, facility, file, dryRun: true)).JsonAsync())[0];
        Assert.Contains(check.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("test data", StringComparison.Ordinal));
        Assert.Equal(1, (await client.GetJsonAsync($"/api/accounts/{facility}/{account}")).GetProperty("entries").GetArrayLength());

        var allowed = await client.PostAsync($"/api/remittances/{facility}?allowTestData=true", new StringContent(file, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(5, (await client.GetJsonAsync($"/api/accounts/{facility}/{account}")).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Every_summary_adds_up_to_the_claims_read_the_first_time_and_the_second()
    {
        using var client = engine.Admin();
        var facility = "SUM" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        foreach (var sample in new[] { "lfh_managed-care.835", "lfh_medicare-part-a.835", "lfh_managed-care.835" })
        {
            // The public samples are test interchanges: posted as a training system would.
            var response = await client.PostAsync($"/api/remittances/{facility}?allowTestData=true", new StringContent(SharedSamples.Read835(sample), Encoding.UTF8, "text/plain"));
            Assert.True(response.IsSuccessStatusCode, $"{sample}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            foreach (var summary in (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).EnumerateArray())
            {
                int N(string name) => summary.GetProperty(name).GetInt32();
                Assert.True(N("claimsRead") > 0);
                Assert.Equal(N("claimsRead"), N("claimsPosted") + N("claimsToPost") + N("claimsAlreadyPosted") + N("exceptions") + N("exceptionsAlreadyListed") + N("claimsWithoutMoney"));
            }
        }
    }
}
