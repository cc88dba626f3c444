namespace Collections.Grains;

/// <summary>
/// Who is calling, carried with every grain call in Orleans' request context so grains can write the audit trail.
/// Holds ids only, never a person's name.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.Caller")]
public sealed record Caller
{
    /// <summary>API key id, or a system process name such as <c>system:cadence</c>.</summary>
    [Id(0)] public required string Actor { get; init; }
    [Id(1)] public required string Role { get; init; }
    /// <summary>The client's network address, when the call came over HTTP.</summary>
    [Id(2)] public string? ClientAddress { get; init; }
    [Id(3)] public string? CorrelationId { get; init; }

    public static readonly Caller System = new() { Actor = "system", Role = "system" };
}

public static class CallerContext
{
    private const string Key = "collections.caller";

    /// <summary>The caller of the current grain call, or <see cref="Caller.System"/> when none was set.</summary>
    public static Caller Current => RequestContext.Get(Key) as Caller ?? Caller.System;

    /// <summary>Sets the caller for grain calls made from this async flow.</summary>
    public static void Set(Caller caller) => RequestContext.Set(Key, caller);
}
