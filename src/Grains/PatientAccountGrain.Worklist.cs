using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>The entry an account last sent to a worklist queue (so it re-sends only what materially changed).</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistPublication")]
public sealed record WorklistPublication
{
    [Id(0)] public required string QueueId { get; init; }
    [Id(1)] public required WorklistEntry Entry { get; init; }
}

/// <summary>The account's side of the agents' worklist: the call check the queue asks for, and keeping its queue entry current.</summary>
public sealed partial class PatientAccountGrain
{
    public async Task<CallCheck> CheckCall()
    {
        if (!State.IsOpen)
            return new CallCheck { Decision = GateDecision.Deny("account.not-found", "No account is open with this facility and account number.") };
        var now = clock.GetUtcNow();
        var balances = Balances;
        // Holds are left to the gate, which names the hold; it also sees the guarantor's.
        var decision = await CheckCallAsync(balances, onHold: false, now);
        if (decision.Verdict == GateVerdict.Deny && State.Worklist is not null)
        {
            // The queue drops an account it may not offer: forget it was sent, so it is sent again once it is eligible.
            State.Worklist = null;
            await PersistAsync();
        }
        return new CallCheck { Decision = decision, PatientBalance = balances.PatientResponsibility, Score = State.Score };
    }

    /// <summary>The worklist's rules for the account, then the gate's decision on an agent's call now (nothing recorded).</summary>
    private async Task<GateDecision> CheckCallAsync(AccountBalances balances, bool onHold, DateTimeOffset now)
    {
        var arrangements = settings.Arrangements;
        var refusal = WorklistEligibility.Refusal(
            balances.PatientResponsibility, onHold,
            State.PlacedWithAgencyAt is not null, State.RecalledFromAgencyAt is not null,
            State.Promises.Any(p => ArrangementRulesLogic.Evaluate(p, State.Entries, arrangements, now).Status == PromiseStatus.Pending),
            State.Plans.Any(p => ArrangementRulesLogic.Evaluate(p, State.Entries, balances.PatientResponsibility, arrangements, now).Status == PlanStatus.Active),
            State.CadenceStatus);
        if (refusal is not null) return refusal;
        var result = await grains.GetGrain<IGuarantorGrain>(State.GuarantorId).CheckContact(AgentCallRequest(balances));
        return result.Decision;
    }

    /// <summary>The contact request <see cref="LogCall"/> sends for an agent's call, as a question (it is checked, never recorded).</summary>
    private ContactPermitRequest AgentCallRequest(AccountBalances balances) => new()
    {
        RequestId = $"{Id}/call/worklist-check",
        Account = Key,
        Action = OutreachAction.CallTask,
        Channel = ContactChannel.Voice,
        Initiator = ContactInitiator.Agent,
        Outcome = ContactOutcome.Attempted,
        DebtHolds = State.Holds.ToList(),
        PatientResponsibility = balances.PatientResponsibility,
        FirstStatementAt = State.FirstStatementAt,
        FinalNoticeAt = State.FinalNoticeAt,
    };

    /// <summary>
    /// Keeps the account's worklist entry current, at the end of every cadence run: an eligible account sends its entry
    /// (balance, score, the gate's not-before for a call) to the queue it routes to, only when that materially changed
    /// or the route changed; an account that stopped being eligible is removed from its queue. A failure leaves what
    /// was last sent as it was, so the next run tries again; the queue's own check at offer time keeps it honest meanwhile.
    /// </summary>
    private async Task PublishWorklistEntryAsync(AccountBalances balances, bool onHold, DateTimeOffset now)
    {
        var sent = State.Worklist;
        try
        {
            WorklistEntry? entry = null;
            string? queueId = null;
            var refusal = WorklistEligibility.Refusal(balances.PatientResponsibility, onHold,
                State.PlacedWithAgencyAt is not null, State.RecalledFromAgencyAt is not null,
                State.Promises.Any(p => p.Status == PromiseStatus.Pending), State.Plans.Any(p => p.Status == PlanStatus.Active), State.CadenceStatus);
            if (refusal is null)
            {
                var guarantor = grains.GetGrain<IGuarantorGrain>(State.GuarantorId);
                var person = await guarantor.GetContactSummary();
                var gate = (await guarantor.CheckContact(AgentCallRequest(balances))).Decision;
                if (gate.Verdict != GateVerdict.Deny)
                {
                    queueId = await grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key).Route(Key.Facility, person.PreferredLanguage);
                    entry = WorklistEntryFor(balances, gate.Verdict == GateVerdict.Defer ? gate.NotBefore : null, now);
                }
            }

            if (entry is null || queueId is null)
            {
                if (sent is null) return;
                await grains.GetGrain<IWorklistQueueGrain>(sent.QueueId).Remove(Key);
                State.Worklist = null;
                await PersistAsync();
                return;
            }
            if (sent is not null && sent.QueueId == queueId && sent.Entry.SameAs(entry, now)) return;
            if (sent is not null && sent.QueueId != queueId)
                await grains.GetGrain<IWorklistQueueGrain>(sent.QueueId).Remove(Key); // a queue definition changed the route
            await grains.GetGrain<IWorklistQueueGrain>(queueId).Upsert(entry);
            var moved = sent is null || sent.QueueId != queueId;
            State.Worklist = new WorklistPublication { QueueId = queueId, Entry = entry };
            // Which queue holds the entry is written at once (a forgotten move could leave the account in two queues);
            // a new balance or score in the same queue rides on the account's next state write, since sending the
            // same entry again after a restart is harmless.
            if (moved) await PersistAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger<PatientAccountGrain>()
                .LogWarning("Could not update an account's worklist entry ({Error}); the next cadence run tries again", ex.GetType().Name);
        }
    }

    private WorklistEntry WorklistEntryFor(AccountBalances balances, DateTimeOffset? callableFrom, DateTimeOffset now)
    {
        var score = State.Score;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        return new WorklistEntry
        {
            Account = Key,
            GuarantorId = State.GuarantorId,
            PatientBalance = balances.PatientResponsibility,
            Probability = score?.Probability,
            ExpectedRecovery = WorklistEntry.ExpectedRecoveryOf(score?.Probability, balances.PatientResponsibility),
            OldestBalanceDate = Aging.Of(State.FirstPatientStatementDate, State.Entries, DateOnly.FromDateTime(State.OpenedAt.UtcDateTime), today).BasisDate,
            CallableFrom = callableFrom,
            ModelVersion = score?.ModelVersion,
            UpdatedAt = now,
        };
    }
}
