using Microsoft.Extensions.Options;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Degraded when a due webhook delivery has waited for a dispatcher longer than <c>Collections:Webhooks:MaxWaitSeconds</c>
/// (see <see cref="BacklogHealthCheck"/>).
/// </summary>
public sealed class WebhookHealthCheck(IWebhookStore store, IOptions<WebhookOptions> options, TimeProvider clock) : BacklogHealthCheck(clock)
{
    protected override (string One, string Many, string Sender) Names => ("webhook delivery", "webhook deliveries", "dispatcher");

    protected override TimeSpan MaxWait => TimeSpan.FromSeconds(options.Value.MaxWaitSeconds);

    protected override Task<DateTimeOffset?> OldestDueAsync(CancellationToken cancellationToken) => store.OldestDueAsync(options.Value.MaxAttempts, cancellationToken);
}
