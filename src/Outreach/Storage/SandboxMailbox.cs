using System.Data.Common;
using System.Text;
using Collections.Domain;
using Collections.Persistence;

namespace Collections.Outreach;

/// <summary>A message the sandbox transport "delivered". <see cref="Pdf"/> is the printed document of a mail message.</summary>
public sealed record SandboxMessage
{
    public required string MessageId { get; init; }
    public required ContactChannel Channel { get; init; }
    public required OutreachAction Action { get; init; }
    public required string Facility { get; init; }
    public required string AccountNumber { get; init; }
    public required string Recipient { get; init; }
    public string? Subject { get; init; }
    public required string Body { get; init; }
    public required DateTimeOffset DeliveredAt { get; init; }
    public bool HasPdf { get; init; }
    /// <summary>Only filled when one message is read with its PDF.</summary>
    public byte[]? Pdf { get; init; }
}

/// <summary>
/// The sandbox transport's mailbox in the database: one row per message id, however often it is delivered. A mail
/// message's printed document is not stored (it was 740 KB a page once): it is rendered again from the outbox message,
/// which holds everything it shows, when it is asked for. Rows stored before keep their bytes.
/// </summary>
public sealed class SandboxMailbox(DatabaseOptions database, IOutboxStore outbox, StatementPdfRenderer documents,
    Microsoft.Extensions.Logging.ILogger<SandboxMailbox>? logger = null) : IAsyncDisposable
{
    /// <summary>What a row stores for a printed document rendered on demand: an empty value (not null: it has one).</summary>
    public static readonly byte[] RenderedOnDemand = [];

    private sealed class Delivery(SandboxMessage message)
    {
        public SandboxMessage Message { get; } = message;
        public bool Added { get; set; }
    }

    private GroupCommit<Delivery>? _deliveries;
    private object? _startLock; // the group commit starts its writers once

    /// <summary>
    /// Messages the sender delivers at the same moment (it sends a batch in parallel) are stored in one transaction,
    /// in the engine's write turn on SQLite, instead of one each; each delivery still answers once its row is durable.
    /// </summary>
    private GroupCommit<Delivery> Deliveries => LazyInitializer.EnsureInitialized(ref _deliveries, ref _startLock,
        () => new GroupCommit<Delivery>(StoreAllAsync, maxItems: 200,
            (Microsoft.Extensions.Logging.ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, "sandbox messages",
            writers: database.Provider == DatabaseProvider.PostgreSql ? 2 : 1,
            aloneOnFailure: SqlStatements.RetryAlone));

    /// <summary>Stores the message once; false if a message with this id was already there.</summary>
    public async Task<bool> AddAsync(SandboxMessage message, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var delivery = new Delivery(message);
        await Deliveries.WriteAsync([delivery]);
        return delivery.Added;
    }

    public async ValueTask DisposeAsync()
    {
        if (_deliveries is not null) await _deliveries.DisposeAsync();
    }

    private async Task StoreAllAsync(IReadOnlyList<Delivery> deliveries)
    {
        await using var turn = await database.WriteTurnAsync();
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var counts = await database.ExecuteCountingAsync(connection, transaction, deliveries.Select(d => new SqlStatement(
            """
            INSERT INTO outreach_sandbox_message (message_id, channel, action, facility, account_number, recipient, subject, body, pdf, delivered_at)
            VALUES (@message_id, @channel, @action, @facility, @account_number, @recipient, @subject, @body, @pdf, @delivered_at)
            ON CONFLICT (message_id) DO NOTHING
            """,
            [
                ("message_id", d.Message.MessageId), ("channel", d.Message.Channel.ToString()), ("action", d.Message.Action.ToString()),
                ("facility", d.Message.Facility), ("account_number", d.Message.AccountNumber), ("recipient", d.Message.Recipient),
                ("subject", d.Message.Subject), ("body", d.Message.Body), ("pdf", d.Message.Pdf), ("delivered_at", database.Timestamp(d.Message.DeliveredAt)),
            ])).ToList());
        await transaction.CommitAsync();
        for (var i = 0; i < deliveries.Count; i++) deliveries[i].Added = counts[i] == 1;
    }

    public async Task<SandboxMessage?> GetAsync(string messageId, bool withPdf, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT message_id, channel, action, facility, account_number, recipient, subject, body, delivered_at, pdf IS NOT NULL{(withPdf ? ", pdf" : "")} FROM outreach_sandbox_message WHERE message_id = @message_id");
        command.WithParameter("message_id", messageId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var message = Read(reader);
        if (!withPdf || reader.IsDBNull(10)) return message;
        var stored = (byte[])reader.GetValue(10);
        if (stored.Length > 0) return message with { Pdf = stored };
        return await outbox.GetAsync(messageId, cancellationToken) is { } source ? message with { Pdf = await documents.RenderAsync(source, cancellationToken) } : message with { HasPdf = false };
    }

    /// <summary>Newest first, without PDFs.</summary>
    public async Task<IReadOnlyList<SandboxMessage>> QueryAsync(string? recipient, string? facility, string? accountNumber, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder("WHERE 1 = 1");
        if (recipient is not null) { where.Append(" AND recipient = @recipient"); command.WithParameter("recipient", recipient); }
        if (facility is not null) { where.Append(" AND facility = @facility"); command.WithParameter("facility", facility); }
        if (accountNumber is not null) { where.Append(" AND account_number = @account_number"); command.WithParameter("account_number", accountNumber); }
        command.CommandText =
            $"SELECT message_id, channel, action, facility, account_number, recipient, subject, body, delivered_at, pdf IS NOT NULL FROM outreach_sandbox_message {where} ORDER BY delivered_at DESC, message_id LIMIT @limit";
        command.WithParameter("limit", Math.Clamp(limit, 1, 1000));
        var result = new List<SandboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(Read(reader));
        return result;
    }

    /// <summary>How many rows hold this message id (tests use it to prove exactly-once delivery).</summary>
    public async Task<int> CountAsync(string messageId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM outreach_sandbox_message WHERE message_id = @message_id");
        command.WithParameter("message_id", messageId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private SandboxMessage Read(DbDataReader r) => new()
    {
        MessageId = r.GetString(0),
        Channel = Enum.Parse<ContactChannel>(r.GetString(1)),
        Action = Enum.Parse<OutreachAction>(r.GetString(2)),
        Facility = r.GetString(3),
        AccountNumber = r.GetString(4),
        Recipient = r.GetString(5),
        Subject = r.StringOrNull(6),
        Body = r.GetString(7),
        DeliveredAt = database.ReadTimestamp(r, 8),
        HasPdf = Convert.ToBoolean(r.GetValue(9), System.Globalization.CultureInfo.InvariantCulture),
    };
}
