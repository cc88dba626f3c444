using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Collections.Domain;
using Collections.Persistence;

namespace Collections.Outreach.Webhooks;

/// <summary>An account event and its position in the account event log, which no other event has.</summary>
public sealed record LoggedAccountEvent(long LogPosition, AccountEvent Event);

/// <summary>Where the webhook projection hands the account events it reads from the log.</summary>
public interface IAccountEventSink
{
    /// <summary>
    /// Durably records each event for every subscription that wants it. Publishing an event again (same log position)
    /// records nothing new, so a caller may retry freely.
    /// </summary>
    Task PublishAsync(IReadOnlyList<LoggedAccountEvent> events, CancellationToken cancellationToken = default);
}

/// <summary>A subscription as listed: never its secret.</summary>
public sealed record WebhookSubscription(string Id, string Url, IReadOnlyList<string> Events, string? Description, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>One event for one subscription, and how its delivery stands (the delivery log).</summary>
public sealed record WebhookDelivery(
    long Id, string EventId, string SubscriptionId, string EventType, string Facility, string AccountNumber, string Status, int Attempts,
    DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, int? LastStatusCode, string? LastError);

/// <summary>A delivery claimed by a dispatcher, with what it needs to send it.</summary>
public sealed record ClaimedDelivery(WebhookDelivery Delivery, string Payload, string Url, string Secret);

public sealed record WebhookAttempt(long DeliveryId, int Attempt, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Outcome, int? StatusCode, string? Error);

/// <summary>An attempt and where it leaves its delivery: delivered, pending (retry at <paramref name="NextAttemptAt"/>) or failed.</summary>
public sealed record AttemptOutcome(WebhookAttempt Attempt, string Status, DateTimeOffset? NextAttemptAt);

public static class WebhookStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Sending, Delivered, Failed, Cancelled];
}

