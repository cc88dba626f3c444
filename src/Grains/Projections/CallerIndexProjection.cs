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
        var rows = new List<(string, string)>();
        foreach (var id in named.Where(id => !known.Contains(id)))
        {
            if (await grains.GetGrain<IGuarantorGrain>(id).Get() is not { } person) continue; // audited as the system's read
            rows.Add((id, await index.KeyAsync(person.Profile.DateOfBirth, Text.NameKey(person.Profile.LastName), cancellationToken)));
        }
        await index.SaveAsync(rows, cancellationToken);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => index.ClearAsync(cancellationToken);
}
