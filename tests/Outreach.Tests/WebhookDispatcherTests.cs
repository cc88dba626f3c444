using System.Collections.Concurrent;
using System.Net;
using Collections.Domain;
using Collections.Outreach.Webhooks;
using Collections.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Tests;

/// <summary>
/// The dispatcher keeps its sends in flight continuously: it claims as room frees, so a slow receiver holds up only
/// its own request, never more are on their way than allowed, and each delivery is sent once. The health check reads
/// how long the oldest due delivery has waited for it.
/// </summary>
public sealed class WebhookDispatcherTests
{
    [Fact]
    public async Task A_receiver_that_has_not_answered_holds_up_only_its_own_delivery()
    {
        var (store, subscription, dispatchers) = await StoreWithSubscriptionAsync();
        await store.PublishAsync(Events(6));
        var slowest = (await store.DeliveriesAsync(subscription, null, 10)).Min(d => d.Id); // claimed first
        var answer = new TaskCompletionSource();
        var receiver = new Receiver(async (delivery, ct) =>
        {
            if (delivery == slowest) await answer.Task.WaitAsync(ct);
            return HttpStatusCode.OK;
        });
        var run = dispatchers.New(store, receiver, batchSize: 2, maxInFlight: 4).RunOnceAsync(GiveUpAfterAMinute());
        var others = await WaitForAsync(store, subscription, rows => rows.Count(d => d.Status == WebhookStatus.Delivered) == 5);

        Assert.Equal(WebhookStatus.Sending, others.Single(d => d.Id == slowest).Status); // the rest went on without it
        answer.SetResult();
        Assert.Equal(6, await run);
        Assert.All(await store.DeliveriesAsync(subscription, null, 10), d => Assert.Equal((WebhookStatus.Delivered, 1), (d.Status, d.Attempts)));
    }

    [Fact]
    public async Task Never_more_deliveries_are_on_their_way_than_allowed_and_each_is_sent_once()
    {
        var (store, subscription, dispatchers) = await StoreWithSubscriptionAsync();
        await store.PublishAsync(Events(60));
        int current = 0, most = 0;
        var answerAll = new TaskCompletionSource();
        var receiver = new Receiver(async (_, ct) =>
        {
            var now = Interlocked.Increment(ref current);
            InterlockedMax(ref most, now);
            if (now == 8) answerAll.TrySetResult(); // the room is full: let them all through from now on
            await answerAll.Task.WaitAsync(ct);
            Interlocked.Decrement(ref current);
            return HttpStatusCode.OK;
        });

        var tried = await dispatchers.New(store, receiver, batchSize: 4, maxInFlight: 8).RunOnceAsync(GiveUpAfterAMinute());

        Assert.Equal(60, tried);
        Assert.Equal(8, most);
        Assert.Equal(60, receiver.Deliveries.Distinct().Count());
        Assert.Equal(60, receiver.Deliveries.Count);
        Assert.All(await store.DeliveriesAsync(subscription, null, 100), d => Assert.Equal((WebhookStatus.Delivered, 1), (d.Status, d.Attempts)));
    }

