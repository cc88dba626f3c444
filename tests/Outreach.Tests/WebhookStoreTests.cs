using Collections.Domain;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Collections.TestSupport;

namespace Collections.Outreach.Tests;

/// <summary>The webhook delivery table on both databases: one row per event per subscription, leased claims, the attempt log.</summary>
public sealed class WebhookStoreTests
{
    [Fact]
    public async Task Publishing_twice_records_one_delivery_and_claims_are_leased_on_sqlite() =>
        await PublishClaimAndRetryAsync(await TestDatabases.NewSqliteAsync());

    [PostgresFact]
    public async Task Publishing_twice_records_one_delivery_and_claims_are_leased_on_postgresql() =>
        await PublishClaimAndRetryAsync(await TestDatabases.PostgresAsync());

    [Fact]
    public Task Deliveries_published_together_are_claimed_in_order_a_batch_at_a_time_on_sqlite() => ClaimsInOrderAsync(Db.Sqlite);

    [PostgresFact]
    public Task Deliveries_published_together_are_claimed_in_order_a_batch_at_a_time_on_postgresql() => ClaimsInOrderAsync(Db.Postgres);

    [Fact]
    public Task A_delivery_written_for_a_subscription_as_it_was_deleted_is_cancelled_when_claimed_not_sent_on_sqlite() => UnsubscribedAtClaimAsync(Db.Sqlite);

    [PostgresFact]
    public Task A_delivery_written_for_a_subscription_as_it_was_deleted_is_cancelled_when_claimed_not_sent_on_postgresql() => UnsubscribedAtClaimAsync(Db.Postgres);

    [Fact]
    public Task A_batch_of_attempts_settles_each_delivery_by_its_own_outcome_and_only_where_the_lease_is_held_on_sqlite() => BatchOfAttemptsAsync(Db.Sqlite);

    [PostgresFact]
    public Task A_batch_of_attempts_settles_each_delivery_by_its_own_outcome_and_only_where_the_lease_is_held_on_postgresql() => BatchOfAttemptsAsync(Db.Postgres);

