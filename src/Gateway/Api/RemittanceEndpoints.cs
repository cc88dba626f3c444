using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
using Collections.Remittance;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Collections.Gateway.Api;

/// <summary>X12 835 remittances: post a file, read what it did, work the exceptions.</summary>
public static class RemittanceEndpoints
{
    private const int MaxFileCharacters = 50_000_000;

    public static RouteGroupBuilder MapRemittances(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/remittances/{facility}").WithTags("Remittances");
        group.MapPost("/", Post).RequireAuthorization(Policies.ManageAccounts)
            .Accepts<string>("text/plain", "application/edi-x12")
            .WithSummary("Post an X12 835 file (the raw text as the body). Malformed or unbalanced files are refused whole, with the segment or the difference; each claim posts to the account whose number is its patient control number; claims that cannot post go to the exceptions list. Posting a file again posts nothing twice.");
        group.MapGet("/{remittanceId}", async (string facility, string remittanceId, IGrainFactory grains) =>
                await grains.GetGrain<IRemittanceLogGrain>(facility).Get(remittanceId) is { } record
                    ? (Results<Ok<RemittanceRecord>, ProblemHttpResult>)TypedResults.Ok(record)
                    : Problems.NotFound("remittance.not-found", "No remittance with this id was posted for this facility."))
            .RequireAuthorization(Policies.ManageAccounts).WithSummary("A posted remittance: payment, claims and what happened to each, provider-level adjustments, warnings.");
        group.MapGet("/exceptions", async (string facility, ExceptionStatus? status, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IRemittanceLogGrain>(facility).Exceptions(status ?? ExceptionStatus.Open)))
            .RequireAuthorization(Policies.ManageAccounts).WithSummary("Claims waiting for a person (open by default).");
        group.MapPost("/exceptions/{remittanceId}/{claimIndex}/match", Match).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Post an exception's claim to the account a supervisor chose.");
        group.MapPost("/exceptions/{remittanceId}/{claimIndex}/dismiss", Dismiss).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Dismiss an exception with a reason.");
        return api;
    }

    public sealed record MatchBody(string? AccountNumber);

    public sealed record DismissBody(string? Reason);

    public sealed record RemittanceSummary(string RemittanceId, decimal PaymentAmount, int ClaimsPosted, int ClaimsAlreadyPosted, int Exceptions, decimal ProviderAdjustments, IReadOnlyList<string> Warnings);

