using System.Diagnostics;
using System.Diagnostics.Metrics;
using Collections.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>
/// One view kept from the account event log. Applying a batch must be idempotent: after a crash the batch since the
/// last checkpoint is applied again.
/// </summary>
public interface IAccountProjection
{
    /// <summary>Its name, which keys its checkpoint ("kpi", "worklist", ...).</summary>
    string Name { get; }

    /// <summary>The event types it reads (the others pass it by).</summary>
    IReadOnlyCollection<string> EventTypes { get; }

    Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken);

    /// <summary>Empties the view before a rebuild replays the log into it from the start.</summary>
    Task ClearAsync(CancellationToken cancellationToken);
}

/// <summary>How far one projection has got.</summary>
public sealed record ProjectionLag(string Name, LogPosition Checkpoint, LogPosition Head, TimeSpan Lag, DateTimeOffset? UpdatedAt);

public sealed class ProjectionSettings
{
    /// <summary>How long a projection may fall behind the newest committed event before /health says degraded.</summary>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Events taken per batch.</summary>
    public int BatchSize { get; set; } = 500;
    /// <summary>How often an idle projection looks for new events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(50);
    /// <summary>How long a silo's claim on a projection lasts without renewal (one runner per projection in a cluster).</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Runs every projection off the command path: each reads the committed events after its checkpoint in commit order,
/// applies them, then moves its checkpoint. One silo at a time runs a given projection (a lease on its checkpoint
/// row); the others stand by and take over when the lease runs out. A failing batch is retried from its checkpoint.
/// </summary>
public sealed class ProjectionRunner(
    IEnumerable<IAccountProjection> projections,
    AccountEventLog log,
    ProjectionSettings settings,
    TimeProvider clock,
    ILogger<ProjectionRunner> logger) : BackgroundService
{
    public static readonly Meter Meter = new("Collections.Projections");
    private static readonly Histogram<double> LagSeconds = Meter.CreateHistogram<double>("collections.projection.lag", "s",
        "Time from an event's commit to its projection");
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly IReadOnlyList<IAccountProjection> _projections = projections.ToList();

    public IReadOnlyList<IAccountProjection> Projections => _projections;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_projections.Select(p => RunAsync(p, stoppingToken)));

    private async Task RunAsync(IAccountProjection projection, CancellationToken stop)
    {
        var failures = 0;
        var leaseRenewedAt = DateTimeOffset.MinValue;
        LogPosition? at = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var now = DateTimeOffset.UtcNow;
                if (at is null || now - leaseRenewedAt > settings.Lease / 3)
                {
                    at = await log.AcquireAsync(projection.Name, _owner, now, settings.Lease, stop);
                    leaseRenewedAt = now;
                    if (at is null)
                    {
                        await Task.Delay(settings.Lease / 3, stop); // another silo runs it
                        continue;
                    }
                }
                // Every type is read and the checkpoint moves past all of them, so a projection of rare events does
                // not scan the same tail on every poll.
                var batch = await log.ReadAsync(at.Value, settings.BatchSize, null, stop);
                if (batch.Count == 0)
                {
                    await Task.Delay(settings.PollInterval, stop);
                    continue;
                }
                var started = Stopwatch.GetTimestamp();
                var mine = batch.Where(e => projection.EventTypes.Contains(e.Type)).ToList();
                if (mine.Count > 0) await projection.ApplyAsync(mine, stop);
                var next = batch[^1].At;
                if (!await log.SaveAsync(projection.Name, _owner, next, DateTimeOffset.UtcNow, stop))
                {
                    at = null; // lost the lease: another silo applied or will apply from its own checkpoint
                    continue;
                }
                at = next;
                failures = 0;
                var applied = clock.GetUtcNow();
                foreach (var e in mine) LagSeconds.Record(Math.Max(0, (applied - e.OccurredAt).TotalSeconds), new KeyValuePair<string, object?>("projection", projection.Name));
                logger.LogDebug("Projection {Projection} applied {Count} events in {Elapsed:0} ms", projection.Name, mine.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The type only: events carry account numbers and amounts.
                failures++;
                logger.Log(failures > 3 ? LogLevel.Error : LogLevel.Warning,
                    "Projection {Projection} failed a batch ({Error}); retrying from its checkpoint", projection.Name, ex.GetType().Name);
                at = null;
                try { await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * (1 << Math.Min(failures, 6)))), stop); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Each projection's checkpoint against the head of the log, and how old the oldest event it has not applied is.</summary>
    public async Task<IReadOnlyList<ProjectionLag>> LagAsync(CancellationToken cancellationToken = default)
    {
        var checkpoints = (await log.CheckpointsAsync(cancellationToken)).ToDictionary(c => c.Name);
        var (head, _) = await log.HeadAsync(cancellationToken);
        var result = new List<ProjectionLag>();
        foreach (var projection in _projections)
        {
            var checkpoint = checkpoints.TryGetValue(projection.Name, out var c) ? c.At : LogPosition.Start;
            var oldest = checkpoint >= head ? null : await log.OldestAfterAsync(checkpoint, cancellationToken);
            var lag = oldest is { } at ? clock.GetUtcNow() - at : TimeSpan.Zero;
            result.Add(new ProjectionLag(projection.Name, checkpoint, head, lag < TimeSpan.Zero ? TimeSpan.Zero : lag, c?.UpdatedAt));
        }
        return result;
    }

    /// <summary>Completes once every projection has applied every event committed before the call (tests, rebuilds).</summary>
    public async Task CatchUpAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var (head, _) = await log.HeadAsync(cancellationToken);
        while (true)
        {
            var checkpoints = (await log.CheckpointsAsync(cancellationToken)).ToDictionary(c => c.Name, c => c.At);
            var behind = _projections.Where(p => checkpoints.GetValueOrDefault(p.Name, LogPosition.Start) < head).Select(p => p.Name).ToList();
            if (behind.Count == 0) return;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"Projections still behind after {timeout}: {string.Join(", ", behind)}.");
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Rebuilds a projection: empties its view and sets its checkpoint back to the start; the runner replays the log.</summary>
    public async Task RebuildAsync(string name, CancellationToken cancellationToken = default)
    {
        var projection = _projections.FirstOrDefault(p => p.Name == name)
                         ?? throw new ArgumentException($"No projection is named '{name}'.", nameof(name));
        await projection.ClearAsync(cancellationToken);
        await log.ResetAsync(name, cancellationToken);
    }
}
