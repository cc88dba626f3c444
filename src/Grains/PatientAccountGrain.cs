using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Orleans.Concurrency;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.AccountState")]
public sealed class AccountState
{
    [Id(0)] public bool IsOpen { get; set; }
    [Id(1)] public string GuarantorId { get; set; } = "";
    [Id(2)] public PatientDetails? Patient { get; set; }
    [Id(3)] public string? PrimaryPayer { get; set; }
    [Id(4)] public DateOnly? AdmitDate { get; set; }
    [Id(5)] public DateOnly? DischargeDate { get; set; }
    [Id(6)] public DateTimeOffset OpenedAt { get; set; }
    [Id(7)] public string? OpenedBy { get; set; }
    /// <summary>Set when the first statement goes to the patient; aging counts from it.</summary>
    [Id(8)] public DateOnly? FirstPatientStatementDate { get; set; }
    /// <summary>The append-only ledger, oldest first.</summary>
    [Id(9)] public List<LedgerEntry> Entries { get; set; } = [];
    [Id(10)] public DateTimeOffset? FirstStatementAt { get; set; }
    [Id(11)] public DateTimeOffset? FinalNoticeAt { get; set; }
    [Id(12)] public DateTimeOffset? PlacedWithAgencyAt { get; set; }
    [Id(13)] public CadenceProgress Cadence { get; set; } = new();
    [Id(14)] public CadenceStatus CadenceStatus { get; set; }
    [Id(15)] public string? PolicyReference { get; set; }
    /// <summary>When the cadence reminder is armed for (null: no reminder).</summary>
    [Id(16)] public DateTimeOffset? ReminderDueAt { get; set; }
    [Id(17)] public List<Hold> Holds { get; set; } = [];
    [Id(18)] public List<PromiseToPay> Promises { get; set; } = [];
    [Id(19)] public List<PaymentPlan> Plans { get; set; } = [];
    /// <summary>The latest compliance decisions about this account, newest last (trimmed).</summary>
    [Id(20)] public List<ContactDecisionRecord> Decisions { get; set; } = [];
    /// <summary>Since when the account has held a credit balance; null when it has none.</summary>
    [Id(21)] public DateTimeOffset? CreditBalanceSince { get; set; }
    [Id(22)] public DateTimeOffset? RecalledFromAgencyAt { get; set; }
    /// <summary>How many times the cadence status has changed (numbers the statusChanged events).</summary>
    [Id(23)] public int StatusChanges { get; set; }
    /// <summary>
    /// Events stored with the change that raised them and not yet handed to the event sink: a crash between the two
    /// loses none (they are published at the next call or activation; the sink ignores an event id it already has).
    /// </summary>
    [Id(24)] public List<AccountEvent> PendingEvents { get; set; } = [];
    /// <summary>The latest payment-likelihood score (null until the account is first scored).</summary>
    [Id(25)] public AccountScore? Score { get; set; }
    /// <summary>What the score was computed from (model, challenger side, a fingerprint of the inputs): unchanged means no rescore.</summary>
    [Id(26)] public string? ScoreBasis { get; set; }
    /// <summary>The worklist entry last sent to a queue (null: the account is in no queue).</summary>
    [Id(40)] public WorklistPublication? Worklist { get; set; }
    /// <summary>The fingerprint of the KPI facts last written to the reporting tables (null: none written yet).</summary>
    [Id(41)] public string? KpiFingerprint { get; set; }
}