public interface IWebhookStore : IAccountEventSink
{
    /// <summary>Stores a new subscription with a generated secret; returns it and the secret (shown once).</summary>
    Task<(WebhookSubscription Subscription, string Secret)> CreateAsync(string url, IReadOnlyList<string> events, string? description, string createdBy, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends a subscription and cancels its deliveries not yet under way. False if there is no such (live) subscription.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string? subscriptionId, string? status, int limit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<WebhookAttempt>> AttemptsAsync(long deliveryId, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the delivery that has waited longest for a dispatcher fell due (pending and due, or its lease run out),
    /// among those a claim would take (fewer than <paramref name="maxAttempts"/> attempts); null when none waits. A
    /// retry waiting for its time, or a delivery being sent, is not waiting for a dispatcher.
    /// </summary>
    Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default);

    /// <summary>Claims due deliveries with a lease, as <see cref="IOutboxStore.ClaimAsync"/> does for the outbox; each claim counts as an attempt.</summary>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Logs the attempt and, if <paramref name="owner"/> still holds the lease, moves the delivery on. False if the lease was lost.</summary>
    Task<bool> RecordAttemptAsync(string owner, WebhookAttempt attempt, string status, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="RecordAttemptAsync"/> for a dispatcher's whole batch, in one transaction; per attempt, whether the lease was still held.</summary>
    Task<IReadOnlyList<bool>> RecordAttemptsAsync(string owner, IReadOnlyList<AttemptOutcome> attempts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fails deliveries whose lease ran out on their last allowed attempt (returns their ids), and cancels those left
    /// pending or abandoned for a subscription that has ended.
    /// </summary>
    Task<IReadOnlyList<long>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default);
}

public sealed class SqlWebhookStore(DatabaseOptions database, TimeProvider clock, WebhookSignal signal) : IWebhookStore
{
    /// <summary>The payload's JSON: camelCase, nulls left out.</summary>
    public static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private const string DeliveryColumns =
        "id, event_id, subscription_id, event_type, facility, account_number, status, attempts, next_attempt_at, created_at, delivered_at, last_status_code, last_error";

    private bool IsPostgres => database.Provider == DatabaseProvider.PostgreSql;

    private const string SettleSql =
        "UPDATE webhook_delivery SET status = @status, lease_owner = NULL, lease_until = NULL, updated_at = @now, last_status_code = @code, ";
    private const string LeaseHeld = " WHERE id = @id AND status = 'sending' AND lease_owner = @owner";
    private const string DeliveredSql = SettleSql + "delivered_at = @now, last_error = NULL, next_attempt_at = NULL" + LeaseHeld;
    private const string RetrySql = SettleSql + "last_error = @error, next_attempt_at = @next_attempt_at" + LeaseHeld;
    private const string FailedSql = SettleSql + "last_error = @error, next_attempt_at = NULL" + LeaseHeld;

    // A delivery is unique on (subscription, log position): positions grow, so each new key goes in at the index's
    // right edge. The key it replaces, (event id, subscription), put every delivery on a random page of its index (event
    // ids are hashes), which under load was the largest part of a delivery's cost. No conflict target is named: a
    // PostgreSQL database made before 2026-12-07 still has the old constraint, which catches a repeat of a row written
    // without a position (a later release backfills the positions and drops it; SQLite's table is rebuilt at start).
    private const string InsertDeliverySql =
        """
        INSERT INTO webhook_delivery (event_id, subscription_id, log_position, event_type, facility, account_number, payload, status, attempts,
                                      next_attempt_at, created_at, updated_at)
        VALUES (@event_id, @subscription_id, @log_position, @event_type, @facility, @account_number, @payload, 'pending', 0, @now, @now, @now)
        ON CONFLICT DO NOTHING
        """;

    public async Task PublishAsync(IReadOnlyList<LoggedAccountEvent> events, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        if (events.Count == 0) return;
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var subscriptions = new List<(string Id, string[] Events)>();
        await using (var select = connection.Command("SELECT id, events FROM webhook_subscription WHERE deleted_at IS NULL", transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                subscriptions.Add((reader.GetString(0), reader.GetString(1).Split(',', StringSplitOptions.RemoveEmptyEntries)));

        // One round trip for the batch's rows on PostgreSQL (a statement each, sent together), one prepared statement
        // re-bound per row on SQLite: a round trip per delivery was most of the webhook projection's cost under load.
        var stamp = database.Timestamp(now);
        var inserts = new List<SqlStatement>();
        foreach (var (position, e) in events)
        {
            var payload = JsonSerializer.Serialize(e, PayloadJson);
            foreach (var (id, _) in subscriptions.Where(s => s.Events.Length == 0 || s.Events.Contains(e.Type)))
                inserts.Add(new SqlStatement(InsertDeliverySql,
                [
                    ("event_id", e.EventId), ("subscription_id", id), ("log_position", position), ("event_type", e.Type), ("facility", e.Facility),
                    ("account_number", e.AccountNumber), ("payload", payload), ("now", stamp),
                ]));
        }
        var added = inserts.Count == 0 ? 0 : (await database.ExecuteCountingAsync(connection, transaction, inserts)).Sum();
        await transaction.CommitAsync(cancellationToken);
        if (added > 0) signal.Wake();
    }

    public async Task<(WebhookSubscription Subscription, string Secret)> CreateAsync(
        string url, IReadOnlyList<string> events, string? description, string createdBy, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var subscription = new WebhookSubscription("wh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), url, events, description,
            clock.GetUtcNow(), createdBy);
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            """
            INSERT INTO webhook_subscription (id, url, events, description, secret, created_at, created_by)
            VALUES (@id, @url, @events, @description, @secret, @created_at, @created_by)
            """);
        command.WithParameter("id", subscription.Id).WithParameter("url", url).WithParameter("events", string.Join(",", events))
            .WithParameter("description", description).WithParameter("secret", secret)
            .WithParameter("created_at", database.Timestamp(subscription.CreatedAt)).WithParameter("created_by", createdBy);
        if (IsPostgres) ((Npgsql.NpgsqlParameter)command.Parameters["description"]).NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        await command.ExecuteNonQueryAsync(cancellationToken);
        return (subscription, secret);
    }

    public async Task<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT id, url, events, description, created_at, created_by FROM webhook_subscription WHERE deleted_at IS NULL ORDER BY created_at, id");
        var result = new List<WebhookSubscription>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(new WebhookSubscription(reader.GetString(0), reader.GetString(1), reader.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries),
                reader.StringOrNull(3), database.ReadTimestamp(reader, 4), reader.GetString(5)));
        return result;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = database.Timestamp(clock.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var delete = connection.Command("UPDATE webhook_subscription SET deleted_at = @now WHERE id = @id AND deleted_at IS NULL", transaction);
        delete.WithParameter("now", now).WithParameter("id", id);
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken) == 1;
        await using var cancel = connection.Command(
            """
            UPDATE webhook_delivery SET status = 'cancelled', next_attempt_at = NULL, updated_at = @now, last_error = 'unsubscribed'
            WHERE subscription_id = @id AND status = 'pending'
            """, transaction);
        cancel.WithParameter("now", now).WithParameter("id", id);
        await cancel.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string? subscriptionId, string? status, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder("WHERE 1 = 1");
        if (subscriptionId is not null) { where.Append(" AND subscription_id = @subscription_id"); command.WithParameter("subscription_id", subscriptionId); }
        if (status is not null) { where.Append(" AND status = @status"); command.WithParameter("status", status); }
        command.CommandText = $"SELECT {DeliveryColumns} FROM webhook_delivery {where} ORDER BY id DESC LIMIT @limit";
        command.WithParameter("limit", Math.Clamp(limit, 1, 1000));
        var result = new List<WebhookDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(ReadDelivery(reader));
        return result;
    }

    public async Task<IReadOnlyList<WebhookAttempt>> AttemptsAsync(long deliveryId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT delivery_id, attempt, started_at, finished_at, outcome, status_code, error FROM webhook_delivery_attempt WHERE delivery_id = @id ORDER BY id");
        command.WithParameter("id", deliveryId);
        var result = new List<WebhookAttempt>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(new WebhookAttempt(reader.GetInt64(0), reader.GetInt32(1), database.ReadTimestamp(reader, 2), database.ReadTimestamp(reader, 3),
                reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.StringOrNull(6)));
        return result;
    }

    public Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default) =>
        DueClaim.OldestAsync(database, "webhook_delivery", clock.GetUtcNow(), maxAttempts, cancellationToken);

