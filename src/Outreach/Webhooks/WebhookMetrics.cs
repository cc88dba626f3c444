using System.Diagnostics.Metrics;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// The webhook dispatcher's instruments (meter <c>Collections.Webhooks</c>). The projection only writes the delivery
/// rows, so its lag says nothing of whether the dispatcher keeps up: the wait does. Tags are event types and outcomes
/// only: never an account, a subscription's address or a body.
/// </summary>
public static class WebhookMetrics
{
    public const string MeterName = "Collections.Webhooks";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>("collections.webhook.wait", "s",
        "How long a due webhook delivery waited for a dispatcher to take it, from when it last fell due (written, or its retry time; one taken again after its lease ran out counts from that same time, so its lease is in it)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] });

    private static readonly Counter<long> Attempts = Meter.CreateCounter<long>("collections.webhook.attempts", "{attempt}",
        "Webhook delivery attempts recorded, by event type and outcome (delivered, retry, failed, lease-lost, paused)");

    public static void Claimed(TimeSpan waited) => Wait.Record(Math.Max(0, waited.TotalSeconds));

    public static void Attempted(string eventType, string outcome) =>
        Attempts.Add(1, new KeyValuePair<string, object?>("collections.webhook.event", eventType), new KeyValuePair<string, object?>("collections.webhook.outcome", outcome));
}
