using Collections.Domain.Cadence;
using Collections.Persistence;

namespace Collections.Grains;

// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class CadencePolicyBookGrain(
    [PersistentState(StorageNames.PolicyBookState, StorageNames.Collections)] IPersistentState<PolicyBookState> book,
    TimeProvider clock,
    IAuditTrail audit,
    CadenceSettings settings) : Grain, ICadencePolicyBookGrain
{
    private IReadOnlyList<CadencePolicy>? _active;

    public Task<IReadOnlyList<CadencePolicy>> GetActive() => Task.FromResult(_active ??= Active());

    public Task<IReadOnlyList<CadencePolicy>> GetHistory(string policyId) =>
        Task.FromResult<IReadOnlyList<CadencePolicy>>(AllVersions().Where(p => p.PolicyId == policyId).OrderBy(p => p.Version).ToList());

    public async Task<Outcome<CadencePolicy>> Save(CadencePolicy policy)
    {
        var errors = CadencePolicies.Validate(policy, settings.Compliance);
        if (errors.Count > 0)
        {
            await audit.RecordAsync(clock, "policy.save", "policy", policy?.PolicyId ?? "", AuditExtensions.OutcomeOf(errors));
            return Outcome<CadencePolicy>.Failure(errors);
        }
        var latest = AllVersions().Where(p => p.PolicyId == policy.PolicyId).Select(p => p.Version).DefaultIfEmpty(0).Max();
        var saved = policy with { Version = latest + 1, SavedAt = clock.GetUtcNow(), SavedBy = CallerContext.Current.Actor };
        book.State.Versions.Add(saved);
        await book.WriteStateAsync(audit, AuditExtensions.Event(clock, "policy.save", "policy", policy.PolicyId, "ok", $"version={saved.Version}"));
        _active = null;
        return Outcome<CadencePolicy>.Success(saved);
    }

    /// <summary>The shipped defaults count as version 1 until a supervisor saves their own version.</summary>
    private IEnumerable<CadencePolicy> AllVersions()
    {
        var saved = book.State.Versions;
        var defaults = CadencePolicies.Shipped.Where(d => !saved.Any(s => s.PolicyId == d.PolicyId));
        return defaults.Concat(saved);
    }

    private List<CadencePolicy> Active() =>
        AllVersions().GroupBy(p => p.PolicyId).Select(g => g.MaxBy(p => p.Version)!).ToList();
}
