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
