namespace Collections.Grains;

/// <summary>How far one projection of the account event log has got.</summary>
[GenerateSerializer, Immutable, Alias("collections.ProjectionStatus")]
public sealed record ProjectionStatus
{
    [Id(0)] public required string Name { get; init; }
    /// <summary>The last event it applied, and the newest committed event.</summary>
    [Id(1)] public required string Checkpoint { get; init; }
    [Id(2)] public required string Head { get; init; }
    [Id(3)] public required bool CaughtUp { get; init; }
    /// <summary>How long the oldest event it has not applied has been waiting (0 when caught up).</summary>
    [Id(4)] public required double LagSeconds { get; init; }
    [Id(5)] public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>The projections of the account event log, as operators see and steer them (any silo answers).</summary>
[Alias("collections.IProjectionControlGrain")]
public interface IProjectionControlGrain : IGrainWithIntegerKey
{
    [Alias("Status")]
    Task<IReadOnlyList<ProjectionStatus>> Status();

    /// <summary>Empties a projection's view and replays the log into it from the start; false if no projection has that name.</summary>
    [Alias("Rebuild")]
    Task<bool> Rebuild(string name);
}
