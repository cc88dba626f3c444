using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;
using Collections.Gateway.Security;
using Collections.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>Follow-up: holds, promises to pay, payment plans, cadence policies, call tasks and inbound replies.</summary>
public static partial class CollectionsEndpoints
{
    public static RouteGroupBuilder MapFollowUp(this RouteGroupBuilder api)
    {
        var account = api.MapGroup("/accounts/{facility}/{accountNumber}").WithTags("Follow-up");
        account.MapPost("/holds", PlaceAccountHold).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Place a hold (dispute, ceaseCommunication, attorney, insurancePending, financialAssistancePending, patientProviderDispute, manual; a bankruptcy or a death goes on the guarantor, which covers every account): all outreach stops at once. Sent again with its Idempotency-Key (or, without one, with the same reason and note while it is active) it answers the same hold with Idempotent-Replayed.");
        account.MapPost("/holds/{holdId}/release", ReleaseAccountHold).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Release a hold (a dispute needs the verification sent, as the note); the cadence resumes at the step it had reached.");
        account.MapGet("/calls/check", CheckCall).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("May an agent call now? The compliance gate's answer for a call about this account at this moment (allow, or 409 with the rule, the reason and notBefore). Nothing is recorded.");
        account.MapPost("/calls", LogCall).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Log a call about the account (initiator agent|patientRequested|inbound, outcome noAnswer|leftMessage|rightPartyContact|wrongNumber), with an Idempotency-Key. A call that took place is a fact and is always recorded; if it broke a contact rule (after hours, over the call limit), the answer names the rule (rule recorded.<rule>) and the call is flagged for review. Before dialling, ask the worklist (it offers only callable accounts).");
        account.MapPost("/refunds", ApproveRefund).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("A supervisor approves the refund of the account's credit balance (amount defaults to all of it; party patient or insurance with payer; method; reference), with an Idempotency-Key: the refund is posted to the ledger.");
        api.MapGet("/reports/credit-balances/{facility}", CreditBalances).WithTags("Reports").RequireAuthorization(Policies.ReadAudit)
            .WithSummary("Open credit balances (money owed back), oldest refund deadline first, with totals by age (0-30, 31-60, 61-90, 90+ days) and how many are past their refund deadline.");
        account.MapPost("/financial-assistance", DecideFinancialAssistance).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Record the decision on a financial-assistance application (approved true|false, amount: the discount, default all the patient owes; note), with an Idempotency-Key. Releases the financial-assistance hold; an approval posts the discount as a charity adjustment and reverses extraordinary collection actions (501(r)): an agency placement is recalled and none is taken again.");
        account.MapPost("/notes", AddNote).RequireAuthorization(Policies.WorkWorklist).WithName("AddAccountNote")
            .WithSummary("Staff add a note to the account ({text}, at most 1,000 characters, with an Idempotency-Key; at most 50 notes per account): who wrote it and when are kept; the audit trail records the note's id and length, not its text. A retry with the key answers the note with Idempotent-Replayed. Never clinical details.");
        account.MapGet("/notes", ListNotes).RequireAuthorization(Policies.WorkWorklist).WithName("ListAccountNotes")
            .WithSummary("The notes staff wrote on the account, oldest first (agents, supervisors, administrators; audited as a read of the account).");
        account.MapPost("/promises", MakePromise).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Record a promise to pay an amount by a date: collection contact pauses until then; kept or broken is recorded. Sent again with its Idempotency-Key it answers the same promise with Idempotent-Replayed.");
        account.MapPost("/plans", StartPlan).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Start a payment plan (down payment, installments, frequency, first due date): installment reminders replace the cadence. Sent again with its Idempotency-Key it answers the same plan with Idempotent-Replayed.");

        var guarantor = api.MapGroup("/guarantors/{guarantorId}").WithTags("Follow-up");
        guarantor.MapPost("/holds", PlaceGuarantorHold).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Place a hold on the person: it covers every one of their accounts. Repeats are answered as for an account's hold.");
        guarantor.MapPost("/holds/{holdId}/release", ReleaseGuarantorHold).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Release a hold on the person.");

        var policies = api.MapGroup("/policies").WithTags("Cadence policies");
        policies.MapGet("/", async (IGrainFactory grains) => TypedResults.Ok(await Book(grains).GetActive()))
            .RequireAuthorization(Policies.ReadAccounts).WithSummary("The cadence policies in force (newest version of each).");
        policies.MapGet("/{policyId}/versions", async (string policyId, IGrainFactory grains) => TypedResults.Ok(await Book(grains).GetHistory(policyId)))
            .RequireAuthorization(Policies.ReadAccounts).WithSummary("Every version of a policy.");
        policies.MapPut("/{policyId}", SavePolicy).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Save a new version of a policy (validated; every mistake is reported with its place). Accounts use it at their next evaluation.");

        var tasks = api.MapGroup("/call-tasks/{facility}").WithTags("Call tasks");
        tasks.MapGet("/", async Task<Results<Ok<IReadOnlyList<CallTask>>, ProblemHttpResult>> (string facility, string? status, int? limit, IGrainFactory grains, HttpContext http) =>
            {
                if (Problems.ReadEnum<CallTaskStatus>("status", status, out var wanted) is { } refused) return refused;
                var list = await grains.GetGrain<ICallTaskDeskGrain>(facility).List(wanted ?? CallTaskStatus.Open, limit ?? 100);
                await http.AuditShownAsync("call-tasks.read", list.SelectMany(t => new[] { t.Account.Shown(), ShownAudit.ShownGuarantor(t.GuarantorId) }));
                return TypedResults.Ok(list);
            })
            .RequireAuthorization(Policies.ReadAccounts).WithSummary("Call tasks and write-off reviews for a facility, largest balance first; each open call says whether the compliance gate allows it now (callNow: verdict, rule, reason, notBefore).");
        tasks.MapPost("/{taskId}/complete", CompleteTask).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Record how a call went (noAnswer, leftMessage, rightPartyContact, wrongNumber) and close the task.");

        api.MapPost("/outreach/replies", ReceiveReply).WithTags("Webhooks").RequireAuthorization(Policies.ReceiveWebhooks)
            .WithSummary("An inbound reply from an SMS vendor. A revocation (STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE, their Spanish counterparts ALTO, PARAR, BASTA, CANCELAR, NO MÁS..., or a plain request such as \"please stop texting me\") closes texts for that person at once (one confirmation text); a plain acknowledgement changes nothing; every other reply goes to the review queue.");
        api.MapGet("/outreach/replies/review", ListReviews).WithTags("Follow-up").RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Replies no rule understood, waiting for a person (status open by default; optedOut, noAction: decided), oldest first.");
        api.MapPost("/outreach/replies/review/{reviewId}/resolve", ResolveReview).WithTags("Follow-up").RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Decide a reply: optedOut (it revokes consent: the channel closes for its guarantors) or noAction, with a note.");
        return api;
    }

