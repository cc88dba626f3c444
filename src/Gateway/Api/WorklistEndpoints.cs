using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Worklist;
using Collections.Gateway.Reports;
using Collections.Gateway.Security;
using Collections.Gateway.Worklist;
using Collections.Grains;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Collections.Gateway.Api;

/// <summary>
/// The agents' prioritised worklist: queue definitions (supervisors), the next account for an agent (leased to them),
/// recording how the call went, giving an account back, and a supervisor's view of a queue.
/// </summary>
public static class WorklistEndpoints
{
    public static RouteGroupBuilder MapWorklist(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/worklist").WithTags("Worklist");
        api.MapPost("/accounts/{facility}/{accountNumber}/calls/outcome", RecordCallOutcome).WithTags("Worklist").RequireAuthorization(Policies.WorkAccounts)
            .WithName("RecordCallOutcome")
            .WithSummary("A call the worklist did not offer (the guarantor called in, or asked to be called back), with what they said, as one account command with an Idempotency-Key: initiator inbound (default) or patientRequested; outcome and its fields as on a lease. A retry with the key records nothing again (Idempotent-Replayed).");
        group.MapGet("/callers", FindCallers).RequireAuthorization(Policies.WorkWorklist).WithName("FindCaller")
            .WithSummary("Who is calling: the guarantors with this phone number (phone=10 digits), owning this account (facility and accountNumber), or born on dateOfBirth (yyyy-MM-dd) with lastName (accents, case and punctuation aside; firstName narrows to the same first letter), at most 10, each with their accounts and what the patient owes on each. Every person shown is audited.");
        group.MapGet("/queues", ListQueues).RequireAuthorization(Policies.SuperviseWorklists)
            .WithSummary("Every defined worklist queue.");
        group.MapGet("/queues/{queueId}", GetQueue).RequireAuthorization(Policies.SuperviseWorklists)
            .WithSummary("One queue's definition.");
        group.MapPut("/queues/{queueId}", SaveQueue).RequireAuthorization(Policies.SuperviseWorklists)
            .WithSummary("Define a queue: name, facility (or *), language (ISO 639-1, or any), team, agents (API key ids), ordering (expectedRecovery|probability|balance|oldest), leaseMinutes, retryMinutes. Accounts follow a routing change at their next evaluation.");
        group.MapGet("/queues/{queueId}/stats", Stats).RequireAuthorization(Policies.SuperviseWorklists)
            .WithSummary("Depth, callable now, deferred, leased, the score histogram, what each agent holds, their tally, and with detail=true each account they worked (since: default the last 24 hours).");
        group.MapGet("/tally", Tally).RequireAuthorization(Policies.WorkWorklist).WithName("MyTally")
            .WithSummary("The caller's own tally since a moment (since: default the last 24 hours; the console sends the start of the agent's day): calls, conversations with the guarantor, promises, plan requests, disputes, assistance requests. No patient data.");
        group.MapPost("/next", Next).RequireAuthorization(Policies.WorkWorklist)
            .WithSummary("The best account callable now from the caller's queues (or the queue named), leased to the caller; 204 when nothing is callable. An agent who still holds a lease is offered that account again.");
        group.MapPost("/leases/{facility}/{accountNumber}/outcome", RecordOutcome).RequireAuthorization(Policies.WorkWorklist)
            .WithSummary("The lease holder records how the call went (noAnswer, leftMessage, rightPartyContact, wrongNumber, promiseToPay with amount and promisedDate, dispute, paymentPlanRequested with plan terms, financialAssistanceRequested), with an Idempotency-Key: the call is logged through the compliance gate, its consequence recorded (promise, hold, plan), and the lease completed.");
        group.MapDelete("/leases/{facility}/{accountNumber}", Release).RequireAuthorization(Policies.WorkWorklist)
            .WithSummary("The lease holder gives the account back without an outcome.");
        return group;
    }

    public sealed record QueueBody
    {
        public string? Name { get; init; }
        public string? Facility { get; init; }
        public string? Language { get; init; }
        public string? Team { get; init; }
        public IReadOnlyList<string?>? Agents { get; init; }
        public WorklistOrdering? Ordering { get; init; }
        public int? LeaseMinutes { get; init; }
        public int? RetryMinutes { get; init; }

        public WorklistQueueRequest ToRequest() => new()
        {
            Name = Name, Facility = Facility, Language = Language, Team = Team, Agents = Agents, Ordering = Ordering,
            LeaseMinutes = LeaseMinutes, RetryMinutes = RetryMinutes,
        };
    }

