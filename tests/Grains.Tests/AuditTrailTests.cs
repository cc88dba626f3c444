using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Grains.Tests;

/// <summary>The audit trail answers the compliance officer's questions: who saw this person, and what did this user see last month.</summary>
public sealed class AuditTrailTests
{
    private static readonly DateTimeOffset October = new(2026, 10, 15, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public Task On_sqlite_the_trail_is_found_by_actor_action_and_period_as_well_as_by_person() =>
        FindsByEveryFilterAsync(TestDatabases.NewSqliteAsync());

    [PostgresFact]
    public Task On_postgresql_the_trail_is_found_by_actor_action_and_period_as_well_as_by_person() =>
        FindsByEveryFilterAsync(TestDatabases.PostgresAsync());

    private static async Task FindsByEveryFilterAsync(Task<DatabaseOptions> opening)
    {
        var database = await opening;
        await using var audit = new DatabaseAuditTrail(database, NullLogger<DatabaseAuditTrail>.Instance);
        AuditEvent Event(int daysLater, string actor, string action, string account) =>
            new(October.AddDays(daysLater), actor, "agent", action, "account", account, "ok", null, null);
        await audit.RecordAllAsync([
            Event(0, "agent-1", "account.read", "MAIN/1"),
            Event(10, "agent-1", "account.read", "MAIN/2"),
            Event(20, "agent-2", "account.read", "MAIN/1"),
            Event(40, "agent-1", "account.notes.read", "MAIN/3"),
        ]);

        string[] Accounts(IReadOnlyList<AuditEvent> events) => [.. events.Select(e => e.ResourceId)];
        // What agent-1 saw in October, newest first.
        Assert.Equal(["MAIN/2", "MAIN/1"], Accounts(await audit.QueryAsync(new AuditQuery(Actor: "agent-1", Since: new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), Until: new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)))));
        Assert.Equal(["MAIN/3"], Accounts(await audit.QueryAsync(new AuditQuery(Actor: "agent-1", Action: "account.notes.read"))));
        // Who saw MAIN/1, and since when: since is inclusive, until exclusive.
        Assert.Equal(["agent-2", "agent-1"], (await audit.QueryAsync(new AuditQuery("account", "MAIN/1"))).Select(e => e.Actor).ToArray());
        Assert.Equal(["MAIN/1"], Accounts(await audit.QueryAsync(new AuditQuery(Actor: "agent-1", Until: October.AddDays(10)))));
        Assert.Equal(["MAIN/2"], Accounts(await audit.QueryAsync(new AuditQuery(Actor: "agent-1", Since: October.AddDays(10), Until: October.AddDays(11)))));
        Assert.Single(await audit.QueryAsync(new AuditQuery(Limit: 1)));
    }
}
