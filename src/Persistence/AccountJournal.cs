using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Collections.Persistence;

/// <summary>An event raised by an account command, as the journal stores it (the payload is the grain's serialized event).</summary>
public sealed record JournalEvent(string EventId, string Type, DateTimeOffset OccurredAt, byte[] Payload);

/// <summary>
/// What one account command commits, all together: the account's new state (null when the command changed nothing,
/// e.g. a read or a refusal), the ledger entries it appended, its audit records and the events it raised.
/// </summary>
public sealed record AccountCommit(
    string AccountId,
    long ExpectedVersion,
    byte[]? Snapshot,
    int FirstNewEntrySeq,
    IReadOnlyList<byte[]> NewEntries,
    IReadOnlyList<AuditEvent> Audit,
    IReadOnlyList<JournalEvent> Events);

/// <summary>An account as stored: its state without the ledger, the ledger entries in order, and the version.</summary>
public sealed record StoredAccount(long Version, byte[] Snapshot, IReadOnlyList<byte[]> Entries);

/// <summary>
/// Another activation of the account wrote first (during a membership change Orleans can briefly run two): this
/// command's commit was left out of the transaction, so nothing of it was stored.
/// </summary>
public sealed class AccountVersionConflictException(string message) : Exception(message)
{
    public AccountVersionConflictException() : this("The account was changed by another activation; nothing of this command was stored.") { }
    public AccountVersionConflictException(string message, Exception inner) : this(message + " " + inner.Message) { }
}

/// <summary>The database refused or lost the transaction before it was asked to commit: nothing of it was stored.</summary>
public sealed class CommitNotStoredException(string message, Exception inner) : Exception(message, inner)
{
    public CommitNotStoredException() : this("The transaction was rolled back before commit; nothing was stored.", new InvalidOperationException()) { }
    public CommitNotStoredException(string message) : this(message, new InvalidOperationException(message)) { }
}

/// <summary>Whether a failure is known to have stored nothing (the only case an answer may say so).</summary>
public static class CommitOutcome
{
    public static bool IsKnownNotStored(Exception exception) => exception switch
    {
        AccountVersionConflictException or CommitNotStoredException => true,
        AggregateException { InnerExceptions.Count: 1 } a => IsKnownNotStored(a.InnerExceptions[0]),
        _ => exception.InnerException is { } inner && exception is not DbException && IsKnownNotStored(inner),
    };
}

/// <summary>
/// The accounts' durable store. Every account command becomes one <see cref="AccountCommit"/>; commits from many
/// grains share one transaction and one flush (<see cref="GroupCommit{T}"/>): each account's state row is written
/// only if its version is still the one the grain loaded (a conflict leaves that account's commit out and fails that
/// command alone), then the ledger rows, audit records and events of every commit that passed, then one COMMIT. The
/// ledger is appended, never rewritten, so a long-lived account's commit costs the same as a new one's.
/// </summary>
public sealed class AccountJournal : IAsyncDisposable
{
    private readonly DatabaseOptions _database;
    private readonly GroupCommit<AccountCommit> _writes;

    public AccountJournal(DatabaseOptions database, ILogger<AccountJournal> logger)
    {
        _database = database;
        // PostgreSQL: four groups under way at once (the event log is read in commit order, whatever order they finish in).
        _writes = new GroupCommit<AccountCommit>(CommitAsync, maxItems: 512, logger, "account commits",
            writers: database.Provider == DatabaseProvider.PostgreSql ? 4 : 1);
    }

    /// <summary>Completes once the commit is durable; throws <see cref="AccountVersionConflictException"/> on a conflict.</summary>
    public Task WriteAsync(AccountCommit commit) => _writes.WriteAsync([commit]);

