using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The agents' worklist: each account's entry routed to its queue by facility and language, or taken out.</summary>
public sealed class WorklistProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "worklist";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var changes = FactsBatch.Read(events, serializer).Where(f => f.Facts.Worklist is not null)
            .GroupBy(f => f.Facts.Account).Select(g => (Account: g.Key, Fact: g.Last().Facts.Worklist!, Previous: g.Select(f => f.Facts.Worklist!.PreviousLanguage).LastOrDefault(p => p is not null)))
            .ToList();
        if (changes.Count == 0) return;
        var directory = grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key);
        var routes = new Dictionary<(string, string), string>(); // one routing question per facility and language a batch
        async Task<string> Route(string facility, string language) =>
            routes.TryGetValue((facility, language), out var known) ? known : routes[(facility, language)] = await directory.Route(facility, language);
        var upserts = new Dictionary<string, List<Domain.Worklist.WorklistEntry>>();
        foreach (var (account, fact, previous) in changes)
        {
            var queue = await Route(account.Facility, fact.Language);
            if (previous is not null && await Route(account.Facility, previous) is { } old && old != queue)
                await grains.GetGrain<IWorklistQueueGrain>(old).Remove(account);
            if (queue is null) continue;
            if (fact.Entry is null) await grains.GetGrain<IWorklistQueueGrain>(queue).Remove(account);
            else (upserts.TryGetValue(queue, out var list) ? list : upserts[queue] = []).Add(fact.Entry);
        }
        await Task.WhenAll(upserts.Select(u => grains.GetGrain<IWorklistQueueGrain>(u.Key).UpsertMany(u.Value)));
    }

    // Queue entries are replaced account by account as the log replays; an account's last fact decides its place.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
