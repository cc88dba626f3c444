using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>One SQL statement with its parameters, in the order the statement names them.</summary>
public readonly record struct SqlStatement(string Sql, (string Name, object? Value)[] Parameters);

/// <summary>
/// Group commit for a store's writes: items asked for while a transaction is under way go together in the next one, in
/// the order they were asked for, so many concurrent writers cost a few transactions; each caller still waits until
/// its own items are durable. A failed transaction fails every caller in it.
/// </summary>
public sealed class GroupCommit<T> : IAsyncDisposable
{
    private readonly Channel<(IReadOnlyList<T> Items, TaskCompletionSource Done)> _pending;
    private readonly Func<IReadOnlyList<IReadOnlyList<T>>, Task<Exception?[]>> _commit;
    private readonly int _maxItems;
    private readonly ILogger _logger;
    private readonly string _what;
    private readonly Task _writer;
    private readonly Func<Exception, bool>? _aloneOnFailure;

    /// <param name="commit">Writes the items in one transaction.</param>
    /// <param name="maxItems">At most this many items per transaction (a caller's items are never split).</param>
    /// <param name="what">What the items are, for the error log ("worklist changes").</param>
    public GroupCommit(Func<IReadOnlyList<T>, Task> commit, int maxItems, ILogger logger, string what, int writers = 1, Func<Exception, bool>? aloneOnFailure = null)
        : this(async requests =>
        {
            await commit(requests.SelectMany(r => r).ToList());
            return new Exception?[requests.Count];
        }, maxItems, logger, what, writers, aloneOnFailure)
    {
    }

    /// <param name="commit">
    /// Writes every caller's items in one transaction and returns, per caller, null or the reason that caller's items
    /// alone were left out (a version conflict); a thrown exception fails every caller in the transaction.
    /// </param>
    /// <param name="writers">
    /// Transactions under way at once. One keeps every commit in the order it was asked for; more (on PostgreSQL, where
    /// rows are locked, not the database) let a group gather and commit while the one before waits for its round trip
    /// and flush. Only for callers that never have two writes in flight whose order matters (an activation awaits its
    /// own commit before the next).
    /// </param>
    /// <param name="aloneOnFailure">
    /// Which failures of a group's transaction leave nothing of it stored and may be one caller's doing (a row the
    /// database refuses): the group's callers are then committed one by one, so only that caller fails. Null: a failed
    /// transaction fails every caller in it.
    /// </param>
    public GroupCommit(Func<IReadOnlyList<IReadOnlyList<T>>, Task<Exception?[]>> commit, int maxItems, ILogger logger, string what, int writers = 1,
        Func<Exception, bool>? aloneOnFailure = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        _commit = commit;
        _maxItems = maxItems;
        _logger = logger;
        _what = what;
        _aloneOnFailure = aloneOnFailure;
        _pending = Channel.CreateUnbounded<(IReadOnlyList<T>, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = writers == 1 });
        _writer = Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync)));
    }

    /// <summary>Completes once every item is committed (all of them in one transaction).</summary>
    public Task WriteAsync(IReadOnlyList<T> items)
    {
        if (items.Count == 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((items, done)))
            throw new InvalidOperationException($"The store for {_what} is shut down.");
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(IReadOnlyList<T> Items, TaskCompletionSource Done)>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            var count = 0;
            while (count < _maxItems && _pending.Reader.TryRead(out var request))
            {
                batch.Add(request);
                count += request.Items.Count;
            }
            // With several writers, all of them wake for one request and one takes it: the others have nothing to
            // commit (an empty transaction is still a round trip, BEGIN and COMMIT, on a connection of the pool).
            if (batch.Count == 0) continue;
            try
            {
                var refused = await _commit(batch.Select(b => b.Items).ToList());
                for (var i = 0; i < batch.Count; i++)
                {
                    if (refused[i] is { } reason) batch[i].Done.TrySetException(reason);
                    else batch[i].Done.TrySetResult();
                }
            }
            catch (Exception ex) when (batch.Count > 1 && _aloneOnFailure?.Invoke(ex) == true)
            {
                foreach (var request in batch)
                {
                    try
                    {
                        if ((await _commit([request.Items]))[0] is { } reason) request.Done.TrySetException(reason);
                        else request.Done.TrySetResult();
                    }
                    catch (Exception alone)
                    {
                        _logger.LogError("Could not write {Count} {What} on their own ({Error})", request.Items.Count, _what, alone.GetType().Name);
                        request.Done.TrySetException(alone);
                    }
                }
            }
            catch (Exception ex)
            {
                // The exception type only: statements carry account numbers and amounts.
                _logger.LogError("Could not write {Count} {What} ({Error})", count, _what, ex.GetType().Name);
                foreach (var request in batch) request.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }
}

public static class SqlStatements
{
    private const int PostgresBatchSize = 500;