    /// <summary>The stored account, or null if it was never written.</summary>
    public async Task<StoredAccount?> ReadAsync(string accountId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        long version;
        byte[] snapshot;
        await using (var command = connection.Command("SELECT version, snapshot FROM account_stream WHERE account_id = @id").WithParameter("id", accountId))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            version = reader.GetInt64(0);
            snapshot = (byte[])reader.GetValue(1);
        }
        var entries = new List<byte[]>();
        await using (var command = connection.Command("SELECT entry FROM account_ledger WHERE account_id = @id ORDER BY seq").WithParameter("id", accountId))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) entries.Add((byte[])reader.GetValue(0));
        }
        return new StoredAccount(version, snapshot, entries);
    }

    private Task<Exception?[]> CommitAsync(IReadOnlyList<IReadOnlyList<AccountCommit>> requests) =>
        _database.Provider == DatabaseProvider.PostgreSql
            ? CommitPostgresAsync(requests.Select(r => r[0]).ToList())
            : CommitSqliteAsync(requests.Select(r => r[0]).ToList());

    /// <summary>
    /// PostgreSQL: the whole group in one round trip, BEGIN … COMMIT in one batch. Each account's state row is written
    /// only at its loaded version and stamped with the commit's token; the commits' ledger rows, audit records and
    /// events follow as one statement per table (each column an array), each row inserted only where its account's
    /// row carries its commit's token, so a conflicting commit leaves nothing behind while the rest of the group commits.
    /// </summary>
    private async Task<Exception?[]> CommitPostgresAsync(List<AccountCommit> commits)
    {
        var refused = new Exception?[commits.Count];
        var now = DateTimeOffset.UtcNow;
        await using var connection = (NpgsqlConnection)await OpenOrNotStoredAsync();
        await using var batch = connection.CreateBatch();
        void Add(string sql, params (string Name, object? Value)[] parameters)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters) command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
            PositionalSql.MakePositional(command);
            batch.BatchCommands.Add(command);
        }
        Add("BEGIN");
        var guarded = new Dictionary<int, int>(); // commit index → batch command index
        var tokens = new string?[commits.Count];
        for (var i = 0; i < commits.Count; i++)
        {
            var c = commits[i];
            if (c.Snapshot is null) continue;
            tokens[i] = Guid.NewGuid().ToString("N");
            guarded[i] = batch.BatchCommands.Count;
            if (c.ExpectedVersion == 0)
                Add("INSERT INTO account_stream (account_id, version, entry_count, snapshot, updated_at, commit_token) VALUES (@id, 1, @entries, @snapshot, @at, @token) ON CONFLICT (account_id) DO NOTHING",
                    ("id", c.AccountId), ("entries", c.FirstNewEntrySeq + c.NewEntries.Count), ("snapshot", c.Snapshot), ("at", now), ("token", tokens[i]));
            else
                Add("UPDATE account_stream SET version = version + 1, entry_count = @entries, snapshot = @snapshot, updated_at = @at, commit_token = @token WHERE account_id = @id AND version = @version",
                    ("entries", c.FirstNewEntrySeq + c.NewEntries.Count), ("snapshot", c.Snapshot), ("at", now), ("token", tokens[i]), ("id", c.AccountId), ("version", c.ExpectedVersion));
        }
        // The rows of every commit, each column an array: one statement per table for the whole group. A row is
        // written only if its commit's state row carries that commit's token (no token: a commit without state, such
        // as a read's audit record, always goes in). The arrays keep the commits' order, and so the log's.
        var ledger = (Ids: new List<string>(), Seqs: new List<int>(), Entries: new List<byte[]>(), Tokens: new List<string?>());
        var audit = (Rows: new List<AuditEvent>(), Ids: new List<string>(), Tokens: new List<string?>());
        var events = (Ids: new List<string>(), EventIds: new List<string>(), Types: new List<string>(), At: new List<DateTimeOffset>(), Payloads: new List<byte[]>(), Tokens: new List<string?>());
        for (var i = 0; i < commits.Count; i++)
        {
            var c = commits[i];
            for (var e = 0; e < c.NewEntries.Count; e++)
            {
                ledger.Ids.Add(c.AccountId); ledger.Seqs.Add(c.FirstNewEntrySeq + e); ledger.Entries.Add(c.NewEntries[e]); ledger.Tokens.Add(tokens[i]);
            }
            foreach (var a in c.Audit)
            {
                audit.Rows.Add(a); audit.Ids.Add(c.AccountId); audit.Tokens.Add(tokens[i]);
            }
            foreach (var ev in c.Events)
            {
                events.Ids.Add(c.AccountId); events.EventIds.Add(ev.EventId); events.Types.Add(ev.Type); events.At.Add(ev.OccurredAt.ToUniversalTime());
                events.Payloads.Add(ev.Payload); events.Tokens.Add(tokens[i]);
            }
        }
        if (ledger.Ids.Count > 0)
            Add($"""
                 INSERT INTO account_ledger (account_id, seq, entry)
                 SELECT r.id, r.seq, r.entry FROM unnest(@id::text[], @seq::int[], @entry::bytea[], @token::text[]) AS r(id, seq, entry, token)
                 WHERE {Guard}
                 """,
                ("id", ledger.Ids.ToArray()), ("seq", ledger.Seqs.ToArray()), ("entry", ledger.Entries.ToArray()), ("token", ledger.Tokens.ToArray()));
        if (audit.Rows.Count > 0)
        {
            var (sql, parameters) = AuditEventRow.InsertAllGuarded(audit.Rows, [.. audit.Ids], [.. audit.Tokens]);
            Add(sql, parameters);
        }
        // No conflict to ignore: an event goes in only with the commit that moved its account's version (the guard),
        // so event ids need no index. The schema drops the UNIQUE on event_id that releases before a0797b8 named.
        if (events.Ids.Count > 0)
            Add($"""
                 INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload)
                 SELECT r.id, r.event_id, r.type, r.at, r.payload
                 FROM unnest(@id::text[], @event_id::text[], @type::text[], @at::timestamptz[], @payload::bytea[], @token::text[]) WITH ORDINALITY
                     AS r(id, event_id, type, at, payload, token, n)
                 WHERE {Guard}
                 ORDER BY r.n
                 """,
                ("id", events.Ids.ToArray()), ("event_id", events.EventIds.ToArray()), ("type", events.Types.ToArray()), ("at", events.At.ToArray()),
                ("payload", events.Payloads.ToArray()), ("token", events.Tokens.ToArray()));
        Add("COMMIT");
        try
        {
            await batch.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex)
        {
            // The server refused a statement (or the COMMIT itself): the transaction did not commit.
            await RollBackQuietly(connection);
            throw new CommitNotStoredException("The database refused the transaction; nothing was stored.", ex);
        }
        foreach (var (index, command) in guarded)
            if (batch.BatchCommands[command].RecordsAffected != 1)
                refused[index] = new AccountVersionConflictException();
        return refused;
    }

    // A scalar subquery, looked up by the primary key row by row (an EXISTS under OR may be planned as a hash of the whole table).
    private const string Guard = "r.token IS NULL OR r.token = (SELECT s.commit_token FROM account_stream s WHERE s.account_id = r.id)";

    /// <summary>A connection for a commit; when none can be had (the server is down, the pool is exhausted), nothing of the commit was sent.</summary>
    private async Task<DbConnection> OpenOrNotStoredAsync()
    {
        try
        {
            return await _database.OpenAsync();
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new CommitNotStoredException("The database could not be reached; nothing was stored.", ex);
        }
    }

    private static async Task RollBackQuietly(NpgsqlConnection connection)
    {
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is broken: the server rolls back an open transaction when the session ends.
        }
    }

    private async Task<Exception?[]> CommitSqliteAsync(List<AccountCommit> commits)
    {
        var refused = new Exception?[commits.Count];
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await OpenOrNotStoredAsync();
        DbTransaction transaction;
        try
        {
            transaction = await connection.BeginTransactionAsync();
        }
        catch (DbException ex)
        {
            throw new CommitNotStoredException("The database did not start the transaction; nothing was stored.", ex);
        }
        await using (transaction)
        {
            var now = _database.Timestamp(DateTimeOffset.UtcNow);
            try
            {
                // 1. State rows, each guarded by its version; a row count of 0 is a conflict for that account alone.
                var guarded = new List<(int Index, SqlStatement Statement)>();
                for (var i = 0; i < commits.Count; i++)
                {
                    var c = commits[i];
                    if (c.Snapshot is null) continue;
                    guarded.Add((i, c.ExpectedVersion == 0
                        ? new SqlStatement(InsertStreamSql, [("id", c.AccountId), ("version", 1L), ("entries", c.FirstNewEntrySeq + c.NewEntries.Count), ("snapshot", c.Snapshot), ("at", now)])
                        : new SqlStatement(
                            "UPDATE account_stream SET version = @version + 1, entry_count = @entries, snapshot = @snapshot, updated_at = @at WHERE account_id = @id AND version = @version",
                            [("version", c.ExpectedVersion), ("entries", c.FirstNewEntrySeq + c.NewEntries.Count), ("snapshot", c.Snapshot), ("at", now), ("id", c.AccountId)])));
                }
                var counts = await _database.ExecuteCountingAsync(connection, transaction, guarded.Select(g => g.Statement).ToList());
                for (var k = 0; k < guarded.Count; k++)
                    if (counts[k] != 1)
                        refused[guarded[k].Index] = new AccountVersionConflictException();

                // 2. Everything else of the commits that passed.
                var rest = new List<SqlStatement>();
                for (var i = 0; i < commits.Count; i++)
                {
                    if (refused[i] is not null) continue;
                    var c = commits[i];
                    for (var e = 0; e < c.NewEntries.Count; e++)
                        rest.Add(new SqlStatement("INSERT INTO account_ledger (account_id, seq, entry) VALUES (@id, @seq, @entry)",
                            [("id", c.AccountId), ("seq", c.FirstNewEntrySeq + e), ("entry", c.NewEntries[e])]));
                    foreach (var a in c.Audit) rest.Add(AuditEventRow.Insert(_database, a));
                    foreach (var ev in c.Events)
                        rest.Add(new SqlStatement(InsertEventSql,
                            [("account", c.AccountId), ("event_id", ev.EventId), ("type", ev.Type), ("at", _database.Timestamp(ev.OccurredAt)), ("payload", ev.Payload)]));
                }
                await _database.ExecuteAsync(connection, transaction, rest);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException)
            {
                throw new CommitNotStoredException("The transaction failed before commit and was rolled back; nothing was stored.", ex);
            }
            // From here the outcome is unknown if it fails: the database may have committed before the answer was lost.
            await transaction.CommitAsync();
        }
        return refused;
    }

    // SQLite only: PostgreSQL commits through CommitPostgresAsync.
    private const string InsertStreamSql =
        "INSERT OR IGNORE INTO account_stream (account_id, version, entry_count, snapshot, updated_at) VALUES (@id, @version, @entries, @snapshot, @at)";

    // No conflict to ignore: an event is written only by the commit that moved its account's version (the table has no
    // index on event_id).
    private const string InsertEventSql =
        "INSERT INTO account_event_log (account_id, event_id, type, occurred_at, payload) VALUES (@account, @event_id, @type, @at, @payload)";

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
