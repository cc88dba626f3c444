namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PortfolioRescoreState")]
public sealed class PortfolioRescoreState
{
    [Id(0)] public bool Running { get; set; }
    [Id(1)] public long Generation { get; set; }
    [Id(2)] public string? Reason { get; set; }
    [Id(3)] public DateTimeOffset? StartedAt { get; set; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(5)] public long AccountsDone { get; set; }
    /// <summary>The last account key asked (the directory is walked in key order): where a restart resumes.</summary>
    [Id(6)] public string? LastAccount { get; set; }
}
