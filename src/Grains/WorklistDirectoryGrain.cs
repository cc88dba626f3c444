using Collections.Domain;
using Collections.Domain.Worklist;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>The queue definitions and routing. Reads interleave with a save waiting on a queue (a queue asks for its definition when it activates).</summary>
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class WorklistDirectoryGrain(
    [PersistentState(StorageNames.WorklistDirectoryState, StorageNames.Collections)] IPersistentState<WorklistDirectoryState> directory,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IWorklistDirectoryGrain
{
    private List<WorklistQueueDefinition> Queues => directory.State.Queues;

    public async Task<Outcome<WorklistQueueDefinition>> Save(string queueId, WorklistQueueRequest request)
    {
        var (definition, errors) = WorklistQueueRules.Validate(queueId, request);
        Outcome<WorklistQueueDefinition> outcome;
        if (definition is null)
            outcome = Outcome<WorklistQueueDefinition>.Failure(errors);
        else
        {
            var index = Queues.FindIndex(q => q.QueueId == queueId);
            var saved = definition with
            {
                Version = index < 0 ? 1 : Queues[index].Version + 1, SavedAt = clock.GetUtcNow(), SavedBy = CallerContext.Current.Actor,
            };
            if (index < 0) Queues.Add(saved);
            else Queues[index] = saved;
            try
            {
                await directory.WriteStateAsync();
            }
            catch
            {
                DeactivateOnIdle(); // memory is ahead of storage: reload on the next call
                throw;
            }
            await grains.GetGrain<IWorklistQueueGrain>(queueId).Configure(saved);
            outcome = Outcome<WorklistQueueDefinition>.Success(saved);
        }
        await audit.RecordAsync(clock, "worklist.queue.save", "worklist-queue", queueId, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } v ? $"version={v.Version};facility={v.Facility};language={v.Language};agents={v.Agents.Count};ordering={v.Ordering}" : null);
        return outcome;
    }

    public Task<IReadOnlyList<WorklistQueueDefinition>> List() =>
        Task.FromResult<IReadOnlyList<WorklistQueueDefinition>>(Queues.OrderBy(q => q.QueueId, StringComparer.Ordinal).ToList());

    public Task<WorklistQueueDefinition?> Get(string queueId) => Task.FromResult(Queues.Find(q => q.QueueId == queueId));

    public Task<WorklistQueueDefinition> Definition(string queueId) =>
        Task.FromResult(Queues.Find(q => q.QueueId == queueId) ?? WorklistRouting.Implicit(queueId));

    public Task<string> Route(string facility, string? language) => Task.FromResult(WorklistRouting.Route(Queues, facility, language));

    public Task<IReadOnlyList<string>> QueuesOf(string agent) => Task.FromResult<IReadOnlyList<string>>(Queues
        .Where(q => q.Agents.Contains(agent, StringComparer.Ordinal))
        .OrderByDescending(q => (q.Facility == WorklistRouting.AnyFacility ? 0 : 2) + (q.Language is null ? 0 : 1))
        .ThenBy(q => q.QueueId, StringComparer.Ordinal)
        .Select(q => q.QueueId).ToList());
}