    public sealed record NextBody(string? QueueId);

    public sealed record OutcomeBody
    {
        public WorklistOutcome? Outcome { get; init; }
        /// <summary>promiseToPay: how much, and by when.</summary>
        public decimal? Amount { get; init; }
        public DateOnly? PromisedDate { get; init; }
        /// <summary>paymentPlanRequested: the plan's terms (left out: the request is recorded, no plan is started).</summary>
        public decimal? DownPayment { get; init; }
        public int? InstallmentCount { get; init; }
        public InstallmentFrequency? Frequency { get; init; }
        public DateOnly? FirstDueDate { get; init; }
        /// <summary>dispute, financialAssistanceRequested: the note on the hold.</summary>
        public string? Note { get; init; }
        /// <summary>The queue holding the lease, when the caller knows it (otherwise it is found).</summary>
        public string? QueueId { get; init; }
        /// <summary>calls/outcome only: who started the call, inbound (the default) or patientRequested.</summary>
        public ContactInitiator? Initiator { get; init; }
    }

    public sealed record ReasonResponse(string Feature, string Text, double Effect);

    public sealed record NextResponse(
        string QueueId, string Facility, string AccountNumber, string GuarantorId, decimal PatientBalance, double? Probability,
        decimal ExpectedRecovery, string? ModelVersion, IReadOnlyList<ReasonResponse> Reasons, DateTimeOffset LeasedAt,
        DateTimeOffset LeaseExpiresAt, bool Reoffered);

    /// <param name="NoteNotKept">Why the call's note is not on the account's notes (they are full); the call was recorded.</param>
    public sealed record OutcomeResponse(WorklistOutcome Outcome, GateDecision? Call, bool Completed, AccountResponse Account,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? NoteNotKept = null);

    public sealed record WorkedResponse(string Facility, string AccountNumber, WorklistOutcome Outcome, DateTimeOffset At);

    public sealed record AgentResponse(string Agent, string? LeasedFacility, string? LeasedAccountNumber, DateTimeOffset? LeaseExpiresAt, IReadOnlyList<WorkedResponse> Worked, AgentTally Tally);

    public sealed record StatsResponse(
        string QueueId, DateTimeOffset AsOf, int Depth, int CallableNow, int Deferred, int Leased, IReadOnlyList<ScoreBin> Histogram, int Unscored,
        IReadOnlyList<AgentResponse> Agents, DateOnly? OldestBalanceDate);

