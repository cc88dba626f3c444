using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Grains;

namespace Collections.Gateway.Worklist;

/// <summary>Who works the worklist: the agent's id, and whether they are limited to the queues that list them (agents) or may act in any queue (supervisors).</summary>
public sealed record WorklistWorker(string Agent, bool OwnQueuesOnly);

/// <summary>The account offered to an agent, or none callable now; <see cref="NotOneOfTheAgents"/> when the agent named a queue that does not list them.</summary>
public sealed record OfferResult(WorklistOffer? Offer, bool NotOneOfTheAgents, IReadOnlyList<DomainError> Errors);

/// <summary>How a recorded call ended: refused (errors), not allowed by the gate (<see cref="Call"/> not Allow), recorded now, or recorded earlier under the same key (<see cref="Replayed"/>, with the outcome recorded then).</summary>
public sealed record CallRecordResult(IReadOnlyList<DomainError> Errors, WorklistOutcome Outcome, GateDecision? Call, bool Completed, bool Replayed, AccountView? Account)
{
    /// <summary>Why the outcome's note was not added to the account's notes (they are full); the call was recorded.</summary>
    public string? NoteNotKept { get; init; }
}

/// <summary>
/// An agent's work on the worklist across queues: the next account to call, recording how a call went (the account
/// logs the call and its consequence as one command, then the queue closes the lease), and giving an account back.
/// Each step is a grain call that completes before the next starts; no grain calls another here.
/// </summary>
public sealed class AgentWorklist(IGrainFactory grains, ILogger<AgentWorklist> logger)
{
    private IWorklistDirectoryGrain Directory => grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key);

    private IWorklistQueueGrain Queue(string queueId) => grains.GetGrain<IWorklistQueueGrain>(queueId);

    /// <summary>
    /// The best account callable now from the worker's queues (or the queue named), leased to them: their own lease
    /// first, then across queues the highest expected recovery from each queue's own pick.
    /// </summary>
    public async Task<OfferResult> NextAsync(WorklistWorker worker, string? queueId)
    {
        IReadOnlyList<string> queues;
        if (queueId is not null)
        {
            if (worker.OwnQueuesOnly && !(await Directory.QueuesOf(worker.Agent)).Contains(queueId)) return new OfferResult(null, true, []);
            queues = [queueId];
        }
        else
        {
            queues = await Directory.QueuesOf(worker.Agent);
            if (queues.Count == 0)
                return new OfferResult(null, false, [DomainError.Conflict("worklist.no-queue", $"No worklist queue lists you as an agent: a supervisor adds your key id ({worker.Agent}) to a queue, or name a queue (queueId).")]);
        }
        var peeks = await Task.WhenAll(queues.Select(q => Queue(q).Peek(worker.Agent)));
        var order = peeks.Where(p => p.Held is not null)
            .Concat(peeks.Where(p => p.Held is null && p.Best is not null).OrderByDescending(p => p.Best!.ExpectedRecovery));
        foreach (var peek in order)
        {
            if (await Queue(peek.QueueId).Next(worker.Agent) is { } offer) return new OfferResult(offer, false, []);
        }
        return new OfferResult(null, false, []);
    }

    /// <summary>
    /// Records how the call went on the account (the call through the gate, once per idempotency key, with its
    /// promise, hold or plan) and then completes the lease. A key already recorded returns the account as it is now.
    /// </summary>
    public async Task<CallRecordResult> RecordOutcomeAsync(WorklistWorker worker, AccountKey key, string? queueId, CallOutcomeRequest request)
    {
        var account = grains.GetGrain<IPatientAccountGrain>(key.ToString());
        var lease = await FindLeaseAsync(worker, key, queueId, request.IdempotencyKey);
        if (lease.Worked is not null)
        {
            // The key recorded another call: a second call under it, refused as the account refuses it. The lease keeps
            // the outcome; the account, while it keeps the call, all the request asked (its words, a promise's terms).
            if (lease.Worked.Outcome != request.Outcome || await CompareLoggedCallAsync(account, request) == LoggedCallComparison.Different)
                return new CallRecordResult([LoggedCall.KeyReused], request.Outcome, null, false, false, null);
            var current = await account.Get();
            return current is null
                ? new CallRecordResult([DomainError.NotFound("account.not-found", "No account is open with this facility and account number.")], lease.Worked.Outcome, null, false, true, null)
                : new CallRecordResult([], lease.Worked.Outcome, null, true, true, current)
                {
                    NoteNotKept = AccountNotes.NotKeptOnRetry(request.Note, WorklistOutcomes.CallKey(request.IdempotencyKey), current.Notes),
                };
        }
        if (lease.Error is not null) return new CallRecordResult([lease.Error], request.Outcome, null, false, false, null);

        var recorded = await account.RecordCallOutcome(request with { LeasedAt = lease.LeasedAt });
        if (!recorded.Succeeded) return new CallRecordResult(recorded.Errors, request.Outcome, null, false, false, null);
        var result = recorded.Value!;
        if (result.Call.Verdict != GateVerdict.Allow) return new CallRecordResult([], request.Outcome, result.Call, false, false, result.Account);
        var completed = await Queue(lease.QueueId!).Complete(key, worker.Agent, request.Outcome, request.IdempotencyKey);
        return new CallRecordResult([], request.Outcome, result.Call, completed, false, result.Account) { NoteNotKept = result.NoteNotKept };
    }

    /// <summary>
    /// The account's comparison of a retried call with the one it logged. A silo of the release before has no such
    /// method (during a rolling upgrade): then the lease's outcome is all there is to compare, as that release did,
    /// and the failure is logged (its type only), so that a comparison that always fails does not go unseen.
    /// </summary>
    private async Task<LoggedCallComparison> CompareLoggedCallAsync(IPatientAccountGrain account, CallOutcomeRequest request)
    {
        try
        {
            return await account.CompareLoggedCall(request);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("The account could not compare a retried call with the one it logged ({Error}); the lease's outcome was compared alone", ex.GetType().Name);
            return LoggedCallComparison.NotKept;
        }
    }

    /// <summary>The lease holder gives the account back without an outcome; an error when they hold no lease on it.</summary>
    public async Task<DomainError?> ReleaseAsync(WorklistWorker worker, AccountKey key, string? queueId)
    {
        var lease = await FindLeaseAsync(worker, key, queueId, null);
        if (lease.Error is not null) return lease.Error;
        return await Queue(lease.QueueId!).Release(key, worker.Agent) ? null : LeaseError("lease.not-held", "You no longer hold a lease on this account.");
    }

    /// <summary>The worker's own tally since <paramref name="since"/>, across the queues that list them.</summary>
    public async Task<AgentTally> TallyAsync(WorklistWorker worker, DateTimeOffset since)
    {
        var queues = await Directory.QueuesOf(worker.Agent);
        var stats = await Task.WhenAll(queues.Select(q => Queue(q).Stats(since)));
        return AgentTally.Of(stats.SelectMany(s => s.Agents).Where(a => a.Agent == worker.Agent).SelectMany(a => a.Worked));
    }

    private sealed record LeaseLookup(string? QueueId, WorkedAccount? Worked, DomainError? Error, DateTimeOffset? LeasedAt = null);

    /// <summary>
    /// The queue in which the worker holds (or last held, with nobody else since) the account's lease: the queue named,
    /// else their queues, the facility's default queue and (for supervisors) every defined queue. Or the outcome
    /// already recorded under this idempotency key.
    /// </summary>
    private async Task<LeaseLookup> FindLeaseAsync(WorklistWorker worker, AccountKey key, string? named, string? idempotencyKey)
    {
        var candidates = new List<string>();
        if (named is not null) candidates.Add(named);
        else
        {
            var directory = Directory;
            candidates.AddRange(await directory.QueuesOf(worker.Agent));
            candidates.Add(await directory.Route(key.Facility, null));
            candidates.Add(key.Facility);
            if (!worker.OwnQueuesOnly) candidates.AddRange((await directory.List()).Select(q => q.QueueId));
        }
        string? heldByOther = null;
        foreach (var queueId in candidates.Distinct(StringComparer.Ordinal))
        {
            var queue = Queue(queueId);
            if (idempotencyKey is not null && await queue.FindWorked(worker.Agent, key, idempotencyKey) is { } worked) return new LeaseLookup(queueId, worked, null);
            var holder = await queue.Holder(key);
            if (holder?.Agent == worker.Agent) return new LeaseLookup(queueId, null, null, holder.LeasedAt);
            if (holder is { Active: true }) heldByOther = holder.Agent;
        }
        return heldByOther is not null
            ? new LeaseLookup(null, null, LeaseError("lease.held-by-other", "Another agent holds this account now: your lease ran out and it was offered again."))
            : new LeaseLookup(null, null, LeaseError("lease.not-held", "You hold no lease on this account: take accounts with POST /api/worklist/next."));
    }

    private static DomainError LeaseError(string code, string message) => DomainError.Conflict(code, message);
}
