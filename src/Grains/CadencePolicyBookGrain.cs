using Collections.Domain.Compliance;
using Collections.Domain;
using Collections.Domain.Cadence;
using Collections.Persistence;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PolicyBookState")]
public sealed class PolicyBookState
{
    /// <summary>Every saved version of every policy.</summary>
    [Id(0)] public List<CadencePolicy> Versions { get; set; } = [];
}

public sealed class CadencePolicyBookGrain(
    [PersistentState(StorageNames.PolicyBookState, StorageNames.Collections)] IPersistentState<PolicyBookState> book,
    TimeProvider clock,
    IAuditTrail audit) : Grain, ICadencePolicyBookGrain
{
    private IReadOnlyList<CadencePolicy>? _active;

    public Task<IReadOnlyList<CadencePolicy>> GetActive() => Task.FromResult(_active ??= Active());

    public Task<IReadOnlyList<CadencePolicy>> GetHistory(string policyId) =>
        Task.FromResult<IReadOnlyList<CadencePolicy>>(AllVersions().Where(p => p.PolicyId == policyId).OrderBy(p => p.Version).ToList());

    public async Task<Outcome<CadencePolicy>> Save(CadencePolicy policy)
    {
        var errors = CadencePolicies.Validate(policy);
        Outcome<CadencePolicy> outcome;
        if (errors.Count > 0)
        {
            outcome = Outcome<CadencePolicy>.Failure(errors);
        }
        else
        {
            var latest = AllVersions().Where(p => p.PolicyId == policy.PolicyId).Select(p => p.Version).DefaultIfEmpty(0).Max();
            var saved = policy with { Version = latest + 1, SavedAt = clock.GetUtcNow(), SavedBy = CallerContext.Current.Actor };
            book.State.Versions.Add(saved);
            await book.WriteStateAsync();
            _active = null;
            outcome = Outcome<CadencePolicy>.Success(saved);
        }
        await audit.RecordAsync(clock, "policy.save", "policy", policy?.PolicyId ?? "", AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } v ? $"version={v.Version}" : null);
        return outcome;
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

[GenerateSerializer, Alias("collections.CallTaskQueueState")]
public sealed class CallTaskQueueState
{
    [Id(0)] public List<CallTask> Tasks { get; set; } = [];
}

public sealed class CallTaskQueueGrain(
    [PersistentState(StorageNames.CallTaskQueueState, StorageNames.Collections)] IPersistentState<CallTaskQueueState> queue,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, ICallTaskQueueGrain
{
    public async Task Add(CallTask task)
    {
        if (queue.State.Tasks.Any(t => t.TaskId == task.TaskId)) return;
        queue.State.Tasks.Add(task);
        await queue.WriteStateAsync();
    }

    public Task<IReadOnlyList<CallTask>> List(CallTaskStatus? status, int limit) =>
        Task.FromResult<IReadOnlyList<CallTask>>(queue.State.Tasks
            .Where(t => status is null || t.Status == status)
            .OrderByDescending(t => t.PatientResponsibility).ThenBy(t => t.CreatedAt)
            .Take(Math.Clamp(limit, 1, 1000)).ToList());

    public async Task<Outcome<CallTask>> Complete(string taskId, ContactOutcome? outcome)
    {
        var index = queue.State.Tasks.FindIndex(t => t.TaskId == taskId);
        Outcome<CallTask> result;
        if (index < 0)
            result = Outcome<CallTask>.Failure(DomainError.NotFound("task.not-found", "No call task with this id."));
        else if (queue.State.Tasks[index].Status == CallTaskStatus.Done)
            result = Outcome<CallTask>.Success(queue.State.Tasks[index]); // completing twice changes nothing
        else
        {
            var task = queue.State.Tasks[index];
            if (task.Kind == CallTaskKind.Call && outcome is null)
                return Outcome<CallTask>.Failure(DomainError.Invalid("outcome", "outcome.required", "Say how the call went (noAnswer, leftMessage, rightPartyContact, wrongNumber)."));
            if (task.Kind == CallTaskKind.Call)
                await grains.GetGrain<IGuarantorGrain>(task.GuarantorId).RecordCall(task.Account, ContactInitiator.Agent, outcome!.Value, task.TaskId);
            var done = task with { Status = CallTaskStatus.Done, Outcome = outcome, CompletedAt = clock.GetUtcNow(), CompletedBy = CallerContext.Current.Actor };
            queue.State.Tasks[index] = done;
            await queue.WriteStateAsync();
            result = Outcome<CallTask>.Success(done);
        }
        await audit.RecordAsync(clock, "call-task.complete", "account", index < 0 ? taskId : queue.State.Tasks[index].Account.ToString(),
            AuditExtensions.OutcomeOf(result.Errors), $"task={taskId};outcome={outcome}");
        return result;
    }
}

[GenerateSerializer, Alias("collections.PhoneDirectoryState")]
public sealed class PhoneDirectoryState
{
    [Id(0)] public List<string> GuarantorIds { get; set; } = [];
}

/// <summary>Keyed by a 10-digit phone number.</summary>
public sealed class PhoneDirectoryGrain(
    [PersistentState(StorageNames.PhoneDirectoryState, StorageNames.Collections)] IPersistentState<PhoneDirectoryState> directory) : Grain, IPhoneDirectoryGrain
{
    public async Task Add(string guarantorId)
    {
        if (directory.State.GuarantorIds.Contains(guarantorId)) return;
        directory.State.GuarantorIds.Add(guarantorId);
        await directory.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> Find() => Task.FromResult<IReadOnlyList<string>>(directory.State.GuarantorIds.ToList());
}