    private static IWorklistDirectoryGrain Directory(IGrainFactory grains) => grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key);

    private static IWorklistQueueGrain Queue(IGrainFactory grains, string queueId) => grains.GetGrain<IWorklistQueueGrain>(queueId);

    private static async Task<Ok<IReadOnlyList<WorklistQueueDefinition>>> ListQueues(IGrainFactory grains) => TypedResults.Ok(await Directory(grains).List());

    private static async Task<Results<Ok<WorklistQueueDefinition>, ProblemHttpResult>> GetQueue(string queueId, IGrainFactory grains)
    {
        if (CheckQueueId(queueId) is { } invalid) return invalid;
        return await Directory(grains).Get(queueId) is { } queue
            ? TypedResults.Ok(queue)
            : Problems.NotFound("queue.not-found", "No queue is defined with this id (a facility's accounts go to the queue named by the facility code until a queue takes them).");
    }

    private static async Task<Results<Ok<WorklistQueueDefinition>, ProblemHttpResult>> SaveQueue(string queueId, QueueBody body, IGrainFactory grains)
    {
        var outcome = await Directory(grains).Save(queueId, body.ToRequest());
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<StatsResponse>, ProblemHttpResult>> Stats(string queueId, DateTimeOffset? since, bool? detail, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, HttpContext http)
    {
        if (CheckQueueId(queueId) is { } invalid) return invalid;
        var stats = await Queue(grains, queueId).Stats(since);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "worklist.stats.read", "worklist-queue", queueId, "ok",
            caller.ClientAddress, caller.CorrelationId, $"depth={stats.Depth};agents={stats.Agents.Count};detail={detail == true}"));
        // Each account the answer names is shown: the one each agent holds, and with detail=true every account they worked
        // (up to 500 each; the counts come without them, so the dashboard's view names only what agents hold).
        var withWorked = detail == true;
        await http.AuditShownAsync("worklist.stats.read", stats.Agents.SelectMany(a =>
            (a.Leased is { } leased ? [leased] : Array.Empty<AccountKey>()).Concat(withWorked ? a.Worked.Select(w => w.Account) : [])).Select(k => k.Shown()));
        return TypedResults.Ok(new StatsResponse(queueId, stats.AsOf, stats.Depth, stats.CallableNow, stats.Deferred, stats.Leased, stats.Histogram, stats.Unscored,
            stats.Agents.Select(a => new AgentResponse(a.Agent, a.Leased?.Facility, a.Leased?.AccountNumber, a.LeaseExpiresAt,
                withWorked ? a.Worked.Select(w => new WorkedResponse(w.Account.Facility, w.Account.AccountNumber, w.Outcome, w.At)).ToList() : [], AgentTally.Of(a.Worked))).ToList(),
            stats.OldestBalanceDate));
    }

    /// <summary>
    /// The worklist's counts since the moment asked, and from the reports (whole UTC days from that moment's day):
    /// inbound calls taken and patient payments received after the agent's conversations.
    /// </summary>
    public sealed record TallyResponse(string Agent, DateTimeOffset Since, int Calls, int Reached, int Promises, int PlansRequested, int Disputes, int AssistanceRequested,
        int InboundCalls, decimal CollectedAfterContact);

    private static async Task<Results<Ok<TallyResponse>, ProblemHttpResult>> Tally(DateTimeOffset? since, HttpContext http, AgentWorklist worklist, DailyReports reports, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var from = since ?? now.AddDays(-1);
        if (from > now || from < now.AddDays(-7))
            return Problems.Invalid("since", "since.out-of-range", "since must be within the last seven days (the queues keep each agent's newest 500 calls).");
        var worker = WorkerOf(http);
        var t = await worklist.TallyAsync(worker, from);
        var reported = await reports.AgentSinceAsync(worker.Agent, from);
        return TypedResults.Ok(new TallyResponse(worker.Agent, from, t.Calls, t.Reached, t.Promises, t.PlansRequested, t.Disputes, t.AssistanceRequested,
            reported?.Inbound ?? 0, reported?.CollectedAfterContact ?? 0m));
    }

    private static WorklistWorker WorkerOf(HttpContext http) => new(http.ToCaller().Actor, http.User.IsInRole(Roles.Agent));

    private static async Task<Results<Ok<NextResponse>, NoContent, ProblemHttpResult>> Next(
        [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] NextBody? body, HttpContext http, AgentWorklist worklist)
    {
        if (body?.QueueId is { } named && CheckQueueId(named, "queueId") is { } invalid) return invalid;
        var result = await worklist.NextAsync(WorkerOf(http), body?.QueueId);
        if (result.NotOneOfTheAgents) return Problems.Forbidden("You are not one of this queue's agents; a supervisor adds agents to a queue.");
        if (result.Errors.Count > 0) return Problems.From(result.Errors);
        if (result.Offer is not { } offer) return TypedResults.NoContent();
        var entry = offer.Lease.Entry;
        var score = offer.Check.Score;
        return TypedResults.Ok(new NextResponse(offer.QueueId, entry.Account.Facility, entry.Account.AccountNumber, entry.GuarantorId,
            Money.Normalize(offer.Check.PatientBalance), score?.Probability ?? entry.Probability,
            Money.Normalize(WorklistEntry.ExpectedRecoveryOf(score?.Probability ?? entry.Probability, offer.Check.PatientBalance)),
            score?.ModelVersion ?? entry.ModelVersion, (score?.Reasons ?? []).Select(r => new ReasonResponse(r.Feature, r.Text, r.Effect)).ToList(),
            offer.Lease.LeasedAt, offer.Lease.ExpiresAt, offer.Lease.Reoffered));
    }

    private static async Task<Results<Ok<OutcomeResponse>, ProblemHttpResult>> RecordOutcome(
        string facility, string accountNumber, OutcomeBody body,
        [FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, HttpContext http, AgentWorklist worklist)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalidKey) return invalidKey;
        var errors = Validate(body, idempotencyKey);
        if (errors.Count > 0) return Problems.From(errors);
        var outcome = body.Outcome!.Value;
        // The call and what the guarantor said, as one account command (the call is logged once per Idempotency-Key);
        // then the queue closes the lease.
        var result = await worklist.RecordOutcomeAsync(WorkerOf(http), new AccountKey(facility, accountNumber), body.QueueId,
            CallRequest(body, idempotencyKey!, ContactInitiator.Agent));
        if (result.Replayed) http.Response.Headers["Idempotent-Replayed"] = "true";
        if (result.Errors.Count > 0) return Problems.From(result.Errors);
        if (!result.Replayed && result.Call is { Verdict: not GateVerdict.Allow } refused) return Problems.Refused(refused);
        return TypedResults.Ok(new OutcomeResponse(result.Outcome, result.Call, result.Completed, AccountResponse.From(result.Account!), result.NoteNotKept));
    }

    private static async Task<Results<Ok<OutcomeResponse>, ProblemHttpResult>> RecordCallOutcome(
        string facility, string accountNumber, OutcomeBody body,
        [FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, HttpContext http, IGrainFactory grains)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalidKey) return invalidKey;
        var errors = Validate(body, idempotencyKey).ToList();
        var initiator = body.Initiator ?? ContactInitiator.Inbound;
        if (initiator is not (ContactInitiator.Inbound or ContactInitiator.PatientRequested))
            errors.Add(DomainError.Invalid("initiator", "initiator.invalid",
                "A call the worklist did not offer was started by the guarantor: inbound (they called) or patientRequested (they asked to be called back). Record a worklist call on its lease."));
        if (initiator == ContactInitiator.Inbound && body.Outcome is WorklistOutcome.NoAnswer or WorklistOutcome.LeftMessage)
            errors.Add(DomainError.Invalid("outcome", "outcome.not-inbound", "Someone called in: say how the conversation went (not noAnswer or leftMessage)."));
        if (errors.Count > 0) return Problems.From(errors);
        var outcome = body.Outcome!.Value;
        var recorded = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString())
            .RecordCallOutcome(CallRequest(body, idempotencyKey!, initiator));
        if (!recorded.Succeeded) return Problems.From(recorded.Errors);
        var result = recorded.Value!;
        if (result.Replayed) http.Response.Headers["Idempotent-Replayed"] = "true";
        if (result.Call.Verdict != GateVerdict.Allow) return Problems.Refused(result.Call);
        return TypedResults.Ok(new OutcomeResponse(outcome, result.Call, true, AccountResponse.From(result.Account!), result.NoteNotKept));
    }

    private static async Task<Results<Ok<IReadOnlyList<InboundCaller>>, ProblemHttpResult>> FindCallers(
        string? phone, string? facility, string? accountNumber, string? lastName, string? dateOfBirth, string? firstName, HttpContext http, InboundCallerSearch search)
    {
        IReadOnlyList<InboundCaller> found;
        var byName = lastName is not null || dateOfBirth is not null || firstName is not null;
        var ways = (phone is not null ? 1 : 0) + (facility is not null || accountNumber is not null ? 1 : 0) + (byName ? 1 : 0);
        if (ways > 1)
            return Problems.Invalid(phone is not null ? "phone" : "lastName", "caller.one-way", "Search one way: by phone, by facility and accountNumber, or by lastName and dateOfBirth.");
        if (byName)
        {
            var errors = new List<DomainError>();
            if (Text.NameKey(lastName).Length == 0)
                errors.Add(DomainError.Invalid("lastName", "last-name.required", "Give the caller's last name with their date of birth."));
            DateOnly born = default;
            if (dateOfBirth is null || !DateOnly.TryParseExact(dateOfBirth, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out born))
                errors.Add(DomainError.Invalid("dateOfBirth", "date-of-birth.invalid", "Give the caller's date of birth as yyyy-MM-dd with their last name."));
            if ((lastName?.Length ?? 0) > 100 || (firstName?.Length ?? 0) > 100)
                errors.Add(DomainError.Invalid(lastName?.Length > 100 ? "lastName" : "firstName", "name.too-long", "A name is at most 100 characters."));
            if (errors.Count > 0) return Problems.From(errors);
            found = await search.ByNameAsync(lastName!, born, firstName);
        }
        else if (phone is not null)
        {
            if (GuarantorRules.UsPhoneDigits(phone) is not { } digits)
                return Problems.Invalid("phone", "phone.invalid", "Give the caller's US (NANP) phone number: 10 digits, area code and exchange each starting 2-9 (a leading 1 or +1, punctuation and an extension are fine).");
            found = await search.ByPhoneAsync(digits);
        }
        else if (facility is not null && accountNumber is not null)
        {
            if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalidKey) return invalidKey;
            found = await search.ByAccountAsync(new AccountKey(facility, accountNumber));
        }
        else return Problems.Invalid(facility is not null ? "accountNumber" : accountNumber is not null ? "facility" : "phone", "caller.search-required",
            "Search by phone, by facility and accountNumber, or by lastName and dateOfBirth.");
        await http.AuditShownAsync("caller.search", found.Select(c => ("guarantor", c.GuarantorId)));
        return TypedResults.Ok(found);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Release(
        string facility, string accountNumber, string? queueId, HttpContext http, AgentWorklist worklist)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalidKey) return invalidKey;
        if (queueId is not null && CheckQueueId(queueId, "queueId") is { } invalid) return invalid;
        return await worklist.ReleaseAsync(WorkerOf(http), new AccountKey(facility, accountNumber), queueId) is { } error
            ? Problems.From([error])
            : TypedResults.NoContent();
    }

    /// <summary>A validated outcome body as the account's command: the promise or plan only for the outcome that carries one.</summary>
    private static CallOutcomeRequest CallRequest(OutcomeBody body, string idempotencyKey, ContactInitiator initiator)
    {
        var outcome = body.Outcome!.Value;
        return new CallOutcomeRequest
        {
            Outcome = outcome, IdempotencyKey = idempotencyKey.Trim(), Note = body.Note, Initiator = initiator,
            Promise = outcome == WorklistOutcome.PromiseToPay ? new PromiseRequest { Amount = body.Amount, PromisedDate = body.PromisedDate } : null,
            Plan = outcome == WorklistOutcome.PaymentPlanRequested && HasPlanTerms(body)
                ? new PlanRequest { DownPayment = body.DownPayment, InstallmentCount = body.InstallmentCount, Frequency = body.Frequency, FirstDueDate = body.FirstDueDate }
                : null,
        };
    }

    private static bool HasPlanTerms(OutcomeBody body) =>
        body.DownPayment is not null || body.InstallmentCount is not null || body.Frequency is not null || body.FirstDueDate is not null;

    /// <summary>Every mistake in the body, each with its field; the account checks amounts against the balance and dates against its rules.</summary>
    private static IReadOnlyList<DomainError> Validate(OutcomeBody body, string? idempotencyKey)
    {
        var errors = new ErrorList();
        if (string.IsNullOrWhiteSpace(idempotencyKey))
            errors.Invalid(AccountEndpoints.IdempotencyKeyHeader, "idempotency-key.required", "Recording an outcome needs an Idempotency-Key header, so a retry records it once.");
        else
            Text.Check(idempotencyKey, AccountEndpoints.IdempotencyKeyHeader, 100, errors);
        if (body.QueueId is not null) WorklistQueueRules.CheckQueueId(body.QueueId, "queueId", errors);
        Text.Check(body.Note, "note", 500, errors);
        var outcome = body.Outcome;
        if (outcome is null)
            errors.Invalid("outcome", "outcome.required",
                "Say how the call went: noAnswer, leftMessage, rightPartyContact, wrongNumber, promiseToPay, dispute, paymentPlanRequested or financialAssistanceRequested.");

        void NotFor(string field, bool given, string usedBy)
        {
            if (given && outcome is not null) errors.Invalid(field, "field.not-applicable", $"{field} is only for {usedBy}.");
        }
        if (outcome == WorklistOutcome.PromiseToPay)
        {
            Money.ValidateEntryAmount(body.Amount, "amount", errors);
            if (body.PromisedDate is null) errors.Invalid("promisedDate", "promised-date.required", "A promise to pay needs the promised date.");
        }
        else
        {
            NotFor("amount", body.Amount is not null, "promiseToPay");
            NotFor("promisedDate", body.PromisedDate is not null, "promiseToPay");
        }
        if (outcome == WorklistOutcome.PaymentPlanRequested)
        {
            if (HasPlanTerms(body))
            {
                if (body.InstallmentCount is null) errors.Invalid("installmentCount", "installment-count.required", "A plan needs its number of installments.");
                if (body.Frequency is null) errors.Invalid("frequency", "frequency.required", "A plan needs its frequency (weekly, biweekly, monthly).");
                if (body.FirstDueDate is null) errors.Invalid("firstDueDate", "first-due-date.required", "A plan needs its first due date.");
            }
        }
        else
        {
            NotFor("downPayment", body.DownPayment is not null, "paymentPlanRequested");
            NotFor("installmentCount", body.InstallmentCount is not null, "paymentPlanRequested");
            NotFor("frequency", body.Frequency is not null, "paymentPlanRequested");
            NotFor("firstDueDate", body.FirstDueDate is not null, "paymentPlanRequested");
        }
        return errors.Errors;
    }

    private static ProblemHttpResult? CheckQueueId(string queueId, string field = "queueId")
    {
        var errors = new ErrorList();
        WorklistQueueRules.CheckQueueId(queueId, field, errors);
        return errors.Any ? Problems.From(errors.Errors) : null;
    }
}
