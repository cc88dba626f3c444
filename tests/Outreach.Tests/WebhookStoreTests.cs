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

    /// <summary>One publish gives its deliveries one due time: the claim takes them in the order they were written, a batch at a time.</summary>
    private static async Task ClaimsInOrderAsync(Db db)
    {
        var database = (await Harness.CreateAsync(db)).Database;
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var (subscription, _) = await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        var account = Guid.NewGuid().ToString("N")[..10];
        await store.PublishAsync(Enumerable.Range(1, 5).Select(i => new AccountEvent
        {
            EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, $"entry-E{i}"), Type = AccountEventTypes.BalanceChanged,
            OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = account,
            Balances = new AccountEventBalances { Balance = i, PatientBalance = i, PatientResponsibility = i },
        }).ToList());
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
            await store.PublishAsync([e]);
            await store.PublishAsync([e]); // a grain retry: the same event id again

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
            await store.PublishAsync([e with { EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, "entry-E2") }]);
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
