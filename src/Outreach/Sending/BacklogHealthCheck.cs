using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Collections.Outreach;

/// <summary>
/// Degraded (still ready: commands are served) when a due row of a <see cref="LeasedSender{TClaimed, TFinished}"/>'s
/// table has waited for a sender longer than allowed: the senders are not keeping up, or none runs. A receiver or a
/// vendor that is down is not this: its rows wait for their retry times. Read from the database, so a gateway that
/// sends nothing itself still sees the silos' senders fall behind.
/// </summary>
public abstract class BacklogHealthCheck(TimeProvider clock) : IHealthCheck
{
    /// <summary>What a row is ("webhook delivery"), what many are ("webhook deliveries"), and who takes them ("dispatcher").</summary>
    protected abstract (string One, string Many, string Sender) Names { get; }

    protected abstract TimeSpan MaxWait { get; }

    /// <summary>When the row that has waited longest for a sender fell due; null when none waits.</summary>
    protected abstract Task<DateTimeOffset?> OldestDueAsync(CancellationToken cancellationToken);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (one, many, sender) = Names;
        // A stalled database: after 5 s the probe answers. The deadline calls PostgreSQL's query off; SQLite's runs to its
        // end, so the probe also stops waiting for it.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var oldest = await OldestDueAsync(deadline.Token).WaitAsync(deadline.Token);
            var now = clock.GetUtcNow();
            var waited = oldest is { } due && now > due ? now - due : TimeSpan.Zero;
            var data = new Dictionary<string, object> { ["oldestWaitSeconds"] = Math.Round(waited.TotalSeconds, 1) };
            return waited <= MaxWait
                ? HealthCheckResult.Healthy($"{many} current", data)
                : HealthCheckResult.Degraded($"a due {one} has waited {waited.TotalSeconds:0} s for a {sender} (more than {MaxWait.TotalSeconds:0} s)", data: data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded($"{one} status unavailable", ex);
        }
    }
}