public sealed partial class PatientAccountGrain(
    [PersistentState(StorageNames.AccountState, StorageNames.Collections)] IPersistentState<AccountState> account,
    IGrainFactory grains,
    CadenceSettings settings,
    TimeProvider clock,
    IAuditTrail audit,
    IAccountEventSink events,
    AccountScoring scoring,
    KpiStore kpis) : Grain, IPatientAccountGrain, IRemindable
{
    public const string CadenceReminder = "cadence";
    private const int DecisionsKept = 200;
    private const string Resource = "account";
    private string Id => this.GetPrimaryKeyString();
    private AccountKey Key => AccountKey.Parse(Id);
    private AccountState State => account.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken) => PublishEventsAsync();

    public async Task<Outcome<AccountView>> Open(OpenAccountRequest request)
    {
        var outcome = await OpenAsync(request);
        await audit.RecordAsync(clock, "account.open", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Succeeded ? $"guarantor={request.GuarantorId}" : null);
        return outcome;
    }

    private async Task<Outcome<AccountView>> OpenAsync(OpenAccountRequest request)
    {
        var now = clock.GetUtcNow();
        if (State.IsOpen)
            return Outcome<AccountView>.Failure(DomainError.Conflict("account.exists", "An account with this facility and account number is already open.", "accountNumber"));
        var errors = AccountRules.ValidateOpening(request.GuarantorId, request.Patient?.FirstName, request.Patient?.LastName,
            request.Patient?.DateOfBirth, request.Patient is not null, request.PrimaryPayer, request.AdmitDate, request.DischargeDate, now);
        if (errors.Count > 0)
            return Outcome<AccountView>.Failure(errors);

        var guarantorId = request.GuarantorId!.Trim();
        var linked = await grains.GetGrain<IGuarantorGrain>(guarantorId).LinkAccount(Key);
        if (!linked)
            return Outcome<AccountView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id; register the guarantor first.", "guarantorId"));

        State.IsOpen = true;
        State.GuarantorId = guarantorId;
        State.Patient = request.Patient is null ? null : request.Patient with { FirstName = request.Patient.FirstName?.Trim(), LastName = request.Patient.LastName?.Trim() };
        State.PrimaryPayer = Text.Clean(request.PrimaryPayer);
        State.AdmitDate = request.AdmitDate;
        State.DischargeDate = request.DischargeDate;
        State.OpenedAt = now;
        State.OpenedBy = CallerContext.Current.Actor;
        await PersistAsync();
        return Outcome<AccountView>.Success(View(now));
    }

    public async Task<AccountView?> Get()
    {
        var view = State.IsOpen ? View(clock.GetUtcNow()) : null;
        await audit.RecordAsync(clock, "account.read", Resource, Id, view is null ? "not-found" : "ok");
        return view;
    }

    public async Task<Outcome<PostingReceipt>> Post(EntryRequest request)
    {
        var outcome = await PostAsync(request);
        var entry = outcome.Value?.Entry;
        await audit.RecordAsync(clock, outcome.Value?.IsReplay == true ? "account.entry.replay" : "account.entry.post", Resource, Id,
            AuditExtensions.OutcomeOf(outcome.Errors),
            entry is null ? $"kind={request.Kind}" : $"entry={entry.EntryId};kind={entry.Kind};amount={entry.Amount:0.00}");
        await PublishEventsAsync();
        if (outcome.Succeeded && outcome.Value?.IsReplay == false)
            await RunCadenceAsync(); // the patient's share may have started or ended the cadence
        return outcome;
    }

    private async Task<Outcome<PostingReceipt>> PostAsync(EntryRequest request)
    {
        if (!State.IsOpen)
            return Outcome<PostingReceipt>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));

        var now = clock.GetUtcNow();
        var facts = new AccountFacts(HasInsurance: State.PrimaryPayer is not null);
        var decision = LedgerPosting.Prepare(request, State.Entries, facts, CallerContext.Current.Actor, now);
        if (!decision.Accepted)
            return Outcome<PostingReceipt>.Failure(decision.Errors);
        if (!decision.IsReplay)
        {
            var before = Balances;
            State.Entries.Add(decision.Entry!);
            RaiseBalanceEvents(before, [decision.Entry!], now);
            await ScoreWithPostingAsync(now);
            await PersistAsync();
            await TrackPaymentsAsync([decision.Entry!], now);
        }
        return Outcome<PostingReceipt>.Success(new PostingReceipt
        {
            Entry = decision.Entry!,
            IsReplay = decision.IsReplay,
            Balances = AccountBalances.Of(State.Entries),
        });
    }

    public async Task<Outcome<IReadOnlyList<PostingReceipt>>> PostBatch(IReadOnlyList<EntryRequest> requests)
    {
        Outcome<IReadOnlyList<PostingReceipt>> outcome;
        if (!State.IsOpen)
            outcome = Outcome<IReadOnlyList<PostingReceipt>>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else
        {
            var now = clock.GetUtcNow();
            var facts = new AccountFacts(HasInsurance: State.PrimaryPayer is not null);
            var working = State.Entries.ToList();
            var receipts = new List<(LedgerEntry Entry, bool Replay)>();
            IReadOnlyList<DomainError>? refused = null;
            foreach (var request in requests)
            {
                var decision = LedgerPosting.Prepare(request, working, facts, CallerContext.Current.Actor, now);
                if (!decision.Accepted) { refused = decision.Errors; break; }
                if (!decision.IsReplay) working.Add(decision.Entry!);
                receipts.Add((decision.Entry!, decision.IsReplay));
            }
            if (refused is not null)
                outcome = Outcome<IReadOnlyList<PostingReceipt>>.Failure(refused);
            else
            {
                if (receipts.Any(r => !r.Replay))
                {
                    var before = Balances;
                    State.Entries = working;
                    RaiseBalanceEvents(before, receipts.Where(r => !r.Replay).Select(r => r.Entry).ToList(), now);
                    await ScoreWithPostingAsync(now);
                    await PersistAsync();
                    await TrackPaymentsAsync(receipts.Where(r => !r.Replay).Select(r => r.Entry), now);
                }
                var balances = Balances;
                outcome = Outcome<IReadOnlyList<PostingReceipt>>.Success(receipts.Select(r => new PostingReceipt { Entry = r.Entry, IsReplay = r.Replay, Balances = balances }).ToList());
            }
        }
        await audit.RecordAsync(clock, "account.entry.post-batch", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } posted ? $"entries={string.Join(",", posted.Select(r => r.Entry.EntryId))};new={posted.Count(r => !r.IsReplay)}" : $"requests={requests.Count}");
        await PublishEventsAsync();
        if (outcome.Value?.Any(r => !r.IsReplay) == true)
            await RunCadenceAsync(); // a transfer to the patient starts the cadence
        return outcome;
    }

    public async Task<Outcome<PostingReceipt>> ApproveRefund(RefundApproval approval)
    {
        Outcome<PostingReceipt> outcome;
        var credit = Balances.CreditBalance;
        if (!State.IsOpen)
            outcome = Outcome<PostingReceipt>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else if (credit <= 0 && approval.IdempotencyKey is { } key && State.Entries.Any(e => e.IdempotencyKey == key.Trim()))
            outcome = await PostAsync(RefundRequest(approval, credit)); // a retry of an approval already posted
        else if (credit <= 0)
            outcome = Outcome<PostingReceipt>.Failure(DomainError.Conflict("refund.no-credit", "The account holds no credit balance to refund."));
        else
            outcome = await PostAsync(RefundRequest(approval, credit));
        await audit.RecordAsync(clock, "account.refund.approve", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } r ? $"entry={r.Entry.EntryId};amount={r.Entry.Amount:0.00}" : null);
        await PublishEventsAsync();
        if (outcome.Value?.IsReplay == false) await RunCadenceAsync();
        return outcome;
    }

    private static EntryRequest RefundRequest(RefundApproval approval, decimal credit) => new()
    {
        Kind = EntryKind.Refund,
        Amount = approval.Amount ?? credit,
        Party = approval.Party,
        Payer = approval.Payer,
        Method = approval.Method ?? PaymentMethod.Check,
        Reference = approval.Reference,
        Note = "Refund approved by a supervisor",
        IdempotencyKey = approval.IdempotencyKey,
    };

    /// <summary>Notes when the account enters or leaves credit; true when that changed (the facility's registry is told).</summary>
    private bool TrackCreditBalance(AccountBalances balances, DateTimeOffset now)
    {
        if (balances.CreditBalance > 0)
        {
            State.CreditBalanceSince ??= now;
            return true; // entered credit, or the amount in credit may have changed
        }
        if (State.CreditBalanceSince is null) return false;
        State.CreditBalanceSince = null;
        return true;
    }

    private CreditBalanceItem? CreditItem(AccountBalances balances) => State.CreditBalanceSince is { } since
        ? new CreditBalanceItem
        {
            Account = Key, CreditBalance = balances.CreditBalance, Since = since,
            RefundDueBy = DateOnly.FromDateTime(since.UtcDateTime).AddDays(settings.RefundDueDays),
        }
        : null;

    public async Task<Outcome<AccountView>> RecallPlacement(string? reason)
    {
        var outcome = await ChangeAsync(now =>
        {
            if (State.PlacedWithAgencyAt is null)
                return [DomainError.Conflict("placement.none", "The account is not placed with an agency.")];
            if (State.RecalledFromAgencyAt is not null)
                return [DomainError.Conflict("placement.recalled", "The account was already recalled from the agency.")];
            var errors = new ErrorList();
            Text.Require(reason, "reason", 200, errors);
            if (errors.Any) return errors.Errors;
            State.RecalledFromAgencyAt = now;
            return [];
        });
        if (outcome.Succeeded)
            await grains.GetGrain<IPlacementRegisterGrain>(Key.Facility).Recall(Key, reason!.Trim(), State.RecalledFromAgencyAt!.Value);
        await audit.RecordAsync(clock, "account.placement.recall", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public async Task<Outcome<AccountView>> PlaceHold(HoldRequest request)
    {
        var outcome = await ChangeAsync(now =>
        {
            var (hold, errors) = HoldRules.Place(request, State.Holds, CallerContext.Current.Actor, now);
            if (hold is not null) State.Holds.Add(hold);
            return errors;
        });
        await audit.RecordAsync(clock, "account.hold.place", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"reason={request.Reason}");
        return outcome;
    }

    public async Task<Outcome<AccountView>> ReleaseHold(string holdId, string? note)
    {
        var outcome = await ChangeAsync(now =>
        {
            var (released, errors) = HoldRules.Release(holdId, note, State.Holds, CallerContext.Current.Actor, now);
            if (released is not null) State.Holds[State.Holds.FindIndex(h => h.HoldId == holdId)] = released;
            return errors;
        });
        await audit.RecordAsync(clock, "account.hold.release", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"hold={holdId}");
        return outcome;
    }

    public async Task<Outcome<AccountView>> MakePromise(PromiseRequest request)
    {
        var outcome = await ChangeAsync(now =>
        {
            var (promise, errors) = ArrangementRulesLogic.MakePromise(request, Balances.PatientResponsibility, State.Promises.Count,
                State.Promises.Any(p => p.Status == PromiseStatus.Pending), settings.Arrangements, CallerContext.Current.Actor, now);
            if (promise is not null) State.Promises.Add(promise);
            return errors;
        });
        await audit.RecordAsync(clock, "account.promise.make", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"amount={request.Amount:0.00};date={request.PromisedDate}");
        return outcome;
    }

    public async Task<Outcome<AccountView>> StartPlan(PlanRequest request)
    {
        var outcome = await ChangeAsync(now =>
        {
            var (plan, errors) = ArrangementRulesLogic.MakePlan(request, Balances.PatientResponsibility, State.Plans.Count,
                State.Plans.Any(p => p.Status == PlanStatus.Active), settings.Arrangements, CallerContext.Current.Actor, now);
            if (plan is not null) State.Plans.Add(plan);
            return errors;
        });
        await audit.RecordAsync(clock, "account.plan.start", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            $"installments={request.InstallmentCount};frequency={request.Frequency}");
        return outcome;
    }

    public async Task<Outcome<GateDecision>> LogCall(CallLogRequest request)
    {
        var outcome = await LogCallAsync(request);
        await audit.RecordAsync(clock, "account.call.log", Resource, Id,
            outcome.Succeeded ? outcome.Value!.Verdict == GateVerdict.Allow ? "ok" : $"refused:{outcome.Value.Rule}" : AuditExtensions.OutcomeOf(outcome.Errors),
            $"initiator={request.Initiator};outcome={request.Outcome}");
        if (outcome.Value?.Verdict == GateVerdict.Allow) await RunCadenceAsync(); // the contact history changed: rescore, and the cadence may react
        return outcome;
    }

    private async Task<Outcome<GateDecision>> LogCallAsync(CallLogRequest request)
    {
        if (!State.IsOpen)
            return Outcome<GateDecision>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        var errors = new ErrorList();
        if (string.IsNullOrWhiteSpace(request.IdempotencyKey))
            errors.Invalid("Idempotency-Key", "idempotency-key.required", "Logging a call needs an Idempotency-Key, so a retry records it once.");
        if (request.Outcome is null)
            errors.Invalid("outcome", "outcome.required", "Say how the call went (noAnswer, leftMessage, rightPartyContact, wrongNumber).");
        if (request.Channel is not (null or ContactChannel.Voice or ContactChannel.AutomatedVoice))
            errors.Invalid("channel", "channel.not-a-call", "A call uses voice or automatedVoice.");
        if (errors.Any) return Outcome<GateDecision>.Failure(errors.Errors);

        var now = clock.GetUtcNow();
        var result = await grains.GetGrain<IGuarantorGrain>(State.GuarantorId).RequestContact(new ContactPermitRequest
        {
            RequestId = $"{Id}/call/{request.IdempotencyKey!.Trim()}",
            Account = Key,
            Action = OutreachAction.CallTask,
            Channel = request.Channel ?? ContactChannel.Voice,
            Initiator = request.Initiator ?? ContactInitiator.Agent,
            Outcome = request.Outcome,
            DebtHolds = State.Holds.ToList(),
            PatientResponsibility = Balances.PatientResponsibility,
            FirstStatementAt = State.FirstStatementAt,
            FinalNoticeAt = State.FinalNoticeAt,
        });
        Remember(new ContactDecisionRecord
        {
            At = now, StepId = "agent-call", Action = OutreachAction.CallTask, Channel = request.Channel ?? ContactChannel.Voice,
            PolicyReference = "agent", Decision = result.Decision,
        });
        await PersistAsync();
        return Outcome<GateDecision>.Success(result.Decision);
    }

    public Task Reevaluate() => State.IsOpen ? RunCadenceAsync() : Task.CompletedTask;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != CadenceReminder) return Task.CompletedTask;
        State.ReminderDueAt = null; // this tick used it up; the run re-arms it
        return RunCadenceAsync();
    }

    /// <summary>Applies a validated change, persists it, and lets the cadence react (pause, resume) at once.</summary>
    private async Task<Outcome<AccountView>> ChangeAsync(Func<DateTimeOffset, IReadOnlyList<DomainError>> change)
    {
        if (!State.IsOpen)
            return Outcome<AccountView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        var now = clock.GetUtcNow();
        var errors = change(now);
        if (errors.Count > 0) return Outcome<AccountView>.Failure(errors);
        await PersistAsync();
        await RunCadenceAsync();
        return Outcome<AccountView>.Success(View(clock.GetUtcNow()));
    }

    /// <summary>
    /// The cadence shell: settle promises and plans, then ask the pure engine what is due, take each due step through
    /// the guarantor's compliance gate, record the outcome, persist, and arm the one reminder for the next due time
    /// (or remove it). Safe to run any number of times: steps already taken are recorded and contact requests are
    /// idempotent, so a tick that arrives twice, late or after a restart sends nothing twice.
    /// </summary>
    private async Task RunCadenceAsync()
    {
        // Whatever triggered it, what the cadence does is the engine's own doing, and is audited as such.
        var caller = CallerContext.Current;
        CallerContext.Set(CadenceActor);
        try
        {
            await RunCadenceCoreAsync();
        }
        finally
        {
            CallerContext.Set(caller);
        }
    }

    private static readonly Caller CadenceActor = new() { Actor = "system:cadence", Role = "system" };

    private async Task RunCadenceCoreAsync()
    {
        var now = clock.GetUtcNow();
        var balances = Balances;
        var arrangements = settings.Arrangements;
        var wakes = new List<DateTimeOffset>();
        // What the run may change (pure steps return the same instances when nothing changes), to write only on change.
        var before = (State.Cadence, State.CadenceStatus, State.PolicyReference, Decisions: State.Decisions.Count, Events: State.PendingEvents.Count,
            Promises: State.Promises.ToArray(), Plans: State.Plans.ToArray(), State.FirstStatementAt, State.FinalNoticeAt, State.PlacedWithAgencyAt, State.CreditBalanceSince);

        for (var i = 0; i < State.Promises.Count; i++)
        {
            var promise = ArrangementRulesLogic.Evaluate(State.Promises[i], State.Entries, arrangements, now);
            State.Promises[i] = promise;
            if (promise.Status == PromiseStatus.Pending) wakes.Add(ArrangementRulesLogic.Deadline(promise.PromisedDate, arrangements.GraceDays));
        }
        for (var i = 0; i < State.Plans.Count; i++)
            State.Plans[i] = ArrangementRulesLogic.Evaluate(State.Plans[i], State.Entries, balances.PatientResponsibility, arrangements, now);

        var guarantor = grains.GetGrain<IGuarantorGrain>(State.GuarantorId);
        var person = await guarantor.GetContactSummary();
        var onHold = person.OnHold || State.Holds.Any(h => h.IsActive);
        var scoreBefore = State.Score;
        if (!_scoredWithPosting) await ScoreIfStaleAsync(guarantor, balances, now);
        _scoredWithPosting = false;

        var planIndex = State.Plans.FindIndex(p => p.Status == PlanStatus.Active);
        if (planIndex >= 0 && !onHold)
        {
            var plan = State.Plans[planIndex];
            if (ArrangementRulesLogic.ReminderDue(plan, State.Entries, arrangements, now) is { } installment)
            {
                var channel = person.PreferredChannel is ContactChannel.Voice or ContactChannel.AutomatedVoice ? ContactChannel.Mail : person.PreferredChannel;
                var result = await RequestAsync(guarantor, $"{plan.PlanId}-installment-{installment.Number}", OutreachAction.InstallmentReminder, channel, plan.PlanId, installment.DueDate, now);
                if (result.Verdict != GateVerdict.Defer)
                    State.Plans[planIndex] = plan = plan with { Reminded = [.. plan.Reminded, installment.Number] };
                else
                    wakes.Add(result.NotBefore!.Value);
            }
            if (ArrangementRulesLogic.NextCheck(plan, arrangements, now) is { } check) wakes.Add(check);
        }

        var policies = await grains.GetGrain<ICadencePolicyBookGrain>(ICadencePolicyBookGrain.Key).GetActive();
        var policy = CadencePolicies.Select(policies, Key.Facility, balances.PatientResponsibility, selfPay: State.PrimaryPayer is null, State.Score?.Probability)
                     ?? CadencePolicies.Standard;
        var situation = new CadenceSituation(balances.PatientResponsibility, onHold,
            State.Promises.Any(p => p.Status == PromiseStatus.Pending), planIndex >= 0);

        CadenceEvaluation evaluation;
        for (var guard = 0; ; guard++)
        {
            evaluation = CadenceEngine.Evaluate(State.Cadence, policy, situation, settings.DayLength, now);
            State.Cadence = evaluation.Progress;
            if (evaluation.DueStep is not { } step || guard >= 20) break;
            State.Cadence = await TakeStepAsync(guarantor, person, policy, step, balances, now);
        }
        if (evaluation.WakeAt is { } wake) wakes.Add(wake);
        if (State.CadenceStatus != evaluation.Status)
        {
            State.StatusChanges++;
            Raise(AccountEventTypes.StatusChanged, $"status-{State.StatusChanges}", now, balances,
                previousStatus: StatusName(State.CadenceStatus), status: StatusName(evaluation.Status));
        }
        State.CadenceStatus = evaluation.Status;
        State.PolicyReference = evaluation.Status == CadenceStatus.Idle ? null : policy.Reference;
        var creditChanged = TrackCreditBalance(balances, now);
        var dueChanged = await ArmReminderAsync(wakes.Count == 0 ? null : wakes.Min(), now);

        var changed = dueChanged || !ReferenceEquals(scoreBefore, State.Score)
            || !ReferenceEquals(before.Cadence, State.Cadence) || before.CadenceStatus != State.CadenceStatus || before.PolicyReference != State.PolicyReference
            || before.Decisions != State.Decisions.Count || before.Events != State.PendingEvents.Count
            || !before.Promises.SequenceEqual(State.Promises, ReferenceEqualityComparer.Instance)
            || !before.Plans.SequenceEqual(State.Plans, ReferenceEqualityComparer.Instance)
            || before.FirstStatementAt != State.FirstStatementAt || before.FinalNoticeAt != State.FinalNoticeAt
            || before.PlacedWithAgencyAt != State.PlacedWithAgencyAt || before.CreditBalanceSince != State.CreditBalanceSince;
        if (changed) await PersistAsync();
        if (creditChanged)
            await grains.GetGrain<ICreditBalanceRegistryGrain>(Key.Facility).Update(Key, CreditItem(balances));
        await PublishEventsAsync();
        await PublishWorklistEntryAsync(balances, onHold, now);
        await PublishKpiFactsAsync(balances, now);
    }

    private async Task<CadenceProgress> TakeStepAsync(IGuarantorGrain guarantor, GuarantorContactSummary person, CadencePolicy policy, CadenceStep step, AccountBalances balances, DateTimeOffset now)
    {
        StepRecord Record(StepOutcome outcome, OutreachAction action, ContactChannel? channel, string reason) =>
            new() { StepId = step.StepId, Outcome = outcome, Action = action, Channel = channel, PolicyReference = policy.Reference, At = now, Reason = reason };

        if (step.MinimumBalance is { } minimum && balances.PatientResponsibility < minimum)
            return CadenceEngine.Record(State.Cadence, Record(StepOutcome.Skipped, step.Action, step.Channel, $"The patient owes less than {minimum:0.00}."));

        GateDecision? last = null;
        foreach (var (channel, action) in CadenceEngine.Attempts(step, person.PreferredChannel))
        {
            var requestId = $"{Id}/c{State.Cadence.Cycle}/{step.StepId}/{channel?.ToString() ?? "action"}";
            var dueDate = State.FirstStatementAt is { } first ? DateOnly.FromDateTime(first.UtcDateTime).AddDays(policy.DueDays) : DateOnly.FromDateTime(now.UtcDateTime).AddDays(policy.DueDays);
            var decision = await RequestAsync(guarantor, requestId, action, channel, $"{policy.Reference}, step {step.StepId}", dueDate, now, step.StepId);
            last = decision;
            if (decision.Verdict == GateVerdict.Allow)
            {
                switch (action)
                {
                    case OutreachAction.PatientStatement when State.FirstStatementAt is null:
                        State.FirstStatementAt = now;
                        State.FirstPatientStatementDate = DateOnly.FromDateTime(now.UtcDateTime);
                        break;
                    case OutreachAction.FinalNotice:
                        State.FinalNoticeAt ??= now;
                        break;
                    case OutreachAction.AgencyPlacement:
                        if (State.PlacedWithAgencyAt is null)
                        {
                            State.PlacedWithAgencyAt = now;
                            Raise(AccountEventTypes.Placed, $"placed-{now.UtcTicks}", now, balances);
                        }
                        await grains.GetGrain<IPlacementRegisterGrain>(Key.Facility).Place(new AgencyPlacement
                        {
                            Account = Key, GuarantorId = State.GuarantorId, BalancePlaced = balances.PatientResponsibility, PlacedAt = State.PlacedWithAgencyAt.Value,
                            FirstStatementAt = State.FirstStatementAt, PolicyReference = policy.Reference,
                        });
                        break;
                }
                await audit.RecordAsync(clock, "account.cadence.step", Resource, Id, "ok", $"step={step.StepId};action={action};channel={channel};policy={policy.Reference}");
                return CadenceEngine.Record(State.Cadence, Record(StepOutcome.Done, action, channel, decision.Reason));
            }
            if (decision.Verdict == GateVerdict.Defer)
                return CadenceEngine.Defer(State.Cadence, step.StepId, decision.NotBefore!.Value);
            if (!decision.Rule.StartsWith("channel.", StringComparison.Ordinal)) break; // only a closed channel has a fallback
        }
        return CadenceEngine.Record(State.Cadence, Record(StepOutcome.Skipped, step.Action, step.Channel, last?.Reason ?? "No channel to use."));
    }

    private async Task<GateDecision> RequestAsync(IGuarantorGrain guarantor, string requestId, OutreachAction action, ContactChannel? channel, string reason, DateOnly? dueDate, DateTimeOffset now, string? stepId = null)
    {
        var balances = Balances;
        var result = await guarantor.RequestContact(new ContactPermitRequest
        {
            RequestId = requestId.Contains('/', StringComparison.Ordinal) ? requestId : $"{Id}/{requestId}",
            Account = Key,
            Action = action,
            Channel = channel,
            Initiator = ContactInitiator.Engine,
            DebtHolds = State.Holds.ToList(),
            PatientResponsibility = balances.PatientResponsibility,
            FirstStatementAt = State.FirstStatementAt,
            FinalNoticeAt = State.FinalNoticeAt,
            StatementLines = action is OutreachAction.PatientStatement or OutreachAction.FinalNotice ? StatementLines() : [],
            DueDate = dueDate,
            PolicyReference = State.PolicyReference,
            Reason = reason,
        });
        Remember(new ContactDecisionRecord
        {
            At = now, StepId = stepId ?? requestId, Action = action, Channel = channel,
            PolicyReference = reason, Decision = result.Decision,
        });
        return result.Decision;
    }

    /// <summary>Keeps a gate decision on the account (the newest <see cref="DecisionsKept"/>).</summary>
    private void Remember(ContactDecisionRecord decision)
    {
        State.Decisions.Add(decision);
        if (State.Decisions.Count > DecisionsKept) State.Decisions.RemoveRange(0, State.Decisions.Count - DecisionsKept);
    }

    /// <summary>One reminder per account, re-armed only when its due time changes (each change is a database write). True if it changed.</summary>
    private async Task<bool> ArmReminderAsync(DateTimeOffset? due, DateTimeOffset now)
    {
        if (due == State.ReminderDueAt) return false;
        if (due is { } at)
        {
            var dueIn = at - now;
            await this.RegisterOrUpdateReminder(CadenceReminder, dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn, settings.ReminderPeriod);
        }
        else if (await this.GetReminder(CadenceReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        State.ReminderDueAt = due;
        return true;
    }

    private List<StatementItem> StatementLines()
    {
        var reversed = State.Entries.Where(e => e.ReversesEntryId is not null).Select(e => e.ReversesEntryId!).ToHashSet();
        return State.Entries
            .Where(e => !reversed.Contains(e.EntryId) && e.Kind is EntryKind.Charge or EntryKind.InsurancePayment or EntryKind.Adjustment or EntryKind.PatientPayment or EntryKind.Refund)
            .Select(e => e.Kind switch
            {
                EntryKind.Charge => new StatementItem(e.ServiceDate ?? e.EffectiveDate, e.Description ?? $"Service {e.Code}", e.Amount, e.Kind),
                EntryKind.InsurancePayment => new StatementItem(e.EffectiveDate, $"Insurance payment {e.Payer}", -e.Amount, e.Kind),
                EntryKind.Adjustment => new StatementItem(e.EffectiveDate, $"Adjustment ({e.Category})", -e.Amount, e.Kind),
                EntryKind.Refund => new StatementItem(e.EffectiveDate, "Refund", e.Amount, EntryKind.PatientPayment),
                _ => new StatementItem(e.EffectiveDate, "Your payment - thank you", -e.Amount, e.Kind),
            }).ToList();
    }

    private AccountBalances Balances => AccountBalances.Of(State.Entries);

    /// <summary>
    /// After entries were added (not yet persisted): balanceChanged if any balance moved, and paidInFull if a payment or
    /// adjustment brought what the patient owes from above zero to zero. Named after the last entry, so stable.
    /// </summary>
    private void RaiseBalanceEvents(AccountBalances before, List<LedgerEntry> added, DateTimeOffset now)
    {
        if (added.Count == 0) return;
        var after = Balances;
        var last = added[^1].EntryId;
        if (before.InsuranceBalance != after.InsuranceBalance || before.PatientBalance != after.PatientBalance)
            Raise(AccountEventTypes.BalanceChanged, $"entry-{last}", now, after, before, entryId: last);
        if (before.PatientResponsibility > 0 && after.PatientResponsibility == 0 && added.Any(e => e.Kind is EntryKind.PatientPayment or EntryKind.Adjustment))
            Raise(AccountEventTypes.PaidInFull, $"entry-{last}", now, after, before, entryId: last);
    }

    private void Raise(string type, string cause, DateTimeOffset now, AccountBalances balances, AccountBalances? previous = null,
        string? entryId = null, string? previousStatus = null, string? status = null)
    {
        var key = Key;
        State.PendingEvents.Add(new AccountEvent
        {
            EventId = AccountEvent.IdFor(Id, type, cause), Type = type, OccurredAt = now, Facility = key.Facility, AccountNumber = key.AccountNumber,
            Balances = AccountEventBalances.Of(balances), PreviousBalances = previous is null ? null : AccountEventBalances.Of(previous),
            EntryId = entryId, PreviousStatus = previousStatus, Status = status,
        });
    }

    private static string StatusName(CadenceStatus status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    /// <summary>
    /// Hands the stored pending events to the sink. If the sink cannot take them now they stay in the state and go at
    /// the next call or activation: the account's own change has already succeeded and is not undone.
    /// </summary>
    private async Task PublishEventsAsync()
    {
        if (State.PendingEvents.Count == 0) return;
        try
        {
            await events.PublishAsync(State.PendingEvents.ToList());
            State.PendingEvents.Clear(); // stored cleared with the next write; publishing again until then is harmless
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            // Kept for the next try.
        }
    }

    private async Task PersistAsync()
    {
        try
        {
            await account.WriteStateAsync();
        }
        catch
        {
            // The in-memory state is ahead of storage: drop this activation so the next call reloads what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    private AccountView View(DateTimeOffset now)
    {
        var key = Key;
        return new AccountView
        {
            Facility = key.Facility,
            AccountNumber = key.AccountNumber,
            GuarantorId = State.GuarantorId,
            Patient = State.Patient,
            PrimaryPayer = State.PrimaryPayer,
            AdmitDate = State.AdmitDate,
            DischargeDate = State.DischargeDate,
            OpenedAt = State.OpenedAt,
            FirstPatientStatementDate = State.FirstPatientStatementDate,
            Balances = Balances,
            Age = Aging.Of(State.FirstPatientStatementDate, State.Entries, DateOnly.FromDateTime(State.OpenedAt.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime)),
            Entries = State.Entries.ToList(),
            Cadence = new CadenceView
            {
                Status = State.CadenceStatus,
                PolicyReference = State.PolicyReference,
                NextActionAt = State.ReminderDueAt,
                Progress = State.Cadence,
                Decisions = State.Decisions.AsEnumerable().Reverse().Take(50).ToList(),
            },
            Holds = State.Holds.ToList(),
            Promises = State.Promises.ToList(),
            Plans = State.Plans.ToList(),
            FirstStatementAt = State.FirstStatementAt,
            FinalNoticeAt = State.FinalNoticeAt,
            PlacedWithAgencyAt = State.PlacedWithAgencyAt,
            CreditBalanceSince = State.CreditBalanceSince,
            RecalledFromAgencyAt = State.RecalledFromAgencyAt,
            Score = State.Score,
            RefundDueBy = State.CreditBalanceSince is { } since ? DateOnly.FromDateTime(since.UtcDateTime).AddDays(settings.RefundDueDays) : null,
        };
    }
}

[StatelessWorker]
public sealed class ClusterProbeGrain(ILocalSiloDetails silo) : Grain, IClusterProbeGrain
{
    public Task<string> Ping() => Task.FromResult(silo.Name);
}