    /// <summary>
    /// A sender records its whole batch at once (sent together as one round trip): delivered, a retry after a timeout
    /// (no status code), a failure, and one whose lease another sender holds, which is logged but left alone. The
    /// attempts come in the order they finished; each answer is the attempt's own.
    /// </summary>
    private static async Task BatchOfAttemptsAsync(Db db)
    {
        var database = (await Harness.CreateAsync(db)).Database;
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var (subscription, _) = await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        var account = Guid.NewGuid().ToString("N")[..10];
        await store.PublishAsync(Enumerable.Range(1, 4).Select(i => At(Event(account, i))).ToList());
        var mine = await store.ClaimAsync("a", 3, 5, TimeSpan.FromMinutes(1));
        var theirs = Assert.Single(await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1)));
        Assert.Equal(3, mine.Count);
        var now = DateTimeOffset.UtcNow;
        var retryAt = now.AddMinutes(5);

        var held = await store.RecordAttemptsAsync("a",
        [
            new AttemptOutcome(new WebhookAttempt(theirs.Delivery.Id, 1, now, now, "delivered", 200, null), WebhookStatus.Delivered, null),
            new AttemptOutcome(new WebhookAttempt(mine[2].Delivery.Id, 1, now, now, "failed", 410, "http 410"), WebhookStatus.Failed, null),
            new AttemptOutcome(new WebhookAttempt(mine[0].Delivery.Id, 1, now, now, "delivered", 200, null), WebhookStatus.Delivered, null),
            new AttemptOutcome(new WebhookAttempt(mine[1].Delivery.Id, 1, now, now, "retry", null, "timeout"), WebhookStatus.Pending, retryAt),
        ]);

        Assert.Equal([false, true, true, true], held); // in the order given, though the rows are locked in the order of their ids
        var rows = (await store.DeliveriesAsync(subscription.Id, null, 10)).ToDictionary(d => d.Id);
        Assert.Equal(WebhookStatus.Delivered, rows[mine[0].Delivery.Id].Status);
        Assert.Equal(200, rows[mine[0].Delivery.Id].LastStatusCode);
        Assert.Null(rows[mine[0].Delivery.Id].LastError);
        Assert.Equal(WebhookStatus.Pending, rows[mine[1].Delivery.Id].Status);
        Assert.Null(rows[mine[1].Delivery.Id].LastStatusCode);
        Assert.Equal("timeout", rows[mine[1].Delivery.Id].LastError);
        Assert.Equal(retryAt.ToUnixTimeSeconds(), rows[mine[1].Delivery.Id].NextAttemptAt!.Value.ToUnixTimeSeconds());
        Assert.Equal(WebhookStatus.Failed, rows[mine[2].Delivery.Id].Status);
        Assert.Null(rows[mine[2].Delivery.Id].NextAttemptAt);
        Assert.Equal(WebhookStatus.Sending, rows[theirs.Delivery.Id].Status); // still b's
        Assert.Equal("delivered:lease-lost", Assert.Single(await store.AttemptsAsync(theirs.Delivery.Id)).Outcome);
        Assert.Equal("retry", Assert.Single(await store.AttemptsAsync(mine[1].Delivery.Id)).Outcome);
    }

    /// <summary>
    /// The projection wrote deliveries just as their subscription was deleted (the deletion's cancel ran first): the
    /// claim takes them, finds no subscription and cancels them, without counting an attempt; they are never handed to
    /// a sender. A batch of nothing but such rows is claimed past: the live delivery behind them comes back at once.
    /// </summary>
    private static async Task UnsubscribedAtClaimAsync(Db db)
    {
        var database = (await Harness.CreateAsync(db)).Database;
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var account = Guid.NewGuid().ToString("N")[..10];
        var (gone, _) = await store.CreateAsync("https://example.org/gone", [AccountEventTypes.BalanceChanged], null, "test");
        await store.PublishAsync([At(Event(account, 1))]);
        var (live, _) = await store.CreateAsync("https://example.org/live", [AccountEventTypes.BalanceChanged], null, "test");
        await store.PublishAsync([At(Event(account, 2))]);
        await using (var connection = await database.OpenAsync())
            await connection.Command("UPDATE webhook_subscription SET deleted_at = @now WHERE id = @id") // deleted, its deliveries left as they were
                .WithParameter("now", database.Timestamp(DateTimeOffset.UtcNow)).WithParameter("id", gone.Id).ExecuteNonQueryAsync();

        var claimed = await store.ClaimAsync("a", 1, 5, TimeSpan.FromMinutes(1)); // a batch of one: the gone ones come first

        Assert.Equal("https://example.org/live", Assert.Single(claimed).Url);
        var cancelled = await store.DeliveriesAsync(gone.Id, null, 10);
        Assert.Equal(2, cancelled.Count);
        Assert.All(cancelled, d => Assert.Equal((WebhookStatus.Cancelled, 0), (d.Status, d.Attempts)));
        Assert.Empty(await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1))); // nothing is handed out again
        Assert.Equal(WebhookStatus.Sending, Assert.Single(await store.DeliveriesAsync(live.Id, null, 10)).Status);
    }

    /// <summary>
    /// With a backlog waiting (a receiver down for a while) and the table's statistics current, PostgreSQL's planner
    /// claims through the due index in its order: no scan of the table, no bitmap heap scan. A condition on
    /// the subscriptions in the claim once made it read and sort every waiting delivery on each claim (35 ms a claim
    /// with 15,000 waiting).
    /// </summary>
    [PostgresFact]
    public async Task With_a_backlog_waiting_a_claim_walks_the_due_index_and_scans_no_table_on_postgresql()
    {
        var database = (await Harness.CreateAsync(Db.Postgres)).Database;
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        var account = Guid.NewGuid().ToString("N")[..10];
        for (var batch = 0; batch < 10; batch++)
            await store.PublishAsync(Enumerable.Range(batch * 1000, 1000).Select(i => At(Event(account, i))).ToList());
        await using var connection = await database.OpenAsync();
        await using (var delivered = connection.Command("UPDATE webhook_delivery SET status = 'delivered', next_attempt_at = NULL WHERE id % 2 = 0"))
            await delivered.ExecuteNonQueryAsync();
        await using (var analyze = connection.Command("ANALYZE webhook_delivery")) await analyze.ExecuteNonQueryAsync();

        await using var explain = connection.Command("EXPLAIN " + SqlWebhookStore.ClaimSql(postgres: true));
        explain.WithParameter("owner", "a").WithParameter("lease_until", database.Timestamp(DateTimeOffset.UtcNow.AddMinutes(1))).WithParameter("now", database.Timestamp(DateTimeOffset.UtcNow))
            .WithParameter("max_attempts", 5).WithParameter("batch", 100);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));

        Assert.True(plan.Count(line => line.Contains("Index Scan using ix_webhook_delivery_due_order", StringComparison.Ordinal)) == 2, string.Join("\n", plan));
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan on webhook_delivery", StringComparison.Ordinal) || line.Contains("Bitmap Heap Scan on webhook_delivery", StringComparison.Ordinal));
    }

    /// <summary>Where the log would put the event: positions no other test on the same database has given.</summary>
    private static long _position = Random.Shared.NextInt64(1, 1L << 40);

    private static LoggedAccountEvent At(AccountEvent e) => new(Interlocked.Increment(ref _position), e);

    private static AccountEvent Event(string account, int i) => new()
    {
        EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, $"entry-E{i}"), Type = AccountEventTypes.BalanceChanged,
        OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = account,
        Balances = new AccountEventBalances { Balance = i, PatientBalance = i, PatientResponsibility = i },
    };

    /// <summary>One publish gives its deliveries one due time: the claim takes them in the order they were written, a batch at a time.</summary>
    private static async Task ClaimsInOrderAsync(Db db)
    {
        var database = (await Harness.CreateAsync(db)).Database;
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var (subscription, _) = await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        var account = Guid.NewGuid().ToString("N")[..10];
        await store.PublishAsync(Enumerable.Range(1, 5).Select(i => At(new AccountEvent
        {
            EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, $"entry-E{i}"), Type = AccountEventTypes.BalanceChanged,
            OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = account,
            Balances = new AccountEventBalances { Balance = i, PatientBalance = i, PatientResponsibility = i },
        })).ToList());
        var written = (await store.DeliveriesAsync(subscription.Id, null, 10)).Select(d => d.Id).Order().ToList();
        Assert.Equal(5, written.Count);

        var first = await store.ClaimAsync("a", 2, 5, TimeSpan.FromMinutes(1));
        var rest = await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1));

        Assert.Equal(written.Take(2), first.Select(c => c.Delivery.Id).Order());
        Assert.Equal(written.Skip(2), rest.Select(c => c.Delivery.Id).Order());
        Assert.Empty(await store.ClaimAsync("c", 10, 5, TimeSpan.FromMinutes(1)));
    }

    private static async Task PublishClaimAndRetryAsync(DatabaseOptions database)
    {
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var (subscription, secret) = await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        var (other, _) = await store.CreateAsync("https://example.org/other", [AccountEventTypes.Placed], "placements only", "test");
        try
        {
            Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
            var account = Guid.NewGuid().ToString("N")[..10];
            var e = new AccountEvent
            {
                EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, "entry-E1"), Type = AccountEventTypes.BalanceChanged,
                OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = account,
                Balances = new AccountEventBalances { Balance = 10m, PatientBalance = 10m, PatientResponsibility = 10m },
            };
            var logged = At(e);
            await store.PublishAsync([logged]);
            await store.PublishAsync([logged]); // the projection again after a crash: the same log position again

            var deliveries = await store.DeliveriesAsync(subscription.Id, null, 10);
            var delivery = Assert.Single(deliveries);
            Assert.Equal(WebhookStatus.Pending, delivery.Status);
            Assert.Empty(await store.DeliveriesAsync(other.Id, null, 10)); // not an event it wants

            var claimed = Assert.Single(await store.ClaimAsync("a", 10, 5, TimeSpan.FromMinutes(1)), c => c.Delivery.Id == delivery.Id);
            Assert.Equal("https://example.org/hook", claimed.Url);
            Assert.Equal(secret, claimed.Secret);
            Assert.Contains(account, claimed.Payload, StringComparison.Ordinal);
            Assert.DoesNotContain((await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1))), c => c.Delivery.Id == delivery.Id); // leased to "a"

            var now = DateTimeOffset.UtcNow;
            Assert.False(await store.RecordAttemptAsync("b", new WebhookAttempt(delivery.Id, 1, now, now, "retry", 503, "http 503"), WebhookStatus.Pending, now));
            Assert.True(await store.RecordAttemptAsync("a", new WebhookAttempt(delivery.Id, 1, now, now, "retry", 503, "http 503"), WebhookStatus.Pending, now));
            var again = Assert.Single(await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1)), c => c.Delivery.Id == delivery.Id);
            Assert.Equal(2, again.Delivery.Attempts);
            Assert.True(await store.RecordAttemptAsync("b", new WebhookAttempt(delivery.Id, 2, now, now, "delivered", 200, null), WebhookStatus.Delivered, null));

            var done = Assert.Single(await store.DeliveriesAsync(subscription.Id, WebhookStatus.Delivered, 10));
            Assert.Equal(200, done.LastStatusCode);
            Assert.NotNull(done.DeliveredAt);
            Assert.Equal(3, (await store.AttemptsAsync(delivery.Id)).Count); // including the lease-lost one

            // Unsubscribed while an attempt was under way: the retry it asked for is cancelled, not sent.
            await store.PublishAsync([At(e with { EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, "entry-E2") })]);
            var next = Assert.Single(await store.ClaimAsync("a", 10, 5, TimeSpan.FromMinutes(1)), c => c.Delivery.SubscriptionId == subscription.Id);
            Assert.True(await store.DeleteAsync(subscription.Id));
            Assert.True(await store.RecordAttemptAsync("a", new WebhookAttempt(next.Delivery.Id, 1, now, now, "retry", 503, "http 503"), WebhookStatus.Pending, now));
            Assert.Empty(await store.ClaimAsync("a", 10, 5, TimeSpan.FromMinutes(1)));
            await store.FailAbandonedAsync(5);
            Assert.Equal(WebhookStatus.Cancelled, Assert.Single(await store.DeliveriesAsync(subscription.Id, null, 10), d => d.Id == next.Delivery.Id).Status);
        }
        finally
        {
            await store.DeleteAsync(subscription.Id);
            await store.DeleteAsync(other.Id);
        }
    }
}
