using System.Data.Common;
using System.Text;
using System.Text.Json;
using Collections.Domain;
using Collections.Persistence;

namespace Collections.Outreach;

/// <summary>The durable outbox: messages, their delivery attempts, and the receipts vendors send back.</summary>
public interface IOutboxStore
{
    /// <summary>Stores the message unless one with its id exists; returns the stored one and whether this call created it.</summary>
    Task<(OutboxMessage Message, bool Created)> AddAsync(OutboxMessage message, CancellationToken cancellationToken = default) =>
        AddAsync(message, null, cancellationToken);

    /// <summary>
    /// As <see cref="AddAsync(OutboxMessage, CancellationToken)"/>, with the payment link the message carries: stored in
    /// the message's own transaction, and only if the message is (a message already there keeps the link it was sent with).
    /// </summary>
    Task<(OutboxMessage Message, bool Created)> AddAsync(OutboxMessage message, IssuedPayLink? payLink, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts prepared messages (each with its payment link) in a transaction of the caller's on this store's database,
    /// in one round trip where the database allows; sets each one's <see cref="PreparedMessage.Created"/>. A message
    /// whose id is already stored is left as it is, with its link. The caller commits, then calls
    /// <see cref="IOutreachService.Stored"/> for each. It never takes SQLite's write turn: its caller holds it.
    /// </summary>
    Task AddInTransactionAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<PreparedMessage> messages, CancellationToken cancellationToken = default);

    Task<OutboxMessage?> GetAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// What became of each message about an account (kind, channel, status, when it was queued and sent), without
    /// their texts: what the gate asks before an extraordinary action.
    /// </summary>
    Task<IReadOnlyList<MessageFate>> FatesAsync(string facility, string accountNumber, CancellationToken cancellationToken = default);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<OutboxMessage>> QueryAsync(string? facility, string? accountNumber, OutboxStatus? status, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the message that has waited longest for a sender fell due (pending and due, or its lease run out), among
    /// those a claim would take (fewer than <paramref name="maxAttempts"/> attempts); null when none waits. A retry or
    /// a message waiting for the person's hours, or one being sent, is not waiting for a sender.
    /// </summary>
    Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically claims up to <paramref name="batchSize"/> due messages for <paramref name="owner"/> until now +
    /// <paramref name="lease"/>: pending messages whose next attempt is due, and messages whose sender's lease ran out.
    /// Each claim counts as an attempt. No two owners hold the same message at once.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="ClaimAsync(string, int, int, TimeSpan, CancellationToken)"/>, with at most
    /// <paramref name="channelRooms"/>[channel] pending messages of each channel it names (the room its transport has
    /// left), so a channel whose transport takes few at once does not fill the batch ahead of the others. Messages
    /// whose sender's lease ran out are taken back whatever their channel.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, IReadOnlyDictionary<ContactChannel, int> channelRooms,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Records how an attempt ended and moves the message to <paramref name="status"/> (Sent, Pending with
    /// <paramref name="nextAttemptAt"/>, or Failed), if <paramref name="owner"/> still holds its lease. The attempt is
    /// logged either way. Returns false if the lease was lost (someone else took the message over).
    /// </summary>
    Task<bool> RecordAttemptAsync(string owner, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? nextAttemptAt, bool givesAttemptBack = false,
        CancellationToken cancellationToken = default);

    /// <summary>Marks failed the messages whose lease ran out on their last allowed attempt. Returns their ids.</summary>
    Task<IReadOnlyList<string>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string messageId, CancellationToken cancellationToken = default);

    /// <summary>Keeps the receipt and updates the message's status. False if no such message is in the outbox.</summary>
    Task<bool> RecordReceiptAsync(DeliveryReceipt receipt, CancellationToken cancellationToken = default);

