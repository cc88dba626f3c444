using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>
/// One read or change of protected data: who (an API key id or system process, never a person's name), what, when,
/// from where, and how it ended. <see cref="Detail"/> carries ids and amounts only, never PHI.
/// </summary>
public sealed record AuditEvent(
    DateTimeOffset OccurredAt,
    string Actor,
    string ActorRole,
    string Action,
    string ResourceType,
    string ResourceId,
    string Outcome,
    string? ClientAddress = null,
    string? CorrelationId = null,
    string? Detail = null);

/// <summary>The audit trail of every read and change of a guarantor or account, kept in the database.</summary>
public interface IAuditTrail
{
    /// <summary>Completes once the event is committed to the database.</summary>
    Task RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default);

    /// <summary>Several events, committed together; completes once they are.</summary>
    Task RecordAllAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken = default);

    /// <summary>The newest events that match every filter given, newest first.</summary>
    Task<IReadOnlyList<AuditEvent>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>
/// What to look for in the audit trail: a resource (who looked at this person), an actor (what this key or user
/// looked at), an action, a period (since inclusive, until exclusive). Null filters match everything.
/// </summary>
public sealed record AuditQuery(string? ResourceType = null, string? ResourceId = null, string? Actor = null, string? Action = null,
    DateTimeOffset? Since = null, DateTimeOffset? Until = null, int Limit = 100)
{
    public const int MaxLimit = 10_000;
}

/// <summary>The row of one audit event, for a transaction that commits it with the change it records.</summary>
public static class AuditEventRow
{
    private const string InsertSql =
        """
        INSERT INTO collections_audit_event
            (occurred_at, actor, actor_role, action, resource_type, resource_id, outcome, client_address, correlation_id, detail)
        VALUES (@occurred_at, @actor, @actor_role, @action, @resource_type, @resource_id, @outcome, @client_address, @correlation_id, @detail)
        """;

    public static SqlStatement Insert(DatabaseOptions database, AuditEvent a) => new(InsertSql,
        [("occurred_at", database.Timestamp(a.OccurredAt)), ("actor", a.Actor), ("actor_role", a.ActorRole), ("action", a.Action),
         ("resource_type", a.ResourceType), ("resource_id", a.ResourceId), ("outcome", a.Outcome), ("client_address", a.ClientAddress),
         ("correlation_id", a.CorrelationId), ("detail", a.Detail)]);

    /// <summary>
    /// The rows of several audit events, in order: on PostgreSQL one statement taking each column as an array (one
    /// execution for the lot instead of one per row); on SQLite, which is in process, one statement per row.
    /// </summary>
    public static IReadOnlyList<SqlStatement> InsertAll(DatabaseOptions database, IReadOnlyList<AuditEvent> events) =>
        events.Count == 0 ? []
        : database.Provider == DatabaseProvider.PostgreSql ? [new SqlStatement(InsertArraysSql, Columns(events))]
        : events.Select(e => Insert(database, e)).ToList();

    /// <summary>
    /// PostgreSQL: the rows of several audit events in one statement, each written only if its guard holds: the
    /// account row named by the guard carries the commit token given (a null token means no guard).
    /// </summary>
    public static SqlStatement InsertAllGuarded(IReadOnlyList<AuditEvent> events, string[] guardIds, string?[] guardTokens) =>
        new(InsertArraysGuardedSql, [.. Columns(events), ("guard_id", guardIds), ("guard_token", guardTokens)]);

    private static (string, object?)[] Columns(IReadOnlyList<AuditEvent> events) =>
    [
        ("occurred_at", events.Select(a => a.OccurredAt.ToUniversalTime()).ToArray()),
        ("actor", events.Select(a => a.Actor).ToArray()), ("actor_role", events.Select(a => a.ActorRole).ToArray()),
        ("action", events.Select(a => a.Action).ToArray()), ("resource_type", events.Select(a => a.ResourceType).ToArray()),
        ("resource_id", events.Select(a => a.ResourceId).ToArray()), ("outcome", events.Select(a => a.Outcome).ToArray()),
        ("client_address", events.Select(a => a.ClientAddress).ToArray()), ("correlation_id", events.Select(a => a.CorrelationId).ToArray()),
        ("detail", events.Select(a => a.Detail).ToArray()),
    ];

