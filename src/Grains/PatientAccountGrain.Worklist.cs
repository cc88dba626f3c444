using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;

namespace Collections.Grains;

/// <summary>The entry an account last published for the worklist (so it publishes again only what materially changed).</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistPublication")]
public sealed record WorklistPublication
{
    // Id 0 held the queue id when accounts sent entries to queues themselves; the worklist projection routes now.
    [Id(1)] public required WorklistEntry Entry { get; init; }
    /// <summary>The guarantor's language the entry was routed by.</summary>
    [Id(2)] public required string Language { get; init; }
}

/// <summary>The account's side of the agents' worklist: the call check the queue asks for, and keeping its queue entry current.</summary>
public sealed partial class PatientAccountGrain
{
    public async Task<Outcome<CallOutcomeResult>> RecordCallOutcome(CallOutcomeRequest request)
    {
        var outcome = await RecordCallOutcomeAsync(request);
        await CommitAsync();
        return outcome;
    }

    private async Task<Outcome<CallOutcomeResult>> RecordCallOutcomeAsync(CallOutcomeRequest request)
    {
        if (!State.IsOpen)
            return Outcome<CallOutcomeResult>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        var now = clock.GetUtcNow();
        // A retry of a call this account already logged: what the guarantor agreed was recorded with it.
        var callKey = WorklistOutcomes.CallKey(request.IdempotencyKey);
        var (fingerprint, byValue) = (Fingerprint(request), FingerprintByValue(request));
        switch (LoggedCall(CallRequestId(callKey), fingerprint, byValue))
        {
            case (_, true): return Outcome<CallOutcomeResult>.Failure(Domain.Compliance.LoggedCall.KeyReused);
            case ({ } earlier, false):
                return Outcome<CallOutcomeResult>.Success(new CallOutcomeResult
                {
                    Call = earlier.Decision, Account = View(now), Replayed = true,
                    NoteNotKept = earlier.Decision.Verdict == GateVerdict.Allow ? AccountNotes.NotKeptOnRetry(request.Note, callKey, State.Notes) : null,
                });
        }
        var actor = CallerContext.Current.Actor;
        // What the guarantor agreed, checked before the call is logged: a promise or plan the rules refuse logs nothing.
        var (change, action, detail, errors) = OutcomeChange(request, actor, now);
        if (errors.Count > 0)
        {
            Audit(action ?? "account.call.log", AuditExtensions.OutcomeOf(errors), $"outcome={request.Outcome}");
            return Outcome<CallOutcomeResult>.Failure(errors);
        }

        var callRequest = new CallLogRequest
        {
            Initiator = request.Initiator, Outcome = WorklistOutcomes.CallOutcome(request.Outcome), Channel = ContactChannel.Voice,
            IdempotencyKey = callKey,
        };
        var (call, _) = await LogCallAsync(callRequest, fingerprint, byValue);
        AuditCall(callRequest, call, $";worklist={request.Outcome}");
        if (!call.Succeeded) return Outcome<CallOutcomeResult>.Failure(call.Errors);
        if (call.Value!.Verdict != GateVerdict.Allow) return Outcome<CallOutcomeResult>.Success(new CallOutcomeResult { Call = call.Value });

        if (change is not null)
        {
            change();
            Audit(action!, "ok", detail);
        }
        State.AgentCalls.Add(new AgentCall
        {
            Agent = actor, At = now, Outcome = request.Outcome, Inbound = request.Initiator != ContactInitiator.Agent,
            HandleSeconds = AgentCall.HandleSecondsOf(request.LeasedAt, now),
        });
        if (State.AgentCalls.Count > AgentCall.Kept) State.AgentCalls.RemoveRange(0, State.AgentCalls.Count - AgentCall.Kept);
        // What the agent wrote about the call goes on the account's notes with it (a dispute's or an assistance
        // request's also stays on its hold). The call happened whatever the notes hold: a full list keeps the call and
        // says the note was not kept.
        var (note, noteErrors) = AccountNotes.ForCall(request.Note, WorklistOutcomes.Name(request.Outcome), callKey, State.Notes, actor, now);
        if (note is not null)
        {
            State.Notes.Add(note);
            Audit("account.note.add", "ok", $"note={note.NoteId};length={note.Text.Length};call=worklist");
        }
        else if (noteErrors.Count > 0) Audit("account.note.add", AuditExtensions.OutcomeOf(noteErrors), "call=worklist");
        await RunCadenceAsync(takeSteps: false); // the contact history and arrangements changed: rescore, and the cadence reacts
        return Outcome<CallOutcomeResult>.Success(new CallOutcomeResult
        {
            Call = call.Value, Account = View(clock.GetUtcNow()), NoteNotKept = noteErrors.Count > 0 ? noteErrors[0].Message : null,
        });
    }

