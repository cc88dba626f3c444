using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>
/// Delivers the outbox. Each round it claims due messages with a lease (so no two senders, in this process or another
/// silo, hold the same message), delivers them through the channel's transport, and records the outcome: sent; a
/// retry after an exponential back-off; or failed after <c>MaxAttempts</c> or a permanent refusal. A message whose
/// sender died mid-delivery is claimed again once its lease runs out; transports are idempotent on the message id, so
/// it is not delivered twice where the medium allows. Logs carry message ids and outcomes only.
/// </summary>
/// <summary>Asked before a collection message goes out: a reason not to send it now (the account stopped being collected), or null.</summary>
public interface IOutboxSendCheck
{
    Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Asked before any message goes (receipts too): whether the person's channel is still open and it is within their
    /// hours now. Deny cancels the message; Defer puts it back until the time given.
    /// </summary>
    Task<Domain.Compliance.GateDecision> PersonCheckAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        Task.FromResult(Domain.Compliance.GateDecision.Allowed);
}

public sealed class OutboxSender(
    IOutboxStore outbox, TransportRouter transports, IOptions<OutreachOptions> options, OutboxSignal signal, TimeProvider clock, ILogger<OutboxSender> logger,
    IOutboxSendCheck? sendCheck = null)
    : BackgroundService
{
    /// <summary>Meter <c>Collections.Outreach</c>: every recorded delivery attempt by channel and outcome (sent, retry, failed, cancelled).</summary>
    public static readonly System.Diagnostics.Metrics.Meter Meter = new("Collections.Outreach");
    private static readonly System.Diagnostics.Metrics.Counter<long> Sends = Meter.CreateCounter<long>("collections.outbox.sends", "{attempt}",
        "Outbox delivery attempts recorded, by channel and outcome");

    /// <summary>Who holds the leases this sender takes: host, process and a random suffix.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.Sender.PollSeconds);
        logger.LogInformation("Outbox sender {Owner} started (polling every {PollSeconds} s)", Owner, poll.TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database may be briefly unreachable: try again at the next poll.
                logger.LogError(ex, "Outbox sender round failed; retrying in {PollSeconds} s", poll.TotalSeconds);
            }
            try
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Delivers every message due now, batch after batch. Returns how many deliveries were tried.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value.Sender;
        // Message ids name the account (facility/number/...): logs say how many and what kind, never which.
        if ((await outbox.FailAbandonedAsync(settings.MaxAttempts, cancellationToken)).Count is > 0 and var abandoned)
            logger.LogWarning("{Count} outreach message(s) failed: their lease ran out on the last allowed attempt (GET /api/outbox?status=failed lists them)", abandoned);

        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = await outbox.ClaimAsync(Owner, settings.BatchSize, settings.MaxAttempts, TimeSpan.FromSeconds(settings.LeaseSeconds), cancellationToken);
            if (batch.Count == 0) break;
            // In parallel, so every message of the batch is done well within its lease (transport timeouts are at most half of it).
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = settings.BatchSize, CancellationToken = cancellationToken },
                async (message, ct) => await DeliverAsync(message, ct));
            total += batch.Count;
        }
        return total;
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value.Sender;
        var started = clock.GetUtcNow();
        IMessageTransport? transport = null;
        DeliveryResult result;
        // A collection message is checked again just before it goes: the account may have been paid, gone into credit
        // or on hold since it was queued (the outbox-reactions projection cancels such messages too, a moment later).
        // Then the person: an opt-out or a hold since it was queued cancels it; outside their hours (a retry after a
        // vendor's error, a backlog) it waits for the window.
        string? stop;
        Domain.Compliance.GateDecision person;
        try
        {
            stop = sendCheck is not null && SqlOutboxStore.CollectionActions.Contains(message.Action)
                ? await sendCheck.ReasonNotToSendAsync(message, cancellationToken)
                : null;
            person = stop is null && sendCheck is not null ? await sendCheck.PersonCheckAsync(message, cancellationToken) : Domain.Compliance.GateDecision.Allowed;
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Not asked (the database is down, a silo is being upgraded): not sent unchecked; asked again after the
            // back-off, the attempt given back (nothing was tried).
            var notAsked = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, clock.GetUtcNow(), "deferred", null, $"deferred: the last look could not be made ({ex.GetType().Name})");
            await RecordAsync(message, notAsked, OutboxStatus.Pending, clock.GetUtcNow() + Backoff(message.Attempts), givesAttemptBack: true);
            logger.LogWarning("An outreach message ({Channel} {Action}) was not sent: its last look could not be made ({Error}); it is asked again later",
                message.Channel, message.Action, ex.GetType().Name);
            return;
        }
        if (person.Verdict == Domain.Compliance.GateVerdict.Deny) stop = person.Rule; // the rule's code: its reason may quote what staff typed
        else if (person is { Verdict: Domain.Compliance.GateVerdict.Defer, NotBefore: { } notBefore })
        {
            var deferred = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, clock.GetUtcNow(), "deferred", null, $"deferred: {person.Rule}");
            if (await RecordAsync(message, deferred, OutboxStatus.Pending, notBefore, givesAttemptBack: true) == true)
            {
                Sends.Add(1, new("collections.channel", message.Channel.ToString()), new("collections.outbox.outcome", "deferred"));
                logger.LogInformation("An outreach message ({Channel} {Action}) waits for the person's hours until {NotBefore:o}", message.Channel, message.Action, notBefore);
            }
            return;
        }
        if (stop is not null)
        {
            var cancelled = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, clock.GetUtcNow(), "cancelled", null, $"cancelled: {stop}");
            if (await RecordAsync(message, cancelled, OutboxStatus.Cancelled, null) == true)
            {
                Sends.Add(1, new("collections.channel", message.Channel.ToString()), new("collections.outbox.outcome", "cancelled"));
                logger.LogInformation("An outreach message ({Channel} {Action}) was not sent: {Reason}", message.Channel, message.Action, stop);
            }
            return;
        }
        try
        {
            transport = transports.For(message.Channel);
            result = await transport.DeliverAsync(message, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and another round (here or on another silo) delivers it.
            throw;
        }
        catch (Exception ex)
        {
            result = DeliveryResult.Retry(DeliveryErrors.Describe(ex));
        }

        var finished = clock.GetUtcNow();
        var (status, outcome, next) = result switch
        {
            { Delivered: true } => (OutboxStatus.Sent, "sent", (DateTimeOffset?)null),
            { Permanent: true } => (OutboxStatus.Failed, "failed", null),
            _ when message.Attempts >= settings.MaxAttempts => (OutboxStatus.Failed, "failed", null),
            _ => (OutboxStatus.Pending, "retry", finished + Backoff(message.Attempts)),
        };
        var attempt = new DeliveryAttempt(message.MessageId, message.Attempts, transport?.Name ?? "none", started, finished, outcome,
            result.ProviderMessageId, result.Error);
        if (await RecordAsync(message, attempt, status, next) is not { } held) return;
        if (held) Sends.Add(1, new("collections.channel", message.Channel.ToString()), new("collections.outbox.outcome", outcome));

        if (!held)
            logger.LogWarning("An outreach message ({Channel} {Action}): attempt {Attempt} ended ({Outcome}) after its lease was taken over; not recorded as its status",
                message.Channel, message.Action, message.Attempts, outcome);
        else if (status == OutboxStatus.Sent)
            logger.LogInformation("An outreach message ({Channel} {Action}) was sent by {Transport} on attempt {Attempt}", message.Channel, message.Action, attempt.Transport, message.Attempts);
        else if (status == OutboxStatus.Failed)
            logger.LogWarning("An outreach message ({Channel} {Action}) failed on attempt {Attempt}: {Error}", message.Channel, message.Action, message.Attempts, result.Error);
        else
            logger.LogInformation("An outreach message ({Channel} {Action}) attempt {Attempt} did not go through ({Error}); next try at {NextAttemptAt:o}",
                message.Channel, message.Action, message.Attempts, result.Error, next);
    }

    /// <summary>
    /// Records the attempt; null if it could not be recorded (the database is down or refused it). The message then
    /// stays leased until its lease runs out and goes again, under the same message id (the vendors' idempotency key).
    /// A failure here ends this delivery only, not the batch's others still under way.
    /// </summary>
    private async Task<bool?> RecordAsync(OutboxMessage message, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? next, bool givesAttemptBack = false)
    {
        try
        {
            return await outbox.RecordAttemptAsync(Owner, attempt, status, next, givesAttemptBack, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("An outreach message ({Channel} {Action}): attempt {Attempt} ended ({Outcome}) but could not be recorded ({Error}); it goes again after its lease",
                message.Channel, message.Action, attempt.Attempt, attempt.Outcome, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>RetryBaseSeconds × 2^(attempt−1), at most RetryMaxSeconds.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var s = options.Value.Sender;
        var seconds = s.RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, s.RetryMaxSeconds));
    }
}
