using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>One worklist entry as stored (amounts in cents).</summary>
public sealed record WorklistEntryRow(
    string QueueId, string Facility, string AccountNumber, string GuarantorId, long PatientBalanceCents, double? Probability,
    long ExpectedRecoveryCents, DateOnly? OldestBalanceDate, DateTimeOffset? CallableFrom, DateTimeOffset? RetryAfter,
    string? ModelVersion, DateTimeOffset UpdatedAt);

public sealed record WorklistLeaseRow(string QueueId, string Facility, string AccountNumber, string Agent, DateTimeOffset LeasedAt, DateTimeOffset ExpiresAt);

public sealed record WorklistOutcomeRow(string QueueId, string Facility, string AccountNumber, string Agent, string Outcome, DateTimeOffset RecordedAt, string? IdempotencyKey);

/// <summary>One change to a queue's stored rows.</summary>
public abstract record WorklistWrite
{
    private WorklistWrite() { }

    public sealed record SaveEntry(WorklistEntryRow Row) : WorklistWrite;
    public sealed record DeleteEntry(string QueueId, string Facility, string AccountNumber) : WorklistWrite;
    public sealed record SaveLease(WorklistLeaseRow Row) : WorklistWrite;
    public sealed record DeleteLease(string QueueId, string Facility, string AccountNumber) : WorklistWrite;
    public sealed record AddOutcome(WorklistOutcomeRow Row) : WorklistWrite;
}

/// <summary>
/// The worklist tables (deploy/sql/*/140-worklist.sql). Writes use group commit (<see cref="GroupCommit{T}"/>), so a
/// queue taking many upserts at once costs a few transactions; each caller still waits until its own writes are durable.
/// </summary>
public sealed class WorklistStore : IAsyncDisposable
{
    private readonly DatabaseOptions _database;
    private readonly GroupCommit<WorklistWrite> _writes;

    public WorklistStore(DatabaseOptions database, ILogger<WorklistStore> logger)
    {
        _database = database;
        _writes = new GroupCommit<WorklistWrite>(CommitAsync, maxItems: 4096, logger, "worklist changes");
    }

    public Task WriteAsync(WorklistWrite write) => WriteAsync([write]);

    /// <summary>Completes once every write is committed (all of them in one transaction).</summary>
    public Task WriteAsync(IReadOnlyList<WorklistWrite> writes) => _writes.WriteAsync(writes);

    private const string UpsertEntrySql = """
        INSERT INTO worklist_entry (queue_id, facility, account_number, guarantor_id, patient_balance_cents, probability, expected_recovery_cents,
                                    oldest_balance_date, callable_from, retry_after, model_version, updated_at)
        VALUES (@queue_id, @facility, @account_number, @guarantor_id, @patient_balance_cents, @probability, @expected_recovery_cents,
                @oldest_balance_date, @callable_from, @retry_after, @model_version, @updated_at)
        ON CONFLICT (queue_id, facility, account_number) DO UPDATE SET
            guarantor_id = excluded.guarantor_id, patient_balance_cents = excluded.patient_balance_cents, probability = excluded.probability,
            expected_recovery_cents = excluded.expected_recovery_cents, oldest_balance_date = excluded.oldest_balance_date,
            callable_from = excluded.callable_from, retry_after = excluded.retry_after, model_version = excluded.model_version,
            updated_at = excluded.updated_at
        """;

    private const string DeleteEntrySql = "DELETE FROM worklist_entry WHERE queue_id = @queue_id AND facility = @facility AND account_number = @account_number";

    private const string UpsertLeaseSql = """
        INSERT INTO worklist_lease (queue_id, facility, account_number, agent, leased_at, expires_at)
        VALUES (@queue_id, @facility, @account_number, @agent, @leased_at, @expires_at)
        ON CONFLICT (queue_id, facility, account_number) DO UPDATE SET agent = excluded.agent, leased_at = excluded.leased_at, expires_at = excluded.expires_at
        """;

    private const string DeleteLeaseSql = "DELETE FROM worklist_lease WHERE queue_id = @queue_id AND facility = @facility AND account_number = @account_number";

    private const string AddOutcomeSql = """
        INSERT INTO worklist_outcome (queue_id, facility, account_number, agent, outcome, recorded_at, idempotency_key)
        VALUES (@queue_id, @facility, @account_number, @agent, @outcome, @recorded_at, @idempotency_key)
        """;

