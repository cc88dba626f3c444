using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Delivers account events to subscribers, as <see cref="OutboxSender"/> delivers the outbox (both are a
/// <see cref="LeasedSender{TClaimed, TFinished}"/>): it claims due deliveries with a lease, POSTs the JSON signed like
/// <see cref="WebhookTransport"/> does, and records every attempt. 2xx is delivered; 408, 429, 5xx, timeouts and
/// network errors are retried after an exponential back-off until <c>MaxAttempts</c>; any other answer fails at once.
/// Logs carry delivery ids, event types and outcomes only: never the secret or the body.
/// </summary>
public sealed class WebhookDispatcher(
    IWebhookStore store, IHttpClientFactory httpClients, IOptions<WebhookOptions> options, WebhookSignal signal, TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : LeasedSender<ClaimedDelivery, WebhookDispatcher.Finished>(signal, clock, logger)
{
    public const string HttpClientName = "Collections.Webhooks.Outbound";
    public const string EventHeader = "X-Collections-Event";
    public const string DeliveryHeader = "X-Collections-Delivery";

    /// <summary>A delivery sent, with how its attempt ended.</summary>
    public sealed record Finished(ClaimedDelivery Claimed, AttemptOutcome Outcome);

    protected override string Name => "Webhook dispatcher";

    protected override SendingPace Pace
    {
        get
        {
            var o = options.Value;
            return new SendingPace(TimeSpan.FromSeconds(o.PollSeconds), o.BatchSize, o.MaxInFlight, TimeSpan.FromSeconds(o.LeaseSeconds));
        }
    }

    protected override object KeyOf(ClaimedDelivery claimed) => claimed.Delivery.Id;

    protected override Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(int room, CancellationToken cancellationToken) =>
        store.ClaimAsync(Owner, room, options.Value.MaxAttempts, TimeSpan.FromSeconds(options.Value.LeaseSeconds), cancellationToken);

    protected override void Claimed(ClaimedDelivery claimed, DateTimeOffset claimedAt) =>
        WebhookMetrics.Claimed(claimedAt - (claimed.Delivery.NextAttemptAt ?? claimed.Delivery.CreatedAt));

    /// <summary>Fails deliveries whose lease ran out on their last allowed attempt (and cancels those of deleted subscriptions).</summary>
    protected override async Task SweepAbandonedAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.FailAbandonedAsync(options.Value.MaxAttempts, cancellationToken))
            Logger.LogWarning("Webhook delivery {DeliveryId} failed: its lease ran out on the last allowed attempt", id);
    }

    /// <summary>Each subscription's receiver: whether it is paused. A probe may take twice the timeout before another goes.</summary>
    private readonly ReceiverPauses<string> _receivers = new(() => ReceiverPauseRules.From(options.Value.PauseAfterFailures, options.Value.RetryBaseSeconds,
        options.Value.MaxPauseSeconds, TimeSpan.FromSeconds(options.Value.TimeoutSeconds) * 2));

    protected override async Task<Finished> SendAsync(ClaimedDelivery claimed, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var delivery = claimed.Delivery;
        var now = Clock.GetUtcNow();
        // Its last attempt is tried even while the receiver is paused (it may be back): never failed untried.
        var (ticket, receiver) = _receivers.Ask(delivery.SubscriptionId, now, lastAttempt: delivery.Attempts >= o.MaxAttempts);
        if (ticket is not { } sent)
        {
            // Not sent: it would wait out the timeout like the others. An attempt as a retry would be, with its back-off
            // (at least until the pause ends), so a receiver that stays down gets no more attempts than one that times out.
            var paused = new WebhookAttempt(delivery.Id, delivery.Attempts, now, now, "paused", null, ReceiverPause.PausedError("paused: its receiver is not answering", delivery.LastError));
            return new Finished(claimed, new AttemptOutcome(paused, WebhookStatus.Pending, receiver.RetryAt(now, Backoff(delivery.Attempts))));
        }
        var (outcome, answer) = await DeliverAsync(claimed, cancellationToken);
        Observe(delivery.SubscriptionId, sent, answer);
        return new Finished(claimed, outcome);
    }

    private void Observe(string subscription, ReceiverTicket ticket, ReceiverAnswer answer)
    {
        var (before, after) = _receivers.Observe(subscription, ticket, answer, Clock.GetUtcNow());
        if (after.PausedSince(before))
            Logger.LogWarning("Webhook subscription {SubscriptionId} paused until {Until:o}: its receiver failed {Failures} times in a row (pause {Pause}); its deliveries wait for their retries",
                subscription, after.Until, after.Failures, after.Pauses);
        else if (after.ResumedSince(before))
            Logger.LogInformation("Webhook subscription {SubscriptionId} answers again: its deliveries go on", subscription);
    }

    /// <summary>
    /// Finished attempts in one transaction: under load, one write for many deliveries rather than one each. If it
    /// fails, the round goes on and only these are taken again when their leases run out (sent again, or marked failed
    /// if that was their last allowed attempt).
    /// </summary>
    protected override async Task RecordAsync(IReadOnlyList<Finished> finished)
    {
        IReadOnlyList<bool> held;
        try
        {
            held = await store.RecordAttemptsAsync(Owner, finished.Select(f => f.Outcome).ToList(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            Logger.LogError(ex, "Recording {Count} webhook delivery attempts failed; they are taken again when their leases run out", finished.Count);
            return;
        }
        for (var i = 0; i < finished.Count; i++)
        {
            if (finished[i].Outcome.Attempt.Outcome != "paused") LogOutcome(finished[i].Claimed.Delivery, finished[i].Outcome, held[i]);
            WebhookMetrics.Attempted(finished[i].Claimed.Delivery.EventType, held[i] ? finished[i].Outcome.Attempt.Outcome : "lease-lost");
        }
    }

    private async Task<(AttemptOutcome Outcome, ReceiverAnswer Answer)> DeliverAsync(ClaimedDelivery claimed, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var delivery = claimed.Delivery;
        var started = Clock.GetUtcNow();
        int? code = null;
        string? error;
        bool delivered = false, permanent = false;
        try
        {
            var body = Encoding.UTF8.GetBytes(claimed.Payload);
            var timestamp = started.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Post, claimed.Url);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(EventHeader, delivery.EventType);
            request.Headers.Add(DeliveryHeader, delivery.Id.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookTransport.TimestampHeader, timestamp);
            request.Headers.Add(WebhookTransport.SignatureHeader, WebhookTransport.Sign(claimed.Secret, timestamp, body));

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(o.TimeoutSeconds));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            code = (int)response.StatusCode;
            delivered = response.IsSuccessStatusCode;
            permanent = !delivered && code is not ((int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500);
            error = delivered ? null : $"http {code}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // shutting down: the lease runs out and another round delivers it
        }
        catch (HttpRequestException ex) when (ex.InnerException is WebhookTargetRefusedException refused)
        {
            // Not a public address (any more): retrying cannot help, and must not be tried.
            error = refused.Message;
            permanent = true;
        }
        catch (Exception ex)
        {
            error = DeliveryErrors.Describe(ex);
        }

        var finished = Clock.GetUtcNow();
        var (status, outcome, next) = (delivered, permanent) switch
        {
            (true, _) => (WebhookStatus.Delivered, "delivered", (DateTimeOffset?)null),
            (_, true) => (WebhookStatus.Failed, "failed", null),
            _ when delivery.Attempts >= o.MaxAttempts => (WebhookStatus.Failed, "failed", null),
            _ => (WebhookStatus.Pending, "retry", finished + Backoff(delivery.Attempts)),
        };
        var answer = delivered ? ReceiverAnswer.Delivered : permanent ? ReceiverAnswer.Refused : ReceiverAnswer.Unavailable;
        return (new AttemptOutcome(new WebhookAttempt(delivery.Id, delivery.Attempts, started, finished, outcome, code, error), status, next), answer);
    }

    private void LogOutcome(WebhookDelivery delivery, AttemptOutcome result, bool held)
    {
        var (attempt, status, next) = result;
        var (outcome, error) = (attempt.Outcome, attempt.Error);
        if (!held)
            Logger.LogWarning("Webhook delivery {DeliveryId}: attempt {Attempt} ended ({Outcome}) after its lease was taken over", delivery.Id, delivery.Attempts, outcome);
        else if (status == WebhookStatus.Delivered)
            Logger.LogInformation("Webhook delivery {DeliveryId} ({EventType}) delivered on attempt {Attempt}", delivery.Id, delivery.EventType, delivery.Attempts);
        else if (status == WebhookStatus.Failed)
            Logger.LogWarning("Webhook delivery {DeliveryId} ({EventType}) failed on attempt {Attempt}: {Error}", delivery.Id, delivery.EventType, delivery.Attempts, error);
        else
            Logger.LogInformation("Webhook delivery {DeliveryId} attempt {Attempt} did not go through ({Error}); next try at {NextAttemptAt:o}",
                delivery.Id, delivery.Attempts, error, next);
    }

    /// <summary>RetryBaseSeconds × 2^(attempt−1), at most RetryMaxSeconds.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var o = options.Value;
        return TimeSpan.FromSeconds(Math.Min(o.RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)), o.RetryMaxSeconds));
    }
}