    /// <summary>The claim's statement: due deliveries leased to <c>@owner</c>, each claim an attempt (see <see cref="DueClaim"/>).</summary>
    internal static string ClaimSql(bool postgres) => postgres ? PostgresClaimSql : SqliteClaimSql;

    private static readonly string PostgresClaimSql = ClaimStatement(postgres: true);
    private static readonly string SqliteClaimSql = ClaimStatement(postgres: false);

    private static string ClaimStatement(bool postgres) => postgres
        ? $"""
               {DueClaim.Ids(postgres: true, "webhook_delivery")}
               UPDATE webhook_delivery d
               SET status = 'sending', lease_owner = @owner, lease_until = @lease_until, attempts = d.attempts + 1, updated_at = @now
               FROM due
               WHERE d.id = due.id
               RETURNING d.id, d.event_id, d.subscription_id, d.event_type, d.facility, d.account_number, d.status, d.attempts, d.next_attempt_at,
                         d.created_at, d.delivered_at, d.last_status_code, d.last_error, d.payload
               """
        : $"""
               UPDATE webhook_delivery
               SET status = 'sending', lease_owner = @owner, lease_until = @lease_until, attempts = attempts + 1, updated_at = @now
               WHERE id IN ({DueClaim.Ids(postgres: false, "webhook_delivery")})
               RETURNING {DeliveryColumns}, payload
               """;

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        // As the outbox: SQLite writes one at a time; PostgreSQL skips rows another dispatcher is claiming right now. The
        // claim reads the due index alone, in its order, and stops at the batch: a condition on the subscriptions here
        // let PostgreSQL's planner read and sort every waiting delivery on each claim (35 ms a claim with 15,000 waiting,
        // against 0.3 ms), and a backlog (a receiver down for a day) is when that matters. Deleting a subscription
        // cancels its waiting deliveries; one written by a projection as it was deleted is cancelled below when claimed.
        await using var connection = await database.OpenRederivableAsync(cancellationToken); // a lost claim only frees the row again
        // A batch of nothing but cancelled rows is claimed past, so a sender is not left waiting a poll while others are due.
        for (var round = 0; ; round++)
        {
            var claimed = new List<(WebhookDelivery Delivery, string Payload)>();
            await using (var command = connection.Command(ClaimSql(IsPostgres)))
            {
                command.WithParameter("owner", owner).WithParameter("lease_until", database.Timestamp(now + lease)).WithParameter("now", database.Timestamp(now))
                    .WithParameter("max_attempts", maxAttempts).WithParameter("batch", batchSize);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) claimed.Add((ReadDelivery(reader), reader.GetString(13)));
            }
            if (claimed.Count == 0) return [];

