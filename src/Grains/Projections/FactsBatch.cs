using System.Runtime.CompilerServices;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The facts events of a batch, read back; the last per account when only the newest matters.</summary>
internal static class FactsBatch
{
    // The runner hands every projection the same events of a batch, and nine projections read the facts: each event is
    // decoded once, by the first to ask, and kept only as long as the event itself. The facts are immutable records.
    private static readonly ConditionalWeakTable<LoggedEvent, AccountProjectionFacts> Decoded = new();

    public static IEnumerable<(LoggedEvent Event, AccountProjectionFacts Facts)> Read(IReadOnlyList<LoggedEvent> events, Serializer serializer)
    {
        ConditionalWeakTable<LoggedEvent, AccountProjectionFacts>.CreateValueCallback decode = logged => serializer.Deserialize<AccountProjectionFacts>(logged.Payload)!;
        return events.Where(e => e.Type == AccountProjectionFacts.EventType).Select(e => (e, Decoded.GetValue(e, decode)));
    }

    public static readonly IReadOnlyCollection<string> FactsOnly = [AccountProjectionFacts.EventType];
}
