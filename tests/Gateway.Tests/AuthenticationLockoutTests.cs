using System.Net;

namespace Collections.Gateway.Tests;

/// <summary>The engine with a low failed-authentication limit and a short lockout.</summary>
public sealed class LockoutEngineFixture : EngineFixture
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--Collections:FailedAuthenticationsPerMinute", "5", "--Collections:AuthenticationLockoutSeconds", "2"];
}

public sealed class AuthenticationLockoutTests(LockoutEngineFixture engine) : IClassFixture<LockoutEngineFixture>
{
    [Fact]
    public async Task Guessing_keys_locks_the_client_address_out_with_429_and_every_failure_is_audited()
    {
        using var guesser = engine.As("ck_0123456789ab_notarealsecretnotarealsecret");
        for (var i = 0; i < 5; i++)
            await (await guesser.GetAsync("/api/guarantors/G1")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        // Locked out now: even the right key is refused, so a lucky guess teaches nothing.
        using var admin = engine.Admin();
        var locked = await admin.GetAsync("/api/audit?resourceType=api-key");
        var problem = await locked.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("auth.locked-out", problem.GetProperty("code").GetString());
        Assert.True(int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is >= 1 and <= 2);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage audit;
        while ((audit = await admin.GetAsync("/api/audit?resourceType=api-key")).StatusCode == HttpStatusCode.TooManyRequests && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        var failures = (await audit.JsonAsync()).EnumerateArray().ToList();
        Assert.Equal(5, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Equal("0123456789ab", f.GetProperty("resourceId").GetString());
            Assert.Equal("127.0.0.1", f.GetProperty("clientAddress").GetString());
            Assert.Equal("denied", f.GetProperty("outcome").GetString());
        });
        Assert.Contains(failures, f => f.TryGetProperty("detail", out var d) && d.GetString()!.StartsWith("locked-out-until=", StringComparison.Ordinal));
        Assert.DoesNotContain("notarealsecret", await (await admin.GetAsync("/api/audit?resourceType=api-key")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>The engine behind a proxy on this machine: 127.0.0.0/8 named as the proxies' network, a low failure limit.</summary>
public sealed class ProxiedEngineFixture : EngineFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Collections:FailedAuthenticationsPerMinute", "3", "--Collections:AuthenticationLockoutSeconds", "60",
        "--Collections:ForwardedHeaders:KnownNetworks:0", "127.0.0.0/8",
    ];
}

public sealed class TrustedProxyTests(ProxiedEngineFixture engine) : IClassFixture<ProxiedEngineFixture>
{
    private HttpClient From(string key, string forwardedFor)
    {
        var client = engine.As(key);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    [Fact]
    public async Task Behind_a_named_proxy_the_lockout_and_the_audit_see_each_client_not_the_proxy()
    {
        using var guesser = From("ck_0123456789ab_notarealsecretnotarealsecret", "203.0.113.7");
        for (var i = 0; i < 3; i++)
            await (await guesser.GetAsync("/api/guarantors/G1")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await guesser.GetAsync("/api/guarantors/G1")).AssertProblemAsync(HttpStatusCode.TooManyRequests);

        // Another client behind the same proxy is not locked out by the guesser.
        using var colleague = From(engine.AdminKey, "198.51.100.9");
        var audit = await colleague.GetAsync("/api/audit?resourceType=api-key");
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        var failures = (await audit.JsonAsync()).EnumerateArray().ToList();
        Assert.Equal(3, failures.Count);
        Assert.All(failures, f => Assert.Equal("203.0.113.7", f.GetProperty("clientAddress").GetString()));
    }
}
