using System.Net;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Gateway.Tests;

/// <summary>The engine remembering verified keys for five minutes (the other fixtures remember none), revocations read every second.</summary>
public sealed class RememberedKeysEngineFixture : EngineFixture
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--Collections:ApiKeyCacheSeconds", "300", "--Collections:ApiKeyRevocationCheckSeconds", "1"];
}

public sealed class KeyRevocationTests(RememberedKeysEngineFixture engine) : IClassFixture<RememberedKeysEngineFixture>
{
    [Fact]
    public async Task A_remembered_key_revoked_through_this_gateway_stops_at_once()
    {
        var token = await engine.KeyForAsync("supervisor");
        using var supervisor = engine.As(token);
        Assert.Equal(HttpStatusCode.OK, (await supervisor.GetAsync("/api/kpis")).StatusCode); // verified, now remembered

        using var admin = engine.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{token.Split('_')[1]}")).StatusCode);

        var refused = await (await supervisor.GetAsync("/api/kpis")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("auth.invalid", refused.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_remembered_key_revoked_through_another_gateway_stops_within_the_revocation_check()
    {
        var token = await engine.KeyForAsync("supervisor");
        using var supervisor = engine.As(token);
        Assert.Equal(HttpStatusCode.OK, (await supervisor.GetAsync("/api/kpis")).StatusCode);

        // Another gateway of the cluster revokes it: only the shared database knows.
        Assert.True(await engine.Services.GetRequiredService<ApiKeyStore>().RevokeAsync(token.Split('_')[1]));

        // Remembered for 300 s, it must stop within the one-second check (ten allowed for a slow machine).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        while ((status = (await supervisor.GetAsync("/api/kpis")).StatusCode) == HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task A_remembered_key_that_is_not_revoked_keeps_working()
    {
        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await supervisor.GetAsync("/api/kpis")).StatusCode);
    }
}
