using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Degraded (still ready: commands are served) when a due webhook delivery has waited for a dispatcher longer than
/// <c>Collections:Webhooks:MaxWaitSeconds</c>: the dispatchers are not keeping up, or none runs. A receiver that is down
/// is not this: its deliveries wait for their retry times, and the delivery log shows them. Read from the database, so
/// a gateway that delivers nothing itself still sees the silos' dispatchers fall behind.
/// </summary>
public sealed class WebhookHealthCheck(IWebhookStore store, IOptions<WebhookOptions> options, TimeProvider clock) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var maxWait = TimeSpan.FromSeconds(options.Value.MaxWaitSeconds);
        // A stalled database: after 5 s the probe answers. The deadline calls PostgreSQL's query off; SQLite's runs to its
        // end, so the probe also stops waiting for it.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var oldest = await store.OldestDueAsync(options.Value.MaxAttempts, deadline.Token).WaitAsync(deadline.Token);
            var now = clock.GetUtcNow();
            var waited = oldest is { } due && now > due ? now - due : TimeSpan.Zero;
            var data = new Dictionary<string, object> { ["oldestWaitSeconds"] = Math.Round(waited.TotalSeconds, 1) };
            return waited <= maxWait
                ? HealthCheckResult.Healthy("webhook deliveries current", data)
                : HealthCheckResult.Degraded($"a due webhook delivery has waited {waited.TotalSeconds:0} s for a dispatcher (more than {maxWait.TotalSeconds:0} s)", data: data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded("webhook delivery status unavailable", ex);
        }
    }
}
