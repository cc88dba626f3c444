using System.Diagnostics;
using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>
/// One queue's worklist: a thin shell around the pure <see cref="WorklistQueue"/>, writing through to the worklist
/// tables and loading them back when it activates.
/// <para>
/// Reentrant on purpose: every call changes the in-memory queue synchronously, in one turn, before its first await,
/// and Orleans runs one turn of an activation at a time. So a lease is decided (and the account taken out of the
/// callable set) before anything else can run, and two agents can never get the same account; meanwhile the slow
/// parts (the account's gate check, the database write, the audit) of many calls overlap, and concurrent writes share
/// one transaction. After an await, a call looks again at what it changed rather than trusting what it saw before.
/// </para>
/// </summary>
[Reentrant]
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class WorklistQueueGrain(
    WorklistStore store,
    IWorklistCallCheck calls,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit,
    ILogger<WorklistQueueGrain> logger) : Grain, IWorklistQueueGrain
{
    /// <summary>At most this many accounts are checked (and deferred or dropped) for one offer.</summary>
    public const int MaxChecksPerOffer = 100;
    /// <summary>How far back recorded outcomes are loaded for the supervisor's view.</summary>
    public static readonly TimeSpan WorkedLoaded = TimeSpan.FromDays(7);

    private WorklistQueue _queue = new();
    private WorklistQueueDefinition _definition = null!;
    private readonly Dictionary<string, Task<WorklistOffer?>> _offering = new(StringComparer.Ordinal);
    private string QueueId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        _definition = await grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key).Definition(QueueId);
        _queue = new WorklistQueue(_definition.Ordering);
        var now = clock.GetUtcNow();
        await foreach (var row in store.EntriesAsync(QueueId, cancellationToken))
            _queue.Restore(ToEntry(row), row.RetryAfter, now);
        foreach (var lease in await store.LeasesAsync(QueueId, cancellationToken))
            _queue.RestoreLease(new AccountKey(lease.Facility, lease.AccountNumber), lease.Agent, lease.LeasedAt, lease.ExpiresAt, now);
        foreach (var outcome in await store.OutcomesAsync(QueueId, now - WorkedLoaded, cancellationToken))
        {
            if (!Enum.TryParse<WorklistOutcome>(outcome.Outcome, ignoreCase: true, out var kind)) continue;
            _queue.RestoreWorked(new WorkedAccount
            {
                Agent = outcome.Agent, Account = new AccountKey(outcome.Facility, outcome.AccountNumber), Outcome = kind, At = outcome.RecordedAt,
                IdempotencyKey = outcome.IdempotencyKey,
            });
        }
        CollectionsMetrics.WorklistDepth(QueueId, _queue.Count);
        logger.LogInformation("Worklist queue {QueueId} loaded {Entries} entries in {Elapsed:0} ms", QueueId, _queue.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        CollectionsMetrics.WorklistDepthGone(QueueId);
        return Task.CompletedTask;
    }

    public Task Upsert(WorklistEntry entry)
    {
        _queue.Upsert(entry, clock.GetUtcNow());
        return WriteAsync([SaveEntry(entry.Account)]);
    }

    public Task UpsertMany(IReadOnlyList<WorklistEntry> entries)
    {
        var now = clock.GetUtcNow();
        foreach (var entry in entries) _queue.Upsert(entry, now);
        return WriteAsync(entries.Select(e => e.Account).Distinct().Select(SaveEntry).ToList());
    }

    public Task Remove(AccountKey account) =>
        _queue.Remove(account) ? WriteAsync([new WorklistWrite.DeleteEntry(QueueId, account.Facility, account.AccountNumber)]) : Task.CompletedTask;

    public Task<WorklistOffer?> Next(string agent)
    {
        // One offer at a time per agent: a second request while the first is being checked gets the same answer.
        if (_offering.TryGetValue(agent, out var pending)) return pending;
        var offer = OfferAsync(agent);
        if (!offer.IsCompleted) _offering[agent] = offer;
        return offer;
    }

    private async Task<WorklistOffer?> OfferAsync(string agent)
    {
        try
        {
            for (var checks = 0; checks < MaxChecksPerOffer; checks++)
            {
                var lease = _queue.Next(agent, clock.GetUtcNow(), TimeSpan.FromMinutes(_definition.LeaseMinutes));
                if (lease is null) return null;
                var account = lease.Entry.Account;
                CallCheck check;
                try
                {
                    check = await calls.CheckAsync(account);
                }
                catch
                {
                    _queue.Release(account, agent, clock.GetUtcNow()); // not offered: back to the worklist
                    throw;
                }

                var now = clock.GetUtcNow();
                var decision = check.Decision;
                if (decision.Verdict == GateVerdict.Allow)
                {
                    // Still ours? (While the account answered, it may have left the worklist, or the lease may have run out.)
                    var held = _queue.HeldBy(agent, now);
                    if (held is null || held.Entry.Account != account) continue;
                    await Task.WhenAll(
                        WriteAsync([new WorklistWrite.SaveLease(new WorklistLeaseRow(QueueId, account.Facility, account.AccountNumber, agent, held.LeasedAt, held.ExpiresAt))]),
                        audit.RecordAsync(clock, "account.read", "account", account.ToString(), "ok",
                            $"worklist={QueueId};lease-until={held.ExpiresAt:O};balance={check.PatientBalance:0.00}"));
                    return new WorklistOffer { QueueId = QueueId, Lease = held with { Reoffered = lease.Reoffered }, Check = check };
                }
                if (decision.Verdict == GateVerdict.Defer && decision.NotBefore is { } notBefore)
                {
                    if (_queue.Defer(account, notBefore, now)) await WriteAsync([SaveEntry(account)]);
                }
                else
                {
                    _queue.Release(account, agent, now);
                    if (_queue.Remove(account)) await WriteAsync([new WorklistWrite.DeleteEntry(QueueId, account.Facility, account.AccountNumber)]);
                }
            }
            return null;
        }
        finally
        {
            _offering.Remove(agent);
        }
    }

    public Task<WorklistPeek> Peek(string agent)
    {
        var now = clock.GetUtcNow();
        return Task.FromResult(new WorklistPeek { QueueId = QueueId, Held = _queue.HeldBy(agent, now), Best = _queue.Peek(now) });
    }

    public Task<LeaseHolding?> Holder(AccountKey account) => Task.FromResult(_queue.Holder(account, clock.GetUtcNow()));

    public Task<WorkedAccount?> FindWorked(string agent, AccountKey account, string idempotencyKey) =>
        Task.FromResult(_queue.FindWorked(agent, account, idempotencyKey));

    public async Task<bool> Complete(AccountKey account, string agent, WorklistOutcome outcome, string? idempotencyKey)
    {
        var now = clock.GetUtcNow();
        DateTimeOffset? retry = WorklistOutcomes.IsAttempt(outcome) && _definition.RetryMinutes > 0 ? now.AddMinutes(_definition.RetryMinutes) : null;
        var completed = _queue.Complete(account, agent, outcome, now, retry, idempotencyKey);
        if (completed)
        {
            List<WorklistWrite> writes =
            [
                new WorklistWrite.DeleteLease(QueueId, account.Facility, account.AccountNumber),
                new WorklistWrite.AddOutcome(new WorklistOutcomeRow(QueueId, account.Facility, account.AccountNumber, agent, WorklistOutcomes.Name(outcome), now, idempotencyKey)),
            ];
            if (_queue.Get(account) is not null) writes.Add(SaveEntry(account));
            await WriteAsync(writes);
        }
        await audit.RecordAsync(clock, "worklist.complete", "account", account.ToString(), completed ? "ok" : "refused:lease.not-held", $"worklist={QueueId};outcome={WorklistOutcomes.Name(outcome)}");
        return completed;
    }

    public async Task<bool> Release(AccountKey account, string agent)
    {
        var released = _queue.Release(account, agent, clock.GetUtcNow());
        if (released) await WriteAsync([new WorklistWrite.DeleteLease(QueueId, account.Facility, account.AccountNumber)]);
        await audit.RecordAsync(clock, "worklist.release", "account", account.ToString(), released ? "ok" : "refused:lease.not-held", $"worklist={QueueId}");
        return released;
    }

    public Task<WorklistStats> Stats(DateTimeOffset? since)
    {
        var now = clock.GetUtcNow();
        return Task.FromResult(_queue.Stats(now, since ?? now.AddDays(-1)));
    }

    public Task<WorklistEntry?> Get(AccountKey account) => Task.FromResult(_queue.Get(account));

    public Task Configure(WorklistQueueDefinition definition)
    {
        _definition = definition;
        _queue.Reorder(definition.Ordering);
        return Task.CompletedTask;
    }

    /// <summary>The account's entry as it stands now (read synchronously, before any await).</summary>
    private WorklistWrite SaveEntry(AccountKey account)
    {
        var entry = _queue.Get(account);
        if (entry is null) return new WorklistWrite.DeleteEntry(QueueId, account.Facility, account.AccountNumber);
        return new WorklistWrite.SaveEntry(new WorklistEntryRow(QueueId, account.Facility, account.AccountNumber, entry.GuarantorId,
            Cents(entry.PatientBalance), entry.Probability, Cents(entry.ExpectedRecovery), entry.OldestBalanceDate, entry.CallableFrom,
            _queue.RetryAfter(account), entry.ModelVersion, entry.UpdatedAt));
    }

    private static long Cents(decimal amount) => (long)decimal.Round(amount * 100m);

    private static WorklistEntry ToEntry(WorklistEntryRow row) => new()
    {
        Account = new AccountKey(row.Facility, row.AccountNumber), GuarantorId = row.GuarantorId, PatientBalance = row.PatientBalanceCents / 100m,
        Probability = row.Probability, ExpectedRecovery = row.ExpectedRecoveryCents / 100m, OldestBalanceDate = row.OldestBalanceDate,
        CallableFrom = row.CallableFrom, ModelVersion = row.ModelVersion, UpdatedAt = row.UpdatedAt,
    };

    /// <summary>Writes through; if the write fails the in-memory queue is ahead of storage, so this activation ends and the next one reloads.</summary>
    private async Task WriteAsync(IReadOnlyList<WorklistWrite> writes)
    {
        try
        {
            await store.WriteAsync(writes);
            CollectionsMetrics.WorklistDepth(QueueId, _queue.Count);
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }
}
