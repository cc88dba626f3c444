namespace Collections.Domain.Worklist;

/// <summary>
/// A call an agent worked on the account (from the worklist or an inbound caller), kept on the account so the
/// supervisors' per-agent figures (calls, contacts, promises kept, dollars collected after a contact, handle time)
/// follow from its state.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AgentCall")]
public sealed record AgentCall
{
    /// <summary>The agent's key id (never a name).</summary>
    [Id(0)] public required string Agent { get; init; }
    /// <summary>When the outcome was recorded.</summary>
    [Id(1)] public required DateTimeOffset At { get; init; }
    [Id(2)] public required WorklistOutcome Outcome { get; init; }
    /// <summary>Seconds from taking the account off the worklist to recording the outcome; null when unknown (an inbound call).</summary>
    [Id(3)] public int? HandleSeconds { get; init; }
    /// <summary>The guarantor called in.</summary>
    [Id(4)] public bool Inbound { get; init; }

    /// <summary>The most calls an account keeps (the oldest go first): a year of daily calls is far more than any account gets.</summary>
    public const int Kept = 200;

    /// <summary>The longest handle time counted: a lease left open over lunch is not a two-hour call.</summary>
    public const int MaxHandleSeconds = 2 * 60 * 60;

    /// <summary>Seconds from <paramref name="leasedAt"/> to <paramref name="now"/>, or null when unknown or implausible.</summary>
    public static int? HandleSecondsOf(DateTimeOffset? leasedAt, DateTimeOffset now) =>
        leasedAt is { } start && now >= start && (now - start).TotalSeconds <= MaxHandleSeconds ? (int)(now - start).TotalSeconds : null;
}
