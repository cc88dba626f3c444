using Collections.Domain;

namespace Collections.Grains;

/// <summary>Keyed by facility.</summary>
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class PlacementRegisterGrain(
    [PersistentState(StorageNames.PlacementRegisterState, StorageNames.Collections)] IPersistentState<PlacementRegisterState> register) : Grain, IPlacementRegisterGrain
{
    public async Task Place(AgencyPlacement placement)
    {
        var key = placement.Account.ToString();
        if (register.State.Placements.TryGetValue(key, out var existing) && existing.Status == PlacementStatus.Placed) return;
        register.State.Placements[key] = placement;
        await register.WriteStateAsync();
    }

    public async Task Recall(AccountKey account, string reason, DateTimeOffset at)
    {
        if (!register.State.Placements.TryGetValue(account.ToString(), out var placement) || placement.Status == PlacementStatus.Recalled) return;
        register.State.Placements[account.ToString()] = placement with { Status = PlacementStatus.Recalled, RecalledAt = at, RecallReason = reason };
        await register.WriteStateAsync();
    }

    public Task<IReadOnlyList<AgencyPlacement>> List(PlacementStatus? status) =>
        Task.FromResult<IReadOnlyList<AgencyPlacement>>(register.State.Placements.Values
            .Where(p => status is null || p.Status == status).OrderBy(p => p.PlacedAt).ToList());
}