    [Fact]
    public async Task A_delivery_published_while_a_receiver_has_not_answered_goes_out_without_waiting_for_it()
    {
        var (store, subscription, dispatchers) = await StoreWithSubscriptionAsync();
        await store.PublishAsync(Events(1));
        var stuck = Assert.Single(await store.DeliveriesAsync(subscription, null, 10)).Id;
        var answer = new TaskCompletionSource();
        var receiver = new Receiver(async (delivery, ct) =>
        {
            if (delivery == stuck) await answer.Task.WaitAsync(ct);
            return HttpStatusCode.OK;
        });
        var run = dispatchers.New(store, receiver, batchSize: 1, maxInFlight: 4).RunOnceAsync(GiveUpAfterAMinute());
        await WaitForAsync(store, subscription, rows => rows.Single().Status == WebhookStatus.Sending); // claimed; nothing else due

        await store.PublishAsync(Events(1)); // wakes the dispatcher, which is waiting on the stuck request
        var rows = await WaitForAsync(store, subscription, rows => rows.Count(d => d.Status == WebhookStatus.Delivered) == 1);

        Assert.Equal(WebhookStatus.Sending, rows.Single(d => d.Id == stuck).Status);
        answer.SetResult();
        Assert.Equal(2, await run);
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_is_paused_and_its_other_deliveries_wait_for_their_retries_unsent()
    {
        var (store, live, dispatchers) = await StoreWithSubscriptionAsync();
        var (dead, _) = await store.CreateAsync("https://dead.example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        await store.PublishAsync(Events(30));
        var deadIds = (await store.DeliveriesAsync(dead.Id, null, 100)).Select(d => d.Id).ToHashSet();
        var receiver = new Receiver(async (delivery, ct) =>
        {
            if (deadIds.Contains(delivery)) await Task.Delay(Timeout.Infinite, ct); // until the dispatcher's timeout
            return HttpStatusCode.OK;
        });
        var started = DateTimeOffset.UtcNow;

        var tried = await dispatchers.New(store, receiver, batchSize: 1, maxInFlight: 4, timeoutSeconds: 1, pauseAfterFailures: 2).RunOnceAsync(GiveUpAfterAMinute());

        Assert.Equal(60, tried);
        Assert.All(await store.DeliveriesAsync(live, null, 100), d => Assert.Equal((WebhookStatus.Delivered, 1), (d.Status, d.Attempts)));
        var sentToDead = receiver.Deliveries.Count(deadIds.Contains);
        Assert.InRange(sentToDead, 2, 8); // those on their way when the second timeout paused it, not all thirty
        var notSent = (await store.DeliveriesAsync(dead.Id, null, 100)).Where(d => d.LastError == "paused: its receiver is not answering").ToList();
        Assert.Equal(30 - sentToDead, notSent.Count);
        foreach (var row in notSent)
        {
            // As a retry would be: an attempt spent, tried again after its back-off (30 s), no sooner than the pause ends.
            Assert.Equal((WebhookStatus.Pending, 1), (row.Status, row.Attempts));
            Assert.True(row.NextAttemptAt >= started.AddSeconds(30), "waits for its retry");
            Assert.Equal("paused", Assert.Single(await store.AttemptsAsync(row.Id)).Outcome);
        }
    }

    [Fact]
    public async Task A_delivery_on_its_last_attempt_is_tried_even_while_its_receiver_is_paused()
    {
        var (store, _, dispatchers) = await StoreWithSubscriptionAsync();
        var (dead, _) = await store.CreateAsync("https://dead.example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        await store.PublishAsync(Events(8));
        var deadIds = (await store.DeliveriesAsync(dead.Id, null, 100)).Select(d => d.Id).ToHashSet();
        var receiver = new Receiver(async (delivery, ct) =>
        {
            if (deadIds.Contains(delivery)) await Task.Delay(Timeout.Infinite, ct); // until the dispatcher's timeout
            return HttpStatusCode.OK;
        });

        await dispatchers.New(store, receiver, batchSize: 1, maxInFlight: 4, timeoutSeconds: 1, pauseAfterFailures: 2, maxAttempts: 1).RunOnceAsync(GiveUpAfterAMinute());

        Assert.Equal(8, receiver.Deliveries.Count(deadIds.Contains)); // the receiver was paused after two, yet each was tried
        foreach (var row in await store.DeliveriesAsync(dead.Id, null, 100))
        {
            Assert.Equal((WebhookStatus.Failed, 1), (row.Status, row.Attempts));
            Assert.NotEqual("paused", Assert.Single(await store.AttemptsAsync(row.Id)).Outcome);
        }
    }

    [Fact]
    public async Task A_record_that_fails_leaves_only_its_own_deliveries_to_be_sent_again_and_the_round_goes_on()
    {
        var (sql, subscription, dispatchers) = await StoreWithSubscriptionAsync();
        await sql.PublishAsync(Events(6));
        var store = new FailingStore(sql) { FailRecord = 1 };
        var receiver = new Receiver((_, _) => Task.FromResult(HttpStatusCode.OK));

        var tried = await dispatchers.New(store, receiver, batchSize: 2, maxInFlight: 2).RunOnceAsync(GiveUpAfterAMinute());

        Assert.Equal(6, tried);
        Assert.Equal(6, receiver.Deliveries.Count); // each sent once in the round
        Assert.Equal(6, receiver.Deliveries.Distinct().Count());
        var rows = await sql.DeliveriesAsync(subscription, null, 10);
        Assert.InRange(store.LostOutcomes, 1, 2);
        Assert.Equal(store.LostOutcomes, rows.Count(d => d.Status == WebhookStatus.Sending)); // sent again once their leases run out
        Assert.Equal(6 - store.LostOutcomes, rows.Count(d => d.Status == WebhookStatus.Delivered));
    }

    [Fact]
    public async Task A_claim_that_fails_ends_the_round_with_what_was_already_sent_recorded()
    {
        var (sql, subscription, dispatchers) = await StoreWithSubscriptionAsync();
        await sql.PublishAsync(Events(4));
        var store = new FailingStore(sql) { FailClaim = 2 };
        var receiver = new Receiver((_, _) => Task.FromResult(HttpStatusCode.OK));

        await Assert.ThrowsAsync<InvalidOperationException>(() => dispatchers.New(store, receiver, batchSize: 2, maxInFlight: 2).RunOnceAsync(GiveUpAfterAMinute()));

        var rows = await sql.DeliveriesAsync(subscription, null, 10);
        Assert.Equal(2, rows.Count(d => d.Status == WebhookStatus.Delivered));
        Assert.Equal(2, rows.Count(d => d.Status == WebhookStatus.Pending));
        Assert.Equal(2, receiver.Deliveries.Count);
    }

    [Fact]
    public Task The_oldest_due_delivery_is_the_one_waiting_for_a_dispatcher_not_a_retry_or_one_being_sent_on_sqlite() => OldestDueAsync(Db.Sqlite);

    [PostgresFact]
    public Task The_oldest_due_delivery_is_the_one_waiting_for_a_dispatcher_not_a_retry_or_one_being_sent_on_postgresql() => OldestDueAsync(Db.Postgres);

    [Fact]
    public async Task Health_is_degraded_once_a_due_delivery_has_waited_longer_than_allowed()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(h.Database, h.Clock, signal);
        await store.CreateAsync("https://example.org/hook", [], null, "test");
        var check = new WebhookHealthCheck(store, Options.Create(new WebhookOptions { MaxWaitSeconds = 60 }), h.Clock);

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status); // nothing waits
        await store.PublishAsync(Events(1));
        h.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var late = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Degraded, late.Status);
        Assert.Equal(61.0, late.Data["oldestWaitSeconds"]);
        Assert.Contains("waited 61 s", late.Description, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two deliveries written at 15:00. Claimed, they wait for nobody; one goes back to wait for its retry at 15:10, the
    /// other is left with its lease (1 min) by a dispatcher that died. At 15:05 only the abandoned lease is due.
    /// </summary>
    private static async Task OldestDueAsync(Db db)
    {
        var h = await Harness.CreateAsync(db);
        using var signal = new WebhookSignal();
        var store = new SqlWebhookStore(h.Database, h.Clock, signal);
        var written = h.Clock.GetUtcNow();
        await store.CreateAsync("https://example.org/hook", [], null, "test");
        Assert.Null(await store.OldestDueAsync(5));
        await store.PublishAsync(Events(2));
        Assert.Equal(written, await store.OldestDueAsync(5));

        var claimed = await store.ClaimAsync("a", 10, 5, TimeSpan.FromMinutes(1));
        Assert.Null(await store.OldestDueAsync(5));
        var retryAt = written.AddMinutes(10);
        await store.RecordAttemptAsync("a", new WebhookAttempt(claimed[0].Delivery.Id, 1, written, written, "retry", 503, "http 503"), WebhookStatus.Pending, retryAt);
        h.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(written.AddMinutes(1), await store.OldestDueAsync(5)); // the lease that ran out
        var retaken = Assert.Single(await store.ClaimAsync("b", 10, 5, TimeSpan.FromMinutes(1)));
        Assert.Null(await store.OldestDueAsync(5)); // the retry is not due until 15:10
        var at = h.Clock.GetUtcNow();
        await store.RecordAttemptAsync("b", new WebhookAttempt(retaken.Delivery.Id, 2, at, at, "delivered", 200, null), WebhookStatus.Delivered, null);
        h.Clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(retryAt, await store.OldestDueAsync(5));
        Assert.Null(await store.OldestDueAsync(1)); // its one allowed attempt spent: no claim takes it, so nothing waits for one
    }

    /// <summary>
    /// A store on a new SQLite database with one subscription, and a dispatcher factory on the same signal (each test
    /// its own, so a round a failed test left running cannot take the next test's wake-up).
    /// </summary>
    private static async Task<(SqlWebhookStore Store, string Subscription, Dispatchers Dispatchers)> StoreWithSubscriptionAsync()
    {
        var database = (await Harness.CreateAsync(Db.Sqlite)).Database;
        var signal = new WebhookSignal();
        var store = new SqlWebhookStore(database, TimeProvider.System, signal);
        var (subscription, _) = await store.CreateAsync("https://example.org/hook", [AccountEventTypes.BalanceChanged], null, "test");
        return (store, subscription.Id, new Dispatchers(signal));
    }

    private sealed record Dispatchers(WebhookSignal Signal)
    {
        /// <summary>A poll period longer than any test waits: a delivery that goes out did so because it was claimed at once or woken.</summary>
        public WebhookDispatcher New(IWebhookStore store, Receiver receiver, int batchSize, int maxInFlight, int timeoutSeconds = 30, int pauseAfterFailures = 5,
            int maxAttempts = 8) =>
            new(store, receiver,
                Options.Create(new WebhookOptions
                {
                    BatchSize = batchSize, MaxInFlight = maxInFlight, TimeoutSeconds = timeoutSeconds, LeaseSeconds = 120, PollSeconds = 300,
                    PauseAfterFailures = pauseAfterFailures, MaxAttempts = maxAttempts,
                }),
                Signal, TimeProvider.System, NullLogger<WebhookDispatcher>.Instance);
    }

    /// <summary>A round a test gives up on is stopped, not left running behind the next test.</summary>
    private static CancellationToken GiveUpAfterAMinute() => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    private static async Task<IReadOnlyList<WebhookDelivery>> WaitForAsync(SqlWebhookStore store, string subscription, Func<IReadOnlyList<WebhookDelivery>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var rows = await store.DeliveriesAsync(subscription, null, 100);
            if (condition(rows)) return rows;
            if (DateTime.UtcNow > deadline) Assert.Fail($"The deliveries never got there: {string.Join(", ", rows.Select(d => d.Status))}");
            await Task.Delay(20);
        }
    }

    private static long _position = Random.Shared.NextInt64(1, 1L << 40);

    private static List<LoggedAccountEvent> Events(int count)
    {
        var account = Guid.NewGuid().ToString("N")[..10];
        return Enumerable.Range(1, count).Select(i => new LoggedAccountEvent(Interlocked.Increment(ref _position), new AccountEvent
        {
            EventId = AccountEvent.IdFor($"MAIN/{account}", AccountEventTypes.BalanceChanged, $"entry-E{i}"), Type = AccountEventTypes.BalanceChanged,
            OccurredAt = DateTimeOffset.UtcNow, Facility = "MAIN", AccountNumber = account,
            Balances = new AccountEventBalances { Balance = i, PatientBalance = i, PatientResponsibility = i },
        })).ToList();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }

    /// <summary>The store, failing its n-th claim or n-th record (1-based) once, as a database that went away would.</summary>
    private sealed class FailingStore(SqlWebhookStore store) : IWebhookStore
    {
        private int _claims, _records;
        public int FailClaim { get; init; }
        public int FailRecord { get; init; }
        public int LostOutcomes { get; private set; }

        public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _claims) == FailClaim
                ? throw new InvalidOperationException("the database went away")
                : store.ClaimAsync(owner, batchSize, maxAttempts, lease, cancellationToken);

        public Task<IReadOnlyList<bool>> RecordAttemptsAsync(string owner, IReadOnlyList<AttemptOutcome> attempts, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _records) != FailRecord) return store.RecordAttemptsAsync(owner, attempts, cancellationToken);
            LostOutcomes = attempts.Count;
            throw new InvalidOperationException("the database went away");
        }

        public Task PublishAsync(IReadOnlyList<LoggedAccountEvent> events, CancellationToken cancellationToken = default) => store.PublishAsync(events, cancellationToken);
        public Task<(WebhookSubscription Subscription, string Secret)> CreateAsync(string url, IReadOnlyList<string> events, string? description, string createdBy, CancellationToken cancellationToken = default) =>
            store.CreateAsync(url, events, description, createdBy, cancellationToken);
        public Task<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default) => store.ListAsync(cancellationToken);
        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => store.DeleteAsync(id, cancellationToken);
        public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string? subscriptionId, string? status, int limit, CancellationToken cancellationToken = default) =>
            store.DeliveriesAsync(subscriptionId, status, limit, cancellationToken);
        public Task<IReadOnlyList<WebhookAttempt>> AttemptsAsync(long deliveryId, CancellationToken cancellationToken = default) => store.AttemptsAsync(deliveryId, cancellationToken);
        public Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default) => store.OldestDueAsync(maxAttempts, cancellationToken);
        public Task<bool> RecordAttemptAsync(string owner, WebhookAttempt attempt, string status, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken = default) =>
            store.RecordAttemptAsync(owner, attempt, status, nextAttemptAt, cancellationToken);
        public Task<IReadOnlyList<long>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default) => store.FailAbandonedAsync(maxAttempts, cancellationToken);
    }

    /// <summary>Answers each delivery (by its id header) as <c>answer</c> says; keeps the ids it was sent.</summary>
    private sealed class Receiver(Func<long, CancellationToken, Task<HttpStatusCode>> answer) : HttpMessageHandler, IHttpClientFactory
    {
        private readonly ConcurrentQueue<long> _deliveries = new();

        public IReadOnlyList<long> Deliveries => [.. _deliveries];

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var delivery = long.Parse(request.Headers.GetValues(WebhookDispatcher.DeliveryHeader).Single(), System.Globalization.CultureInfo.InvariantCulture);
            _deliveries.Enqueue(delivery);
            return new HttpResponseMessage(await answer(delivery, cancellationToken));
        }
    }
}
