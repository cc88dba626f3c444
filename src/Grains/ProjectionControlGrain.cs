using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>Answers for the projections run by the silos (every silo runs the same set; one holds each lease).</summary>
[StatelessWorker]
public sealed class ProjectionControlGrain(ProjectionRunner runner) : Grain, IProjectionControlGrain
{
    public async Task<IReadOnlyList<ProjectionStatus>> Status() =>
        (await runner.LagAsync()).Select(l => new ProjectionStatus
        {
            Name = l.Name, Checkpoint = l.Checkpoint.ToString(), Head = l.Head.ToString(), CaughtUp = l.Checkpoint >= l.Head,
            LagSeconds = Math.Round(l.Lag.TotalSeconds, 3), UpdatedAt = l.UpdatedAt,
        }).ToList();

    public async Task<bool> Rebuild(string name)
    {
        if (runner.Projections.All(p => p.Name != name)) return false;
        await runner.RebuildAsync(name);
        return true;
    }
}
