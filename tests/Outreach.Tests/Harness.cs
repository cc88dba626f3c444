using Collections.Domain;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Collections.Outreach.Tests;

public enum Db { Sqlite, Postgres }

/// <summary>
/// The outreach pieces wired by hand on a fresh database: a new SQLite file, or a new schema of its own on the test
/// PostgreSQL server (so tests running side by side never claim each other's messages), with a clock the test moves.
/// </summary>
public sealed class Harness
{
    public required DatabaseOptions Database { get; init; }
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 23, 15, 0, 0, TimeSpan.Zero));
    public OutreachOptions Options { get; } = new() { Sender = { MaxAttempts = 4, LeaseSeconds = 60, RetryBaseSeconds = 30, RetryMaxSeconds = 600 } };
    public FacilityDirectory Facilities { get; } = new(new Dictionary<string, FacilityDirectory.Settings>
    {
        ["MAIN"] = new()
        {
            Name = "Riverside Hospital", PayUrl = "https://pay.riverside.example", PayPhone = "800-555-0100",
            AssistanceUrl = "https://riverside.example/help", AssistancePhone = "800-555-0101", ReturnAddress = "Riverside Hospital\n1 River Rd\nAustin, TX 78701",
        },
    });

    public SqlOutboxStore Outbox => new(Database, Clock);
    public SqlTemplateStore Templates => new(Database, Clock);
    public SandboxMailbox Sandbox => new(Database, Outbox, Documents);
    public StatementPdfRenderer Documents => new(Facilities);
    public OutboxSignal Signal { get; } = new();

    public EmailOptOutLinks OptOutLinks => new(new Persistence.SignedLinks(Database, Clock), Microsoft.Extensions.Options.Options.Create(Options));

    public OutreachService Service() => new(Outbox, Templates, Facilities, Signal, Clock, NullLogger<OutreachService>.Instance, OptOutLinks);

    public PayLinks PayLinks => new(Database, new Persistence.SignedLinks(Database, Clock), Microsoft.Extensions.Options.Options.Create(Options), Clock, new PortalLinkLifetime(TimeSpan.FromDays(90)));

    /// <summary>A service whose messages carry payment links (the self-service page on).</summary>
    public OutreachService ServiceWithPayLinks() => new(Outbox, Templates, Facilities, Signal, Clock, NullLogger<OutreachService>.Instance, OptOutLinks, PayLinks);

    public SandboxTransport SandboxTransport() => new(Sandbox, Clock);

    /// <summary>A sender that delivers every channel through <paramref name="transport"/> (the sandbox unless given).</summary>
    public OutboxSender Sender(IMessageTransport? transport = null, IOutboxSendCheck? check = null)
    {
        transport ??= SandboxTransport();
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Options.Transports.Email = Options.Transports.Sms = Options.Transports.Mail = transport.Name;
        return new OutboxSender(Outbox, new TransportRouter([transport], options), options, Signal, Clock, NullLogger<OutboxSender>.Instance, check);
    }

    public static async Task<Harness> CreateAsync(Db db) => new() { Database = db == Db.Sqlite ? await TestDatabases.NewSqliteAsync() : await NewPostgresSchemaAsync() };

    private static async Task<DatabaseOptions> NewPostgresSchemaAsync()
    {
        var baseline = TestDatabases.PostgresConnectionString
            ?? throw new InvalidOperationException($"{TestDatabases.PostgresVariable} is not set: run the tests with scripts/test.sh.");
        var schema = "outreach_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(baseline))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }
        var database = DatabaseOptions.Postgres(new NpgsqlConnectionStringBuilder(baseline) { SearchPath = schema }.ToString());
        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance);
        return database;
    }

    public static MessageRequest Request(ContactChannel channel = ContactChannel.Email, OutreachAction action = OutreachAction.EmailReminder, string? id = null) => new()
    {
        MessageId = id ?? $"MAIN/A1001/cadence-v3/{Guid.NewGuid():N}/1",
        Channel = channel,
        Action = action,
        Facility = "MAIN",
        AccountNumber = "A1001",
        GuarantorId = "G100",
        RecipientName = "Maria Lopez",
        Recipient = channel switch
        {
            ContactChannel.Email => "maria@example.org",
            ContactChannel.Sms => "512-555-0100",
            _ => "12 Elm St\nAustin, TX 78701",
        },
        AmountDue = 210.00m,
        DueDate = new DateOnly(2026, 12, 23),
        StatementLines =
        [
            new(new DateOnly(2026, 11, 2), "Office visit 99213", 250.00m),
            new(new DateOnly(2026, 11, 10), "Insurance payment", -30.00m),
            new(new DateOnly(2026, 11, 12), "Contractual adjustment", -10.00m, StatementLineKind.Adjustment),
        ],
        PolicyReference = "cadence-v3",
    };
}

