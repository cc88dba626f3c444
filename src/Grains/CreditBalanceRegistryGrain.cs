using Collections.Domain;

namespace Collections.Grains;

/// <summary>Keyed by facility: the accounts holding credit balances right now.</summary>
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class CreditBalanceRegistryGrain(
    [PersistentState(StorageNames.CreditBalanceRegistryState, StorageNames.Collections)] IPersistentState<CreditBalanceRegistryState> registry) : Grain, ICreditBalanceRegistryGrain
{
    public async Task Update(AccountKey account, CreditBalanceItem? item)
    {
        var key = account.ToString();
        if (item is null ? !registry.State.Open.Remove(key) : registry.State.Open.TryGetValue(key, out var current) && current == item) return;
        if (item is not null) registry.State.Open[key] = item;
        await registry.WriteStateAsync();
    }

    public Task<IReadOnlyList<CreditBalanceItem>> List() =>
        Task.FromResult<IReadOnlyList<CreditBalanceItem>>(registry.State.Open.Values.OrderBy(i => i.RefundDueBy).ToList());
}
