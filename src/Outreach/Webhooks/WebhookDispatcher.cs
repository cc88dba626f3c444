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

    /// <summary>
    /// Delivers everything due now. Returns how many deliveries were tried.
    /// </summary>
    /// <remarks>
    /// Sends stay in flight continuously, up to <c>MaxInFlight</c>: whenever at least a <c>BatchSize</c> of room is free,
    /// one claim takes as many due deliveries as there is room for, and finished attempts are recorded while the next
    /// claims and sends go on (one record at a time: those that finish meanwhile go in the next). A round per batch
    /// (claim 16, send them, record them, claim again) held every delivery up behind each claim, each record and the
    /// batch's slowest receiver: under 64-way posting on PostgreSQL, where each of those statements waited about 10 ms
    /// for the busy server, it delivered about a third of the events made, and the backlog grew without bound. A
    /// receiver that does not answer still holds its requests' room until <c>TimeoutSeconds</c>.
    /// </remarks>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var inFlight = Math.Max(o.MaxInFlight, o.BatchSize);
        var sending = new List<Task<(ClaimedDelivery Claimed, AttemptOutcome Outcome)>>();
        var finished = new List<(ClaimedDelivery Claimed, AttemptOutcome Outcome)>();
        Task recording = Task.CompletedTask; // never fails: RecordAsync logs its own failure
        // Nothing more was due at the last claim: wait for a send, the record, or a new event (or a poll period) first.
        var drained = false;
        using var roundOver = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<bool>? woken = null;
        var total = 0;
        try
        {
            while (true)
            {
                if (woken is { IsCompleted: true }) // a new event (or a poll period) since the last claim
                {
                    woken = null;
                    drained = false;
                }
                var room = inFlight - sending.Count;
                if (!drained && !cancellationToken.IsCancellationRequested && room >= o.BatchSize)
                {
                    await SweepAbandonedAsync(cancellationToken);
                    var batch = await store.ClaimAsync(Owner, room, o.MaxAttempts, TimeSpan.FromSeconds(o.LeaseSeconds), cancellationToken);
                    var claimedAt = clock.GetUtcNow();
                    foreach (var claimed in batch)
                    {
                        WebhookMetrics.Claimed(claimedAt - (claimed.Delivery.NextAttemptAt ?? claimed.Delivery.CreatedAt));
                        sending.Add(SendAsync(claimed, cancellationToken));
                    }
                    total += batch.Count;
                    drained = batch.Count < room;
                    continue;
                }
                if (recording.IsCompleted && finished.Count > 0)
                {
                    recording = RecordAsync([.. finished]);
                    finished.Clear();
                    drained = false; // rows may have come due while the record ran
                    continue;
                }
                if (sending.Count == 0 && recording.IsCompleted && (drained || cancellationToken.IsCancellationRequested)) break;

                var waits = new List<Task>(sending);
                if (!recording.IsCompleted) waits.Add(recording);
                if (drained && !cancellationToken.IsCancellationRequested && sending.Count > 0)
                    waits.Add(woken ??= signal.WaitAsync(TimeSpan.FromSeconds(o.PollSeconds), roundOver.Token));
                await Task.WhenAny(waits);
                for (var i = sending.Count - 1; i >= 0; i--)
                {
                    if (!sending[i].IsCompleted) continue;
                    if (sending[i].IsCompletedSuccessfully) finished.Add(sending[i].Result);
                    sending.RemoveAt(i); // cancelled at shutdown: its lease runs out and another round sends it
                }
            }
        }
        finally
        {
            // A wait for a new event left over must not keep the next one from the poll loop; one it already took (an
            // event written while the last claim ran) is handed back, so its rows do not wait a poll period.
            await roundOver.CancelAsync();
            if (woken is { IsCompletedSuccessfully: true, Result: true }) signal.Wake();
            // Stopping, or a claim failed: what was sent is still recorded, so it is not sent again when its lease runs out.
            try
            {
                await Task.WhenAll(sending);
            }
            catch (Exception)
            {
                // Each send's own outcome is read below; one cancelled at shutdown is sent again after its lease.
            }
            finished.AddRange(sending.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            await recording;
            if (finished.Count > 0) await RecordAsync(finished);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return total;
    }

    /// <summary>
    /// Fails deliveries whose lease ran out on their last allowed attempt. Leases run out only after LeaseSeconds:
    /// looking once a poll period is enough (and costs no write per claim under load).
    /// </summary>
    private async Task SweepAbandonedAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (clock.GetUtcNow() - _sweptAt < TimeSpan.FromSeconds(Math.Min(o.PollSeconds, o.LeaseSeconds))) return;
        try
        {
            foreach (var id in await store.FailAbandonedAsync(o.MaxAttempts, cancellationToken))
                logger.LogWarning("Webhook delivery {DeliveryId} failed: its lease ran out on the last allowed attempt", id);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Best effort: the claims go on, and the next sweep looks again.
            logger.LogWarning(ex, "Looking for abandoned webhook deliveries failed; looking again in {PollSeconds} s", o.PollSeconds);
        }
        _sweptAt = clock.GetUtcNow();
    }

    private async Task<(ClaimedDelivery, AttemptOutcome)> SendAsync(ClaimedDelivery claimed, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the claim loop goes on while this one connects
        return (claimed, await DeliverAsync(claimed, cancellationToken));
    }

    /// <summary>
    /// Finished attempts in one transaction: under load, one write for many deliveries rather than one each. If it
    /// fails, the round goes on and only these are taken again when their leases run out (sent again, or marked failed
    /// if that was their last allowed attempt).
    /// </summary>
    private async Task RecordAsync(List<(ClaimedDelivery Claimed, AttemptOutcome Outcome)> finished)
    {
        IReadOnlyList<bool> held;
        try
        {
            held = await store.RecordAttemptsAsync(Owner, finished.Select(f => f.Outcome).ToList(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Recording {Count} webhook delivery attempts failed; they are taken again when their leases run out", finished.Count);
            return;
        }
        for (var i = 0; i < finished.Count; i++)
        {
            LogOutcome(finished[i].Claimed.Delivery, finished[i].Outcome, held[i]);
            WebhookMetrics.Attempted(finished[i].Claimed.Delivery.EventType, held[i] ? finished[i].Outcome.Attempt.Outcome : "lease-lost");
        }
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
