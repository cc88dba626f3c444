using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>
/// Degraded when a due outbox message has waited for a sender longer than <c>Collections:Outreach:Sender:MaxWaitSeconds</c>
/// (see <see cref="BacklogHealthCheck"/>). A due day's statements make a backlog the senders work off at their pace, so
/// the default allows an hour; a message waiting for the person's hours is not due until they begin.
/// </summary>
public sealed class OutboxHealthCheck(IOutboxStore outbox, IOptions<OutreachOptions> options, TimeProvider clock) : BacklogHealthCheck(clock)
{
    protected override (string One, string Many, string Sender) Names => ("outbox message", "outbox messages", "sender");

    protected override TimeSpan MaxWait => TimeSpan.FromSeconds(options.Value.Sender.MaxWaitSeconds);

    protected override Task<DateTimeOffset?> OldestDueAsync(CancellationToken cancellationToken) =>
        outbox.OldestDueAsync(options.Value.Sender.MaxAttempts, cancellationToken);
}
