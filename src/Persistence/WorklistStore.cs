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
        """ + "\n" + EntryConflictSql;

    private const string EntryConflictSql = """
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
        """ + "\n" + LeaseConflictSql;

    private const string LeaseConflictSql =
        "ON CONFLICT (queue_id, facility, account_number) DO UPDATE SET agent = excluded.agent, leased_at = excluded.leased_at, expires_at = excluded.expires_at";

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
        await _database.ExecuteAsync(connection, transaction,
            _database.Provider == DatabaseProvider.PostgreSql ? PostgresStatements(writes) : writes.Select(Statement));
        await transaction.CommitAsync();
    }

    /// <summary>
    /// PostgreSQL: a group's writes as at most five statements (each column an array), not one per write. Each entry and
    /// lease ends as its last write in the group left it (a save replaces every column, a delete removes the row), as
    /// one by one; outcomes are added in the order given.
    /// </summary>
    private static List<SqlStatement> PostgresStatements(IReadOnlyList<WorklistWrite> writes)
    {
        var statements = new List<SqlStatement>();
        var entries = SqlStatements.LastPerKey(writes.Where(w => w is WorklistWrite.SaveEntry or WorklistWrite.DeleteEntry).ToList(), RowKey);
        var leases = SqlStatements.LastPerKey(writes.Where(w => w is WorklistWrite.SaveLease or WorklistWrite.DeleteLease).ToList(), RowKey);
        void Deletes(IEnumerable<WorklistWrite> of, string sql)
        {
            var keys = of.Where(w => w is WorklistWrite.DeleteEntry or WorklistWrite.DeleteLease).Select(RowKey).ToList();
            if (keys.Count > 0)
                statements.Add(new(sql,
                [
                    SqlStatements.ArrayOf("queue_id", keys, k => k.QueueId), SqlStatements.ArrayOf("facility", keys, k => k.Facility),
                    SqlStatements.ArrayOf("account_number", keys, k => k.AccountNumber),
                ]));
        }
        Deletes(entries, DeleteEntriesArraysSql);
        Deletes(leases, DeleteLeasesArraysSql);
        var saved = entries.OfType<WorklistWrite.SaveEntry>().Select(w => w.Row).ToList();
        if (saved.Count > 0)
            statements.Add(new(UpsertEntriesArraysSql,
            [
                SqlStatements.ArrayOf("queue_id", saved, r => r.QueueId), SqlStatements.ArrayOf("facility", saved, r => r.Facility),
                SqlStatements.ArrayOf("account_number", saved, r => r.AccountNumber), SqlStatements.ArrayOf("guarantor_id", saved, r => r.GuarantorId),
                SqlStatements.ArrayOf("patient_balance_cents", saved, r => r.PatientBalanceCents), SqlStatements.ArrayOf("probability", saved, r => r.Probability),
                SqlStatements.ArrayOf("expected_recovery_cents", saved, r => r.ExpectedRecoveryCents),
                SqlStatements.ArrayOf("oldest_balance_date", saved, r => r.OldestBalanceDate),
                SqlStatements.ArrayOf("callable_from", saved, r => r.CallableFrom?.ToUniversalTime()), SqlStatements.ArrayOf("retry_after", saved, r => r.RetryAfter?.ToUniversalTime()),
                SqlStatements.ArrayOf("model_version", saved, r => r.ModelVersion), SqlStatements.ArrayOf("updated_at", saved, r => r.UpdatedAt.ToUniversalTime()),
            ]));
        var leased = leases.OfType<WorklistWrite.SaveLease>().Select(w => w.Row).ToList();
        if (leased.Count > 0)
            statements.Add(new(UpsertLeasesArraysSql,
            [
                SqlStatements.ArrayOf("queue_id", leased, l => l.QueueId), SqlStatements.ArrayOf("facility", leased, l => l.Facility),
                SqlStatements.ArrayOf("account_number", leased, l => l.AccountNumber), SqlStatements.ArrayOf("agent", leased, l => l.Agent),
                SqlStatements.ArrayOf("leased_at", leased, l => l.LeasedAt.ToUniversalTime()), SqlStatements.ArrayOf("expires_at", leased, l => l.ExpiresAt.ToUniversalTime()),
            ]));
        var outcomes = writes.OfType<WorklistWrite.AddOutcome>().Select(w => w.Row).ToList();
        if (outcomes.Count > 0)
            statements.Add(new(AddOutcomesArraysSql,
            [
                SqlStatements.ArrayOf("queue_id", outcomes, o => o.QueueId), SqlStatements.ArrayOf("facility", outcomes, o => o.Facility),
                SqlStatements.ArrayOf("account_number", outcomes, o => o.AccountNumber), SqlStatements.ArrayOf("agent", outcomes, o => o.Agent),
                SqlStatements.ArrayOf("outcome", outcomes, o => o.Outcome), SqlStatements.ArrayOf("recorded_at", outcomes, o => o.RecordedAt.ToUniversalTime()),
                SqlStatements.ArrayOf("idempotency_key", outcomes, o => o.IdempotencyKey),
            ]));
        return statements;
    }

    /// <summary>The row an entry's or a lease's write is about.</summary>
    private static (string QueueId, string Facility, string AccountNumber) RowKey(WorklistWrite write) => write switch
    {
        WorklistWrite.SaveEntry { Row: var r } => (r.QueueId, r.Facility, r.AccountNumber),
        WorklistWrite.DeleteEntry d => (d.QueueId, d.Facility, d.AccountNumber),
        WorklistWrite.SaveLease { Row: var l } => (l.QueueId, l.Facility, l.AccountNumber),
        WorklistWrite.DeleteLease d => (d.QueueId, d.Facility, d.AccountNumber),
        _ => throw new ArgumentOutOfRangeException(nameof(write)),
    };

    private const string KeysArraysSql =
        " t USING unnest(@queue_id::text[], @facility::text[], @account_number::text[]) AS k(queue_id, facility, account_number)"
        + " WHERE t.queue_id = k.queue_id AND t.facility = k.facility AND t.account_number = k.account_number";

    private const string DeleteEntriesArraysSql = "DELETE FROM worklist_entry" + KeysArraysSql;
    private const string DeleteLeasesArraysSql = "DELETE FROM worklist_lease" + KeysArraysSql;

    private const string UpsertEntriesArraysSql = """
        INSERT INTO worklist_entry (queue_id, facility, account_number, guarantor_id, patient_balance_cents, probability, expected_recovery_cents,
                                    oldest_balance_date, callable_from, retry_after, model_version, updated_at)
        SELECT * FROM unnest(@queue_id::text[], @facility::text[], @account_number::text[], @guarantor_id::text[], @patient_balance_cents::bigint[],
                             @probability::double precision[], @expected_recovery_cents::bigint[], @oldest_balance_date::date[],
                             @callable_from::timestamptz[], @retry_after::timestamptz[], @model_version::text[], @updated_at::timestamptz[])
        """ + "\n" + EntryConflictSql;

    private const string UpsertLeasesArraysSql = """
        INSERT INTO worklist_lease (queue_id, facility, account_number, agent, leased_at, expires_at)
        SELECT * FROM unnest(@queue_id::text[], @facility::text[], @account_number::text[], @agent::text[], @leased_at::timestamptz[], @expires_at::timestamptz[])
        """ + "\n" + LeaseConflictSql;

    // ORDER BY the arrays' positions: the identity column numbers the outcomes in the order given, as one by one would.
    private const string AddOutcomesArraysSql = """
        INSERT INTO worklist_outcome (queue_id, facility, account_number, agent, outcome, recorded_at, idempotency_key)
        SELECT o.queue_id, o.facility, o.account_number, o.agent, o.outcome, o.recorded_at, o.idempotency_key
        FROM unnest(@queue_id::text[], @facility::text[], @account_number::text[], @agent::text[], @outcome::text[], @recorded_at::timestamptz[],
                    @idempotency_key::text[]) WITH ORDINALITY AS o(queue_id, facility, account_number, agent, outcome, recorded_at, idempotency_key, n)
        ORDER BY o.n
        """;

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
