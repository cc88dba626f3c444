using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>Each facility's register of accounts in credit (the refund worklist).</summary>
public sealed class CreditBalanceProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "credit-balances";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken) =>
        Task.WhenAll(FactsBatch.Read(events, serializer).Where(f => f.Facts.Credit is not null)
            .GroupBy(f => f.Facts.Account).Select(g => g.Last().Facts)
            .Select(f => grains.GetGrain<ICreditBalanceRegistryGrain>(f.Account.Facility).Update(f.Account, f.Credit!.Item)));

    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