    public sealed record ReleaseBody(string? Note);

    /// <param name="CalledAt">
    /// When the call took place, for one logged afterwards (within the last 30 days), as ISO-8601 with its offset (a
    /// time without one would be read in the server's zone); left out: now.
    /// </param>
    public sealed record CallBody(ContactInitiator? Initiator, ContactOutcome? Outcome, ContactChannel? Channel, string? CalledAt = null);

    /// <summary>An ISO-8601 date and time that names its offset (<c>Z</c> or <c>±hh:mm</c>, <c>±hhmm</c>); false when given and not one.</summary>
    public static bool TryReadCalledAt(string? text, out DateTimeOffset? at)
    {
        at = null;
        if (text is null) return true;
        var trimmed = text.Trim();
        if (!CalledAtPattern().IsMatch(trimmed)) return false;
        // .NET reads "+0530" only with its colon: put it in.
        if (trimmed[^5] is '+' or '-' && char.IsDigit(trimmed[^1]) && trimmed[^3] != ':') trimmed = trimmed[..^2] + ":" + trimmed[^2..];
        if (!DateTimeOffset.TryParse(trimmed.Replace('t', 'T'), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
            return false;
        at = parsed;
        return true;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:?\d{2})$")]
    private static partial System.Text.RegularExpressions.Regex CalledAtPattern();

    public sealed record RefundBody(decimal? Amount, ResponsibleParty? Party, string? Payer, PaymentMethod? Method, string? Reference);

    public sealed record CreditAgeBucket(string Age, int Accounts, decimal Amount);

    public sealed record CreditBalanceReport(string Facility, DateOnly AsOf, int Accounts, decimal Total, int PastDue, IReadOnlyList<CreditAgeBucket> ByAge, IReadOnlyList<CreditBalanceItem> Items);

    public sealed record PolicyBody
    {
        public string? Name { get; init; }
        public string? Facility { get; init; }
        public AccountSegment? Segment { get; init; }
        public int? Priority { get; init; }
        public int? DueDays { get; init; }
        public IReadOnlyList<CadenceStep>? Steps { get; init; }
        /// <summary>Share of accounts (0 to 0.5) kept to the baseline as a control group; default 0.</summary>
        public decimal? ControlShare { get; init; }
        /// <summary>What control accounts still get; default patientStatement.</summary>
        public IReadOnlyList<OutreachAction>? BaselineActions { get; init; }
    }

    public sealed record CompleteTaskBody(ContactOutcome? Outcome);

    public sealed record ReplyBody(ContactChannel? Channel, string? From, string? Text, DateTimeOffset? ReceivedAt);


    private static ICadencePolicyBookGrain Book(IGrainFactory grains) => grains.GetGrain<ICadencePolicyBookGrain>(ICadencePolicyBookGrain.Key);

    private static IPatientAccountGrain Account(IGrainFactory grains, string facility, string accountNumber) =>
        grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString());

    private static ProblemHttpResult? CheckAccount(string facility, string accountNumber) => AccountEndpoints.CheckKey(facility, accountNumber);

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> Respond(Task<Outcome<AccountView>> call, HttpContext? http = null)
    {
        var outcome = await call;
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        if (outcome.Replayed && http is not null) http.Response.Headers[AccountEndpoints.IdempotentReplayedHeader] = "true";
        return TypedResults.Ok(AccountResponse.From(outcome.Value!));
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> PlaceAccountHold(string facility, string accountNumber, HoldRequest body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http) =>
        CheckAccount(facility, accountNumber)
        ?? await Respond(Account(grains, facility, accountNumber).PlaceHold(body with { IdempotencyKey = idempotencyKey }), http);

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> ReleaseAccountHold(string facility, string accountNumber, string holdId, ReleaseBody? body, IGrainFactory grains) =>
        CheckAccount(facility, accountNumber) ?? await Respond(Account(grains, facility, accountNumber).ReleaseHold(holdId, body?.Note));

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> MakePromise(string facility, string accountNumber, PromiseRequest body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http) =>
        CheckAccount(facility, accountNumber)
        ?? await Respond(Account(grains, facility, accountNumber).MakePromise(body with { IdempotencyKey = idempotencyKey }), http);

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> StartPlan(string facility, string accountNumber, PlanRequest body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http) =>
        CheckAccount(facility, accountNumber)
        ?? await Respond(Account(grains, facility, accountNumber).StartPlan(body with { IdempotencyKey = idempotencyKey }), http);

    public sealed record NoteBody(string? Text);

    private static async Task<Results<Created<AccountNote>, ProblemHttpResult>> AddNote(string facility, string accountNumber, NoteBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http)
    {
        if (CheckAccount(facility, accountNumber) is { } invalid) return invalid;
        var added = await Account(grains, facility, accountNumber).AddNote(body.Text, idempotencyKey);
        if (!added.Succeeded) return Problems.From(added.Errors);
        if (added.Value!.Replayed) http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created($"/api/accounts/{facility}/{accountNumber}/notes", added.Value.Note);
    }

    private static async Task<Results<Ok<IReadOnlyList<AccountNote>>, ProblemHttpResult>> ListNotes(string facility, string accountNumber, IGrainFactory grains, HttpContext http)
    {
        if (CheckAccount(facility, accountNumber) is { } invalid) return invalid;
        if (await Account(grains, facility, accountNumber).Get() is not { } account)
            return Problems.NotFound("account.not-found", "No account is open with this facility and account number.");
        await http.AuditShownAsync("account.notes.read", [ShownAudit.ShownAccount(facility, accountNumber)]);
        return TypedResults.Ok(account.Notes);
    }

    private static async Task<Results<Ok<GateDecision>, ProblemHttpResult>> CheckCall(string facility, string accountNumber, IGrainFactory grains, HttpContext http)
    {
        if (CheckAccount(facility, accountNumber) is { } invalid) return invalid;
        var check = await Account(grains, facility, accountNumber).CheckCall();
        // The gate's reason may tell about the person (a representative, a bankruptcy, an opt-out and when): shown.
        if (check.Decision.Rule != "account.not-found") await http.AuditShownAsync("account.call.check", [ShownAudit.ShownAccount(facility, accountNumber)]);
        return check.Decision.Verdict == GateVerdict.Allow ? TypedResults.Ok(check.Decision)
            : check.Decision.Rule == "account.not-found" ? Problems.NotFound("account.not-found", check.Decision.Reason)
            : Problems.Refused(check.Decision);
    }

    private static async Task<Results<Created<GateDecision>, ProblemHttpResult>> LogCall(
        string facility, string accountNumber, CallBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http)
    {
        if (CheckAccount(facility, accountNumber) is { } invalid) return invalid;
        if (!TryReadCalledAt(body.CalledAt, out var calledAt))
            return Problems.Invalid("calledAt", "called-at.invalid", "calledAt must be an ISO-8601 time with its offset, e.g. 2026-03-02T21:30:00-06:00 or 2026-03-03T03:30:00Z.");
        var outcome = await Account(grains, facility, accountNumber).LogCall(new CallLogRequest
        {
            Initiator = body.Initiator, Outcome = body.Outcome, Channel = body.Channel, IdempotencyKey = idempotencyKey, CalledAt = calledAt,
        });
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        if (outcome.Replayed) http.Response.Headers[AccountEndpoints.IdempotentReplayedHeader] = "true";
        var decision = outcome.Value!;
        return decision.Verdict == GateVerdict.Allow
            ? TypedResults.Created($"/api/accounts/{facility}/{accountNumber}", decision)
            : Problems.Refused(decision);
    }

    private static async Task<Results<Created<PostingResponse>, ProblemHttpResult>> ApproveRefund(
        string facility, string accountNumber, RefundBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains)
    {
        if (CheckAccount(facility, accountNumber) is { } invalid) return invalid;
        if (string.IsNullOrWhiteSpace(idempotencyKey))
            return Problems.Invalid(AccountEndpoints.IdempotencyKeyHeader, "idempotency-key.required", "Approving a refund needs an Idempotency-Key header, so a retry refunds once.");
        var outcome = await Account(grains, facility, accountNumber).ApproveRefund(new RefundApproval
        {
            Amount = body.Amount, Party = body.Party, Payer = body.Payer, Method = body.Method, Reference = body.Reference, IdempotencyKey = idempotencyKey,
        });
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        return TypedResults.Created($"/api/accounts/{facility}/{accountNumber}", new PostingResponse(outcome.Value!.Entry, outcome.Value.IsReplay, BalancesResponse.From(outcome.Value.Balances)));
    }

    public sealed record FinancialAssistanceBody(bool? Approved, decimal? Amount, string? Note);

    private static Task<Results<Ok<AccountResponse>, ProblemHttpResult>> DecideFinancialAssistance(
        string facility, string accountNumber, FinancialAssistanceBody body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains) =>
        CheckAccount(facility, accountNumber) is { } invalid
            ? Task.FromResult<Results<Ok<AccountResponse>, ProblemHttpResult>>(invalid)
            : Respond(Account(grains, facility, accountNumber).DecideFinancialAssistance(new FinancialAssistanceDecision
            {
                Approved = body.Approved, Amount = body.Amount, Note = body.Note, IdempotencyKey = idempotencyKey,
            }));

    private static readonly string[] CreditAges = ["0-30", "31-60", "61-90", "90+"];

    private static async Task<Ok<CreditBalanceReport>> CreditBalances(string facility, IGrainFactory grains, TimeProvider clock, HttpContext http)
    {
        var items = await grains.GetGrain<ICreditBalanceRegistryGrain>(facility).List();
        await http.AuditShownAsync("report.credit-balances.read", items.Select(i => i.Account.Shown()));
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        static string Age(int days) => days switch { <= 30 => "0-30", <= 60 => "31-60", <= 90 => "61-90", _ => "90+" };
        var byAge = CreditAges
            .Select(label =>
            {
                var inBucket = items.Where(i => Age(today.DayNumber - DateOnly.FromDateTime(i.Since.UtcDateTime).DayNumber) == label).ToList();
                return new CreditAgeBucket(label, inBucket.Count, inBucket.Sum(i => i.CreditBalance));
            }).ToList();
        return TypedResults.Ok(new CreditBalanceReport(facility, today, items.Count, items.Sum(i => i.CreditBalance), items.Count(i => i.RefundDueBy < today), byAge, items));
    }

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> PlaceGuarantorHold(string guarantorId, HoldRequest body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http)
    {
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).PlaceHold(body with { IdempotencyKey = idempotencyKey });
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        if (outcome.Replayed) http.Response.Headers[AccountEndpoints.IdempotentReplayedHeader] = "true";
        return TypedResults.Ok(outcome.Value);
    }

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> ReleaseGuarantorHold(string guarantorId, string holdId, ReleaseBody? body, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).ReleaseHold(holdId, body?.Note);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<CadencePolicy>, ProblemHttpResult>> SavePolicy(string policyId, PolicyBody body, IGrainFactory grains)
    {
        var policy = new CadencePolicy
        {
            PolicyId = policyId,
            Name = body.Name ?? "",
            Facility = body.Facility ?? "*",
            Segment = body.Segment ?? new AccountSegment(),
            Priority = body.Priority ?? 0,
            DueDays = body.DueDays ?? 30,
            Steps = body.Steps ?? [],
            ControlShare = body.ControlShare ?? 0m,
            BaselineActions = body.BaselineActions ?? [OutreachAction.PatientStatement],
        };
        var outcome = await Book(grains).Save(policy);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<CallTask>, ProblemHttpResult>> CompleteTask(string facility, string taskId, CompleteTaskBody body, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<ICallTaskDeskGrain>(facility).Complete(taskId, body.Outcome);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<ReplyIntakeResult>, ProblemHttpResult>> ReceiveReply(ReplyBody body, IGrainFactory grains, TimeProvider clock)
    {
        var errors = new ErrorList();
        var digits = new string((body.From ?? "").Where(char.IsAsciiDigit).ToArray());
        if (digits.Length == 11 && digits[0] == '1') digits = digits[1..];
        if (digits.Length != 10) errors.Invalid("from", "phone.invalid", "from must be the sender's 10-digit US phone number.");
        if (body.Text is null) errors.Invalid("text", "text.required", "The reply text is required.");
        if (errors.Any) return Problems.From(errors.Errors);

        var reply = new InboundReply { Channel = body.Channel ?? ContactChannel.Sms, Text = body.Text!, ReceivedAt = body.ReceivedAt ?? clock.GetUtcNow() };
        return TypedResults.Ok(await grains.GetGrain<IReplyIntakeGrain>(0).Receive(digits, reply));
    }

    public sealed record ReviewDecisionBody(ReplyReviewStatus? Decision, string? Note);

    private static async Task<Results<Ok<IReadOnlyList<ReplyReview>>, ProblemHttpResult>> ListReviews(string? status, int? limit, IGrainFactory grains, HttpContext http)
    {
        if (Problems.ReadEnum<ReplyReviewStatus>("status", status, out var wanted) is { } refused) return refused;
        if (limit is < 1 or > 1000) return Problems.Invalid("limit", "limit.invalid", "The limit must be between 1 and 1000.");
        var list = await grains.GetGrain<IReplyReviewGrain>(0).List(wanted ?? ReplyReviewStatus.Open, limit ?? 100);
        await http.AuditShownAsync("reply-review.read", list.SelectMany(r => r.GuarantorIds).Select(ShownAudit.ShownGuarantor));
        return TypedResults.Ok(list);
    }

    private static async Task<Results<Ok<ReplyReview>, ProblemHttpResult>> ResolveReview(string reviewId, ReviewDecisionBody body, IGrainFactory grains)
    {
        if (body.Decision is not (ReplyReviewStatus.OptedOut or ReplyReviewStatus.NoAction))
            return Problems.Invalid("decision", "decision.required", "Decide optedOut (the reply revokes consent) or noAction.");
        var outcome = await grains.GetGrain<IReplyReviewGrain>(0).Resolve(reviewId, body.Decision.Value, body.Note);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }
}