            var targets = new Dictionary<string, (string Url, string Secret)>();
            await using (var command = connection.Command("SELECT id, url, secret FROM webhook_subscription WHERE deleted_at IS NULL"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken)) targets[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
            var unsubscribed = claimed.Where(c => !targets.ContainsKey(c.Delivery.SubscriptionId))
                .Select(c => c.Delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            if (unsubscribed.Count > 0)
            {
                // Not an attempt: the claim's count is taken back. The ids are the rows' own numbers, not input.
                await using var cancel = connection.Command(
                    $"""
                     UPDATE webhook_delivery SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = @now,
                         attempts = attempts - 1, last_error = 'unsubscribed'
                     WHERE lease_owner = @owner AND status = 'sending' AND id IN ({string.Join(", ", unsubscribed)})
                     """);
                await cancel.WithParameter("now", database.Timestamp(now)).WithParameter("owner", owner).ExecuteNonQueryAsync(cancellationToken);
            }
            var live = claimed.Where(c => targets.ContainsKey(c.Delivery.SubscriptionId))
                .Select(c => new ClaimedDelivery(c.Delivery, c.Payload, targets[c.Delivery.SubscriptionId].Url, targets[c.Delivery.SubscriptionId].Secret))
                .ToList();
            if (live.Count > 0 || unsubscribed.Count == 0 || round == 9) return live;
        }
    }

