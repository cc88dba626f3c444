using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Persistence;

namespace Collections.Grains;

// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class CallTaskQueueGrain(
    [PersistentState(StorageNames.CallTaskQueueState, StorageNames.Collections)] IPersistentState<CallTaskQueueState> queue,
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

    public Task<CallTask?> Find(string taskId) => Task.FromResult(queue.State.Tasks.FirstOrDefault(t => t.TaskId == taskId));

    public async Task<Outcome<CallTask>> MarkDone(string taskId, ContactOutcome? outcome)
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
                return Outcome<CallTask>.Failure(CallTaskDeskGrain.OutcomeRequired);
            var done = task with { Status = CallTaskStatus.Done, Outcome = outcome, CompletedAt = clock.GetUtcNow(), CompletedBy = CallerContext.Current.Actor };
            queue.State.Tasks[index] = done;
            await queue.WriteStateAsync(audit, AuditExtensions.Event(clock, "call-task.complete", "account", done.Account.ToString(), "ok", $"task={taskId};outcome={outcome}"));
            return Outcome<CallTask>.Success(done);
        }
        await audit.RecordAsync(clock, "call-task.complete", "account", index < 0 ? taskId : queue.State.Tasks[index].Account.ToString(),
            AuditExtensions.OutcomeOf(result.Errors), $"task={taskId};outcome={outcome}");
        return result;
    }
}
