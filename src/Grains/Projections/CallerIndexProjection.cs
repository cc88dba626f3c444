using Collections.Domain;
using Collections.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// The caller index: every guarantor an account's committed facts name, under a keyed hash of their date of birth and
/// last name, so an agent finds someone calling in by both. A guarantor already indexed is not read again (their
/// name and date of birth do not change after registration); a rebuild reads each once more. Its reads write no audit
/// record: no one is shown the person, and the index keeps only a keyed hash.
/// </summary>
public sealed class CallerIndexProjection(CallerIndexStore index, IGrainFactory grains, Serializer serializer, ILogger<CallerIndexProjection> logger) : IAccountProjection
{
    public string Name => "caller-index";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var named = FactsBatch.Read(events, serializer).Select(f => f.Facts.GuarantorId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var known = await index.KnownAsync(named, cancellationToken);
        var rows = new System.Collections.Concurrent.ConcurrentBag<(string, string)>();
        // Many at once: a batch of new guarantors is spread over the silos' guarantor grains.
        await Parallel.ForEachAsync(named.Where(id => !known.Contains(id)), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                if (await NameAsync(grains.GetGrain<IGuarantorGrain>(id)) is not { } name) return;
                rows.Add((id, await index.KeyAsync(name.DateOfBirth, name.LastNameKey, ct)));
            });
        // In id order, as before: two runners overlapping at a lease takeover then lock the same rows in the same order.
        await index.SaveAsync(rows.OrderBy(r => r.Item1, StringComparer.Ordinal).ToList(), cancellationToken);
    }

    /// <summary>
    /// The person's date of birth and name key, read without an audit record: the engine's own read, shown to no one.
    /// While a guarantor's silo is of a release before that read (a rolling upgrade), the call fails and the person's
    /// record is read as that release did (an audited system read); the failure is logged (its type only), so one that
    /// goes on after the upgrade is seen. If that read fails too, the first failure is the one reported.
    /// </summary>
    private async Task<CallerIndexName?> NameAsync(IGuarantorGrain guarantor)
    {
        try
        {
            return await guarantor.GetCallerIndexName();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not TimeoutException)
        {
            logger.LogWarning("The caller index could not read a person's name key ({Error}); their record was read as the release before did (a silo of that release during an upgrade)",
                ex.GetType().Name);
            GuarantorView? person;
            try
            {
                person = await guarantor.Get();
            }
            catch (Exception)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex); // the first failure, with its own stack
                throw;
            }
            return person is null ? null : CallerIndexName.Of(person.Profile.DateOfBirth, person.Profile.LastName);
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken) => index.ClearAsync(cancellationToken);
}
