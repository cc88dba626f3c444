using Microsoft.Extensions.Time.Testing;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Collections.Grains.Tests;

/// <summary>The reminder table that writes many grains' reminders in one transaction, on both databases.</summary>
public sealed class ReminderTableTests
{
    private static readonly DateTime Start = new(2026, 12, 5, 9, 30, 0, DateTimeKind.Utc);

    [Fact]
    public Task Reminders_set_at_once_each_get_their_version_and_read_back_as_set_on_sqlite() => SetAtOnce(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task Reminders_set_at_once_each_get_their_version_and_read_back_as_set_on_postgresql() => SetAtOnce(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_is_removed_only_by_its_current_etag_on_sqlite() => RemovedByCurrentETag(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_is_removed_only_by_its_current_etag_on_postgresql() => RemovedByCurrentETag(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_the_database_refuses_fails_alone_and_those_set_with_it_are_stored_on_sqlite() => RefusedFailsAlone(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_the_database_refuses_fails_alone_and_those_set_with_it_are_stored_on_postgresql() => RefusedFailsAlone(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_ring_range_holds_the_reminders_whose_grains_hash_into_it_on_sqlite() => RingRanges(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_ring_range_holds_the_reminders_whose_grains_hash_into_it_on_postgresql() => RingRanges(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_row_as_Orleans_table_statement_writes_it_reads_back_and_moves_on_from_its_version_on_sqlite() => StoredBefore(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_row_as_Orleans_table_statement_writes_it_reads_back_and_moves_on_from_its_version_on_postgresql() => StoredBefore(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_range_read_leaves_out_reminders_that_start_beyond_the_services_loading_window_and_next_refresh_on_sqlite() => Horizon(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_range_read_leaves_out_reminders_that_start_beyond_the_services_loading_window_and_next_refresh_on_postgresql() => Horizon(TestDatabases.PostgresAsync);

    [Fact]
    public Task A_reminder_set_twice_at_once_moves_on_two_versions_on_sqlite() => SetTwiceAtOnce(TestDatabases.NewSqliteAsync);

    [PostgresFact]
    public Task A_reminder_set_twice_at_once_moves_on_two_versions_on_postgresql() => SetTwiceAtOnce(TestDatabases.PostgresAsync);

    /// <summary>
    /// The same reminder set twice while other reminders are set (PostgreSQL cannot change one row twice in one
    /// statement, so such a group is written another way): each set answers its own version, and the row holds the later.
    /// </summary>
    private static async Task SetTwiceAtOnce(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        // Reminder i is at version i % 3 before (set i % 3 + 1 times, one at a time), so rows that take each other's version show.
        var entries = Enumerable.Range(0, 40).Select(i => Entry($"F1|T{i}", Start.AddMinutes(i), TimeSpan.FromMinutes(1))).ToList();
        for (var i = 0; i < entries.Count; i++)
            for (var time = 0; time <= i % 3; time++)
                await table.UpsertRow(entries[i]);

        var twice = await Task.WhenAll(entries.SelectMany(e => new[] { e, Entry(e.GrainId.Key.ToString()!, e.StartAt.AddHours(1), TimeSpan.FromMinutes(1)) })
            .Select(table.UpsertRow));
        for (var i = 0; i < entries.Count; i++)
        {
            string V(int version) => version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal([V(i % 3 + 1), V(i % 3 + 2)], new[] { twice[2 * i], twice[2 * i + 1] }.Order());
            var row = await table.ReadRow(entries[i].GrainId, "cadence");
            Assert.NotNull(row);
            Assert.Equal(V(i % 3 + 2), row.ETag);
            Assert.Equal(twice[2 * i + 1] == V(i % 3 + 2) ? entries[i].StartAt.AddHours(1) : entries[i].StartAt, row.StartAt);
        }
    }

    /// <summary>
    /// The reminder service reads its range at start and every refresh, and keeps only what ticks within its loading
    /// window (ten minutes by default, refreshed every five): the read returns what has started or starts within the
    /// window and one refresh more, and a reminder set for next week is read once it comes that close. A grain's own
    /// read still finds every one of its reminders.
    /// </summary>
    private static async Task Horizon(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        var clock = new FakeTimeProvider(new DateTimeOffset(Start));
        await using var table = Table(database, clock, out _);
        var window = new ReminderOptions().ReminderLoadingWindow + new ReminderOptions().RefreshReminderListPeriod;
        var entries = new[]
        {
            Entry("F1|PAST", Start.AddHours(-1), TimeSpan.FromMinutes(1)),      // due, firing every period until re-armed
            Entry("F1|SOON", Start.AddMinutes(5), TimeSpan.FromMinutes(1)),
            Entry("F1|EDGE", Start + window, TimeSpan.FromMinutes(1)),
            Entry("F1|LATER", Start + window + TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)),
            Entry("F1|WEEK", Start.AddDays(7), TimeSpan.FromHours(1)),
        };
        await Task.WhenAll(entries.Select(table.UpsertRow));

        string[] Read(ReminderTableData data) => data.Reminders.Select(r => r.GrainId.Key.ToString()!).Order().ToArray();
        Assert.Equal(["F1|EDGE", "F1|PAST", "F1|SOON"], Read(await table.ReadRows(0u, 0u)));
        Assert.Single((await table.ReadRows(entries[4].GrainId)).Reminders);
        Assert.NotNull(await table.ReadRow(entries[4].GrainId, "cadence"));

        clock.Advance(TimeSpan.FromDays(7) - window);
        Assert.Equal(["F1|EDGE", "F1|LATER", "F1|PAST", "F1|SOON", "F1|WEEK"], Read(await table.ReadRows(0u, 0u)));
    }

    private static async Task SetAtOnce(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        // Reminder i was set i % 4 times before, one at a time: each is at its own version when they are all set at once.
        var entries = Enumerable.Range(0, 120).Select(i => Entry($"F1|A{i}", Start.AddMinutes(i), TimeSpan.FromMinutes(1 + i % 3))).ToList();
        for (var i = 0; i < entries.Count; i++)
            for (var time = 0; time < i % 4; time++)
                await table.UpsertRow(entries[i]);

        var moved = entries.Select(e => Entry(e.GrainId.Key.ToString()!, e.StartAt.AddDays(1), TimeSpan.FromHours(1))).ToList();
        var etags = await Task.WhenAll(moved.Select(table.UpsertRow));

        for (var i = 0; i < moved.Count; i++)
        {
            Assert.Equal((i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture), etags[i]); // its own version, not another row's
            var row = await table.ReadRow(moved[i].GrainId, moved[i].ReminderName);
            Assert.NotNull(row);
            Assert.Equal(etags[i], row.ETag);
            Assert.Equal(moved[i].StartAt, row.StartAt);
            Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
            Assert.Equal(TimeSpan.FromHours(1), row.Period);
        }
        Assert.Single((await table.ReadRows(moved[0].GrainId)).Reminders);
        Assert.Null(await table.ReadRow(GrainId.Create("patientaccount", "F1|none"), "cadence"));
        Assert.Equal(120, (await table.ReadRows(0u, 0u)).Reminders.Count); // equal bounds: the whole ring
    }

    private static async Task RemovedByCurrentETag(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        var entry = Entry("F1|A1", Start, TimeSpan.FromMinutes(1));
        Assert.Equal("0", await table.UpsertRow(entry));
        Assert.Equal("1", await table.UpsertRow(entry));

        Assert.False(await table.RemoveRow(entry.GrainId, "cadence", "0"));
        Assert.False(await table.RemoveRow(entry.GrainId, "cadence", "not-a-version"));
        Assert.NotNull(await table.ReadRow(entry.GrainId, "cadence"));
        Assert.True(await table.RemoveRow(entry.GrainId, "cadence", "1"));
        Assert.Null(await table.ReadRow(entry.GrainId, "cadence"));
    }

    private static async Task RefusedFailsAlone(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        await using (var connection = await database.OpenAsync())
            await connection.Command(database.Provider == DatabaseProvider.Sqlite
                    ? "CREATE TRIGGER refuse_reminder BEFORE INSERT ON OrleansRemindersTable WHEN NEW.GrainId LIKE '%BAD' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    : "CREATE FUNCTION refuse_reminder() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.GrainId LIKE '%BAD' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; "
                      + "CREATE TRIGGER refuse_reminder BEFORE INSERT ON OrleansRemindersTable FOR EACH ROW EXECUTE FUNCTION refuse_reminder()")
                .ExecuteNonQueryAsync();
        var entries = Enumerable.Range(0, 60).Select(i => Entry(i == 30 ? "F1|BAD" : $"F1|OK{i}", Start, TimeSpan.FromMinutes(1))).ToList();

        var attempts = entries.Select(async e =>
        {
            try
            {
                return await table.UpsertRow(e);
            }
            catch (Exception)
            {
                return null;
            }
        }).ToList();
        var etags = await Task.WhenAll(attempts);

        Assert.Null(etags[30]);
        Assert.All(etags.Where((_, i) => i != 30), etag => Assert.Equal("0", etag));
        Assert.Equal(59, (await table.ReadRows(0u, 0u)).Reminders.Count);
    }

    private static async Task RingRanges(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out _);
        var entries = Enumerable.Range(0, 40).Select(i => Entry($"F1|R{i}", Start, TimeSpan.FromMinutes(1))).ToList();
        await Task.WhenAll(entries.Select(table.UpsertRow));
        var hashes = entries.ToDictionary(e => e.GrainId, e => e.GrainId.GetUniformHashCode());
        var sorted = hashes.Values.Order().ToList();

        // The ring's rule, on unsigned positions: (begin, end] when begin < end, otherwise the range wraps past the top.
        // Bounds on grains' own positions (the begin excluded, the end included), across the middle of the ring (where
        // the stored signed hash changes sign) and wrapping.
        var ranges = new List<(uint Begin, uint End)>
        {
            (sorted[3], sorted[20]), (sorted[20], sorted[3]), (sorted[0], sorted[^1]), (sorted[^1], sorted[0]),
            (0x7000_0000u, 0x9000_0000u), (0x9000_0000u, 0x7000_0000u), (0x1000_0000u, 0x6000_0000u), (0xA000_0000u, 0xF000_0000u),
        };
        foreach (var (begin, end) in ranges)
        {
            bool Inside(uint hash) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;
            var expected = hashes.Where(h => Inside(h.Value)).Select(h => h.Key.ToString()).Order().ToList();
            var found = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.ToString()).Order().ToList();
            Assert.Equal(expected, found);
        }
    }

    private static async Task StoredBefore(Func<Task<DatabaseOptions>> open)
    {
        var database = await open();
        await using var table = Table(database, out var serviceId);
        var grain = GrainId.Create("patientaccount", "F1|OLD");
        // A row as Orleans' ADO.NET reminder table writes it: with the statement it runs, kept in OrleansQuery.
        await using (var connection = await database.OpenAsync())
        {
            var sql = (string)(await connection.Command("SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'UpsertReminderRowKey'").ExecuteScalarAsync())!;
            await using var command = connection.Command(sql)
                .WithParameter("ServiceId", serviceId).WithParameter("GrainId", grain.ToString()).WithParameter("GrainHash", (int)grain.GetUniformHashCode())
                .WithParameter("ReminderName", "cadence").WithParameter("StartTime", Start).WithParameter("Period", 60_000);
            Assert.Equal(0L, Convert.ToInt64(await command.ExecuteScalarAsync()));
            Assert.Equal(1L, Convert.ToInt64(await command.ExecuteScalarAsync()));
        }

        var row = await table.ReadRow(grain, "cadence");
        Assert.NotNull(row);
        Assert.Equal(Start, row.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal("1", row.ETag);
        Assert.Equal("2", await table.UpsertRow(Entry("F1|OLD", Start.AddDays(1), TimeSpan.FromMinutes(1))));
    }

    /// <summary>A table whose clock reads two days after <see cref="Start"/>: every reminder these tests set has started.</summary>
    private static GroupCommitReminderTable Table(DatabaseOptions database, out string serviceId) =>
        Table(database, new FakeTimeProvider(new DateTimeOffset(Start.AddDays(2))), out serviceId);

    private static GroupCommitReminderTable Table(DatabaseOptions database, TimeProvider clock, out string serviceId)
    {
        serviceId = TestDatabases.NewServiceId();
        return new GroupCommitReminderTable(database, Options.Create(new ClusterOptions { ServiceId = serviceId }), Options.Create(new ReminderOptions()), clock,
            NullLogger<GroupCommitReminderTable>.Instance);
    }

    private static ReminderEntry Entry(string key, DateTime startAt, TimeSpan period) =>
        new() { GrainId = GrainId.Create("patientaccount", key), ReminderName = "cadence", StartAt = startAt, Period = period };
}