    /// <summary>The message a vendor knows by its own id (a status callback names only that), or null.</summary>
    Task<string?> MessageIdForProviderAsync(string providerMessageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether an attempt of the message before <paramref name="attempt"/> may have reached a transport: false only when
    /// every earlier attempt is recorded as paused (put back before any vendor was asked). An attempt not recorded (a
    /// sender that crashed, a lease that ran out) may have gone. A store that cannot tell says true.
    /// </summary>
    Task<bool> MayHaveGoneBeforeAsync(string messageId, int attempt, CancellationToken cancellationToken = default) => Task.FromResult(attempt > 1);

    /// <summary>
    /// Cancels the account's collection messages (statements, reminders, final notices, installment reminders) still
    /// waiting to go that were queued at or before <paramref name="queuedBy"/>; returns how many. Idempotent.
    /// </summary>
    Task<int> CancelCollectionAsync(string facility, string accountNumber, DateTimeOffset queuedBy, string reason, CancellationToken cancellationToken = default);
}

public sealed class SqlOutboxStore(DatabaseOptions database, TimeProvider clock, Microsoft.Extensions.Logging.ILogger<SqlOutboxStore>? logger = null) : IOutboxStore, IAsyncDisposable
{
    private static readonly string[] Columns =
    [
        "message_id", "channel", "action", "facility", "account_number", "guarantor_id", "recipient_name", "recipient",
        "amount_due", "due_date", "statement_lines", "policy_reference", "subject", "body", "template_id", "template_version",
        "status", "attempts", "next_attempt_at", "created_at", "updated_at", "sent_at", "provider_message_id", "last_error",
    ];

    private static string Select(string prefix = "") => string.Join(", ", Columns.Select(c => prefix + c));

    private bool IsPostgres => database.Provider == DatabaseProvider.PostgreSql;

    private GroupCommit<PreparedMessage>? _additions;
    private GroupCommit<AttemptRecord>? _attempts;
    private object? _startLock; // each group commit starts its writers once

    /// <summary>
    /// Messages added at the same moment go in one transaction; each caller still answers only once its message is
    /// durable. (The cadence's messages go in their guarantors' transactions instead, grouped by the grain storage.)
    /// </summary>
    private GroupCommit<PreparedMessage> Additions => LazyInitializer.EnsureInitialized(ref _additions, ref _startLock,
        () => new GroupCommit<PreparedMessage>(InsertAllAsync, maxItems: 200, Logger, "outbox messages",
            writers: IsPostgres ? 4 : 1, aloneOnFailure: SqlStatements.RefusedStatement)); // one message the database refuses fails alone

