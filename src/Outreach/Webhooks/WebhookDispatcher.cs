using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Delivers account events to subscribers, as <see cref="OutboxSender"/> delivers the outbox: it claims due deliveries
/// with a lease (so no two dispatchers, here or on another silo, send the same row at once), POSTs the JSON signed like
/// <see cref="WebhookTransport"/> does, and records every attempt. 2xx is delivered; 408, 429, 5xx, timeouts and
/// network errors are retried after an exponential back-off until <c>MaxAttempts</c>; any other answer fails at once.
/// Logs carry delivery ids, event types and outcomes only: never the secret or the body.
/// </summary>
public sealed class WebhookDispatcher(
    IWebhookStore store, IHttpClientFactory httpClients, IOptions<WebhookOptions> options, WebhookSignal signal, TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "Collections.Webhooks.Outbound";
    public const string EventHeader = "X-Collections-Event";
    public const string DeliveryHeader = "X-Collections-Delivery";

    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    private DateTimeOffset _sweptAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.PollSeconds);
        logger.LogInformation("Webhook dispatcher {Owner} started (polling every {PollSeconds} s)", Owner, poll.TotalSeconds);
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
                logger.LogError(ex, "Webhook dispatcher round failed; retrying in {PollSeconds} s", poll.TotalSeconds);
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

    /// <summary>Delivers everything due now, batch after batch. Returns how many deliveries were tried.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        // Leases run out only after LeaseSeconds: looking for abandoned deliveries once a poll period is enough (and
        // costs no write per round under load).
        if (clock.GetUtcNow() - _sweptAt >= TimeSpan.FromSeconds(Math.Min(o.PollSeconds, o.LeaseSeconds)))
        {
            foreach (var id in await store.FailAbandonedAsync(o.MaxAttempts, cancellationToken))
                logger.LogWarning("Webhook delivery {DeliveryId} failed: its lease ran out on the last allowed attempt", id);
            _sweptAt = clock.GetUtcNow();
        }
        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = await store.ClaimAsync(Owner, o.BatchSize, o.MaxAttempts, TimeSpan.FromSeconds(o.LeaseSeconds), cancellationToken);
            if (batch.Count == 0) break;
            var outcomes = new AttemptOutcome[batch.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, batch.Count), new ParallelOptions { MaxDegreeOfParallelism = o.BatchSize, CancellationToken = cancellationToken },
                async (i, ct) => outcomes[i] = await DeliverAsync(batch[i], ct));
            // The batch's attempts in one transaction: under load, two writes per batch rather than one per delivery.
            var held = await store.RecordAttemptsAsync(Owner, outcomes, CancellationToken.None);
            for (var i = 0; i < batch.Count; i++) LogOutcome(batch[i].Delivery, outcomes[i], held[i]);
            total += batch.Count;
        }
        return total;
    }

    private async Task<AttemptOutcome> DeliverAsync(ClaimedDelivery claimed, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var delivery = claimed.Delivery;
        var started = clock.GetUtcNow();
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

        var finished = clock.GetUtcNow();
        var (status, outcome, next) = (delivered, permanent) switch
        {
            (true, _) => (WebhookStatus.Delivered, "delivered", (DateTimeOffset?)null),
            (_, true) => (WebhookStatus.Failed, "failed", null),
            _ when delivery.Attempts >= o.MaxAttempts => (WebhookStatus.Failed, "failed", null),
            _ => (WebhookStatus.Pending, "retry", finished + Backoff(delivery.Attempts)),
        };
        return new AttemptOutcome(new WebhookAttempt(delivery.Id, delivery.Attempts, started, finished, outcome, code, error), status, next);
    }

    private void LogOutcome(WebhookDelivery delivery, AttemptOutcome result, bool held)
    {
        var (attempt, status, next) = result;
        var (outcome, error) = (attempt.Outcome, attempt.Error);
        if (!held)
            logger.LogWarning("Webhook delivery {DeliveryId}: attempt {Attempt} ended ({Outcome}) after its lease was taken over", delivery.Id, delivery.Attempts, outcome);
        else if (status == WebhookStatus.Delivered)
            logger.LogInformation("Webhook delivery {DeliveryId} ({EventType}) delivered on attempt {Attempt}", delivery.Id, delivery.EventType, delivery.Attempts);
        else if (status == WebhookStatus.Failed)
            logger.LogWarning("Webhook delivery {DeliveryId} ({EventType}) failed on attempt {Attempt}: {Error}", delivery.Id, delivery.EventType, delivery.Attempts, error);
        else
            logger.LogInformation("Webhook delivery {DeliveryId} attempt {Attempt} did not go through ({Error}); next try at {NextAttemptAt:o}",
                delivery.Id, delivery.Attempts, error, next);
    }

    /// <summary>RetryBaseSeconds × 2^(attempt−1), at most RetryMaxSeconds.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var o = options.Value;
        return TimeSpan.FromSeconds(Math.Min(o.RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)), o.RetryMaxSeconds));
    }
}
