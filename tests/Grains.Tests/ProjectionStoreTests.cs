using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Collections.Grains.Tests;

/// <summary>
/// The projection stores that take a group's rows at once (on PostgreSQL one statement per table, each column an array):
/// the rows end as the same writes one by one would leave them, on both databases.
/// </summary>
public sealed class ProjectionStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public Task A_worklist_group_leaves_each_entry_and_lease_as_its_last_write_and_adds_outcomes_in_order_on_sqlite() => WorklistGroup(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_worklist_group_leaves_each_entry_and_lease_as_its_last_write_and_adds_outcomes_in_order_on_postgresql() => WorklistGroup(TestDatabases.PostgresAsync);

    [Fact]
    public Task Gate_decisions_caller_keys_and_first_scores_given_twice_are_kept_as_one_by_one_would_on_sqlite() => GivenTwice(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Gate_decisions_caller_keys_and_first_scores_given_twice_are_kept_as_one_by_one_would_on_postgresql() => GivenTwice(TestDatabases.PostgresAsync);

    private static async Task WorklistGroup(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var store = new WorklistStore(database, NullLogger<WorklistStore>.Instance);
        var queue = "Q" + Guid.NewGuid().ToString("N")[..8];
        var otherQueue = queue + "-other";
        WorklistEntryRow Entry(string q, string number, long cents, double? probability = 0.5, DateOnly? oldest = null, DateTimeOffset? callable = null,
            DateTimeOffset? retry = null, string? model = "m1", string facility = "MAIN") =>
            new(q, facility, number, "G" + number, cents, probability, cents / 2, oldest, callable, retry, model, Now);
        WorklistLeaseRow Lease(string number, string agent, string q = "", string facility = "MAIN", int minutes = 15) =>
            new(q is "" ? queue : q, facility, number, agent, Now.AddMinutes(-minutes), Now.AddMinutes(minutes));

        // Before: B and C in the queue; B in another queue and in another facility too; a lease on A, and on A in another
        // queue and in another facility. Deletes must match all three key columns.
        await store.WriteAsync([
            new WorklistWrite.SaveEntry(Entry(queue, "B", 100)), new WorklistWrite.SaveEntry(Entry(queue, "C", 200)),
            new WorklistWrite.SaveEntry(Entry(otherQueue, "B", 300)), new WorklistWrite.SaveEntry(Entry(queue, "B", 350, facility: "EAST")),
            new WorklistWrite.SaveLease(Lease("A", "agent-0")), new WorklistWrite.SaveLease(Lease("A", "agent-8", q: otherQueue)),
            new WorklistWrite.SaveLease(Lease("A", "agent-9", facility: "EAST")),
        ]);

        // One group: A saved; B deleted; C saved then deleted; D saved then saved again with nulls; E deleted then saved;
        // A's lease deleted; F leased twice (the second wins); three outcomes.
        var full = Entry(queue, "E", 7_777, 0.125, new DateOnly(2026, 6, 1), Now.AddHours(1), Now.AddHours(2), "m2");
        await store.WriteAsync([
            new WorklistWrite.SaveEntry(Entry(queue, "A", 400)),
            new WorklistWrite.DeleteEntry(queue, "MAIN", "B"),
            new WorklistWrite.SaveEntry(Entry(queue, "C", 250)),
            new WorklistWrite.DeleteEntry(queue, "MAIN", "C"),
            new WorklistWrite.SaveEntry(Entry(queue, "D", 500, oldest: new DateOnly(2026, 1, 1))),
            new WorklistWrite.SaveEntry(Entry(queue, "D", 600, probability: null, model: null)),
            new WorklistWrite.DeleteEntry(queue, "MAIN", "E"),
            new WorklistWrite.SaveEntry(full),
            new WorklistWrite.DeleteLease(queue, "MAIN", "A"),
            new WorklistWrite.SaveLease(Lease("F", "agent-1")),
            new WorklistWrite.SaveLease(Lease("F", "agent-2", minutes: 20)),
            new WorklistWrite.AddOutcome(new WorklistOutcomeRow(queue, "MAIN", "A", "agent-1", "noAnswer", Now, "k1")),
            new WorklistWrite.AddOutcome(new WorklistOutcomeRow(queue, "MAIN", "D", "agent-2", "promiseToPay", Now, null)),
            new WorklistWrite.AddOutcome(new WorklistOutcomeRow(queue, "MAIN", "A", "agent-1", "leftMessage", Now, "k2")),
        ]);

        var entries = await store.EntriesAsync(queue).ToListAsync();
        Assert.Equal(["EAST/B", "MAIN/A", "MAIN/D", "MAIN/E"], entries.Select(e => $"{e.Facility}/{e.AccountNumber}").Order());
        entries.RemoveAll(e => e.Facility == "EAST");
        Assert.Equal(400, entries.Single(e => e.AccountNumber == "A").PatientBalanceCents);
        var d = entries.Single(e => e.AccountNumber == "D");
        Assert.Equal((600L, (double?)null, (DateOnly?)null, (string?)null), (d.PatientBalanceCents, d.Probability, d.OldestBalanceDate, d.ModelVersion));
        Assert.Equal(full, entries.Single(e => e.AccountNumber == "E"));
        Assert.Equal(300, Assert.Single(await store.EntriesAsync(otherQueue).ToListAsync()).PatientBalanceCents);
        var leases = await store.LeasesAsync(queue);
        Assert.Equal([Lease("A", "agent-9", facility: "EAST"), Lease("F", "agent-2", minutes: 20)], leases.OrderBy(l => l.AccountNumber));
        Assert.Equal(Lease("A", "agent-8", q: otherQueue), Assert.Single(await store.LeasesAsync(otherQueue)));
        Assert.Equal([("A", "noAnswer", "k1"), ("D", "promiseToPay", null), ("A", "leftMessage", "k2")],
            (await store.OutcomesAsync(queue, Now.AddMinutes(-1))).Select(o => (o.AccountNumber, o.Outcome, o.IdempotencyKey)));
    }

    private static async Task GivenTwice(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        var run = Guid.NewGuid().ToString("N")[..8];
        var day = new DateOnly(2026, 12, 5);

        // Gate decisions: a decision given twice (a batch applied again) is counted once.
        var gate = new GateDecisionStore(database);
        var facility = "GD" + run;
        GateDecisionRow Decision(string eventId, int seq, string verdict, string? channel) => new(eventId, seq, facility, day, "EmailReminder", channel, verdict, "window");
        await gate.SaveAsync([Decision($"{run}/e1", 0, "allowed", "email"), Decision($"{run}/e1", 1, "deferred", null), Decision($"{run}/e1", 0, "refused", "sms")]);
        await gate.SaveAsync([Decision($"{run}/e1", 1, "deferred", null)]);
        Assert.Equal([(day, "allowed", "window", 1), (day, "deferred", "window", 1)],
            (await gate.CountAsync(facility, day, day)).Select(c => (c.Day, c.Verdict, c.Rule, c.Count)));
        await using (var connection = await database.OpenAsync())
        {
            await using var read = connection.Command("SELECT seq, action, channel FROM gate_decision WHERE event_id = @e ORDER BY seq").WithParameter("e", $"{run}/e1");
            await using var reader = await read.ExecuteReaderAsync();
            var stored = new List<(long, string, string?)>();
            while (await reader.ReadAsync()) stored.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            Assert.Equal([(0L, "EmailReminder", "email"), (1L, "EmailReminder", (string?)null)], stored);
        }

        // Caller index: a guarantor given twice keeps the last key.
        var callers = new CallerIndexStore(database, new SignedLinks(database, new FakeTimeProvider(Now), Convert.ToBase64String(new byte[32])));
        await callers.SaveAsync([($"{run}-g1", $"{run}-k1"), ($"{run}-g2", $"{run}-k2"), ($"{run}-g1", $"{run}-k3")]);
        Assert.Empty(await callers.FindAsync($"{run}-k1"));
        Assert.Equal([$"{run}-g1"], await callers.FindAsync($"{run}-k3"));
        Assert.Equal([$"{run}-g2"], await callers.FindAsync($"{run}-k2"));

        // First scores: the first score of an account by a version stays (in a group and after it); a payment counts once.
        var outcomes = new ScoreOutcomeLog(database);
        var version = "v-" + run;
        var at = Random.Shared.NextInt64(1, 1L << 40); // log positions no other run on this database has used
        ScoreOutcomeLog.FirstScore Score(string account, double probability, bool challenger = false) =>
            new(account, version, challenger, Now, probability, 10_000, Now.AddDays(60)) { Features = [1.5f, float.NaN, probability > 0.5 ? 2f : 3f] };
        await outcomes.RecordAsync([Score("MAIN/1", 0.25), Score("MAIN/2", 0.75, challenger: true), Score("MAIN/1", 0.9)],
            [new($"{run}/p1", at, "MAIN/1", 2_500, Now.AddDays(1)), new($"{run}/p1", at, "MAIN/1", 2_500, Now.AddDays(1))]);
        await outcomes.RecordAsync([Score("MAIN/2", 0.1)], [new($"{run}/p2", at + 1, "MAIN/2", 1_000, Now.AddDays(61))]);
        var rows = (await outcomes.ReadAsync(version)).OrderBy(r => r.AccountId).ToList();
        Assert.Equal([("MAIN/1", false, 0.25, 2_500L), ("MAIN/2", true, 0.75, 0L)], rows.Select(r => (r.AccountId, r.Challenger, r.Probability, r.CollectedCents)));
        Assert.Equal(Now, rows[0].ScoredAt);
        Assert.Equal(Now.AddDays(60), rows[0].WindowEndsAt);
        Assert.Equal(10_000, rows[0].PatientBalanceCents);
        var features = await outcomes.ReadFeaturesAsync(version, 10);
        Assert.Equal(["1.5,NaN,2", "1.5,NaN,3"], features.Select(f => string.Join(',', f.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Order());
    }
}