    // ORDER BY the arrays' positions: the identity column numbers the rows in the order given, as row by row would.
    private const string ArraysSql =
        """
        INSERT INTO collections_audit_event
            (occurred_at, actor, actor_role, action, resource_type, resource_id, outcome, client_address, correlation_id, detail)
        SELECT a.occurred_at, a.actor, a.actor_role, a.action, a.resource_type, a.resource_id, a.outcome, a.client_address, a.correlation_id, a.detail
        FROM unnest(@occurred_at::timestamptz[], @actor::text[], @actor_role::text[], @action::text[], @resource_type::text[],
                    @resource_id::text[], @outcome::text[], @client_address::text[], @correlation_id::text[], @detail::text[]
        """;

    private const string InsertArraysSql = ArraysSql +
        """
        ) WITH ORDINALITY AS a(occurred_at, actor, actor_role, action, resource_type, resource_id, outcome, client_address, correlation_id, detail, n)
        ORDER BY a.n
        """;

    private const string InsertArraysGuardedSql = ArraysSql +
        """
        , @guard_id::text[], @guard_token::text[]) WITH ORDINALITY
            AS a(occurred_at, actor, actor_role, action, resource_type, resource_id, outcome, client_address, correlation_id, detail, guard_id, guard_token, n)
        WHERE a.guard_token IS NULL OR a.guard_token = (SELECT s.commit_token FROM account_stream s WHERE s.account_id = a.guard_id)
        ORDER BY a.n
        """;
}

/// <summary>
/// Writes audit events to the database with group commit (<see cref="GroupCommit{T}"/>): many concurrent callers cost
/// a few transactions, and every caller still waits until its own event is durable.
/// </summary>
public sealed class DatabaseAuditTrail : IAuditTrail, IAsyncDisposable
{
    private readonly DatabaseOptions _database;
    private readonly GroupCommit<AuditEvent> _writes;

    public DatabaseAuditTrail(DatabaseOptions database, ILogger<DatabaseAuditTrail> logger)
    {
        _database = database;
        _writes = new GroupCommit<AuditEvent>(WriteAsync, maxItems: 512, logger, "audit events");
    }

    public Task RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default) =>
        _writes.WriteAsync([auditEvent]).WaitAsync(cancellationToken);

    public Task RecordAllAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken = default) =>
        auditEvents.Count == 0 ? Task.CompletedTask : _writes.WriteAsync(auditEvents).WaitAsync(cancellationToken);

    private async Task WriteAsync(IReadOnlyList<AuditEvent> events)
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await _database.ExecuteAsync(connection, transaction, AuditEventRow.InsertAll(_database, events));
        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<AuditEvent>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Only the filters given go into the statement, so each database can use its indexes (the resource's, the time's).
        var filters = new List<(string Column, string Op, string Name, object Value)>();
        if (query.ResourceType is { } type) filters.Add(("resource_type", "=", "resource_type", type));
        if (query.ResourceId is { } id) filters.Add(("resource_id", "=", "resource_id", id));
        if (query.Actor is { } actor) filters.Add(("actor", "=", "actor", actor));
        if (query.Action is { } action) filters.Add(("action", "=", "action", action));
        if (query.Since is { } since) filters.Add(("occurred_at", ">=", "since", _database.Timestamp(since)));
        if (query.Until is { } until) filters.Add(("occurred_at", "<", "until", _database.Timestamp(until)));
        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters.Select(f => $"{f.Column} {f.Op} @{f.Name}"));
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"""
            SELECT occurred_at, actor, actor_role, action, resource_type, resource_id, outcome, client_address, correlation_id, detail
            FROM collections_audit_event
            {where}
            ORDER BY id DESC
            LIMIT @limit
            """);
        foreach (var f in filters) command.WithParameter(f.Name, f.Value);
        command.WithParameter("limit", Math.Clamp(query.Limit, 1, AuditQuery.MaxLimit));
        var result = new List<AuditEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new AuditEvent(
                _database.ReadTimestamp(reader, 0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return result;
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
