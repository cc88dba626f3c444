using System.Net;
using System.Net.Http.Json;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Collections.Gateway.Tests;

/// <summary>Keys that expire: an integration's key made for a year stops working after it, on SQLite and on PostgreSQL.</summary>
public sealed class ApiKeyExpiryTests
{
    private static async Task A_key_stops_at_its_expiry_and_a_new_admin_key_is_made_once_none_works(DatabaseOptions database)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        var store = new ApiKeyStore(database, clock);
        var keyFile = Path.Combine(TestDatabases.NewFolder(), "admin-api-key");
        Assert.True(await store.EnsureAdminKeyAsync(keyFile, clock.GetUtcNow().AddDays(90)));
        var (lasting, lastingToken) = await store.CreateAsync("lockbox feed", Roles.Integration, "test");
        var (yearly, yearlyToken) = await store.CreateAsync("clearinghouse", Roles.Integration, "test", clock.GetUtcNow().AddDays(365));

        var verified = await store.VerifyAsync(yearlyToken);
        Assert.Equal(clock.GetUtcNow().AddDays(365), verified!.ExpiresAt);
        Assert.False(verified.HasExpired(clock.GetUtcNow()));
        Assert.Null((await store.VerifyAsync(lastingToken))!.ExpiresAt);
        Assert.False(await store.EnsureAdminKeyAsync(keyFile)); // the first one still works

        clock.Advance(TimeSpan.FromDays(365));
        Assert.True((await store.VerifyAsync(yearlyToken))!.HasExpired(clock.GetUtcNow()));
        Assert.False((await store.VerifyAsync(lastingToken))!.HasExpired(clock.GetUtcNow()));
        var listed = await store.ListAsync();
        Assert.Equal(yearly.ExpiresAt, listed.Single(k => k.KeyId == yearly.KeyId).ExpiresAt);
        Assert.Null(listed.Single(k => k.KeyId == lasting.KeyId).ExpiresAt);
        // The admin key expired after 90 days: the next start makes a new one, in the same owner-only file.
        var expiredAdmin = (await File.ReadAllTextAsync(keyFile)).Trim();
        Assert.True(await store.EnsureAdminKeyAsync(keyFile));
        var fresh = (await File.ReadAllTextAsync(keyFile)).Trim();
        Assert.NotEqual(expiredAdmin, fresh);
        Assert.Equal((Roles.Admin, (DateTimeOffset?)null), ((await store.VerifyAsync(fresh))!.Role, (await store.VerifyAsync(fresh))!.ExpiresAt));
    }

    [Fact]
    public async Task A_key_stops_at_its_expiry_on_sqlite() =>
        await A_key_stops_at_its_expiry_and_a_new_admin_key_is_made_once_none_works(await TestDatabases.NewSqliteAsync());

    [PostgresFact]
    public async Task A_key_stops_at_its_expiry_on_postgresql() =>
        await A_key_stops_at_its_expiry_and_a_new_admin_key_is_made_once_none_works(await TestDatabases.PostgresAsync());
}