    private SqlStatement Statement(WorklistWrite write) => write switch
    {
        WorklistWrite.SaveEntry { Row: var r } => new(UpsertEntrySql,
        [
            ("queue_id", r.QueueId), ("facility", r.Facility), ("account_number", r.AccountNumber), ("guarantor_id", r.GuarantorId),
            ("patient_balance_cents", r.PatientBalanceCents), ("probability", r.Probability), ("expected_recovery_cents", r.ExpectedRecoveryCents),
            ("oldest_balance_date", _database.Date(r.OldestBalanceDate)), ("callable_from", Time(r.CallableFrom)), ("retry_after", Time(r.RetryAfter)),
            ("model_version", r.ModelVersion), ("updated_at", _database.Timestamp(r.UpdatedAt)),
        ]),
        WorklistWrite.DeleteEntry d => new(DeleteEntrySql, [("queue_id", d.QueueId), ("facility", d.Facility), ("account_number", d.AccountNumber)]),
        WorklistWrite.SaveLease { Row: var l } => new(UpsertLeaseSql,
        [
            ("queue_id", l.QueueId), ("facility", l.Facility), ("account_number", l.AccountNumber), ("agent", l.Agent),
            ("leased_at", _database.Timestamp(l.LeasedAt)), ("expires_at", _database.Timestamp(l.ExpiresAt)),
        ]),
        WorklistWrite.DeleteLease d => new(DeleteLeaseSql, [("queue_id", d.QueueId), ("facility", d.Facility), ("account_number", d.AccountNumber)]),
        WorklistWrite.AddOutcome { Row: var o } => new(AddOutcomeSql,
        [
            ("queue_id", o.QueueId), ("facility", o.Facility), ("account_number", o.AccountNumber), ("agent", o.Agent), ("outcome", o.Outcome),
            ("recorded_at", _database.Timestamp(o.RecordedAt)), ("idempotency_key", o.IdempotencyKey),
        ]),
        _ => throw new ArgumentOutOfRangeException(nameof(write)),
    };

    private object? Time(DateTimeOffset? value) => value is { } v ? _database.Timestamp(v) : null;

    private async Task CommitAsync(IReadOnlyList<WorklistWrite> writes)
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await _database.ExecuteAsync(connection, transaction, writes.Select(Statement));
        await transaction.CommitAsync();
    }

    /// <summary>Every entry of a queue, streamed.</summary>
    public async IAsyncEnumerable<WorklistEntryRow> EntriesAsync(string queueId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.Command("""
            SELECT facility, account_number, guarantor_id, patient_balance_cents, probability, expected_recovery_cents,
                   oldest_balance_date, callable_from, retry_after, model_version, updated_at
            FROM worklist_entry WHERE queue_id = @queue_id
            """).WithParameter("queue_id", queueId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new WorklistEntryRow(queueId, reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetInt64(5), _database.ReadDate(reader, 6),
                ReadTime(reader, 7), ReadTime(reader, 8), reader.IsDBNull(9) ? null : reader.GetString(9), _database.ReadTimestamp(reader, 10));
        }
    }

    public async Task<IReadOnlyList<WorklistLeaseRow>> LeasesAsync(string queueId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT facility, account_number, agent, leased_at, expires_at FROM worklist_lease WHERE queue_id = @queue_id")
            .WithParameter("queue_id", queueId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var leases = new List<WorklistLeaseRow>();
        while (await reader.ReadAsync(cancellationToken))
            leases.Add(new WorklistLeaseRow(queueId, reader.GetString(0), reader.GetString(1), reader.GetString(2), _database.ReadTimestamp(reader, 3), _database.ReadTimestamp(reader, 4)));
        return leases;
    }

    /// <summary>Outcomes recorded in the queue since a time, oldest first.</summary>
    public async Task<IReadOnlyList<WorklistOutcomeRow>> OutcomesAsync(string queueId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.Command("""
            SELECT facility, account_number, agent, outcome, recorded_at, idempotency_key FROM worklist_outcome
            WHERE queue_id = @queue_id AND recorded_at >= @since ORDER BY id
            """).WithParameter("queue_id", queueId).WithParameter("since", _database.Timestamp(since));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var outcomes = new List<WorklistOutcomeRow>();
        while (await reader.ReadAsync(cancellationToken))
            outcomes.Add(new WorklistOutcomeRow(queueId, reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                _database.ReadTimestamp(reader, 4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        return outcomes;
    }

    private DateTimeOffset? ReadTime(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : _database.ReadTimestamp(reader, ordinal);

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
