using System.Data.Common;
using Collections.Domain;
using Collections.Persistence;

namespace Collections.Outreach;

/// <summary>Templates supervisors edit. Saving adds a version; the latest active version is used, else the default in code.</summary>
public interface ITemplateStore
{
    /// <summary>The template in use for (channel, action), or null if that pair is not a message.</summary>
    Task<MessageTemplate?> GetCurrentAsync(ContactChannel channel, OutreachAction action, CancellationToken cancellationToken = default);

    /// <summary>The template in use for every message kind.</summary>
    Task<IReadOnlyList<MessageTemplate>> ListCurrentAsync(CancellationToken cancellationToken = default);

    /// <summary>Validates and saves a new version; returns the errors instead if it may not be saved.</summary>
    Task<(MessageTemplate? Saved, IReadOnlyList<TemplateError> Errors)> SaveAsync(
        ContactChannel channel, OutreachAction action, string? subject, string? body, string savedBy, CancellationToken cancellationToken = default);
}

public sealed class SqlTemplateStore(DatabaseOptions database, TimeProvider clock) : ITemplateStore
{
    /// <summary>
    /// How long a silo renders with the template it last read: every message needs one, and they change rarely. A
    /// save through this store is seen by its next read; one made by another process (the gateway, in the cluster
    /// profile), within this time. Each message records the template version it was rendered with.
    /// </summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ContactChannel, OutreachAction), (MessageTemplate Template, DateTimeOffset Until)> _current = new();
    /// <summary>Saves made through this store: a read that began before a save does not put what it read in the cache.</summary>
    private long _saves;

    private const string Latest =
        """
        SELECT t.channel, t.action, t.version, t.subject, t.body, t.created_at, t.created_by
        FROM outreach_template t
        WHERE t.active AND t.version = (SELECT MAX(v.version) FROM outreach_template v WHERE v.channel = t.channel AND v.action = t.action AND v.active)
        """;

    public async Task<MessageTemplate?> GetCurrentAsync(ContactChannel channel, OutreachAction action, CancellationToken cancellationToken = default)
    {
        var fallback = DefaultTemplates.Find(channel, action);
        if (fallback is null) return null;
        var now = clock.GetUtcNow();
        if (_current.TryGetValue((channel, action), out var cached) && cached.Until > now) return cached.Template;
        var saves = Interlocked.Read(ref _saves);
        MessageTemplate current;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var command = connection.Command(Latest + " AND t.channel = @channel AND t.action = @action");
            command.WithParameter("channel", channel.ToString()).WithParameter("action", action.ToString());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            current = await reader.ReadAsync(cancellationToken) ? Read(reader) : fallback;
        }
        if (Interlocked.Read(ref _saves) == saves) _current[(channel, action)] = (current, now + CacheFor);
        return current;
    }

    public async Task<IReadOnlyList<MessageTemplate>> ListCurrentAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(Latest);
        var saved = new Dictionary<(ContactChannel, OutreachAction), MessageTemplate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var t = Read(reader);
            saved[(t.Channel, t.Action)] = t;
        }
        return DefaultTemplates.All.Select(d => saved.GetValueOrDefault((d.Channel, d.Action)) ?? d).ToList();
    }

    public async Task<(MessageTemplate? Saved, IReadOnlyList<TemplateError> Errors)> SaveAsync(
        ContactChannel channel, OutreachAction action, string? subject, string? body, string savedBy, CancellationToken cancellationToken = default)
    {
        subject = string.IsNullOrWhiteSpace(subject) ? null : subject.Trim();
        body = body?.ReplaceLineEndings("\n").Trim();
        var errors = TemplateEngine.Validate(channel, action, subject, body);
        if (errors.Count > 0) return (null, errors);

        // Two supervisors saving at once: the unique (channel, action, version) lets one win; the other takes the next number.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var now = clock.GetUtcNow();
                await using var connection = await database.OpenAsync(cancellationToken);
                await using var command = connection.Command(
                    """
                    INSERT INTO outreach_template (channel, action, version, subject, body, active, created_at, created_by)
                    SELECT @channel, @action, COALESCE(MAX(version), 0) + 1, @subject, @body, @active, @created_at, @created_by
                    FROM outreach_template WHERE channel = @channel AND action = @action
                    RETURNING version
                    """);
                command.WithParameter("channel", channel.ToString()).WithParameter("action", action.ToString())
                    .WithParameter("subject", subject).WithParameter("body", body).WithParameter("active", true)
                    .WithParameter("created_at", database.Timestamp(now)).WithParameter("created_by", savedBy);
                if (database.Provider == DatabaseProvider.PostgreSql)
                    ((Npgsql.NpgsqlParameter)command.Parameters["subject"]).NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
                var version = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
                Interlocked.Increment(ref _saves); // before the removal: a read under way when it happens does not cache
                _current.TryRemove((channel, action), out _); // the next message reads the new version
                return (new MessageTemplate
                {
                    Channel = channel, Action = action, Subject = subject, Body = body!, Version = version, CreatedAt = now, CreatedBy = savedBy,
                }, []);
            }
            catch (DbException ex) when (attempt < 5 && Sql.IsUniqueViolation(ex))
            {
                // Lost the race for this version number: try the next one.
            }
        }
    }

    private MessageTemplate Read(DbDataReader r) => new()
    {
        Channel = Enum.Parse<ContactChannel>(r.GetString(0)),
        Action = Enum.Parse<OutreachAction>(r.GetString(1)),
        Version = r.GetInt32(2),
        Subject = r.StringOrNull(3),
        Body = r.GetString(4),
        CreatedAt = database.ReadTimestamp(r, 5),
        CreatedBy = r.GetString(6),
    };
}
