using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;
using Collections.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>
/// The account's actor shell. Every command works on the state in memory, then commits once through the
/// <see cref="AccountJournal"/>: the new state, the ledger entries it appended, its audit record and the events it
/// raised, in one transaction shared with other accounts' commits; the answer comes after. Views (worklist, KPIs,
/// webhooks, registers, outbox reactions) are projections of the committed events, never written from here. A cadence
/// step that becomes due is taken by a command of its own (a one-way call to itself, backed by the reminder).
/// </summary>
public sealed partial class PatientAccountGrain(
    AccountJournal journal,
    Serializer serializer,
    IGrainFactory grains,
    CadenceSettings settings,
    TimeProvider clock,
    AccountScoring scoring,
    LegacyAccountStates legacy,
    ILogger<PatientAccountGrain> logger) : Grain, IPatientAccountGrain, IRemindable, IIncomingGrainCallFilter
{
    public const string CadenceReminder = "cadence";
    private const int DecisionsKept = 200;
    private const string Resource = "account";
    /// <summary>How soon the reminder fires for a step already due, should the one-way call that takes it be lost.</summary>
    private static readonly TimeSpan StepFallback = TimeSpan.FromMinutes(1);
    private string Id => this.GetPrimaryKeyString();
    private AccountKey Key => AccountKey.Parse(Id);
    private AccountState State { get; set; } = new();

    /// <summary>The ledger's entries by idempotency key, for the posts that ask whether theirs was used (a long ledger only).</summary>
    private readonly LedgerKeys _ledgerKeys = new();

    // What the command in progress will commit.
    private long _version;
    private int _storedEntries;
    private bool _dirty;
    private readonly List<AuditEvent> _audit = [];
    private readonly List<AccountEvent> _events = [];
    /// <summary>What this command counts in the engine's meters once it has committed (dropped with it if it fails).</summary>
    private readonly List<Action> _countAfterCommit = [];
    private AccountProjectionFacts? _facts;
    /// <summary>A cadence step is due: after the commit, a one-way call to this account takes it as a command of its own.</summary>
    private bool _stepDue;
    /// <summary>The due time the Orleans reminder is armed for, as far as this activation knows.</summary>
    private DateTimeOffset? _armedFor;
    /// <summary>
    /// The reminder fired and has not been re-armed since: Orleans fires it again every period until it is, so it is
    /// re-armed (or removed) even if the account's due time did not change.
    /// </summary>
    private bool _reminderFired;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The database not answering: nothing ran, the call that activated the account is told so (503), and the next
        // call tries the database again.
        var stored = await StoreUnavailableException.ReadingAsync("account", () => journal.ReadAsync(Id, cancellationToken));
        if (stored is null)
        {
            await CarryOverLegacyStateAsync(cancellationToken);
            return;
        }
        State = serializer.Deserialize<AccountState>(stored.Snapshot)!;
        State.Entries = stored.Entries.Select(e => serializer.Deserialize<LedgerEntry>(e)!).ToList();
        _version = stored.Version;
        _storedEntries = State.Entries.Count;
        // A commit that needs an earlier wake-up arms it first, so a stored due time has a reminder at or before it (or,
        // for a step already due, within the step fallback); one that fires early finds nothing due and re-arms by what
        // is stored. Arm one only where none is left at all.
        if (State.ReminderDueAt is not null)
        {
            if (await this.GetReminder(CadenceReminder, cancellationToken) is null) await ArmReminderAsync();
            else _armedFor = State.ReminderDueAt;
        }
    }

    /// <summary>
    /// A command that did not commit: what it staged (audit records, events, facts, counts, a due step) is dropped, and
    /// so is the activation, whose state in memory may be ahead of what is stored.
    /// </summary>
    private void DropPending()
    {
        _audit.Clear();
        _events.Clear();
        _facts = null;
        _dirty = false;
        _stepDue = false;
        _countAfterCommit.Clear();
        DeactivateOnIdle();
    }

    /// <summary>Commits made by the call in progress (a command makes at most one).</summary>
    private int _commits;

    /// <summary>
    /// A command that fails before its commit (a grain it asks is unreachable, the database is down before the
    /// transaction) leaves nothing behind: its changes in memory are dropped with the activation, so no later command
    /// can commit them, and the caller is told truthfully that nothing was stored.
    /// </summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        _commits = 0;
        try
        {
            await context.Invoke();
        }
        catch (Exception ex) when (ex is not (CommandNotStoredException or CommandOutcomeUnknownException) && HasUncommittedWork)
        {
            DropPending();
            logger.LogWarning("An account command failed before its commit ({Error}); its changes were dropped", ex.GetType().Name);
            if (_commits == 0) throw new CommandNotStoredException("The command failed before anything of it was stored. Retry it with the same idempotency key.");
            throw;
        }
    }

    private bool HasUncommittedWork => _dirty || _audit.Count > 0 || _events.Count > 0 || _facts is not null || State.Entries.Count > _storedEntries;

    /// <summary>
    /// An account stored before the journal: its state (ledger included) becomes the stream's first version, committed
    /// with an audit record, and its cadence due time is re-armed from it.
    /// </summary>
    private async Task CarryOverLegacyStateAsync(CancellationToken cancellationToken)
    {
        if (await legacy.ReadAsync(this.GetGrainId(), cancellationToken) is not { } old) return;
        State = old;
        _dirty = true;
        var caller = CallerContext.Current;
        CallerContext.Set(new Caller { Actor = "system:journal", Role = "system" });
        try
        {
            Audit("account.journal.carry-over", "ok", $"entries={State.Entries.Count}");
        }
        finally
        {
            CallerContext.Set(caller);
        }
        // The KPI rows learn the account from its first committed facts, so a rebuild from the log finds it; the worklist
        // and registers follow at its next cadence run.
        State.KpiFingerprint = null;
        PublishKpiFacts(Balances, clock.GetUtcNow());
        await CommitAsync();
    }

    public async Task<Outcome<AccountView>> Open(OpenAccountRequest request)
    {
        var outcome = await OpenAsync(request);
        Audit("account.open", AuditExtensions.OutcomeOf(outcome.Errors), outcome.Succeeded ? $"guarantor={request.GuarantorId}" : null);
        await CommitAsync();
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
        if (request.Importing) State.ImportHoldUntil = now + ImportHoldLimit;
        _dirty = true;
        return Outcome<AccountView>.Success(View(now));
    }

    public async Task<Outcome<AccountView>> RecordDischarge(DateOnly? dischargeDate)
    {
        var (outcome, detail) = await RecordDischargeAsync(dischargeDate);
        Audit("account.discharge.record", AuditExtensions.OutcomeOf(outcome.Errors), detail);
        await CommitAsync();
        return outcome;
    }

    /// <summary>The answer, and for the audit record what changed (the 501(r) period's start, the cadence, an action to review).</summary>
    private async Task<(Outcome<AccountView> Outcome, string? Detail)> RecordDischargeAsync(DateOnly? dischargeDate)
    {
        if (!State.IsOpen)
            return (Outcome<AccountView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number.")), null);
        var now = clock.GetUtcNow();
        var errors = AccountRules.ValidateDischarge(dischargeDate, State.AdmitDate, now);
        if (errors.Count > 0) return (Outcome<AccountView>.Failure(errors), null);
        var date = dischargeDate!.Value;
        // An extraordinary action that stands: a placement not recalled (a recalled one is undone), a credit report.
        var actionTaken = (State.PlacedWithAgencyAt is not null && State.RecalledFromAgencyAt is null)
                          || StandingCreditReportAt is not null;
        var cycleStatements = State.Cadence.Steps.Where(s => s.Outcome == StepOutcome.Done && s.Action == OutreachAction.PatientStatement).Select(s => s.At).ToList();
        var change = NotificationPeriod.AfterDischarge(date, State.FirstStatementAt, State.FirstPatientStatementDate is not null, actionTaken, Calendar, cycleStatements);
        // A cycle whose statement has not gone yet needs no new one: that statement comes after the discharge.
        var restarted = change.RestartsCadence && State.Cadence.IsRunning && cycleStatements.Count > 0;
        // The same date again changes nothing, unless a post-discharge statement has become possible since (a recall).
        if (State.DischargeDate == date && !restarted && change.FirstStatementAt == State.FirstStatementAt)
            return (Outcome<AccountView>.Success(View(now)), $"discharge={Iso(date)};unchanged");
        var detail = $"discharge={Iso(date)};before={(State.DischargeDate is { } b ? Iso(b) : "none")};period-start="
                     + (State.FirstStatementAt is null ? "none" : change.FirstStatementAt is null ? "cleared" : change.FirstStatementAt == State.FirstStatementAt ? "kept" : "moved")
                     + (restarted ? ";post-discharge-statement=due" : "") + (change.ActionBeforePeriod ? ";extraordinary-action-before-period=review" : "");
        State.DischargeDate = date;
        State.FirstStatementAt = change.FirstStatementAt;
        if (restarted)
        {
            var cycle = State.Cadence.Cycle;
            // From the discharge day's start everywhere the patient may be, so the statement counts wherever they are.
            var from = Calendar.StartOf(date) is var dayStart && dayStart > now ? dayStart : now;
            State.Cadence = CadenceEngine.Restart(State.Cadence, from);
            // The same debt: its control-group assignment carries over to the new cycle.
            if (State.Treatment is { Cycle: { } assigned } treatment && assigned == cycle) State.Treatment = treatment with { Cycle = State.Cadence.Cycle };
        }
        _dirty = true;
        await RunCadenceAsync(takeSteps: false); // the new cycle's statement: taken once due, as every step is
        return (Outcome<AccountView>.Success(View(now)), detail);

        static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<AccountView?> Get()
    {
        var view = State.IsOpen ? View(clock.GetUtcNow()) : null;
        Audit("account.read", view is null ? "not-found" : "ok");
        await CommitAsync();
        return view;
    }

    public async Task<Outcome<PostingReceipt>> Post(EntryRequest request)
    {
        var outcome = await PostAsync(request);
        var entry = outcome.Value?.Entry;
        Audit(outcome.Value?.IsReplay == true ? "account.entry.replay" : "account.entry.post", AuditExtensions.OutcomeOf(outcome.Errors),
            entry is null ? $"kind={request.Kind}" : $"entry={entry.EntryId};kind={entry.Kind};amount={entry.Amount:0.00}");
        if (outcome.Succeeded && outcome.Value?.IsReplay == false)
            await RunCadenceAsync(takeSteps: false); // the patient's share may have started or ended the cadence
        await CommitAsync();
        return outcome;
    }

    private async Task<Outcome<PostingReceipt>> PostAsync(EntryRequest request)
    {
        if (!State.IsOpen)
            return Outcome<PostingReceipt>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));

        var now = clock.GetUtcNow();
        var facts = new Domain.AccountFacts(HasInsurance: State.PrimaryPayer is not null);
        var decision = LedgerPosting.Prepare(request, State.Entries, facts, CallerContext.Current.Actor, now, Balances, _ledgerKeys);
        if (!decision.Accepted)
            return Outcome<PostingReceipt>.Failure(decision.Errors);
        if (!decision.IsReplay)
        {
            var before = Balances;
            if (IsImportedHistory(decision.Entry!)) decision = decision with { Entry = decision.Entry!.AsImported() };
            State.Entries.Add(decision.Entry!);
            RaiseBalanceEvents(before, [decision.Entry!], now);
            await ScoreWithPostingAsync(now);
            TrackPayments([decision.Entry!], now);
        }
        return Outcome<PostingReceipt>.Success(new PostingReceipt
        {
            Entry = decision.Entry!,
            IsReplay = decision.IsReplay,
            Balances = Balances,
        });
    }

    /// <summary>
    /// An entry of the history an import brings: posted while the import is unsettled, and dated before the account was
    /// opened here. A payment that arrives live during that day (a card, a remittance for today) is not history.
    /// </summary>
    private bool IsImportedHistory(LedgerEntry entry) =>
        State.ImportHoldUntil is not null && entry.EffectiveDate < DateOnly.FromDateTime(State.OpenedAt.UtcDateTime);

    /// <summary>How long an imported history may stay unsettled before the account settles it itself.</summary>
    public static readonly TimeSpan ImportHoldLimit = TimeSpan.FromDays(1);

    public async Task<Outcome<AccountView>> SettleImport()
    {
        Outcome<AccountView> outcome;
        if (!State.IsOpen)
            outcome = Outcome<AccountView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else
        {
            if (State.ImportHoldUntil is not null)
            {
                State.ImportHoldUntil = null;
                _dirty = true;
                await RunCadenceAsync(takeSteps: false);
            }
            outcome = Outcome<AccountView>.Success(View(clock.GetUtcNow()));
        }
        Audit("account.import.settle", AuditExtensions.OutcomeOf(outcome.Errors));
        await CommitAsync();
        return outcome;
    }

    public async Task<Outcome<IReadOnlyList<PostingReceipt>>> PostBatch(IReadOnlyList<EntryRequest> requests, bool settleImport = false)
    {
        Outcome<IReadOnlyList<PostingReceipt>> outcome;
        if (!State.IsOpen)
            outcome = Outcome<IReadOnlyList<PostingReceipt>>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else
        {
            var now = clock.GetUtcNow();
            var facts = new Domain.AccountFacts(HasInsurance: State.PrimaryPayer is not null);
            var working = State.Entries.ToList();
            var receipts = new List<(LedgerEntry Entry, bool Replay)>();
            IReadOnlyList<DomainError>? refused = null;
            var running = Balances; // carried through the batch, each entry's effect added as it goes
            for (var i = 0; i < requests.Count; i++)
            {
                var decision = LedgerPosting.Prepare(requests[i], working, facts, CallerContext.Current.Actor, now, running, _ledgerKeys);
                if (!decision.Accepted)
                {
                    // Name the entry: the batch stops at it, and nothing of the batch is posted.
                    var index = i;
                    refused = requests.Count == 1 ? decision.Errors
                        : decision.Errors.Select(e => e with { Field = $"entries[{index}]" + (string.IsNullOrEmpty(e.Field) ? "" : "." + e.Field) }).ToList();
                    break;
                }
                // An imported history's entries are known to the payment model from their own dates, not the import's.
                var entry = !decision.IsReplay && IsImportedHistory(decision.Entry!) ? decision.Entry!.AsImported() : decision.Entry!;
                if (!decision.IsReplay)
                {
                    working.Add(entry);
                    running = AccountBalances.After(running, working, working.Count - 1);
                }
                receipts.Add((entry, decision.IsReplay));
            }
            if (refused is not null)
                outcome = Outcome<IReadOnlyList<PostingReceipt>>.Failure(refused);
            else
            {
                if (receipts.Any(r => !r.Replay))
                {
                    var before = Balances;
                    State.Entries = working;
                    RememberBalances(running, working);
                    RaiseBalanceEvents(before, receipts.Where(r => !r.Replay).Select(r => r.Entry).ToList(), now);
                    await ScoreWithPostingAsync(now);
                    TrackPayments(receipts.Where(r => !r.Replay).Select(r => r.Entry), now);
                }
                var balances = Balances;
                outcome = Outcome<IReadOnlyList<PostingReceipt>>.Success(receipts.Select(r => new PostingReceipt { Entry = r.Entry, IsReplay = r.Replay, Balances = balances }).ToList());
            }
        }
        Audit("account.entry.post-batch", AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } posted ? $"entries={string.Join(",", posted.Select(r => r.Entry.EntryId))};new={posted.Count(r => !r.IsReplay)}" : $"requests={requests.Count}");
        var settle = settleImport && outcome.Succeeded && State.ImportHoldUntil is not null;
        if (settle)
        {
            State.ImportHoldUntil = null; // the history is complete: the cadence starts from where it left the account
            _dirty = true;
        }
        if (outcome.Value?.Any(r => !r.IsReplay) == true || settle)
            await RunCadenceAsync(takeSteps: false); // a transfer to the patient starts the cadence
        await CommitAsync();
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
        Audit("account.refund.approve", AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Value is { } r ? $"entry={r.Entry.EntryId};amount={r.Entry.Amount:0.00}" : null);
        if (outcome.Value?.IsReplay == false) await RunCadenceAsync(takeSteps: false);
        await CommitAsync();
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

    /// <summary>Tells the facility's credit-balance registry (a projection) when the account's credit item changed.</summary>
    private void PublishCredit(AccountBalances balances, DateTimeOffset now)
    {
        var item = CreditItem(balances);
        if (item == State.PublishedCredit) return;
        var entered = State.PublishedCredit is null;
        State.PublishedCredit = item;
        AddFacts(now, f => f with { Credit = new CreditFact { Item = item } });
        if (item is not null && entered)
            AddFacts(now, f => f with { CollectionStopped = f.CollectionStopped ?? "credit" }); // a credit stops collection contact
    }

    public Task<Outcome<AccountView>> RecallPlacement(string? reason) =>
        ChangeAsync("account.placement.recall", null, now =>
        {
            if (State.PlacedWithAgencyAt is null)
                return [DomainError.Conflict("placement.none", "The account is not placed with an agency.")];
            if (State.RecalledFromAgencyAt is not null)
                return [DomainError.Conflict("placement.recalled", "The account was already recalled from the agency.")];
            var errors = new ErrorList();
            Text.Require(reason, "reason", 200, errors);
            if (errors.Any) return errors.Errors;
            State.RecalledFromAgencyAt = now;
            AddFacts(now, f => f with { Recall = new PlacementRecall { Reason = reason!.Trim(), At = now } });
            return [];
        });

    public async Task<Outcome<AccountView>> DecideFinancialAssistance(FinancialAssistanceDecision decision)
    {
        Outcome<AccountView> outcome;
        var now = clock.GetUtcNow();
        var errors = new ErrorList();
        if (decision.Approved is null) errors.Invalid("approved", "approved.required", "Say whether the application was approved (true) or denied (false).");
        if (string.IsNullOrWhiteSpace(decision.IdempotencyKey))
            errors.Invalid("Idempotency-Key", "idempotency-key.required", "Recording a financial-assistance decision needs an Idempotency-Key, so a retry records it once.");
        Text.Check(decision.Note, "note", 500, errors);
        if (!State.IsOpen)
            outcome = Outcome<AccountView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else if (errors.Any)
            outcome = Outcome<AccountView>.Failure(errors.Errors);
        else
        {
            var key = $"financial-assistance/{decision.IdempotencyKey!.Trim()}";
            var failed = (IReadOnlyList<DomainError>)[];
            var owed = Balances.PatientResponsibility;
            // 501(r): an approval covers what the patient was billed, paid or not: a discount beyond what is still owed
            // leaves a credit, which the refund workflow pays back (the overpayment refund the rule requires).
            var billed = owed + Ledger.NetPatientPaid(State.Entries);
            var earlier = State.Entries.FirstOrDefault(e => e.IdempotencyKey == key);
            if (earlier is null && decision.Approved == true && decision.Amount > billed)
                failed = [DomainError.Invalid("amount", "amount.too-large", $"The discount ({decision.Amount:0.00}) is more than the patient was billed ({billed:0.00}: {owed:0.00} owed and {billed - owed:0.00} paid).")];
            else if (earlier is not null || decision.Approved == true && (decision.Amount ?? owed) > 0)
            {
                // A retry replays the discount first recorded (the balance it defaulted to is gone by now).
                var posted = await PostAsync(new EntryRequest
                {
                    Kind = EntryKind.Adjustment, Category = AdjustmentCategory.Charity, Party = ResponsibleParty.Patient, Amount = earlier?.Amount ?? decision.Amount ?? owed, ReasonCode = "FAP",
                    Note = earlier?.Note ?? Text.Clean(decision.Note) ?? "Financial assistance approved", IdempotencyKey = key,
                });
                failed = posted.Errors;
            }
            if (failed.Count == 0)
            {
                if (decision.Approved == true) State.FinancialAssistanceApprovedAt ??= now;
                for (var i = 0; i < State.Holds.Count; i++)
                    if (State.Holds[i] is { Reason: HoldReason.FinancialAssistancePending, IsActive: true } hold)
                        State.Holds[i] = hold with
                        {
                            ReleasedAt = now, ReleasedBy = CallerContext.Current.Actor,
                            ReleaseNote = $"Financial assistance {(decision.Approved == true ? "approved" : "denied")}{(Text.Clean(decision.Note) is { } n ? ": " + n : "")}",
                        };
                _dirty = true;
                await RunCadenceAsync(takeSteps: false);
                outcome = Outcome<AccountView>.Success(View(clock.GetUtcNow()));
            }
            else outcome = Outcome<AccountView>.Failure(failed);
        }
        Audit("account.financial-assistance.decide", AuditExtensions.OutcomeOf(outcome.Errors), $"approved={decision.Approved};amount={decision.Amount}");
        await CommitAsync();
        return outcome;
    }

    /// <summary>
    /// When the credit report that stands was taken (null: none, or withdrawn). A report taken before the account kept
    /// its time (an earlier release, or an old silo's write during an upgrade) is known by its cadence step.
    /// </summary>
    private DateTimeOffset? StandingCreditReportAt => State.CreditReportWithdrawnAt is not null ? null
        : State.CreditReportedAt ?? State.Cadence.Steps.LastOrDefault(s => s is { Outcome: StepOutcome.Done, Action: OutreachAction.CreditReporting })?.At;

    /// <summary>
    /// A credit report that stands is withdrawn once financial assistance is approved (501(r) reverses extraordinary
    /// actions) or nothing is left for the patient to pay (the bureaus do not report paid medical debt): the account
    /// keeps when and why, audits it, and raises <c>creditReportWithdrawn</c> for the system that reports to the bureaus.
    /// The event's id comes from the report's time, so it is raised once however often the account is rewritten.
    /// </summary>
    private void WithdrawCreditReport(DateTimeOffset now, AccountBalances balances)
    {
        if (StandingCreditReportAt is not { } reportedAt) return;
        var reason = State.FinancialAssistanceApprovedAt is not null ? "financialAssistance"
            : balances.PatientResponsibility > 0 ? null
            // Paid: a patient payment since the report; otherwise the share went to zero another way (an adjustment, a
            // transfer to insurance): withdrawn all the same.
            : State.Entries.Any(e => e.Kind == EntryKind.PatientPayment && e.PostedAt >= reportedAt) ? "paid" : "resolved";
        if (reason is null) return;
        State.CreditReportedAt = reportedAt;
        State.CreditReportWithdrawnAt = now;
        State.CreditReportWithdrawnReason = reason;
        Raise(AccountEventTypes.CreditReportWithdrawn, $"credit-withdrawn-{reportedAt.UtcTicks}", now, balances, status: reason);
        Audit("account.eca.reverse", "ok", reason switch
        {
            "paid" => "credit report withdrawn: paid (the bureaus do not report paid medical debt)",
            "resolved" => "credit report withdrawn: nothing left for the patient to pay",
            _ => "credit report withdrawn: financial assistance approved (501(r))",
        });
        _dirty = true;
    }

    /// <summary>
    /// 501(r): once financial assistance is approved (a decision, or a charity adjustment the billing system posted), the
    /// extraordinary collection actions already taken are reversed (an agency placement is recalled, and the reversal
    /// recorded) and the gate refuses new ones.
    /// </summary>
    private void ReverseExtraordinaryActionsOnAssistance(DateTimeOffset now)
    {
        if (State.FinancialAssistanceApprovedAt is null)
        {
            var reversed = Ledger.ReversedIds(State.Entries);
            if (State.Entries.FirstOrDefault(e => e is { Kind: EntryKind.Adjustment, Category: AdjustmentCategory.Charity } && !reversed.Contains(e.EntryId)) is not { } charity) return;
            State.FinancialAssistanceApprovedAt = charity.PostedAt;
            _dirty = true;
        }
        if (State.PlacedWithAgencyAt is not null && State.RecalledFromAgencyAt is null)
        {
            const string reason = "Financial assistance approved: extraordinary collection actions reversed (501(r))";
            State.RecalledFromAgencyAt = now;
            AddFacts(now, f => f with { Recall = new PlacementRecall { Reason = reason, At = now } });
            Audit("account.eca.reverse", "ok", "placement recalled: financial assistance approved");
            _dirty = true;
        }
    }

    public Task<Outcome<AccountView>> PlaceHold(HoldRequest request) =>
        ChangeAsync("account.hold.place", $"reason={request.Reason}", now =>
        {
            var (earlier, keyError) = HoldRules.RepeatOf(request, State.Holds);
            if (keyError is not null) return [keyError];
            if (earlier is not null) return Replayed(earlier.HoldId);
            if (HoldRules.PersonOnly(request, State.GuarantorId) is { } personOnly) return [personOnly];
            var (hold, errors) = HoldRules.Place(request, State.Holds, CallerContext.Current.Actor, now);
            if (hold is not null) State.Holds.Add(hold);
            return errors;
        });

    public Task<Outcome<AccountView>> ReleaseHold(string holdId, string? note) =>
        ChangeAsync("account.hold.release", $"hold={holdId}", now =>
        {
            var (released, errors) = HoldRules.Release(holdId, note, State.Holds, CallerContext.Current.Actor, now);
            if (released is not null) State.Holds[State.Holds.FindIndex(h => h.HoldId == holdId)] = released;
            return errors;
        });

    public Task<Outcome<AccountView>> MakePromise(PromiseRequest request) =>
        ChangeAsync("account.promise.make", $"amount={request.Amount:0.00};date={request.PromisedDate}", now =>
        {
            var (earlier, keyError) = ArrangementRulesLogic.RepeatOf(request, State.Promises);
            if (keyError is not null) return [keyError];
            if (earlier is not null) return Replayed(earlier.PromiseId);
            var (promise, errors) = ArrangementRulesLogic.MakePromise(request, Balances.PatientResponsibility, State.Promises.Count,
                State.Promises.Any(p => p.Status == PromiseStatus.Pending), settings.Arrangements, CallerContext.Current.Actor, now, Calendar);
            if (promise is not null) State.Promises.Add(promise);
            return errors;
        });

    public async Task<Outcome<NoteAdded>> AddNote(string? text, string? idempotencyKey)
    {
        Outcome<NoteAdded> outcome;
        if (!State.IsOpen)
            outcome = Outcome<NoteAdded>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else
        {
            var (note, replay, errors) = AccountNotes.Add(text, idempotencyKey, State.Notes, CallerContext.Current.Actor, clock.GetUtcNow());
            if (errors.Count > 0) outcome = Outcome<NoteAdded>.Failure(errors);
            else
            {
                if (!replay)
                {
                    State.Notes.Add(note!);
                    _dirty = true;
                }
                outcome = Outcome<NoteAdded>.Success(new NoteAdded(note!, replay));
            }
        }
        // The note's id and length, never its words.
        var added = outcome.Value?.Note;
        Audit(outcome.Value?.Replayed == true ? "account.note.replay" : "account.note.add", AuditExtensions.OutcomeOf(outcome.Errors),
            added is null ? null : $"note={added.NoteId};length={added.Text.Length}");
        await CommitAsync();
        return outcome;
    }

    public Task<Outcome<AccountView>> StartPlan(PlanRequest request) =>
        ChangeAsync("account.plan.start", $"installments={request.InstallmentCount};frequency={request.Frequency}", now =>
        {
            var (earlier, keyError) = ArrangementRulesLogic.RepeatOf(request, State.Plans);
            if (keyError is not null) return [keyError];
            if (earlier is not null) return Replayed(earlier.PlanId);
            var (plan, errors) = ArrangementRulesLogic.MakePlan(request, Balances.PatientResponsibility, State.Plans.Count,
                State.Plans.Any(p => p.Status == PlanStatus.Active), settings.Arrangements, CallerContext.Current.Actor, now, Calendar);
            if (plan is not null) State.Plans.Add(plan);
            return errors;
        });

    public async Task<Outcome<GateDecision>> LogCall(CallLogRequest request)
    {
        var (outcome, replayed) = await LogCallAsync(request,
            $"call|{request.Initiator}|{request.Outcome}|{request.Channel}" + (request.CalledAt is { } at ? $"|{at.UtcTicks}" : ""));
        if (replayed) outcome = outcome with { Replayed = true };
        AuditCall(request, outcome);
        if (outcome.Value?.Verdict == GateVerdict.Allow) await RunCadenceAsync(takeSteps: false); // the contact history changed: rescore, and the cadence may react
        await CommitAsync();
        return outcome;
    }

    private void AuditCall(CallLogRequest request, Outcome<GateDecision> outcome, string? more = null) =>
        Audit("account.call.log",
            outcome.Succeeded ? outcome.Value!.Verdict == GateVerdict.Allow ? "ok" : $"refused:{outcome.Value.Rule}" : AuditExtensions.OutcomeOf(outcome.Errors),
            $"initiator={request.Initiator};outcome={request.Outcome}" + (request.CalledAt is { } calledAt ? $";called-at={calledAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}" : "") + more
            + (outcome.Value?.Rule is { } rule && rule.StartsWith("recorded.", StringComparison.Ordinal) ? $";rule-broken={rule["recorded.".Length..]}" : ""));

    /// <summary>
    /// Logs the call with the guarantor (once per key); <c>Replayed</c> when this account already recorded that key. A
    /// call the guarantor has but this account does not (its commit was lost) is recorded here now, not replayed, so
    /// what the guarantor agreed on it is applied once.
    /// </summary>
    private async Task<(Outcome<GateDecision> Outcome, bool Replayed)> LogCallAsync(CallLogRequest request, string fingerprint, string? fingerprintByValue = null)
    {
        if (!State.IsOpen)
            return (Outcome<GateDecision>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number.")), false);
        var errors = new ErrorList();
        if (string.IsNullOrWhiteSpace(request.IdempotencyKey))
            errors.Invalid("Idempotency-Key", "idempotency-key.required", "Logging a call needs an Idempotency-Key, so a retry records it once.");
        if (request.Outcome is null)
            errors.Invalid("outcome", "outcome.required", "Say how the call went (noAnswer, leftMessage, rightPartyContact, wrongNumber).");
        if (request.Channel is not (null or ContactChannel.Voice or ContactChannel.AutomatedVoice))
            errors.Invalid("channel", "channel.not-a-call", "A call uses voice or automatedVoice.");
        if (errors.Any) return (Outcome<GateDecision>.Failure(errors.Errors), false);

        var requestId = CallRequestId(request.IdempotencyKey!);
        switch (LoggedCall(requestId, fingerprint, fingerprintByValue))
        {
            case (_, true): return (Outcome<GateDecision>.Failure(Domain.Compliance.LoggedCall.KeyReused), false);
            case ({ } earlier, false): return (Outcome<GateDecision>.Success(earlier.Decision), true);
        }
        // Checked for a new call only: a retry of one logged is answered as it was, however long ago that was.
        var now = clock.GetUtcNow();
        if (Domain.Compliance.LoggedCall.CalledAtError(request.CalledAt, now) is { } calledAtError)
            return (Outcome<GateDecision>.Failure([calledAtError]), false);
        var result = await grains.GetGrain<IGuarantorGrain>(State.GuarantorId).RequestContact(new ContactPermitRequest
        {
            RequestId = requestId,
            Account = Key,
            Action = OutreachAction.CallTask,
            Channel = request.Channel ?? ContactChannel.Voice,
            Initiator = request.Initiator ?? ContactInitiator.Agent,
            Outcome = request.Outcome,
            DebtHolds = State.Holds.ToList(),
            PatientResponsibility = Balances.PatientResponsibility,
            FirstStatementAt = State.FirstStatementAt,
            ValidationNoticeAt = ValidationNoticeAt,
            FinalNoticeAt = NoticeFor(CurrentCycle),
            FinancialAssistanceApprovedAt = State.FinancialAssistanceApprovedAt,
            OccurredAt = request.CalledAt,
        });
        Remember(new ContactDecisionRecord
        {
            At = now, StepId = "agent-call", Action = OutreachAction.CallTask, Channel = request.Channel ?? ContactChannel.Voice,
            PolicyReference = "agent", Decision = result.Decision, RequestId = requestId, RequestFingerprint = fingerprint, RequestFingerprintByValue = fingerprintByValue,
        });
        _dirty = true;
        return (Outcome<GateDecision>.Success(result.Decision), false);
    }

    public Task<string?> CollectionStop(OutreachAction action)
    {
        var balances = Balances;
        string? reason = !State.IsOpen ? "the account is not open"
            : balances.CreditBalance > 0 ? "the account is in credit"
            : balances.PatientResponsibility <= 0 ? "the patient owes nothing"
            : State.CadenceStatus == CadenceStatus.OnHold ? "the account is on hold"
            : State.CadenceStatus == CadenceStatus.PromisePending && action != OutreachAction.InstallmentReminder ? "a promise to pay is pending"
            : State.CadenceStatus == CadenceStatus.OnPaymentPlan && action != OutreachAction.InstallmentReminder ? "the account is on a payment plan"
            : null;
        return Task.FromResult(reason);
    }

    /// <summary>The cadence command: takes the steps that are due, commits what happened, arms the next wake-up.</summary>
    public async Task Reevaluate()
    {
        if (!State.IsOpen) return;
        await RunCadenceAsync(takeSteps: true);
        await CommitAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != CadenceReminder) return;
        _reminderFired = true;
        if (State.IsOpen)
        {
            await RunCadenceAsync(takeSteps: true);
            await CommitAsync(); // re-arms the reminder when the run committed
        }
        // Whatever the run did (a closed or finished account has nothing due; a run may change nothing), the reminder
        // now matches the committed due time. If the tick failed, the next commit re-arms it.
        await ArmReminderAsync();
    }

    /// <summary>Set by a change that finds its request done before (the same Idempotency-Key): the id of what it made.</summary>
    private string? _replayOf;

    private IReadOnlyList<DomainError> Replayed(string id)
    {
        _replayOf = id;
        return [];
    }

    /// <summary>
    /// Applies a validated change and lets the cadence react (pause, resume) at once; one commit with its audit record.
    /// A change that finds its request done before answers the account as it stands, audited as a replay.
    /// </summary>
    private async Task<Outcome<AccountView>> ChangeAsync(string action, string? detail, Func<DateTimeOffset, IReadOnlyList<DomainError>> change)
    {
        Outcome<AccountView> outcome;
        _replayOf = null;
        if (!State.IsOpen)
            outcome = Outcome<AccountView>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));
        else
        {
            var errors = change(clock.GetUtcNow());
            if (errors.Count > 0) outcome = Outcome<AccountView>.Failure(errors);
            else if (_replayOf is { } earlier)
            {
                // Nothing changes: the answer is what the first request made, as it stands now.
                outcome = Outcome<AccountView>.Success(View(clock.GetUtcNow())) with { Replayed = true };
                action = action[..action.LastIndexOf('.')] + ".replay";
                detail = $"{detail};of={earlier}";
            }
            else
            {
                _dirty = true;
                await RunCadenceAsync(takeSteps: false);
                outcome = Outcome<AccountView>.Success(View(clock.GetUtcNow()));
            }
        }
        Audit(action, AuditExtensions.OutcomeOf(outcome.Errors), detail);
        await CommitAsync();
        return outcome;
    }

    /// <summary>
    /// The cadence shell: settle promises and plans, then ask the pure engine what is due, take each due step through
    /// the guarantor's compliance gate, record the outcome, persist, and arm the one reminder for the next due time
    /// (or remove it). Safe to run any number of times: steps already taken are recorded and contact requests are
    /// idempotent, so a tick that arrives twice, late or after a restart sends nothing twice.
    /// </summary>
    /// <param name="takeSteps">
    /// False inside another command: the run settles status, promises and plans and the next due time, and a step that
    /// is due is left to the cadence command that follows the commit (a contact is a command of its own).
    /// </param>
    private async Task RunCadenceAsync(bool takeSteps)
    {
        // Whatever triggered it, what the cadence does is the engine's own doing, and is audited as such.
        var caller = CallerContext.Current;
        CallerContext.Set(CadenceActor);
        try
        {
            await RunCadenceCoreAsync(takeSteps);
        }
        finally
        {
            CallerContext.Set(caller);
        }
    }

    private static readonly Caller CadenceActor = new() { Actor = "system:cadence", Role = "system" };

    private async Task RunCadenceCoreAsync(bool takeSteps)
    {
        var now = clock.GetUtcNow();
        var balances = Balances;
        var arrangements = settings.Arrangements;
        var wakes = new List<DateTimeOffset>();
        // What the run may change (pure steps return the same instances when nothing changes), to write only on change.
        var before = (State.Cadence, State.CadenceStatus, State.PolicyReference, Decisions: State.Decisions.Count, Events: _events.Count,
            Promises: State.Promises.ToArray(), Plans: State.Plans.ToArray(), State.FirstStatementAt, State.FinalNoticeAt, State.PlacedWithAgencyAt, State.CreditBalanceSince,
            State.FirstPatientStatementDate, State.FinalNoticeCycle);

        var promises = ArrangementRulesLogic.EvaluatePromises(State.Promises, State.Entries, arrangements, now, Calendar);
        for (var i = 0; i < State.Promises.Count; i++)
        {
            var promise = promises[i];
            State.Promises[i] = promise;
            if (promise.Status == PromiseStatus.Pending) wakes.Add(ArrangementRulesLogic.Deadline(promise.PromisedDate, arrangements.GraceDays, Calendar));
        }
        for (var i = 0; i < State.Plans.Count; i++)
            State.Plans[i] = ArrangementRulesLogic.Evaluate(State.Plans[i], State.Entries, balances.PatientResponsibility, arrangements, now, Calendar,
                mayReinstate: i == State.Plans.Count - 1);

        var guarantor = grains.GetGrain<IGuarantorGrain>(State.GuarantorId);
        var person = await guarantor.GetContactSummary();
        if (person.TimeZones.Count > 0 && !(State.GuarantorZones ?? []).SequenceEqual(person.TimeZones))
        {
            State.GuarantorZones = [.. person.TimeZones]; // promises' and installments' days are the patient's, from the next look on
            _dirty = true;
        }
        var onHold = person.OnHold || State.Holds.Any(h => h.IsActive && h.Reason != person.HoldAnsweredByRepresentative);
        ReverseExtraordinaryActionsOnAssistance(now);
        WithdrawCreditReport(now, balances);
        var scoreBefore = State.Score;
        if (!_scoredWithPosting) await ScoreOrKeepLastAsync(guarantor, balances, now);
        _scoredWithPosting = false;

        var planIndex = State.Plans.FindIndex(p => p.Status == PlanStatus.Active);
        if (planIndex >= 0 && !onHold)
        {
            var plan = State.Plans[planIndex];
            if (ArrangementRulesLogic.ReminderDue(plan, State.Entries, arrangements, now, Calendar) is { } installment)
            {
                if (!takeSteps)
                {
                    _stepDue = true; // an installment reminder is a contact: the cadence command after this one sends it
                    wakes.Add(now);
                }
                else
                {
                    var channel = person.PreferredChannel is ContactChannel.Voice or ContactChannel.AutomatedVoice ? ContactChannel.Mail : person.PreferredChannel;
                    var result = await RequestAsync(guarantor, $"{plan.PlanId}-installment-{installment.Number}", OutreachAction.InstallmentReminder, channel, plan.PlanId, installment.DueDate, now);
                    if (result.Verdict != GateVerdict.Defer)
                        State.Plans[planIndex] = plan = plan with { Reminded = [.. plan.Reminded, installment.Number] };
                    else
                        wakes.Add(result.NotBefore!.Value);
                }
            }
            if (ArrangementRulesLogic.NextCheck(plan, arrangements, now, Calendar) is { } check) wakes.Add(check);
        }

        if (State.ImportHoldUntil is { } importHold)
        {
            if (importHold > now)
            {
                // An imported history not settled yet: no contact, no worklist entry, about a state the next rows may change.
                wakes.Add(importHold);
                var held = wakes.Min();
                if (held != State.ReminderDueAt || !ReferenceEquals(scoreBefore, State.Score) || before.Events != _events.Count) _dirty = true;
                State.ReminderDueAt = held;
                return;
            }
            State.ImportHoldUntil = null; // the importer never settled it: it settles itself
            _dirty = true;
        }

        var policies = await grains.GetGrain<ICadencePolicyBookGrain>(ICadencePolicyBookGrain.Key).GetActive();
        var policy = CadencePolicies.Select(policies, Key.Facility, balances.PatientResponsibility, selfPay: State.PrimaryPayer is null, State.Score?.Probability)
                     ?? CadencePolicies.Standard;
        if (!ControlGroups.StillHolds(State.Treatment, policy, policies, State.Cadence, balances.PatientResponsibility))
        {
            State.Treatment = ControlGroups.Assign(policy, Id, now, State.Score?.Probability, balances.PatientResponsibility); // a control account gets the policy's baseline only
            _dirty = true;
        }
        var situation = new CadenceSituation(balances.PatientResponsibility, onHold,
            State.Promises.Any(p => p.Status == PromiseStatus.Pending), planIndex >= 0, State.Treatment!.Control);

        var run = await CadenceRun.RunAsync(State.Cadence, policy, situation, person.PreferredChannel, settings.DayLength, now, takeSteps,
            attempt => new ValueTask<GateDecision>(RequestStepAsync(guarantor, policy, attempt, now)),
            (attempt, _) => StepAllowed(policy, attempt, balances, now));
        var evaluation = run.Evaluation;
        State.Cadence = evaluation.Progress;
        var recorded = ControlGroups.Record(State.Treatment!, State.Cadence);
        if (!ReferenceEquals(recorded, State.Treatment))
        {
            State.Treatment = recorded;
            _dirty = true;
        }
        if (run.StepLeftDue)
        {
            _stepDue = true; // a contact is a command of its own: taken right after this one commits
            wakes.Add(now);
        }
        if (evaluation.WakeAt is { } wake) wakes.Add(wake);
        // Messages still waiting are cancelled when collection stops (paid, a hold, a promise, a plan); not when the
        // cadence has merely run its last step: what it sent (a final notice waiting for the morning) still goes.
        if (before.CadenceStatus == CadenceStatus.Active && evaluation.Status is not (CadenceStatus.Active or CadenceStatus.Finished))
            AddFacts(now, f => f with { CollectionStopped = StatusName(evaluation.Status) });
        if (State.CadenceStatus != evaluation.Status)
        {
            State.StatusChanges++;
            Raise(AccountEventTypes.StatusChanged, $"status-{State.StatusChanges}", now, balances,
                previousStatus: StatusName(State.CadenceStatus), status: StatusName(evaluation.Status));
        }
        State.CadenceStatus = evaluation.Status;
        State.PolicyReference = evaluation.Status == CadenceStatus.Idle ? null : policy.Reference;
        TrackCreditBalance(balances, now);
        var due = wakes.Count == 0 ? (DateTimeOffset?)null : wakes.Min();
        var dueChanged = due != State.ReminderDueAt;
        State.ReminderDueAt = due;

        var changed = dueChanged || !ReferenceEquals(scoreBefore, State.Score)
            || !ReferenceEquals(before.Cadence, State.Cadence) || before.CadenceStatus != State.CadenceStatus || before.PolicyReference != State.PolicyReference
            || before.Decisions != State.Decisions.Count || before.Events != _events.Count
            || !before.Promises.SequenceEqual(State.Promises, ReferenceEqualityComparer.Instance)
            || !before.Plans.SequenceEqual(State.Plans, ReferenceEqualityComparer.Instance)
            || before.FirstStatementAt != State.FirstStatementAt || before.FinalNoticeAt != State.FinalNoticeAt
            || before.FirstPatientStatementDate != State.FirstPatientStatementDate || before.FinalNoticeCycle != State.FinalNoticeCycle
            || before.PlacedWithAgencyAt != State.PlacedWithAgencyAt || before.CreditBalanceSince != State.CreditBalanceSince;
        if (changed) _dirty = true;
        PublishCredit(balances, now);
        PublishWorklistEntry(balances, onHold, person.PreferredLanguage, now);
        PublishKpiFacts(balances, now, person);
    }

    /// <summary>The gate's decision on a cadence step's contact, asked of the guarantor (who makes the contact if allowed, once per request id).</summary>
    private Task<GateDecision> RequestStepAsync(IGuarantorGrain guarantor, CadencePolicy policy, CadenceAttempt attempt, DateTimeOffset now)
    {
        var requestId = $"{Id}/c{attempt.Cycle}/{attempt.Step.StepId}/{attempt.Channel?.ToString() ?? "action"}";
        var dueDate = State.FirstStatementAt is { } first ? DateOnly.FromDateTime(first.UtcDateTime).AddDays(policy.DueDays) : DateOnly.FromDateTime(now.UtcDateTime).AddDays(policy.DueDays);
        // A final notice names the date after which an extraordinary action may follow: never one already past.
        if (attempt.Action == OutreachAction.FinalNotice && FinalNotices.Deadline(now, settings.Compliance) is var deadline && deadline > dueDate) dueDate = deadline;
        return RequestAsync(guarantor, requestId, attempt.Action, attempt.Channel, $"{policy.Reference}, step {attempt.Step.StepId}", dueDate, now, attempt.Step.StepId, attempt.Cycle);
    }

    /// <summary>What an allowed step changes on the account, at once (the next step's gate reads it).</summary>
    private void StepAllowed(CadencePolicy policy, CadenceAttempt attempt, AccountBalances balances, DateTimeOffset now)
    {
        switch (attempt.Action)
        {
            case OutreachAction.PatientStatement:
                var statementDate = DateOnly.FromDateTime(now.UtcDateTime);
                State.FirstPatientStatementDate ??= statementDate; // aging counts from the first statement, whenever it went
                // The 120 days run from the first statement after discharge, not one sent during the stay (the
                // statement's day read as the earliest it is where the patient may be).
                if (State.FirstStatementAt is null && NotificationPeriod.StartsWith(State.DischargeDate, Calendar.Today(now)))
                    State.FirstStatementAt = now;
                break;
            case OutreachAction.FinalNotice:
                // The written notice is about this debt: a new cycle (a new balance after one paid off) needs its own.
                if (State.FinalNoticeAt is null || State.FinalNoticeCycle != attempt.Cycle)
                {
                    State.FinalNoticeAt = now;
                    State.FinalNoticeCycle = attempt.Cycle;
                }
                break;
            case OutreachAction.AgencyPlacement:
                // A placement after a recall (the cadence started again from a post-discharge statement) is a new one.
                if (State.PlacedWithAgencyAt is null || State.RecalledFromAgencyAt is not null)
                {
                    if (State.PlacedWithAgencyAt is { } before && State.RecalledFromAgencyAt is { } recalled)
                        (State.EarlierPlacements ??= []).Add(new Domain.Kpi.EarlierPlacement(before, recalled));
                    State.PlacedWithAgencyAt = now;
                    State.RecalledFromAgencyAt = null;
                    Raise(AccountEventTypes.Placed, $"placed-{now.UtcTicks}", now, balances);
                }
                var placement = new AgencyPlacement
                {
                    Account = Key, GuarantorId = State.GuarantorId, BalancePlaced = balances.PatientResponsibility, PlacedAt = State.PlacedWithAgencyAt.Value,
                    FirstStatementAt = State.FirstStatementAt, PolicyReference = policy.Reference,
                };
                AddFacts(now, f => f with { Placement = placement });
                break;
            case OutreachAction.CreditReporting:
                // Reported again only after a withdrawal (a new debt, a new cycle's step): one report stands at a time.
                // Never once assistance is approved (a step allowed before, replayed after a lost commit).
                if (State.FinancialAssistanceApprovedAt is null && (State.CreditReportedAt is null || State.CreditReportWithdrawnAt is not null))
                {
                    State.CreditReportedAt = now;
                    State.CreditReportWithdrawnAt = null;
                    State.CreditReportWithdrawnReason = null;
                    Raise(AccountEventTypes.CreditReported, $"credit-reported-{now.UtcTicks}", now, balances);
                }
                break;
        }
        Audit("account.cadence.step", "ok", $"step={attempt.Step.StepId};action={attempt.Action};channel={attempt.Channel};policy={policy.Reference}");
        if (CollectionsMetrics.CountsSteps) _countAfterCommit.Add(() => CollectionsMetrics.StepTaken(attempt.Action, attempt.Channel));
    }

    /// <summary>The final notice that counts for a cycle's extraordinary actions: not one sent about an earlier debt.</summary>
    private DateTimeOffset? NoticeFor(int cycle) => FinalNotices.For(cycle, State.FinalNoticeAt, State.FinalNoticeCycle, State.Cadence);

    private int CurrentCycle => State.Cadence?.Cycle ?? 0;

    /// <summary>
    /// The first statement about the account, by the end of its day (the date is what the state keeps): an agency's
    /// validation notice, sent whether or not it started the 501(r) period.
    /// </summary>
    private DateTimeOffset? ValidationNoticeAt
    {
        get
        {
            if (State.FirstPatientStatementDate is not { } sent) return State.FirstStatementAt;
            if (State.FirstStatementAt is { } first && DateOnly.FromDateTime(first.UtcDateTime) == sent) return first; // the same statement
            return new DateTimeOffset(sent.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
    }

    /// <summary>The patient's days, for promised dates and installments (UTC until the guarantor's zone is known here).</summary>
    private PatientCalendar Calendar => State.GuarantorZones is { Count: > 0 } zones ? new PatientCalendar(zones) : PatientCalendar.Utc;

    private async Task<GateDecision> RequestAsync(IGuarantorGrain guarantor, string requestId, OutreachAction action, ContactChannel? channel, string reason, DateOnly? dueDate, DateTimeOffset now, string? stepId = null, int? stepCycle = null)
    {
        var cycle = stepCycle ?? CurrentCycle;
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
            ValidationNoticeAt = ValidationNoticeAt,
            FinalNoticeAt = NoticeFor(cycle),
            FinancialAssistanceApprovedAt = State.FinancialAssistanceApprovedAt,
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

    private string CallRequestId(string idempotencyKey) => $"{Id}/call/{idempotencyKey.Trim()}";

    /// <summary>
    /// The decision this account recorded for a logged call's request, if it still keeps it, and whether that request
    /// asked something else (the key reused for another call): <paramref name="fingerprint"/> with amounts as sent,
    /// <paramref name="byValue"/> with amounts by value (<see cref="Domain.Compliance.LoggedCall.SameRequest"/>).
    /// </summary>
    private (ContactDecisionRecord? Earlier, bool Reused) LoggedCall(string requestId, string fingerprint, string? byValue = null) =>
        State.Decisions.LastOrDefault(d => d.RequestId == requestId) is { } earlier
            ? (earlier, !Domain.Compliance.LoggedCall.SameRequest(earlier.RequestFingerprint, earlier.RequestFingerprintByValue, fingerprint, byValue))
            : (null, false);

    /// <summary>Keeps a gate decision on the account (the newest <see cref="DecisionsKept"/>).</summary>
    private void Remember(ContactDecisionRecord decision)
    {
        AddFacts(decision.At, f => f with { Decisions = [.. f.Decisions, decision] });
        State.Decisions.Add(decision);
        if (State.Decisions.Count > DecisionsKept) State.Decisions.RemoveRange(0, State.Decisions.Count - DecisionsKept);
    }

    /// <summary>The due time the reminder should be armed for: the committed one while the account is open, none once closed.</summary>
    private DateTimeOffset? DueToArm => State.IsOpen ? State.ReminderDueAt : null;

    /// <summary>
    /// Arms the one Orleans reminder for the committed due time, only when it differs from what is armed (each change
    /// is a write to the reminders table), or removes it. A step already due gets a short fallback: the one-way call
    /// that follows the commit normally takes it first.
    /// </summary>
    private async Task ArmReminderAsync()
    {
        var due = DueToArm;
        if (due == _armedFor && !_reminderFired) return;
        // A step due now is taken by the one-way call after the commit; the fallback is for that call being lost. A
        // reminder already armed to fire within the fallback (or past due, so firing every period) is that fallback.
        if (_stepDue && !_reminderFired && due is not null && _armedFor is { } armed && armed - clock.GetUtcNow() <= StepFallback
            && settings.ReminderPeriod <= StepFallback)
            return;
        // The reminder table (GroupCommitReminderTable) takes the engine's write turn on SQLite itself, for many reminders at once.
        if (due is { } at)
        {
            var dueIn = at - clock.GetUtcNow();
            // A due time still past once the reminder has fired (the run could not move on) waits a period rather than
            // firing again at once.
            var dueTime = dueIn < StepFallback && _stepDue ? StepFallback
                : dueIn > TimeSpan.Zero ? dueIn
                : _reminderFired ? settings.ReminderPeriod : TimeSpan.Zero;
            await this.RegisterOrUpdateReminder(CadenceReminder, dueTime, settings.ReminderPeriod);
        }
        else if (await this.GetReminder(CadenceReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        _armedFor = due;
        _reminderFired = false;
    }

    private List<StatementItem> StatementLines() =>
        StatementEntries.From(State.Entries).Select(l => new StatementItem(l.Date, l.Description, l.Amount, l.Kind)).ToList();

    /// <summary>The balances, computed from the ledger once per change of it (a command asks many times; the ledger only grows or is replaced).</summary>
    private AccountBalances Balances
    {
        get
        {
            if (_balances is null || !ReferenceEquals(_balancesOf, State.Entries) || _balancesCount != State.Entries.Count)
            {
                // Entries are only appended: a command adds its own to what the ledger gave before (a long-lived
                // account's command does not walk its whole ledger for them). Anything else is worked out again.
                var appended = _balances is not null && ReferenceEquals(_balancesOf, State.Entries) && _balancesCount > 0
                               && _balancesCount < State.Entries.Count && ReferenceEquals(State.Entries[_balancesCount - 1], _balancesLast);
                RememberBalances(appended ? AccountBalances.After(_balances!, State.Entries, _balancesCount) : AccountBalances.Of(State.Entries), State.Entries);
            }
            return _balances!;
        }
    }

    private void RememberBalances(AccountBalances balances, List<LedgerEntry> of)
    {
        _balances = balances;
        _balancesOf = of;
        _balancesCount = of.Count;
        _balancesLast = of.Count > 0 ? of[^1] : null;
    }

    private AccountBalances? _balances;
    private List<LedgerEntry>? _balancesOf;
    private int _balancesCount;
    private LedgerEntry? _balancesLast;

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
        _events.Add(new AccountEvent
        {
            EventId = AccountEvent.IdFor(Id, type, cause), Type = type, OccurredAt = now, Facility = key.Facility, AccountNumber = key.AccountNumber,
            Balances = AccountEventBalances.Of(balances), PreviousBalances = previous is null ? null : AccountEventBalances.Of(previous),
            EntryId = entryId, PreviousStatus = previousStatus, Status = status,
        });
    }

    private static string StatusName(CadenceStatus status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private void Audit(string action, string outcome, string? detail = null)
    {
        var caller = CallerContext.Current;
        _audit.Add(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, action, Resource, Id, outcome, caller.ClientAddress, caller.CorrelationId, detail));
    }

    private void AddFacts(DateTimeOffset now, Func<AccountProjectionFacts, AccountProjectionFacts> change) =>
        _facts = change(_facts ?? new AccountProjectionFacts { Account = Key, At = now, GuarantorId = State.GuarantorId });

    /// <summary>
    /// The one durable write of a command: the state (if it changed), the ledger entries appended since the last
    /// commit, the audit records and the events (the webhook events and the facts for the projections), in one
    /// transaction of the journal; the reminder is moved to the new due time before it when earlier, after it when later.
    /// Then a step that is due is taken by a one-way call to this account. A failure drops the activation, so the next
    /// call reloads what is stored.
    /// </summary>
    private async Task CommitAsync()
    {
        var newEntries = State.Entries.Count > _storedEntries
            ? State.Entries.Skip(_storedEntries).Select(e => serializer.SerializeToArray(e)).ToList()
            : [];
        if (newEntries.Count > 0 || _facts is not null || _events.Count > 0) _dirty = true;
        if (!_dirty && _audit.Count == 0) return;

        var events = _events.Select(e => new JournalEvent(e.EventId, e.Type, e.OccurredAt, serializer.SerializeToArray(e))).ToList();
        if (_facts is { IsEmpty: false } facts)
            events.Add(new JournalEvent($"{Id}/v{_version + 1}/facts", AccountProjectionFacts.EventType, facts.At, serializer.SerializeToArray(facts)));
        var commit = new AccountCommit(Id, _version, _dirty ? Snapshot() : null, _storedEntries, newEntries, _audit.ToList(), events);
        _audit.Clear();
        _events.Clear();
        _facts = null;
        // The wake-up is moved earlier before the commit and later after it, so the armed reminder never fires later
        // than the committed due time: a committed due time never lacks a wake-up, and should the commit fail after an
        // earlier one was armed, the reminder fires for nothing and the reloaded account sets it by what is stored.
        var armsEarlier = DueToArm is { } d && (_armedFor is not { } armed || d < armed);
        if (armsEarlier)
        {
            try
            {
                await ArmReminderAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                DropPending();
                logger.LogWarning("An account's cadence reminder could not be set before its commit ({Error}); nothing was stored", ex.GetType().Name);
                throw new CommandNotStoredException("The account's next follow-up could not be scheduled, so nothing of the command was stored. Retry with the same idempotency key.");
            }
        }
        try
        {
            await journal.WriteAsync(commit);
        }
        catch (Exception ex)
        {
            // The in-memory state is ahead of (or beside) what is stored: drop this activation so the next call reloads.
            DropPending();
            // The type only: the error may carry account numbers and amounts.
            logger.LogWarning("An account command's commit failed ({Error}); the activation reloads on the next call", ex.GetType().Name);
            if (CommitOutcome.IsKnownNotStored(ex))
                throw new CommandNotStoredException("The database rolled the command back: nothing of it was stored. Retry with the same idempotency key.");
            throw new CommandOutcomeUnknownException("The command failed while it was being committed: it may or may not be stored. Retry with the same idempotency key; a stored command is returned, not repeated.");
        }
        if (!armsEarlier)
        {
            try
            {
                await ArmReminderAsync(); // later, or removed: the reminder armed before fires early, finds nothing due and re-arms
            }
            catch (Exception ex)
            {
                // Cancellation included: the command is stored, and must be answered as stored.
                logger.LogWarning("An account's cadence reminder could not be moved after its commit ({Error}); the earlier one fires and sets it", ex.GetType().Name);
            }
        }
        _commits++;
        if (commit.Snapshot is not null) _version++;
        CollectionsMetrics.Committed(State.Entries.Skip(_storedEntries));
        foreach (var count in _countAfterCommit) count();
        _countAfterCommit.Clear();
        _storedEntries = State.Entries.Count;
        _dirty = false;

        if (_stepDue)
        {
            _stepDue = false;
            await this.AsReference<IPatientAccountGrain>().Reevaluate(); // one-way: queued behind this call
        }
    }

    /// <summary>The state without the ledger (the ledger's rows are stored on their own).</summary>
    private byte[] Snapshot()
    {
        var entries = State.Entries;
        State.Entries = [];
        try
        {
            return serializer.SerializeToArray(State);
        }
        finally
        {
            State.Entries = entries;
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
            CreditReportedAt = State.CreditReportedAt,
            CreditReportWithdrawnAt = State.CreditReportWithdrawnAt,
            PlacedWithAgencyAt = State.PlacedWithAgencyAt,
            CreditBalanceSince = State.CreditBalanceSince,
            RecalledFromAgencyAt = State.RecalledFromAgencyAt,
            FinancialAssistanceApprovedAt = State.FinancialAssistanceApprovedAt,
            ImportHoldUntil = State.ImportHoldUntil,
            Notes = State.Notes.ToList(),
            Treatment = State.Treatment,
            Score = State.Score,
            RefundDueBy = RefundDueBy,
        };
    }
}

[StatelessWorker]
public sealed class ClusterProbeGrain(ILocalSiloDetails silo) : Grain, IClusterProbeGrain
{
    public Task<string> Ping() => Task.FromResult(silo.Name);
}
