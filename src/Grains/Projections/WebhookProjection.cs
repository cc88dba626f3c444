using Collections.Domain;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>Webhook deliveries: every public account event, once per subscription (the store ignores a log position it already has).</summary>
public sealed class WebhookProjection(IAccountEventSink sink, Serializer serializer) : IAccountProjection
{
    public string Name => "webhooks";
    public IReadOnlyCollection<string> EventTypes => AccountEventTypes.All;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken) =>
        sink.PublishAsync(events.Select(e => new LoggedAccountEvent(e.At.Position, serializer.Deserialize<AccountEvent>(e.Payload)!)).ToList(), cancellationToken);

    // Deliveries already made are history, not a view: a rebuild re-offers every event and the store skips those it has.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
