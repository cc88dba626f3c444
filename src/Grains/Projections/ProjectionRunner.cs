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
    /// <summary>Events taken per batch while the projections keep up.</summary>
    public int BatchSize { get; set; } = 500;
    /// <summary>
    /// While they are behind (each read fills its batch), the batch doubles up to this, so each read, grain call and
    /// checkpoint save carries more events, as long as a batch takes under a third of the <see cref="Lease"/> (renewed
    /// between batches); a short, failed or slow batch sets it back to <see cref="BatchSize"/>.
    /// </summary>
    public int MaxBatchSize { get; set; } = 4_000;
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

    /// <summary>
    /// One reader for all projections: it reads the log from the slowest checkpoint, hands each projection the events
    /// after its own checkpoint, and saves every checkpoint that moved in one statement batch. A projection that fails
    /// keeps its checkpoint (and is retried) while the others go on. Under load batches grow instead of multiplying,
    /// so the projections cost a few small transactions a second however fast accounts commit.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stop = stoppingToken;
        var held = new Dictionary<string, LogPosition>();
        var leaseRenewedAt = DateTimeOffset.MinValue;
        var failures = new Dictionary<string, int>();
        var size = settings.BatchSize;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var now = DateTimeOffset.UtcNow;
                if (now - leaseRenewedAt > settings.Lease / 3)
                {
                    // Take or renew each projection's lease, and start from its stored checkpoint: the same as this runner's
                    // own after a saved batch, and the start of the log after a rebuild reset it.
                    foreach (var projection in _projections)
                    {
                        var at = await log.AcquireAsync(projection.Name, _owner, now, settings.Lease, stop);
                        if (at is null) held.Remove(projection.Name);
                        else held[projection.Name] = at.Value;
                    }
                    leaseRenewedAt = now;
                }
                if (held.Count == 0)
                {
                    await Task.Delay(settings.Lease / 3, stop); // other silos run them all
                    continue;
                }

                var from = held.Values.Min();
                var round = System.Diagnostics.Stopwatch.StartNew();
                var batch = await log.ReadAsync(from, size, null, stop);
                var full = batch.Count == size;
                if (batch.Count == 0)
                {
                    await Task.Delay(settings.PollInterval, stop);
                    continue;
                }
                var last = batch[^1].At;
                var moved = new List<(string Name, LogPosition At)>();
                await Task.WhenAll(_projections.Where(p => held.ContainsKey(p.Name)).Select(async projection =>
                {
                    var checkpoint = held[projection.Name];
                    var mine = batch.Where(e => e.At > checkpoint && projection.EventTypes.Contains(e.Type)).ToList();
                    try
                    {
                        if (mine.Count > 0) await projection.ApplyAsync(mine, stop);
                        lock (moved) moved.Add((projection.Name, last));
                        lock (failures) failures.Remove(projection.Name);
                        var applied = clock.GetUtcNow();
                        foreach (var e in mine)
                            LagSeconds.Record(Math.Max(0, (applied - e.OccurredAt).TotalSeconds), new KeyValuePair<string, object?>("projection", projection.Name));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                    {
                        // The type only: events carry account numbers and amounts.
                        int count;
                        lock (failures) failures[projection.Name] = count = failures.GetValueOrDefault(projection.Name) + 1;
                        logger.Log(count > 3 ? LogLevel.Error : LogLevel.Warning,
                            "Projection {Projection} failed a batch ({Error}); retrying from its checkpoint", projection.Name, ex.GetType().Name);
                    }
                }));
                var lost = await log.SaveAllAsync(_owner, moved, DateTimeOffset.UtcNow, stop);
                foreach (var (name, at) in moved) held[name] = at;
                foreach (var name in lost) held.Remove(name); // taken by another silo, or reset by a rebuild: acquire again
                if (lost.Count > 0) leaseRenewedAt = DateTimeOffset.MinValue;
                var failed = moved.Count < held.Count + lost.Count;
                // Behind (the batch came back full), every projection applied it, and well within the lease (renewed
                // between batches): twice as many next time, up to MaxBatchSize. Otherwise back to BatchSize.
                size = full && !failed && round.Elapsed < settings.Lease / 3
                    ? Math.Min(size * 2, Math.Max(settings.MaxBatchSize, settings.BatchSize))
                    : settings.BatchSize;
                if (failed)
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * (1 << Math.Min(failures.Values.DefaultIfEmpty(0).Max(), 6)))), stop);
                else if (!full)
                    await Task.Delay(settings.PollInterval, stop); // let the next batch gather
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("The projection runner could not read the event log ({Error}); retrying", ex.GetType().Name);
                held.Clear();
                leaseRenewedAt = DateTimeOffset.MinValue;
                try { await Task.Delay(TimeSpan.FromSeconds(1), stop); }
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

    /// <summary>
    /// Rebuilds a projection: empties its view and sets its checkpoint back to the start (dropping the lease, so the
    /// runner holding it takes it again from the start within a lease period); the runner replays the log.
    /// </summary>
    public async Task RebuildAsync(string name, CancellationToken cancellationToken = default)
    {
        var projection = _projections.FirstOrDefault(p => p.Name == name)
                         ?? throw new ArgumentException($"No projection is named '{name}'.", nameof(name));
        await projection.ClearAsync(cancellationToken);
        await log.ResetAsync(name, cancellationToken);
    }
}
