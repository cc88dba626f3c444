using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>The API's edges: requests Kestrel refuses, caching and sniffing of answers.</summary>
[Collection(EngineCollection.Name)]
public sealed class EdgeTests(EngineFixture engine)
{
    [Theory]
    [InlineData("/api/accounts/MAIN/%00", 400, "request.malformed")]
    [InlineData("/api/accounts/MAIN/A\u001bB", 400, "request.malformed")]
    [InlineData("/api/accounts/MAIN/A%0D%0AB", 400, "request.malformed")]
    [InlineData("/api/accounts/MAIN/A\rB", 400, "request.malformed")]
    [InlineData("/api/accounts/MAIN/{10000}", 414, "request.uri-too-long")]
    [InlineData("/api/accounts/MAIN/{70000}", 414, "request.uri-too-long")]
    public async Task Requests_refused_before_the_application_still_get_problem_details_with_a_code(string target, int status, string code)
    {
        target = target.Replace("{10000}", new string('A', 10_000)).Replace("{70000}", new string('A', 70_000));
        var (answer, body) = await RawAsync($"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith($"HTTP/1.1 {status} ", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(code, JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Oversized_headers_get_a_431_problem()
    {
        var (answer, body) = await RawAsync($"GET /api/accounts HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 40_000)}\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", answer, StringComparison.Ordinal);
        Assert.Equal("request.headers-too-large", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Answers_are_never_cached_or_sniffed_and_framework_problems_carry_a_code()
    {
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        var response = await admin.GetAsync(account);
        response.EnsureSuccessStatusCode();
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        Assert.Contains("nosniff", response.Headers.GetValues("X-Content-Type-Options"));

        using var anonymous = engine.Anonymous();
        var refused = await anonymous.GetAsync(account);
        Assert.True(refused.Headers.CacheControl?.NoStore);
        var missing = await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("auth.required", missing.GetProperty("code").GetString());
        Assert.Contains("Authorization: Bearer", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var wrong = engine.As("ck_0123456789ab_not-a-real-secret");
        var invalid = await (await wrong.GetAsync(account)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("auth.invalid", invalid.GetProperty("code").GetString());
        Assert.Equal("The API key is not valid or has been revoked.", invalid.GetProperty("detail").GetString());
        Assert.Equal("not-found", (await (await admin.GetAsync("/api/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound)).GetProperty("code").GetString());
    }

    /// <summary>Sends bytes as written (HttpClient would refuse or fix them) and returns the head and body of the answer.</summary>
    private async Task<(string Head, string Body)> RawAsync(string request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(engine.BaseAddress.Host, engine.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            // the server closes after a refused request; what arrived is the answer
        }
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..split];
        var body = text[(split + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new StringBuilder();
            while (true)
            {
                var eol = body.IndexOf("\r\n", StringComparison.Ordinal);
                var size = Convert.ToInt32(body[..eol], 16);
                if (size == 0) break;
                decoded.Append(body.AsSpan(eol + 2, size));
                body = body[(eol + 2 + size + 2)..];
            }
            body = decoded.ToString();
        }
        return (head, body);
    }
}

/// <summary>Every answer that shows people's data leaves one audit event per account or guarantor it shows.</summary>
[Collection(EngineCollection.Name)]
public sealed class AuditedListTests(EngineFixture engine)
{
    [Fact]
    public async Task Lists_that_show_accounts_audit_each_account_shown()
    {
        using var admin = engine.Admin();
        var first = await Api.OpenAccountAsync(admin);
        var second = await Api.OpenAccountAsync(admin);
        foreach (var account in new[] { first, second })
        {
            (await Api.PostEntryAsync(admin, account, Api.Charge(50m))).EnsureSuccessStatusCode();
            (await Api.PostEntryAsync(admin, account, Api.Payment(80m))).EnsureSuccessStatusCode();
        }
        await engine.ProjectionsCaughtUpAsync();

        var report = await admin.GetJsonAsync("/api/reports/credit-balances/MAIN");
        var listed = report.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("account")).Select(a => $"{a.GetProperty("facility").GetString()}/{a.GetProperty("accountNumber").GetString()}").ToList();
        Assert.Contains(Key(first), listed);
        Assert.Contains(Key(second), listed);
        await admin.GetJsonAsync($"/api/outbox?account={Uri.EscapeDataString(Key(first))}");

        foreach (var account in new[] { first, second })
        {
            var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(Key(account))}");
            Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "report.credit-balances.read");
        }
        var firstAudit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={Uri.EscapeDataString(Key(first))}");
        Assert.Contains(firstAudit.EnumerateArray(), e => e.GetProperty("action").GetString() == "outbox.read");
        Assert.DoesNotContain((await admin.GetJsonAsync("/api/audit?resourceType=account&resourceId=*")).EnumerateArray(), e => true);
    }

    private static string Key(string accountUrl) => accountUrl["/api/accounts/".Length..];
}
