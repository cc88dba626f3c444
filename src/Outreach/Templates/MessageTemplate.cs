using Collections.Domain;

namespace Collections.Outreach;

/// <summary>The text of one kind of message: a subject (emails, letter titles) and a body with <c>{{placeholders}}</c>.</summary>
public sealed record MessageTemplate
{
    public required ContactChannel Channel { get; init; }
    public required OutreachAction Action { get; init; }
    public string? Subject { get; init; }
    public required string Body { get; init; }
    /// <summary>0: the default shipped in code. 1 and up: versions a supervisor saved.</summary>
    public required int Version { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>The API key id that saved it ("system" for the defaults).</summary>
    public string CreatedBy { get; init; } = "system";

    public string Id => IdOf(Channel, Action);

    public static string IdOf(ContactChannel channel, OutreachAction action) =>
        $"{JsonNaming(channel.ToString())}/{JsonNaming(action.ToString())}";

    private static string JsonNaming(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

/// <summary>A reason a template cannot be saved; <see cref="Field"/> is "subject" or "body".</summary>
public sealed record TemplateError(string Field, string Code, string Message);
