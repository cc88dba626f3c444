using Collections.Outreach;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// Outbox reactions: when an account stops being collected (paid, in credit, on hold, a promise or a plan), its
/// collection messages still waiting to go are cancelled.
/// </summary>
public sealed class OutboxReactionProjection(IOutboxStore outbox, Serializer serializer) : IAccountProjection
{
    public string Name => "outbox-reactions";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
            if (facts.CollectionStopped is { } reason)
                await outbox.CancelCollectionAsync(facts.Account.Facility, facts.Account.AccountNumber, facts.At, reason, cancellationToken);
    }

    // Cancelling is a reaction, not a view: a replay cancels nothing new.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