    public Task<LoggedCallComparison> CompareLoggedCall(CallOutcomeRequest request) =>
        Task.FromResult(LoggedCall(CallRequestId(WorklistOutcomes.CallKey(request.IdempotencyKey)), Fingerprint(request), FingerprintByValue(request)) switch
        {
            (_, true) => LoggedCallComparison.Different,
            ({ }, false) => LoggedCallComparison.Same,
            _ => LoggedCallComparison.NotKept,
        });

    /// <summary>
    /// What a call outcome asked, to tell a retry from another request under the same key, amounts as sent: the form
    /// every release compares, so a call logged here is still replayed by a silo of the release before.
    /// </summary>
    private static string Fingerprint(CallOutcomeRequest r) => Fingerprint(r, amount => amount);

    /// <summary>
    /// The same with amounts by value: a retry that sends 50 for the 50.00 it sent first asks the same. Kept beside
    /// the first (<see cref="ContactDecisionRecord.RequestFingerprintByValue"/>); calls logged before it have only the first.
    /// </summary>
    private static string FingerprintByValue(CallOutcomeRequest r) => Fingerprint(r, amount => amount is { } a ? Money.Canonical(a) : null);

    /// <summary>One formula for both forms, so that they never ask about different fields.</summary>
    private static string Fingerprint(CallOutcomeRequest r, Func<decimal?, decimal?> amount) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"outcome|{r.Initiator}|{r.Outcome}|{Text.Clean(r.Note)}|{amount(r.Promise?.Amount)}|{r.Promise?.PromisedDate:O}|{amount(r.Plan?.DownPayment)}|{r.Plan?.InstallmentCount}|{r.Plan?.Frequency}|{r.Plan?.FirstDueDate:O}");

    /// <summary>The change a worked call's outcome makes to the account (none for an attempt or a plain conversation), checked now.</summary>
    private (Action? Apply, string? Action, string? Detail, IReadOnlyList<DomainError> Errors) OutcomeChange(CallOutcomeRequest request, string actor, DateTimeOffset now)
    {
        var note = Text.Clean(request.Note);
        switch (request.Outcome)
        {
            case WorklistOutcome.PromiseToPay:
            {
                var promiseRequest = request.Promise ?? new PromiseRequest();
                var (promise, errors) = ArrangementRulesLogic.MakePromise(promiseRequest, Balances.PatientResponsibility, State.Promises.Count,
                    State.Promises.Any(p => p.Status == PromiseStatus.Pending), settings.Arrangements, actor, now, Calendar);
                return (() => State.Promises.Add(promise!), "account.promise.make", $"amount={promiseRequest.Amount:0.00};date={promiseRequest.PromisedDate}", errors);
            }
            case WorklistOutcome.Dispute or WorklistOutcome.FinancialAssistanceRequested:
            {
                var holdRequest = request.Outcome == WorklistOutcome.Dispute
                    ? new HoldRequest { Reason = HoldReason.Dispute, Note = note ?? "Disputed on a worklist call" }
                    : new HoldRequest { Reason = HoldReason.FinancialAssistancePending, Note = note ?? "Asked for financial assistance on a worklist call" };
                // The same hold already active (said on an earlier call): the call is recorded, the hold is the one there is.
                if (HoldRules.RepeatOf(holdRequest, State.Holds).Earlier is not null) return (null, null, null, []);
                var (hold, errors) = HoldRules.Place(holdRequest, State.Holds, actor, now);
                return (() => State.Holds.Add(hold!), "account.hold.place", $"reason={holdRequest.Reason}", errors);
            }
            case WorklistOutcome.PaymentPlanRequested when request.Plan is { } planRequest:
            {
                var (plan, errors) = ArrangementRulesLogic.MakePlan(planRequest, Balances.PatientResponsibility, State.Plans.Count,
                    State.Plans.Any(p => p.Status == PlanStatus.Active), settings.Arrangements, actor, now, Calendar);
                return (() => State.Plans.Add(plan!), "account.plan.start", $"installments={planRequest.InstallmentCount};frequency={planRequest.Frequency}", errors);
            }
            default:
                return (null, null, null, []);
        }
    }

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
            _dirty = true;
            await CommitAsync();
        }
        return new CallCheck { Decision = decision, PatientBalance = balances.PatientResponsibility, Score = State.Score };
    }

    /// <summary>A control account whose policy's baseline has no calls is not offered to agents (the assignment is committed with the cadence run).</summary>
    private bool ControlWithoutCalls => State.Treatment is { Control: true, CallsInBaseline: false };

    /// <summary>The worklist's rules for the account, then the gate's decision on an agent's call now (nothing recorded).</summary>
    private async Task<GateDecision> CheckCallAsync(AccountBalances balances, bool onHold, DateTimeOffset now)
    {
        var arrangements = settings.Arrangements;
        var refusal = WorklistEligibility.Refusal(
            balances.PatientResponsibility, onHold,
            State.PlacedWithAgencyAt is not null, State.RecalledFromAgencyAt is not null,
            ArrangementRulesLogic.EvaluatePromises(State.Promises, State.Entries, arrangements, now, Calendar).Any(p => p.Status == PromiseStatus.Pending),
            State.Plans.Where((p, i) => ArrangementRulesLogic.Evaluate(p, State.Entries, balances.PatientResponsibility, arrangements, now, Calendar,
                mayReinstate: i == State.Plans.Count - 1).Status == PlanStatus.Active).Any(),
            State.CadenceStatus, ControlWithoutCalls);
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
        ValidationNoticeAt = ValidationNoticeAt,
        FinalNoticeAt = NoticeFor(CurrentCycle),
    };

    /// <summary>
    /// Publishes the account's worklist entry for the worklist projection at the end of every cadence run: an eligible
    /// account's entry (balance, score, aging) when it materially changed or its route (the guarantor's language)
    /// changed; an account that stopped being eligible, its removal. The queue checks the gate again at offer time.
    /// </summary>
    private void PublishWorklistEntry(AccountBalances balances, bool onHold, string language, DateTimeOffset now)
    {
        var sent = State.Worklist;
        var refusal = WorklistEligibility.Refusal(balances.PatientResponsibility, onHold,
            State.PlacedWithAgencyAt is not null, State.RecalledFromAgencyAt is not null,
            State.Promises.Any(p => p.Status == PromiseStatus.Pending), State.Plans.Any(p => p.Status == PlanStatus.Active), State.CadenceStatus, ControlWithoutCalls);
        if (refusal is not null)
        {
            if (sent is null) return;
            State.Worklist = null;
            AddFacts(now, f => f with { Worklist = new WorklistFact { Entry = null, Language = sent.Language } });
            return;
        }
        var entry = WorklistEntryFor(balances, callableFrom: null, now);
        if (sent is not null && sent.Language == language && sent.Entry.SameAs(entry, now)) return;
        State.Worklist = new WorklistPublication { Entry = entry, Language = language };
        AddFacts(now, f => f with
        {
            Worklist = new WorklistFact { Entry = entry, Language = language, PreviousLanguage = sent is not null && sent.Language != language ? sent.Language : null },
        });
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