    private static async Task<Results<Ok<IReadOnlyList<RemittanceSummary>>, ProblemHttpResult>> Post(
        string facility, HttpRequest request, IGrainFactory grains, TimeProvider clock, Persistence.DatabaseOptions database, CancellationToken cancellationToken)
    {
        if (!Identifiers.IsFacility(facility))
            return Problems.Invalid("facility", "facility.invalid", "The facility code must be 1 to 32 letters, digits, '-' or '_'.");
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (text.Length > MaxFileCharacters)
            return Problems.Invalid("body", "file.too-large", $"An 835 file may be at most {MaxFileCharacters:N0} characters; split it.");

        IReadOnlyList<Remittance835> remittances;
        try
        {
            remittances = Remittance835Reader.Read(text);
        }
        catch (X12FormatException error)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest, Title = "The file is not a valid 835", Type = Problems.TypePrefix + "x12.malformed",
                Detail = error.Message, Extensions = { ["code"] = "x12.malformed", ["segment"] = error.SegmentNumber, ["reason"] = error.Reason },
            });
        }
        // The whole file is checked before anything posts: an unbalanced transaction refuses the file.
        var unbalanced = remittances.FirstOrDefault(r => !r.IsBalanced);
        if (unbalanced is not null)
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest, Title = "The remittance does not balance", Type = Problems.TypePrefix + "remittance.unbalanced",
                Detail = $"Transaction {unbalanced.TransactionControlNumber} (from segment {unbalanced.FirstSegment}): the payment (BPR02) is {unbalanced.PaymentAmount:0.00} but the claim payments ({unbalanced.ClaimPaymentsTotal:0.00}) less the provider-level adjustments ({unbalanced.ProviderAdjustmentsTotal:0.00}) come to {unbalanced.ExpectedPayment:0.00}: a difference of {unbalanced.Imbalance:0.00}. Nothing was posted.",
                Extensions = { ["code"] = "remittance.unbalanced", ["difference"] = unbalanced.Imbalance, ["transaction"] = unbalanced.TransactionControlNumber },
            });

        var log = grains.GetGrain<IRemittanceLogGrain>(facility);
        var summaries = new List<RemittanceSummary>();
        foreach (var remittance in remittances)
        {
            // Claims for different accounts are independent: post them in parallel, each account's claims in file order.
            // SQLite has one writer at a time, so more than a few at once only queue on its lock.
            var parallelism = database.Provider == Persistence.DatabaseProvider.Sqlite ? 2 : 16;
            var results = new (RemittanceClaimRecord Record, RemittanceException? Exception)[remittance.Claims.Count];
            var byAccount = Enumerable.Range(0, remittance.Claims.Count).GroupBy(i => remittance.Claims[i].PatientControlNumber);
            await Parallel.ForEachAsync(byAccount, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (group, _) =>
            {
                foreach (var i in group)
                    results[i] = await PostOneAsync(grains, facility, remittance, i, clock);
            });
            var claims = results.Select(r => r.Record).ToList();
            var exceptions = results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();
            await log.Record(new RemittanceRecord
            {
                RemittanceId = remittance.RemittanceId, Facility = facility, PayerName = remittance.PayerName, PaymentAmount = remittance.PaymentAmount,
                TraceNumber = remittance.TraceNumber, PaymentDate = remittance.PaymentDate, ReceivedAt = clock.GetUtcNow(),
                ProviderAdjustments = remittance.ProviderAdjustments.Select(p => new ProviderAdjustmentRecord(p.ReasonCode, p.Reference, p.Amount)).ToList(),
                Claims = claims, Warnings = remittance.Warnings.Select(w => $"Segment {w.SegmentNumber}: {w.Reason}").ToList(),
            }, exceptions);
            summaries.Add(new RemittanceSummary(remittance.RemittanceId, remittance.PaymentAmount,
                claims.Count(c => c.Outcome == ClaimPostingStatus.Posted), claims.Count(c => c.Outcome == ClaimPostingStatus.AlreadyPosted),
                claims.Count(c => c.Outcome == ClaimPostingStatus.Exception), remittance.ProviderAdjustmentsTotal,
                remittance.Warnings.Select(w => $"Segment {w.SegmentNumber}: {w.Reason}").ToList()));
        }
        return TypedResults.Ok<IReadOnlyList<RemittanceSummary>>(summaries);
    }

    private static async Task<(RemittanceClaimRecord, RemittanceException?)> PostOneAsync(IGrainFactory grains, string facility, Remittance835 remittance, int index, TimeProvider clock)
    {
        var claim = remittance.Claims[index];
        var record = new RemittanceClaimRecord
        {
            PatientControlNumber = claim.PatientControlNumber, PayerClaimControlNumber = claim.PayerClaimControlNumber, Status = claim.Status,
            ChargeAmount = claim.ChargeAmount, PaidAmount = claim.PaidAmount, Outcome = ClaimPostingStatus.Exception,
        };
        var (posted, problem, planned) = await PostClaimAsync(grains, facility, remittance, claim);
        if (problem is null)
            return (record with
            {
                Outcome = posted!.All(p => p.IsReplay) ? ClaimPostingStatus.AlreadyPosted : ClaimPostingStatus.Posted,
                EntryIds = posted!.Select(p => p.Entry.EntryId).ToList(),
            }, null);
        return (record with { Reason = problem }, new RemittanceException
        {
            ExceptionId = $"{remittance.RemittanceId}/{index}", RemittanceId = remittance.RemittanceId, Claim = record with { Reason = problem },
            Reason = problem, PlannedEntries = planned, CreatedAt = clock.GetUtcNow(),
        });
    }

    /// <summary>Posts one claim to its account; a problem instead when it cannot (with what would have posted, for a later match).</summary>
    private static async Task<(IReadOnlyList<PostingReceipt>? Posted, string? Problem, IReadOnlyList<EntryRequest> Planned)> PostClaimAsync(
        IGrainFactory grains, string facility, Remittance835 remittance, ClaimPayment claim)
    {
        var unplanned = RemittancePosting.Plan(remittance, claim, []);
        if (!Identifiers.IsAccountNumber(claim.PatientControlNumber))
            return (null, "The patient control number is not an account number this engine can hold.", unplanned.Entries);
        var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, claim.PatientControlNumber).ToString());
        var view = await account.Get();
        if (view is null)
            return (null, $"No account {claim.PatientControlNumber} is open at {facility}.", unplanned.Entries);
        var plan = RemittancePosting.Plan(remittance, claim, view.Entries);
        if (plan.Problem is not null) return (null, plan.Problem, []);
        if (plan.Entries.Count == 0) return ([], null, []);
        var outcome = await account.PostBatch(plan.Entries);
        return outcome.Succeeded ? (outcome.Value, null, plan.Entries) : (null, outcome.Errors[0].Message, plan.Entries);
    }

    private static async Task<Results<Ok<RemittanceException>, ProblemHttpResult>> Match(string facility, string remittanceId, int claimIndex, MatchBody body, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<IRemittanceLogGrain>(facility).Match($"{remittanceId}/{claimIndex}", body.AccountNumber ?? "");
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<RemittanceException>, ProblemHttpResult>> Dismiss(string facility, string remittanceId, int claimIndex, DismissBody body, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<IRemittanceLogGrain>(facility).Dismiss($"{remittanceId}/{claimIndex}", body.Reason ?? "");
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }
}