    private Microsoft.Extensions.Logging.ILogger Logger => (Microsoft.Extensions.Logging.ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public Task<(OutboxMessage Message, bool Created)> AddAsync(OutboxMessage message, CancellationToken cancellationToken = default) =>
        AddAsync(message, null, cancellationToken);

    public async Task<(OutboxMessage Message, bool Created)> AddAsync(OutboxMessage message, IssuedPayLink? payLink, CancellationToken cancellationToken = default)
    {
        var addition = new PreparedMessage(message, payLink);
        await Additions.WriteAsync([addition]);
        // Inserted: the row is the message as written (times at the precision the database keeps). Already there: the
        // row as it is, which may be further along (sent, cancelled).
        if (addition.Created)
            return (message with
            {
                CreatedAt = database.AsStored(message.CreatedAt), UpdatedAt = database.AsStored(message.UpdatedAt),
                NextAttemptAt = message.NextAttemptAt is { } next ? database.AsStored(next) : null,
                SentAt = message.SentAt is { } sent ? database.AsStored(sent) : null,
            }, true);
        var stored = await GetAsync(message.MessageId, cancellationToken)
            ?? throw new InvalidOperationException("The outbox message vanished right after it was written.");
        return (stored, false);
    }

    private static readonly string InsertSql =
        $"INSERT INTO outreach_outbox ({Select()}) VALUES ({string.Join(", ", Columns.Select(c => "@" + c))}) ON CONFLICT (message_id) DO NOTHING";

    // A payment link replaces one a message of the same id may have left without its message (written before the two
    // shared a transaction, the link went first): that code was never sent.
    private const string PayLinkConflict =
        "ON CONFLICT (message_id) DO UPDATE SET code = excluded.code, guarantor_id = excluded.guarantor_id, created_at = excluded.created_at, expires_at = excluded.expires_at";

    private const string InsertPayLinkSql =
        "INSERT INTO portal_link (code, guarantor_id, message_id, created_at, expires_at) VALUES (@link_code, @link_guarantor, @message_id, @link_created, @link_expires) " + PayLinkConflict;

    /// <summary>PostgreSQL: the message and its link in one statement, the link only if the message went in (the count is the link's).</summary>
    private static readonly string InsertWithPayLinkSql =
        $"WITH added AS ({InsertSql} RETURNING message_id) " +
        "INSERT INTO portal_link (code, guarantor_id, message_id, created_at, expires_at) SELECT @link_code, @link_guarantor, message_id, @link_created, @link_expires FROM added " +
        PayLinkConflict;

    private async Task InsertAllAsync(IReadOnlyList<PreparedMessage> additions)
    {
        await using var turn = await database.WriteTurnAsync();
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await AddInTransactionAsync(connection, transaction, additions);
        await transaction.CommitAsync();
    }

    public async Task AddInTransactionAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<PreparedMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return;
        if (IsPostgres && connection.CanCreateBatch)
        {
            // One round trip for the whole group.
            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            foreach (var addition in messages)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = addition.PayLink is null ? InsertSql : InsertWithPayLinkSql;
                BindMessage(command.Parameters, command.CreateParameter, addition.Message);
                if (addition.PayLink is { } payLink) BindPayLink(command.Parameters, command.CreateParameter, payLink);
                PositionalSql.MakePositional(command);
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
            for (var i = 0; i < messages.Count; i++) messages[i].Created = batch.BatchCommands[i].RecordsAffected == 1;
        }
        else
        {
            foreach (var addition in messages)
            {
                await using var command = connection.Command(InsertSql, transaction);
                BindMessage(command.Parameters, command.CreateParameter, addition.Message);
                addition.Created = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
                if (!addition.Created || addition.PayLink is not { } payLink) continue; // the link follows only a message that went in
                await using var link = connection.Command(InsertPayLinkSql, transaction).WithParameter("message_id", addition.Message.MessageId);
                BindPayLink(link.Parameters, link.CreateParameter, payLink);
                await link.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    /// <summary>The message's columns.</summary>
    private void BindMessage(DbParameterCollection parameters, Func<DbParameter> create, OutboxMessage m)
    {
        object?[] values =
        [
            m.MessageId, m.Channel.ToString(), m.Action.ToString(), m.Facility, m.AccountNumber, m.GuarantorId, m.RecipientName, m.Recipient,
            database.Money(m.AmountDue), database.Date(m.DueDate), JsonSerializer.Serialize(m.StatementLines, Sql.Json), m.PolicyReference,
            m.Subject, m.Body, m.TemplateId, m.TemplateVersion, Sql.StatusText(m.Status), m.Attempts, database.Timestamp(m.NextAttemptAt),
            database.Timestamp(m.CreatedAt), database.Timestamp(m.UpdatedAt), database.Timestamp(m.SentAt), m.ProviderMessageId, m.LastError,
        ];
        for (var i = 0; i < Columns.Length; i++)
            Add(parameters, create, Columns[i], values[i], Columns[i] switch { "due_date" => NpgsqlTypes.NpgsqlDbType.Date, "sent_at" => NpgsqlTypes.NpgsqlDbType.TimestampTz, _ => null });
    }

    /// <summary>The payment link's columns (its message's id is the message's).</summary>
    private static void BindPayLink(DbParameterCollection parameters, Func<DbParameter> create, IssuedPayLink link)
    {
        Add(parameters, create, "link_code", link.Code);
        Add(parameters, create, "link_guarantor", link.GuarantorId);
        Add(parameters, create, "link_created", link.IssuedAt.ToUnixTimeSeconds());
        Add(parameters, create, "link_expires", link.ExpiresAt.ToUnixTimeSeconds());
    }

    private static void Add(DbParameterCollection parameters, Func<DbParameter> create, string name, object? value, NpgsqlTypes.NpgsqlDbType? type = null)
    {
        var p = create().Named(name);
        p.Value = value ?? DBNull.Value;
        if (type is { } t && p is Npgsql.NpgsqlParameter typed) typed.NpgsqlDbType = t; // a null PostgreSQL could not type on its own
        parameters.Add(p);
    }

    public async ValueTask DisposeAsync()
    {
        if (_additions is not null) await _additions.DisposeAsync();
        if (_attempts is not null) await _attempts.DisposeAsync();
    }

    public async Task<OutboxMessage?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await GetAsync(connection, messageId, cancellationToken);
    }

    private async Task<OutboxMessage?> GetAsync(DbConnection connection, string messageId, CancellationToken cancellationToken)
    {
        await using var command = connection.Command($"SELECT {Select()} FROM outreach_outbox WHERE message_id = @message_id");
        command.WithParameter("message_id", messageId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<MessageFate>> FatesAsync(string facility, string accountNumber, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT action, channel, status, created_at, sent_at FROM outreach_outbox WHERE facility = @facility AND account_number = @account_number ORDER BY id DESC LIMIT 1000");
        command.WithParameter("facility", facility).WithParameter("account_number", accountNumber);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var fates = new List<MessageFate>();
        while (await reader.ReadAsync(cancellationToken))
            fates.Add(new MessageFate(Enum.Parse<OutreachAction>(reader.GetString(0)), Enum.Parse<ContactChannel>(reader.GetString(1)),
                Sql.ParseStatus(reader.GetString(2)), database.ReadTimestamp(reader, 3), database.ReadTimestampOrNull(reader, 4)));
        return fates;
    }

    public async Task<IReadOnlyList<OutboxMessage>> QueryAsync(string? facility, string? accountNumber, OutboxStatus? status, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var where = new StringBuilder("WHERE 1 = 1");
        await using var command = connection.CreateCommand();
        if (facility is not null) { where.Append(" AND facility = @facility"); command.WithParameter("facility", facility); }
        if (accountNumber is not null) { where.Append(" AND account_number = @account_number"); command.WithParameter("account_number", accountNumber); }
        if (status is { } s) { where.Append(" AND status = @status"); command.WithParameter("status", Sql.StatusText(s)); }
        command.CommandText = $"SELECT {Select()} FROM outreach_outbox {where} ORDER BY id DESC LIMIT @limit";
        command.WithParameter("limit", Math.Clamp(limit, 1, 1000));
        return await ReadAllAsync(command, cancellationToken);
    }

    public Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default) =>
        DueClaim.OldestAsync(database, "outreach_outbox", clock.GetUtcNow(), maxAttempts, cancellationToken);

    public Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default) =>
        ClaimAsync(owner, batchSize, maxAttempts, lease, ClaimStatement(IsPostgres, null), null, cancellationToken);

    public Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, IReadOnlyDictionary<ContactChannel, int> channelRooms,
        CancellationToken cancellationToken = default)
    {
        if (channelRooms.Count == 0) return ClaimAsync(owner, batchSize, maxAttempts, lease, cancellationToken);
        var rooms = TransportRouter.SentChannels
            .Select(c => (Channel: c, Room: channelRooms.TryGetValue(c, out var room) ? Math.Clamp(room, 0, batchSize) : batchSize))
            .Where(c => c.Room > 0)
            .ToList();
        return ClaimAsync(owner, batchSize, maxAttempts, lease, ClaimStatement(IsPostgres, rooms.Select(r => r.Channel).ToList()), command =>
        {
            for (var i = 0; i < rooms.Count; i++) command.WithParameter($"room{i}", rooms[i].Room);
        }, cancellationToken);
    }

    /// <summary>
    /// The due messages a claim held to each channel's room takes: each of <paramref name="channels"/> read apart, at
    /// the start of its own range of the pending messages' channel index (deploy/sql/*/200-outbox-channels.sql), up to
    /// <c>@room{i}</c>, so a backlog of one channel is never walked to find another's; then those whose lease ran out.
    /// The channel names are the enum's, in the statement.
    /// </summary>
    internal static string ChannelIds(bool postgres, IReadOnlyList<ContactChannel> channels) =>
        DueClaim.Ids(postgres, "outreach_outbox",
        [
            .. channels.Select((c, i) => (c.ToString().ToLowerInvariant(), $"{DueClaim.Pending} AND channel = '{c}'", $"@room{i}")),
            ("expired", DueClaim.Expired, "@batch"),
        ]);

    /// <summary>
    /// The claim's statement, made once per database and set of channels read apart (null: none; the plain claim) and
    /// kept: a sender claims many times a second under load.
    /// </summary>
    private static string ClaimStatement(bool postgres, IReadOnlyList<ContactChannel>? channels)
    {
        var set = channels is null ? -1 : channels.Aggregate(0, (bits, c) => bits | 1 << (int)c);
        return ClaimStatements.GetOrAdd((postgres, set),
            static (key, channels) => ClaimSql(key.Postgres, channels is null ? DueClaim.Ids(key.Postgres, "outreach_outbox") : ChannelIds(key.Postgres, channels)), channels);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(bool Postgres, int Channels), string> ClaimStatements = new();

    /// <summary>The claim: the rows <paramref name="dueIds"/> names (<see cref="DueClaim.Ids"/> or <see cref="ChannelIds"/>) leased to <c>@owner</c>.</summary>
    internal static string ClaimSql(bool postgres, string dueIds) => postgres
        ? $"""
           {dueIds}
           UPDATE outreach_outbox o
           SET status = 'sending', lease_owner = @owner, lease_until = @lease_until, attempts = o.attempts + 1, updated_at = @now
           FROM due
           WHERE o.id = due.id
           RETURNING {Select("o.")}
           """
        : $"""
           UPDATE outreach_outbox
           SET status = 'sending', lease_owner = @owner, lease_until = @lease_until, attempts = attempts + 1, updated_at = @now
           WHERE id IN ({dueIds})
           RETURNING {Select()}
           """;

    /// <remarks>
    /// SQLite runs one write at a time, so the UPDATE is atomic. PostgreSQL: rows another sender is claiming right now are
    /// skipped rather than waited for, and the claim is a single statement.
    /// </remarks>
    private async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, string sql,
        Action<System.Data.Common.DbCommand>? parameters, CancellationToken cancellationToken)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(sql);
        command.WithParameter("owner", owner).WithParameter("lease_until", database.Timestamp(now + lease)).WithParameter("now", database.Timestamp(now))
            .WithParameter("max_attempts", maxAttempts).WithParameter("batch", batchSize);
        parameters?.Invoke(command);
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>One attempt to record, with whether its sender still held the lease (set by the commit).</summary>
    private sealed class AttemptRecord(string owner, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? nextAttemptAt, bool givesAttemptBack = false)
    {
        /// <summary>Nothing was tried (the message waits for the person's hours): the claim's attempt is given back.</summary>
        public bool GivesAttemptBack { get; } = givesAttemptBack;
        public string Owner { get; } = owner;
        public DeliveryAttempt Attempt { get; } = attempt;
        public OutboxStatus Status { get; } = status;
        public DateTimeOffset? NextAttemptAt { get; } = nextAttemptAt;
        public bool Held { get; set; }
    }

    /// <summary>
    /// A sender delivers its batch in parallel, and the attempts that end at the same moment are recorded in one
    /// transaction (one flush, one round trip on PostgreSQL), not one each; each sender still waits until its record is
    /// durable. On a due day that is a transaction per group of messages instead of one per message.
    /// </summary>
    private GroupCommit<AttemptRecord> Attempts => LazyInitializer.EnsureInitialized(ref _attempts, ref _startLock,
        () => new GroupCommit<AttemptRecord>(RecordAllAsync, maxItems: 200, Logger, "delivery attempts",
            writers: IsPostgres ? 2 : 1,
            aloneOnFailure: SqlStatements.RetryAlone));

    public async Task<bool> RecordAttemptAsync(string owner, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? nextAttemptAt, bool givesAttemptBack = false,
        CancellationToken cancellationToken = default)
    {
        if (status is not (OutboxStatus.Sent or OutboxStatus.Pending or OutboxStatus.Failed or OutboxStatus.Cancelled))
            throw new ArgumentOutOfRangeException(nameof(status), status, "An attempt ends in Sent, Pending (retry), Failed or Cancelled (not sent after all).");
        cancellationToken.ThrowIfCancellationRequested();
        if (givesAttemptBack && status != OutboxStatus.Pending)
            throw new ArgumentException("Only a message put back to wait (Pending) gives its attempt back.", nameof(givesAttemptBack));
        var record = new AttemptRecord(owner, attempt, status, nextAttemptAt, givesAttemptBack);
        await Attempts.WriteAsync([record]);
        return record.Held;
    }

    private const string SettleSql = "UPDATE outreach_outbox SET status = @status, lease_owner = NULL, lease_until = NULL, updated_at = @now, ";
    private const string LeaseHeld = " WHERE message_id = @message_id AND status = 'sending' AND lease_owner = @owner";
    private const string SentSql = SettleSql + "sent_at = @now, provider_message_id = @provider_message_id, last_error = NULL, next_attempt_at = NULL" + LeaseHeld;
    private const string RetrySql = SettleSql + "last_error = @error, next_attempt_at = @next_attempt_at" + LeaseHeld;
    private const string DeferSql = SettleSql + "last_error = @error, next_attempt_at = @next_attempt_at, attempts = attempts - 1" + LeaseHeld;
    private const string EndedSql = SettleSql + "last_error = @error, next_attempt_at = NULL" + LeaseHeld;

    private const string InsertAttemptSql =
        """
        INSERT INTO outreach_delivery_attempt (message_id, attempt, transport, sender, started_at, finished_at, outcome, provider_message_id, error)
        VALUES (@message_id, @attempt, @transport, @sender, @started_at, @finished_at, @outcome, @provider_message_id, @error)
        """;

    private async Task RecordAllAsync(IReadOnlyList<AttemptRecord> records)
    {
        await using var turn = await database.WriteTurnAsync();
        var now = database.Timestamp(clock.GetUtcNow());
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // The lease checks first (each message moves on only if its sender still holds it), then the attempts' log,
        // which says for each whether its lease was still held. Rows are locked in message-id order, so two groups
        // under way at once (or a group and the sweep of abandoned leases) do not wait for each other in a circle.
        var sorted = records.OrderBy(r => r.Attempt.MessageId, StringComparer.Ordinal).ToList();
        var counts = await database.ExecuteCountingAsync(connection, transaction, sorted.Select(r =>
        {
            (string, object?)[] key = [("status", Sql.StatusText(r.Status)), ("now", now), ("message_id", r.Attempt.MessageId), ("owner", r.Owner)];
            return r.Status switch
            {
                OutboxStatus.Sent => new SqlStatement(SentSql, [.. key, ("provider_message_id", r.Attempt.ProviderMessageId)]),
                OutboxStatus.Pending => new SqlStatement(r.GivesAttemptBack ? DeferSql : RetrySql, [.. key, ("error", r.Attempt.Error), ("next_attempt_at", database.Timestamp(r.NextAttemptAt ?? clock.GetUtcNow()))]),
                _ => new SqlStatement(EndedSql, [.. key, ("error", r.Attempt.Error)]),
            };
        }).ToList());
        for (var i = 0; i < sorted.Count; i++) sorted[i].Held = counts[i] == 1;
        await database.ExecuteAsync(connection, transaction, sorted.Select(r => new SqlStatement(InsertAttemptSql,
        [
            ("message_id", r.Attempt.MessageId), ("attempt", r.Attempt.Attempt), ("transport", r.Attempt.Transport), ("sender", r.Owner),
            ("started_at", database.Timestamp(r.Attempt.StartedAt)), ("finished_at", database.Timestamp(r.Attempt.FinishedAt)),
            ("outcome", r.Held ? r.Attempt.Outcome : r.Attempt.Outcome + ":lease-lost"), ("provider_message_id", r.Attempt.ProviderMessageId),
            ("error", r.Attempt.Error),
        ])));
        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<string>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            """
            UPDATE outreach_outbox
            SET status = 'failed', lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = @now,
                last_error = 'lease expired on the last allowed attempt (the sender stopped or crashed)'
            WHERE status = 'sending' AND lease_until <= @now AND attempts >= @max_attempts
            RETURNING message_id
            """);
        command.WithParameter("now", database.Timestamp(now)).WithParameter("max_attempts", maxAttempts);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    public async Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string messageId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            """
            SELECT message_id, attempt, transport, started_at, finished_at, outcome, provider_message_id, error
            FROM outreach_delivery_attempt WHERE message_id = @message_id ORDER BY id
            """);
        command.WithParameter("message_id", messageId);
        var result = new List<DeliveryAttempt>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(new DeliveryAttempt(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), database.ReadTimestamp(reader, 3),
                database.ReadTimestamp(reader, 4), reader.GetString(5), reader.StringOrNull(6), reader.StringOrNull(7)));
        return result;
    }

    /// <summary>What collection contact sends; receipts, opt-out confirmations and the like are never cancelled.</summary>
    public static readonly IReadOnlyList<OutreachAction> CollectionActions =
        [OutreachAction.PatientStatement, OutreachAction.EmailReminder, OutreachAction.SmsReminder, OutreachAction.Letter, OutreachAction.FinalNotice, OutreachAction.InstallmentReminder];

    public async Task<int> CancelCollectionAsync(string facility, string accountNumber, DateTimeOffset queuedBy, string reason, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var actions = string.Join(", ", CollectionActions.Select(a => $"'{a}'"));
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"""
             UPDATE outreach_outbox SET status = 'cancelled', next_attempt_at = NULL, updated_at = @now, last_error = @reason
             WHERE facility = @facility AND account_number = @account AND status = 'pending' AND created_at <= @queued_by AND action IN ({actions})
             """);
        command.WithParameter("now", database.Timestamp(clock.GetUtcNow())).WithParameter("reason", $"cancelled: {reason}")
            .WithParameter("facility", facility).WithParameter("account", accountNumber).WithParameter("queued_by", database.Timestamp(queuedBy));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> MayHaveGoneBeforeAsync(string messageId, int attempt, CancellationToken cancellationToken = default)
    {
        if (attempt <= 1) return false;
        // A pause spends its attempt (a deferral gives it back, and its number is used again): attempt k was surely not
        // sent when its record says paused and its lease was still held.
        await using var connection = await database.OpenAsync(cancellationToken);
        var paused = await connection.Command(
                "SELECT COUNT(DISTINCT attempt) FROM outreach_delivery_attempt WHERE message_id = @message_id AND attempt < @attempt AND outcome = 'paused'")
            .WithParameter("message_id", messageId).WithParameter("attempt", attempt).ExecuteScalarAsync(cancellationToken);
        return Convert.ToInt64(paused, System.Globalization.CultureInfo.InvariantCulture) < attempt - 1;
    }

    public async Task<string?> MessageIdForProviderAsync(string providerMessageId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.Command("SELECT message_id FROM outreach_outbox WHERE provider_message_id = @provider ORDER BY id DESC LIMIT 1")
            .WithParameter("provider", providerMessageId).ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<bool> RecordReceiptAsync(DeliveryReceipt receipt, CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var (status, from) = receipt.Status switch
        {
            ReceiptStatus.Delivered => ("delivered", "'pending', 'sending', 'sent'"),
            ReceiptStatus.Bounced => ("bounced", "'pending', 'sending', 'sent', 'delivered'"),
            _ => ("failed", "'pending', 'sending', 'sent', 'delivered'"),
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = connection.Command(
            $"""
             UPDATE outreach_outbox
             SET status = @status, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = @now,
                 provider_message_id = COALESCE(provider_message_id, @provider_message_id),
                 last_error = CASE WHEN @status = 'delivered' THEN last_error ELSE @error END
             WHERE message_id = @message_id AND status IN ({from})
             """, transaction);
        update.WithParameter("status", status).WithParameter("now", database.Timestamp(now))
            .WithParameter("provider_message_id", receipt.ProviderMessageId).WithParameter("message_id", receipt.MessageId)
            .WithParameter("error", $"receipt: {status}");
        if (IsPostgres) SetType(update, "provider_message_id", NpgsqlTypes.NpgsqlDbType.Text);
        await update.ExecuteNonQueryAsync(cancellationToken);

        await using var exists = connection.Command("SELECT COUNT(*) FROM outreach_outbox WHERE message_id = @message_id", transaction);
        exists.WithParameter("message_id", receipt.MessageId);
        var matched = Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;

        await using var insert = connection.Command(
            """
            INSERT INTO outreach_inbound_event (kind, message_id, status, provider_message_id, occurred_at, received_at, matched)
            VALUES ('receipt', @message_id, @status, @provider_message_id, @occurred_at, @received_at, @matched)
            """, transaction);
        insert.WithParameter("message_id", receipt.MessageId).WithParameter("status", receipt.Status.ToString().ToLowerInvariant())
            .WithParameter("provider_message_id", receipt.ProviderMessageId).WithParameter("occurred_at", database.Timestamp(receipt.OccurredAt))
            .WithParameter("received_at", database.Timestamp(now)).WithParameter("matched", matched);
        if (IsPostgres) SetType(insert, "provider_message_id", NpgsqlTypes.NpgsqlDbType.Text);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return matched;
    }

    private async Task<IReadOnlyList<OutboxMessage>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var result = new List<OutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(Read(reader));
        return result;
    }

    private OutboxMessage Read(DbDataReader r) => new()
    {
        MessageId = r.GetString(0),
        Channel = Enum.Parse<ContactChannel>(r.GetString(1)),
        Action = Enum.Parse<OutreachAction>(r.GetString(2)),
        Facility = r.GetString(3),
        AccountNumber = r.GetString(4),
        GuarantorId = r.GetString(5),
        RecipientName = r.GetString(6),
        Recipient = r.GetString(7),
        AmountDue = database.ReadMoney(r, 8),
        DueDate = database.ReadDate(r, 9),
        StatementLines = JsonSerializer.Deserialize<List<StatementLine>>(r.GetString(10), Sql.Json) ?? [],
        PolicyReference = r.StringOrNull(11),
        Subject = r.StringOrNull(12),
        Body = r.GetString(13),
        TemplateId = r.GetString(14),
        TemplateVersion = r.GetInt32(15),
        Status = Sql.ParseStatus(r.GetString(16)),
        Attempts = r.GetInt32(17),
        NextAttemptAt = database.ReadTimestampOrNull(r, 18),
        CreatedAt = database.ReadTimestamp(r, 19),
        UpdatedAt = database.ReadTimestamp(r, 20),
        SentAt = database.ReadTimestampOrNull(r, 21),
        ProviderMessageId = r.StringOrNull(22),
        LastError = r.StringOrNull(23),
    };

    private static void SetType(DbCommand command, string name, NpgsqlTypes.NpgsqlDbType type) =>
        ((Npgsql.NpgsqlParameter)command.Parameters[name]).NpgsqlDbType = type;
}
