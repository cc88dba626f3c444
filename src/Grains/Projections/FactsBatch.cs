using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The facts events of a batch, read back; the last per account when only the newest matters.</summary>
internal static class FactsBatch
{
    public static IEnumerable<(LoggedEvent Event, AccountProjectionFacts Facts)> Read(IReadOnlyList<LoggedEvent> events, Serializer serializer) =>
        events.Where(e => e.Type == AccountProjectionFacts.EventType).Select(e => (e, serializer.Deserialize<AccountProjectionFacts>(e.Payload)!));

    public static readonly IReadOnlyCollection<string> FactsOnly = [AccountProjectionFacts.EventType];
}
