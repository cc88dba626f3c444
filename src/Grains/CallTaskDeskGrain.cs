using Orleans.Concurrency;
using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>
/// Agents' side of a facility's call tasks. It holds no state and nothing calls it, so it may wait on the queue and on
/// accounts without ever being waited on by them: the queue itself calls no grain (a guarantor adding a task never
/// waits behind a task being closed that waits on that guarantor).
/// </summary>
[StatelessWorker]
public sealed class CallTaskDeskGrain(IGrainFactory grains) : Grain, ICallTaskDeskGrain
{
    internal static readonly DomainError OutcomeRequired =
        DomainError.Invalid("outcome", "outcome.required", "Say how the call went (noAnswer, leftMessage, rightPartyContact, wrongNumber).");

    private ICallTaskQueueGrain Queue => grains.GetGrain<ICallTaskQueueGrain>(this.GetPrimaryKeyString());

    public async Task<IReadOnlyList<CallTask>> List(CallTaskStatus? status, int limit)
    {
        var tasks = await Queue.List(status, limit);
        // Each open call is checked now: the gate's decision as the account would give it before a dial. Sixteen at a
        // time; an account that cannot answer leaves its task's callNow empty (check it on the account before dialling)
        // rather than failing the whole list.
        using var turns = new SemaphoreSlim(16);
        var checks = await Task.WhenAll(tasks.Select(async task =>
        {
            if (task is not { Kind: CallTaskKind.Call, Status: CallTaskStatus.Open }) return null;
            await turns.WaitAsync();
            try
            {
                return (await grains.GetGrain<IPatientAccountGrain>(task.Account.ToString()).CheckCall()).Decision;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return null;
            }
            finally
            {
                turns.Release();
            }
        }));
        return tasks.Select((task, i) => checks[i] is { } decision ? task with { CallNow = decision } : task).ToList();
    }

    public async Task<Outcome<CallTask>> Complete(string taskId, ContactOutcome? outcome)
    {
        if (await Queue.Find(taskId) is { Kind: CallTaskKind.Call, Status: CallTaskStatus.Open } task)
        {
            if (outcome is null) return Outcome<CallTask>.Failure(OutcomeRequired);
            // The call is a fact: logged on its account (once, by the task's id), flagged if it broke a rule. An account
            // closed since keeps no calls; the person's contact history still gets it.
            var logged = await grains.GetGrain<IPatientAccountGrain>(task.Account.ToString()).LogCall(new CallLogRequest
            {
                Initiator = ContactInitiator.Agent, Outcome = outcome, Channel = ContactChannel.Voice, IdempotencyKey = $"call-task:{taskId}",
            });
            if (logged.Errors.Any(e => e.Code == "account.not-found"))
                await grains.GetGrain<IGuarantorGrain>(task.GuarantorId).RecordCall(task.Account, ContactInitiator.Agent, outcome.Value, taskId);
            else if (!logged.Succeeded) return Outcome<CallTask>.Failure(logged.Errors);
        }
        return await Queue.MarkDone(taskId, outcome);
    }
}