    /// <summary>
    /// Whether the database refused a statement for what it holds (a constraint, a trigger, a value out of range), as
    /// opposed to failing as a whole (gone, busy, out of space): the same statements alone would be refused again,
    /// and others without them would not.
    /// </summary>
    public static bool RefusedStatement(Exception e) => e switch
    {
        Npgsql.PostgresException p => p.SqlState.Length == 5 && p.SqlState[..2] is "22" or "23" or "P0",
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode is 19 or 20 or 25, // CONSTRAINT (triggers too), MISMATCH, RANGE
        _ => false,
    };

    /// <summary>
    /// Whether PostgreSQL aborted the transaction to break a deadlock or a serialization conflict with another one: it
    /// stored nothing, and the same statements run again (alone, in another order of locks) normally go through.
    /// </summary>
    public static bool AbortedForConflict(Exception e) => e is Npgsql.PostgresException { SqlState: "40P01" or "40001" };

    /// <summary>
    /// Whether a group that failed this way is worth retrying one by one: a statement was refused (only its own
    /// request fails again), or PostgreSQL aborted the transaction for a deadlock (it stored nothing).
    /// </summary>
    public static bool RetryAlone(Exception e) => RefusedStatement(e) || AbortedForConflict(e);

    /// <summary>
    /// One column of a group's rows as an array parameter, typed by its values (text[], bigint[], date[], ...), for a
    /// PostgreSQL statement that takes the group as <c>unnest(@a::text[], @b::bigint[], ...)</c>: one statement for the
    /// lot instead of one per row, each of which the server binds, plans and runs on its own.
    /// </summary>
    public static (string Name, object? Value) ArrayOf<TRow, TValue>(string name, IEnumerable<TRow> rows, Func<TRow, TValue> value) =>
        (name, rows.Select(value).ToArray());

    /// <summary>The rows with one row per key: the last given for each, in the order of those last rows (as one by one, the last would win).</summary>
    public static List<TRow> LastPerKey<TRow, TKey>(IReadOnlyList<TRow> rows, Func<TRow, TKey> key) where TKey : notnull
    {
        var last = new Dictionary<TKey, int>();
        for (var i = 0; i < rows.Count; i++) last[key(rows[i])] = i;
        if (last.Count == rows.Count) return [.. rows];
        return [.. last.Values.Order().Select(i => rows[i])];
    }

    /// <summary>Whether the statement failed because a table it names does not exist (as opposed to the database failing).</summary>
    public static bool MissingTable(Exception e) => e switch
    {
        Npgsql.PostgresException p => p.SqlState == "42P01", // undefined_table
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode == 1 && s.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>
    /// Runs the statements in the transaction: on PostgreSQL as batches (one round trip per few hundred statements);
    /// on SQLite, which is in process, with one prepared command per statement text, re-bound for every statement.
    /// </summary>
    public static async Task ExecuteAsync(this DatabaseOptions database, DbConnection connection, DbTransaction transaction, IEnumerable<SqlStatement> statements) =>
        await database.ExecuteCountingAsync(connection, transaction, statements as IReadOnlyList<SqlStatement> ?? statements.ToList());

    /// <summary>As <see cref="ExecuteAsync"/>, returning how many rows each statement changed, in order.</summary>
    public static async Task<int[]> ExecuteCountingAsync(this DatabaseOptions database, DbConnection connection, DbTransaction transaction, IReadOnlyList<SqlStatement> statements)
    {
        var counts = new int[statements.Count];
        var next = 0;
        if (connection.CanCreateBatch && database.Provider == DatabaseProvider.PostgreSql)
        {
            foreach (var chunk in statements.Chunk(PostgresBatchSize))
            {
                await using var batch = connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var (sql, parameters) in chunk)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = sql;
                    foreach (var (name, value) in parameters)
                    {
                        var p = command.CreateParameter();
                        p.ParameterName = name;
                        p.Value = value ?? DBNull.Value;
                        command.Parameters.Add(p);
                    }
                    PositionalSql.MakePositional(command);
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync();
                foreach (var command in batch.BatchCommands) counts[next++] = command.RecordsAffected;
            }
            return counts;
        }
        var commands = new Dictionary<string, DbCommand>(StringComparer.Ordinal);
        try
        {
            foreach (var (sql, parameters) in statements)
            {
                if (!commands.TryGetValue(sql, out var command))
                {
                    command = connection.Command(sql, transaction);
                    foreach (var (name, _) in parameters) command.WithParameter(name, null);
                    await command.PrepareAsync();
                    commands[sql] = command;
                }
                for (var i = 0; i < parameters.Length; i++) command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
                counts[next++] = await command.ExecuteNonQueryAsync();
            }
        }
        finally
        {
            foreach (var command in commands.Values) await command.DisposeAsync();
        }
        return counts;
    }
}
