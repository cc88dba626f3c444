using Collections.Outreach;
using Collections.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Collections.Grains;

/// <summary>
/// Grain storage for every grain but the accounts (which have their journal): the state of many grains written at the
/// same moment goes in one transaction (<see cref="GroupCommit{T}"/>), so a burst of guarantors recording contacts costs
/// a few commits, not one each. Each row carries its version; a write names the version its grain read, and a write
/// that finds another (a second activation wrote meanwhile) is refused with <see cref="InconsistentStateException"/>
/// while the rest of its group commits. State is serialised by Orleans' grain-storage serializer. A grain with no row
/// here yet is read from the ADO.NET provider that stored it before (if that holds any state), and moves here on its
/// first write. A write that carries its audit record (<see cref="StateWithAudit"/>) inserts it in the same transaction,
/// only if the state row went in, and so does an outbox message it carries (a guarantor's contact and the message it
/// makes: one is never stored without the other). When the database refuses one write's statement, the others are
/// committed without it.
/// </summary>
public sealed class GroupCommitGrainStorage : IGrainStorage, IAsyncDisposable
{
    private const string Carried = "carried";
    private readonly DatabaseOptions _database;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IGrainStorage? _before;
    private readonly GroupCommit<StateWrite> _writes;
    private readonly IOutboxStore _outbox;

    /// <summary>
    /// Whether the provider used before holds any grain's state (the accounts' aside: they have their journal), asked once
    /// per process: a database that never held any (set up by this version, or every grain moved) then costs a new
    /// grain one read, not two. Rows there come only from versions before this storage, so a process started after
    /// them finds them all.
    /// </summary>
    private readonly AnsweredOnce<bool> _storedBefore;

    private sealed record StateWrite(string GrainId, string StateName, long? ExpectedVersion, byte[]? Payload, AuditEvent? Audit, PreparedMessage? Message);

    /// <param name="outbox">The outbox on the same database, for messages written with a state.</param>
    public GroupCommitGrainStorage(DatabaseOptions database, IGrainStorageSerializer serializer, IGrainStorage? before, ILogger<GroupCommitGrainStorage> logger,
        IOutboxStore outbox)
    {
        _database = database;
        _outbox = outbox;
        _serializer = serializer;
        _before = before;
        _storedBefore = new AnsweredOnce<bool>(AskStoredBeforeAsync);
        _writes = new GroupCommit<StateWrite>(CommitAsync, maxItems: 500, logger, "grain states", writers: database.Provider == DatabaseProvider.PostgreSql ? 4 : 1,
            aloneOnFailure: SqlStatements.RefusedStatement);
    }

    /// <summary>
    /// Reads a grain's state. When the database does not answer, the read fails with <see cref="StoreUnavailableException"/>:
    /// the grain is not activated and the call that needed it ran nothing (the gateway says so, 503).
    /// </summary>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        StoreUnavailableException.ReadingAsync("record", async () =>
        {
            await ReadStoredStateAsync(stateName, grainId, grainState);
            return true;
        });

    private async Task ReadStoredStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using (var connection = await _database.OpenAsync())
        await using (var command = connection.Command("SELECT etag, payload FROM grain_state WHERE grain_id = @grain AND state_name = @state"))
        {
            command.WithParameter("grain", grainId.ToString()).WithParameter("state", stateName);
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                var payload = reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
                grainState.State = payload is null ? Activator.CreateInstance<T>() : _serializer.Deserialize<T>(new BinaryData(payload));
                grainState.ETag = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
                grainState.RecordExists = payload is not null;
                return;
            }
        }
        if (_before is not null && await _storedBefore.GetAsync())
        {
            await _before.ReadStateAsync(stateName, grainId, grainState);
            // Its first write here inserts the row (the old one is left as it was).
            grainState.ETag = grainState.RecordExists ? Carried : null;
            return;
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private async Task<bool> AskStoredBeforeAsync()
    {
        try
        {
            await using var connection = await _database.OpenAsync();
            await using var command = connection.Command("SELECT 1 FROM OrleansStorage WHERE GrainTypeString <> @account AND PayloadBinary IS NOT NULL LIMIT 1");
            command.WithParameter("account", StorageNames.AccountState);
            return await command.ExecuteScalarAsync() is not null;
        }
        catch (System.Data.Common.DbException e) when (SqlStatements.MissingTable(e))
        {
            return false; // no table of the old provider: nothing was stored there
        }
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(stateName, grainId, grainState, _serializer.Serialize(grainState.State).ToArray(), exists: true);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(stateName, grainId, grainState, null, exists: false);

    private async Task WriteAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, byte[]? payload, bool exists)
    {
        long? expected = grainState.ETag is null or Carried ? null : long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
        var (audit, message) = StateWithAudit.Take();
        await _writes.WriteAsync([new StateWrite(grainId.ToString(), stateName, expected, payload, audit, message)]);
        grainState.ETag = ((expected ?? 0) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = exists;
        if (!exists) grainState.State = Activator.CreateInstance<T>();
    }

    /// <summary>
    /// The group's writes in one transaction; a write that finds another version is refused alone. A statement the
    /// database refuses (an audit row a trigger or constraint refuses) rolls the group back, and GroupCommit then
    /// commits each write on its own, so only that one fails.
    /// </summary>
    private async Task<Exception?[]> CommitAsync(IReadOnlyList<IReadOnlyList<StateWrite>> requests)
    {
        var now = _database.Timestamp(DateTimeOffset.UtcNow);
        var statements = requests.Select(r => r[0]).Select(w => w.ExpectedVersion is { } version
            ? new SqlStatement("UPDATE grain_state SET etag = @version + 1, payload = @payload, updated_at = @at WHERE grain_id = @grain AND state_name = @state AND etag = @version",
                [("version", version), ("payload", w.Payload), ("at", now), ("grain", w.GrainId), ("state", w.StateName)])
            : new SqlStatement(_database.Provider == DatabaseProvider.Sqlite
                    ? "INSERT OR IGNORE INTO grain_state (grain_id, state_name, etag, payload, updated_at) VALUES (@grain, @state, 1, @payload, @at)"
                    : "INSERT INTO grain_state (grain_id, state_name, etag, payload, updated_at) VALUES (@grain, @state, 1, @payload, @at) ON CONFLICT (grain_id, state_name) DO NOTHING",
                [("grain", w.GrainId), ("state", w.StateName), ("payload", w.Payload), ("at", now)])).ToList();
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var counts = await _database.ExecuteCountingAsync(connection, transaction, statements);
        var audit = requests.Select(r => r[0].Audit).Where((a, i) => a is not null && counts[i] == 1).Select(a => a!).ToList();
        if (audit.Count > 0) await _database.ExecuteAsync(connection, transaction, AuditEventRow.InsertAll(_database, audit));
        var messages = requests.Select((r, i) => counts[i] == 1 ? r[0].Message : null).OfType<PreparedMessage>().ToList();
        if (messages.Count > 0) await _outbox.AddInTransactionAsync(connection, transaction, messages);
        await transaction.CommitAsync();
        return counts.Select(c => c == 1 ? null : (Exception)new InconsistentStateException(
            "The grain's state was written by another activation since it was read; it reloads on its next call.")).ToArray();
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
