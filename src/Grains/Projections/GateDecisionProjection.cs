using System.Text.Json;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The compliance gate's decisions, one row each, for the supervisors' compliance view.</summary>
public sealed class GateDecisionProjection(GateDecisionStore store, Serializer serializer) : IAccountProjection
{
    public string Name => "gate-decisions";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var rows = FactsBatch.Read(events, serializer)
            .SelectMany(f => f.Facts.Decisions.Select((d, i) => new GateDecisionRow(
                f.Event.EventId, i, f.Facts.Account.Facility, DateOnly.FromDateTime(d.At.UtcDateTime), Camel(d.Action.ToString()),
                d.Channel is { } c ? Camel(c.ToString()) : null, d.Decision.Verdict.ToString().ToLowerInvariant(), d.Decision.Rule)))
            .ToList();
        return store.SaveAsync(rows, cancellationToken);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => store.ClearAsync(cancellationToken);

    private static string Camel(string name) => JsonNamingPolicy.CamelCase.ConvertName(name);
}