    public async Task<bool> RecordAttemptAsync(string owner, WebhookAttempt attempt, string status, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken = default) =>
        (await RecordAttemptsAsync(owner, [new AttemptOutcome(attempt, status, nextAttemptAt)], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> RecordAttemptsAsync(string owner, IReadOnlyList<AttemptOutcome> attempts, CancellationToken cancellationToken = default)
    {
        foreach (var a in attempts)
            if (a.Status is not (WebhookStatus.Delivered or WebhookStatus.Pending or WebhookStatus.Failed))
                throw new ArgumentOutOfRangeException(nameof(attempts), a.Status, "An attempt ends in delivered, pending (retry) or failed.");
        if (attempts.Count == 0) return [];
        // PostgreSQL may abort the transaction to break a deadlock (seen once under 64-way posting): it stored nothing,
        // so it runs again at once rather than failing the dispatcher's round for a poll period.
        for (var tried = 1; ; tried++)
        {
            try
            {
                return await RecordAttemptsOnceAsync(owner, attempts, cancellationToken);
            }
            catch (Exception e) when (SqlStatements.AbortedForConflict(e) && tried < 3)
            {
            }
        }
    }

    private async Task<IReadOnlyList<bool>> RecordAttemptsOnceAsync(string owner, IReadOnlyList<AttemptOutcome> attempts, CancellationToken cancellationToken)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        // Delivery bookkeeping: a lost last write only means one more (idempotent, signed with the delivery id) delivery.
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The lease checks first, in one round trip (PostgreSQL) or one prepared statement (SQLite), then the attempts'
        // log, which records whether each lease was still held.
        var stamp = database.Timestamp(now);
        // Rows locked in the order of their ids, so two such batches never wait on each other in a circle.
        var order = Enumerable.Range(0, attempts.Count).OrderBy(i => attempts[i].Attempt.DeliveryId).ToArray();
        var updates = order.Select(i => attempts[i]).Select(a =>
        {
            var (attempt, status, nextAttemptAt) = a;
            return status switch
            {
                WebhookStatus.Delivered => new SqlStatement(DeliveredSql,
                    [("status", status), ("now", stamp), ("code", attempt.StatusCode), ("id", attempt.DeliveryId), ("owner", owner)]),
                WebhookStatus.Pending => new SqlStatement(RetrySql,
                [
                    ("status", status), ("now", stamp), ("code", attempt.StatusCode), ("id", attempt.DeliveryId), ("owner", owner),
                    ("error", attempt.Error), ("next_attempt_at", database.Timestamp(nextAttemptAt ?? now)),
                ]),
                _ => new SqlStatement(FailedSql,
                    [("status", status), ("now", stamp), ("code", attempt.StatusCode), ("id", attempt.DeliveryId), ("owner", owner), ("error", attempt.Error)]),
            };
        }).ToList();
        var counted = await database.ExecuteCountingAsync(connection, transaction, updates);
        var held = new bool[attempts.Count];
        for (var k = 0; k < order.Length; k++) held[order[k]] = counted[k] == 1;
        await database.ExecuteAsync(connection, transaction, attempts.Select((a, i) => new SqlStatement(
            """
            INSERT INTO webhook_delivery_attempt (delivery_id, attempt, sender, started_at, finished_at, outcome, status_code, error)
            VALUES (@id, @attempt, @sender, @started_at, @finished_at, @outcome, @code, @error)
            """,
            [
                ("id", a.Attempt.DeliveryId), ("attempt", a.Attempt.Attempt), ("sender", owner), ("started_at", database.Timestamp(a.Attempt.StartedAt)),
                ("finished_at", database.Timestamp(a.Attempt.FinishedAt)), ("outcome", held[i] ? a.Attempt.Outcome : a.Attempt.Outcome + ":lease-lost"),
                ("code", a.Attempt.StatusCode), ("error", a.Attempt.Error),
            ])));
        await transaction.CommitAsync(cancellationToken);
        return held;
    }

    public async Task<IReadOnlyList<long>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        // A delivery that was under way when its subscription ended, or whose dispatcher died then, is not sent again.
        await using (var cancel = connection.Command(
            """
            UPDATE webhook_delivery SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = @now,
                last_error = 'unsubscribed'
            WHERE (status = 'pending' OR (status = 'sending' AND lease_until <= @now))
              AND subscription_id IN (SELECT id FROM webhook_subscription WHERE deleted_at IS NOT NULL)
            """))
        {
            cancel.WithParameter("now", database.Timestamp(clock.GetUtcNow()));
            await cancel.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = connection.Command(
            """
            UPDATE webhook_delivery
            SET status = 'failed', lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = @now,
                last_error = 'lease expired on the last allowed attempt'
            WHERE status = 'sending' AND lease_until <= @now AND attempts >= @max_attempts
            RETURNING id
            """);
        command.WithParameter("now", database.Timestamp(clock.GetUtcNow())).WithParameter("max_attempts", maxAttempts);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetInt64(0));
        return ids;
    }

    private WebhookDelivery ReadDelivery(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetInt32(7),
        database.ReadTimestampOrNull(r, 8), database.ReadTimestamp(r, 9), database.ReadTimestampOrNull(r, 10),
        r.IsDBNull(11) ? null : r.GetInt32(11), r.StringOrNull(12));
}

/// <summary>Wakes the dispatcher when an event is recorded, so deliveries do not wait for the next poll.</summary>
public sealed class WebhookSignal : DueSignal;
