using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
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
/// The worklist tables (deploy/sql/*/140-worklist.sql). Writes use group commit, as the audit trail does: writes asked
/// for while a transaction is under way go together in the next one, in the order they were asked for, so a queue
/// taking many upserts at once costs a few transactions; each caller still waits until its own writes are durable.
/// </summary>
public sealed class WorklistStore : IAsyncDisposable
{
    private const int MaxBatch = 4096;
    private const int PostgresBatchSize = 500;
    private readonly DatabaseOptions _database;
    private readonly ILogger<WorklistStore> _logger;
    private readonly Channel<(IReadOnlyList<WorklistWrite> Writes, TaskCompletionSource Done)> _pending =
        Channel.CreateUnbounded<(IReadOnlyList<WorklistWrite>, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public WorklistStore(DatabaseOptions database, ILogger<WorklistStore> logger)
    {
        _database = database;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    public Task WriteAsync(WorklistWrite write) => WriteAsync([write]);

    /// <summary>Completes once every write is committed (all of them in one transaction).</summary>
    public Task WriteAsync(IReadOnlyList<WorklistWrite> writes)
    {
        if (writes.Count == 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((writes, done)))
            throw new InvalidOperationException("The worklist store is shut down.");
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(IReadOnlyList<WorklistWrite> Writes, TaskCompletionSource Done)>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            var count = 0;
            while (count < MaxBatch && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
                count += item.Writes.Count;
            }
            try
            {
                await CommitAsync(batch.SelectMany(b => b.Writes).ToList());
                foreach (var item in batch) item.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Could not write {Count} worklist changes", count);
                foreach (var item in batch) item.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

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

    private (string Sql, (string Name, object? Value)[] Parameters) Statement(WorklistWrite write) => write switch
    {
        WorklistWrite.SaveEntry { Row: var r } => (UpsertEntrySql,
        [
            ("queue_id", r.QueueId), ("facility", r.Facility), ("account_number", r.AccountNumber), ("guarantor_id", r.GuarantorId),
            ("patient_balance_cents", r.PatientBalanceCents), ("probability", r.Probability), ("expected_recovery_cents", r.ExpectedRecoveryCents),
            ("oldest_balance_date", Date(r.OldestBalanceDate)), ("callable_from", Time(r.CallableFrom)), ("retry_after", Time(r.RetryAfter)),
            ("model_version", r.ModelVersion), ("updated_at", _database.Timestamp(r.UpdatedAt)),
        ]),
        WorklistWrite.DeleteEntry d => (DeleteEntrySql, [("queue_id", d.QueueId), ("facility", d.Facility), ("account_number", d.AccountNumber)]),
        WorklistWrite.SaveLease { Row: var l } => (UpsertLeaseSql,
        [
            ("queue_id", l.QueueId), ("facility", l.Facility), ("account_number", l.AccountNumber), ("agent", l.Agent),
            ("leased_at", _database.Timestamp(l.LeasedAt)), ("expires_at", _database.Timestamp(l.ExpiresAt)),
        ]),
        WorklistWrite.DeleteLease d => (DeleteLeaseSql, [("queue_id", d.QueueId), ("facility", d.Facility), ("account_number", d.AccountNumber)]),
        WorklistWrite.AddOutcome { Row: var o } => (AddOutcomeSql,
        [
            ("queue_id", o.QueueId), ("facility", o.Facility), ("account_number", o.AccountNumber), ("agent", o.Agent), ("outcome", o.Outcome),
            ("recorded_at", _database.Timestamp(o.RecordedAt)), ("idempotency_key", o.IdempotencyKey),
        ]),
        _ => throw new ArgumentOutOfRangeException(nameof(write)),
    };

    private object? Time(DateTimeOffset? value) => value is { } v ? _database.Timestamp(v) : null;

    private object? Date(DateOnly? value) => value is not { } d ? null
        : _database.Provider == DatabaseProvider.Sqlite ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : d;

    private async Task CommitAsync(IReadOnlyList<WorklistWrite> writes)
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (connection.CanCreateBatch && _database.Provider == DatabaseProvider.PostgreSql)
        {
            // One round trip per few hundred statements.
            foreach (var chunk in writes.Chunk(PostgresBatchSize))
            {
                await using var batch = connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var write in chunk)
                {
                    var (sql, parameters) = Statement(write);
                    var command = batch.CreateBatchCommand();
                    command.CommandText = sql;
                    foreach (var (name, value) in parameters)
                    {
                        var p = command.CreateParameter();
                        p.ParameterName = name;
                        p.Value = value ?? DBNull.Value;
                        command.Parameters.Add(p);
                    }
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync();
            }
        }
        else
        {
            // SQLite is in process: one prepared command per statement kind, re-bound for every row.
            var commands = new Dictionary<string, DbCommand>(StringComparer.Ordinal);
            try
            {
                foreach (var write in writes)
                {
                    var (sql, parameters) = Statement(write);
                    if (!commands.TryGetValue(sql, out var command))
                    {
                        command = connection.Command(sql, transaction);
                        foreach (var (name, _) in parameters) command.WithParameter(name, null);
                        await command.PrepareAsync();
                        commands[sql] = command;
                    }
                    for (var i = 0; i < parameters.Length; i++) command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
                    await command.ExecuteNonQueryAsync();
                }
            }
            finally
            {
                foreach (var command in commands.Values) await command.DisposeAsync();
            }
        }
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
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetInt64(5), ReadDate(reader, 6),
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

    private DateOnly? ReadDate(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null
        : _database.Provider == DatabaseProvider.Sqlite ? DateOnly.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd", CultureInfo.InvariantCulture)
        : reader.GetFieldValue<DateOnly>(ordinal);

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }
}
