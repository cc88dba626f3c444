using System.Net.Http.Json;
using Collections.Gateway.Tests;

namespace Collections.Import.Tests;

/// <summary><c>collections remit check|post</c> against the running engine.</summary>
[Collection(EngineCollection.Name)]
public sealed class RemitCommandTests(EngineFixture engine)
{
    private Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => engine.RunCliAsync(args);

    [Fact]
    public async Task Check_shows_what_would_post_to_which_account_and_posts_nothing_then_post_posts_it()
    {
        using var admin = engine.Admin();
        var facility = "R" + Guid.NewGuid().ToString("N")[..8];
        var guarantor = "G" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId = guarantor, firstName = "Ada", lastName = "Lovelace", dateOfBirth = "1980-02-03",
            address = new { line1 = "1 Main St", city = "Springfield", state = "IL", zip = "62701" }, email = "ada@example.com", preferredChannel = "email",
        })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = "A1001", guarantorId = guarantor, primaryPayer = "ACME HEALTH PLAN" })).EnsureSuccessStatusCode();
        var charge = new HttpRequestMessage(HttpMethod.Post, $"/api/accounts/{facility}/A1001/entries")
        {
            Content = JsonContent.Create(new { kind = "charge", amount = 1000.00m, serviceDate = "2026-10-15", code = "99214" }),
        };
        charge.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        (await admin.SendAsync(charge)).EnsureSuccessStatusCode();
        var file = Path.Combine(Directory.CreateTempSubdirectory("remit-").FullName, "payment.835");
        await File.WriteAllTextAsync(file,
            "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000123*0*P*:~" +
            "GS*HP*PAYER*HOSPITAL*20261101*0900*7*X*005010X221A1~ST*835*0001~" +
            "BPR*I*600.00*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261101~TRN*1*EFT-CLI-1*1234567890~" +
            "N1*PR*ACME HEALTH PLAN~N1*PE*GENERAL HOSPITAL*XX*1999999999~LX*1~" +
            "CLP*A1001*1*1000.00*600.00*150.00*12*PCN-1~CAS*CO*45*250.00~CAS*PR*1*100.00*1*2*50.00~" +
            "CLP*A9999*4*100.00*0.00**12*PCN-2~CAS*CO*50*100.00~" +
            "SE*12*0001~GE*1*7~IEA*1*000000123~");

        var check = await RunAsync("remit", "check", file, "--facility", facility);

        Assert.Equal(1, check.Code); // the claim for an unknown account waits for a person
        Assert.Contains("claim A1001 / PCN-1 (status 1, paid 600.00): would post insurancePayment 600.00, adjustment 250.00, transfer 150.00", check.Output);
        Assert.True(check.Output.Contains("claim A9999 / PCN-2 (status 4, paid 0.00): needs a person: No account A9999", StringComparison.Ordinal), check.Output);
        Assert.Equal(1, (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/accounts/{facility}/A1001")).GetProperty("entries").GetArrayLength());

        var post = await RunAsync("remit", "post", file, "--facility", facility);
        Assert.Equal(1, post.Code);
        Assert.Contains("posted 1, already posted 0, no money 0, new exceptions 1, open exceptions 1", post.Output);
        Assert.Equal(150.00m, (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/accounts/{facility}/A1001")).GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
    }

    [Fact]
    public async Task A_test_file_is_refused_in_one_line_naming_its_isa_and_the_commands_own_options()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("remit-").FullName, "test.835");
        await File.WriteAllTextAsync(file,
            "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000501*0*T*:~\n" +
            "GS*HP*PAYER*HOSPITAL*20261101*0900*1*X*005010X221A1~\nST*835*0001~\nBPR*I*0.00*C*NON************20261101~\nTRN*1*T-1*1234567890~\n" +
            "N1*PR*ACME HEALTH PLAN~\nLX*1~\nCLP*NOPE-T*1*10.00*0.00**12*X~\nCAS*CO*45*10.00~\nSE*8*0001~\nGE*1*1~\nIEA*1*000000501~\n");

        var (code, output, error) = await RunAsync("remit", "post", file, "--facility", "MAIN");

        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"collections: {file}: segment 1: ", line, StringComparison.Ordinal); // the ISA, where ISA15 is
        Assert.Contains("collections remit check", line, StringComparison.Ordinal);
        Assert.Contains("--allow-test-data", line, StringComparison.Ordinal);
        Assert.DoesNotContain("allowTestData=true", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_an_835_is_one_line_naming_the_segment_and_exit_code_2()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("remit-").FullName, "bad.835");
        await File.WriteAllTextAsync(file, "patient,amount\nA1,10.00\n");
        var (code, output, error) = await RunAsync("remit", "check", file, "--facility", "MAIN");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"collections: {file}: segment 1: Expected an ISA", error.TrimEnd());
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