/// <summary>A transport that fails a given number of times, then delegates.</summary>
public sealed class FlakyTransport(IMessageTransport inner, int failures, bool permanent = false) : IMessageTransport
{
    private int _calls;
    public string Name => inner.Name;
    public int Calls => _calls;

    public Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) <= failures)
            return permanent ? Task.FromResult(DeliveryResult.Fail("http 400")) : throw new HttpRequestException("vendor down", null, System.Net.HttpStatusCode.ServiceUnavailable);
        return inner.DeliverAsync(message, cancellationToken);
    }
}

/// <summary>An outbox store that passes every call to another: a test overrides the one it makes fail.</summary>
internal abstract class DelegatingOutboxStore(IOutboxStore inner) : IOutboxStore
{
    public virtual Task<bool> RecordAttemptAsync(string owner, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? nextAttemptAt, bool givesAttemptBack = false,
        CancellationToken cancellationToken = default) => inner.RecordAttemptAsync(owner, attempt, status, nextAttemptAt, givesAttemptBack, cancellationToken);
    public virtual Task<(OutboxMessage Message, bool Created)> AddAsync(OutboxMessage message, IssuedPayLink? payLink, CancellationToken cancellationToken = default) => inner.AddAsync(message, payLink, cancellationToken);
    public virtual Task AddInTransactionAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, IReadOnlyList<PreparedMessage> messages, CancellationToken cancellationToken = default) =>
        inner.AddInTransactionAsync(connection, transaction, messages, cancellationToken);
    public virtual Task<OutboxMessage?> GetAsync(string messageId, CancellationToken cancellationToken = default) => inner.GetAsync(messageId, cancellationToken);
    public virtual Task<IReadOnlyList<OutboxMessage>> QueryAsync(string? facility, string? accountNumber, OutboxStatus? status, int limit, CancellationToken cancellationToken = default) =>
        inner.QueryAsync(facility, accountNumber, status, limit, cancellationToken);
    public virtual Task<IReadOnlyList<MessageFate>> FatesAsync(string facility, string accountNumber, CancellationToken cancellationToken = default) =>
        inner.FatesAsync(facility, accountNumber, cancellationToken);
    public virtual Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, IReadOnlyDictionary<ContactChannel, int> channelRooms,
        CancellationToken cancellationToken = default) => inner.ClaimAsync(owner, batchSize, maxAttempts, lease, channelRooms, cancellationToken);
    public virtual Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, int maxAttempts, TimeSpan lease, CancellationToken cancellationToken = default) =>
        inner.ClaimAsync(owner, batchSize, maxAttempts, lease, cancellationToken);
    public virtual Task<IReadOnlyList<string>> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken = default) => inner.FailAbandonedAsync(maxAttempts, cancellationToken);
    public virtual Task<DateTimeOffset?> OldestDueAsync(int maxAttempts, CancellationToken cancellationToken = default) => inner.OldestDueAsync(maxAttempts, cancellationToken);
    public virtual Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string messageId, CancellationToken cancellationToken = default) => inner.AttemptsAsync(messageId, cancellationToken);
    public virtual Task<bool> RecordReceiptAsync(DeliveryReceipt receipt, CancellationToken cancellationToken = default) => inner.RecordReceiptAsync(receipt, cancellationToken);
    public virtual Task<string?> MessageIdForProviderAsync(string providerMessageId, CancellationToken cancellationToken = default) => inner.MessageIdForProviderAsync(providerMessageId, cancellationToken);
    public virtual Task<bool> MayHaveGoneBeforeAsync(string messageId, int attempt, CancellationToken cancellationToken = default) => inner.MayHaveGoneBeforeAsync(messageId, attempt, cancellationToken);
    public virtual Task<int> CancelCollectionAsync(string facility, string accountNumber, DateTimeOffset queuedBy, string reason, CancellationToken cancellationToken = default) =>
        inner.CancelCollectionAsync(facility, accountNumber, queuedBy, reason, cancellationToken);
}
