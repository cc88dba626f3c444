using Collections.Domain;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// The caller index: every guarantor an account's committed facts name, under a keyed hash of their date of birth and
/// last name, so an agent finds someone calling in by both. A guarantor already indexed is not read again (their
/// name and date of birth do not change after registration); a rebuild reads each once more.
/// </summary>
public sealed class CallerIndexProjection(CallerIndexStore index, IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "caller-index";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var named = FactsBatch.Read(events, serializer).Select(f => f.Facts.GuarantorId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var known = await index.KnownAsync(named, cancellationToken);
        var rows = new System.Collections.Concurrent.ConcurrentBag<(string, string)>();
        // Many at once: each read waits for its audit record (the system's read of the person) to commit, and reads
        // under way together share one commit. One at a time, a batch of new guarantors took a commit each, and under
        // a bulk load the projections fell further behind the log every minute.
        await Parallel.ForEachAsync(named.Where(id => !known.Contains(id)), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                if (await grains.GetGrain<IGuarantorGrain>(id).Get() is not { } person) return;
                rows.Add((id, await index.KeyAsync(person.Profile.DateOfBirth, Text.NameKey(person.Profile.LastName), ct)));
            });
        // In id order, as before: two runners overlapping at a lease takeover then lock the same rows in the same order.
        await index.SaveAsync(rows.OrderBy(r => r.Item1, StringComparer.Ordinal).ToList(), cancellationToken);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => index.ClearAsync(cancellationToken);
}
