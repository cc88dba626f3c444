using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>Each facility's register of agency placements and recalls.</summary>
public sealed class PlacementProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "placements";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
        {
            var register = grains.GetGrain<IPlacementRegisterGrain>(facts.Account.Facility);
            if (facts.Placement is { } placed) await register.Place(placed);
            if (facts.Recall is { } recall) await register.Recall(facts.Account, recall.Reason, recall.At);
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
