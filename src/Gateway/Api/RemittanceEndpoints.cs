using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
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
            .WithSummary("Post an X12 835 file (the raw text as the body). Malformed, unbalanced or test (ISA15=T; allowTestData=true on a training system) files are refused whole, with the segment or the difference; each claim posts to the account whose number is its patient control number; claims that cannot post (denials, unknown accounts, reversals that match nothing) go to the exceptions list; predeterminations move no money. Posting a file again posts nothing twice. dryRun=true shows, claim by claim, what would post and to which account, and posts nothing.");
        group.MapGet("/{remittanceId}", async (string facility, string remittanceId, IGrainFactory grains, HttpContext http) =>
            {
                if (await grains.GetGrain<IRemittanceLogGrain>(facility).Get(remittanceId) is not { } record)
                    return (Results<Ok<RemittanceRecord>, ProblemHttpResult>)Problems.NotFound("remittance.not-found", "No remittance with this id was posted for this facility.");
                await http.AuditShownAsync("remittance.read", record.Claims.Select(c => ShownAudit.ShownAccount(facility, c.PatientControlNumber)));
                return TypedResults.Ok(record);
            })
            .RequireAuthorization(Policies.ManageAccounts).WithSummary("A posted remittance: payment, claims and what happened to each, provider-level adjustments, warnings.");
        group.MapGet("/exceptions", async Task<Results<Ok<IReadOnlyList<RemittanceException>>, ProblemHttpResult>> (string facility, string? status, IGrainFactory grains, HttpContext http) =>
            {
                if (Problems.ReadEnum<ExceptionStatus>("status", status, out var wanted) is { } refused) return refused;
                var list = await grains.GetGrain<IRemittanceLogGrain>(facility).Exceptions(wanted ?? ExceptionStatus.Open);
                await http.AuditShownAsync("remittance.exceptions.read", list.Select(e => ShownAudit.ShownAccount(facility, e.Claim.PatientControlNumber)));
                return TypedResults.Ok(list);
            })
            .RequireAuthorization(Policies.ManageAccounts).WithSummary("Claims waiting for a person (open by default).");
        group.MapPost("/exceptions/{remittanceId}/{claimIndex}/match", Match).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Post an exception's claim to the account a supervisor chose.");
        group.MapPost("/exceptions/{remittanceId}/{claimIndex}/dismiss", Dismiss).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Dismiss an exception with a reason.");
        return api;
    }

    public sealed record MatchBody(string? AccountNumber);

    public sealed record DismissBody(string? Reason);

    private static async Task<Results<Ok<IReadOnlyList<RemittanceSummary>>, ProblemHttpResult>> Post(
        string facility, bool? dryRun, bool? allowTestData, HttpRequest request, IGrainFactory grains, HttpContext http, CancellationToken cancellationToken)
    {
        if (!Identifiers.IsFacility(facility))
            return Problems.Invalid("facility", "facility.invalid", "The facility code must be 1 to 32 letters, digits, '-' or '_'.");
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (text.Length > MaxFileCharacters)
            return Problems.Invalid("body", "file.too-large", $"An 835 file may be at most {MaxFileCharacters:N0} characters; split it.");

        var intake = grains.GetGrain<IRemittanceIntakeGrain>(0);
        var result = dryRun == true ? await intake.Check(facility, text) : await intake.Post(facility, text, allowTestData == true);
        if (result.Refused is { } refused)
        {
            var problem = new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest, Title = refused.Title, Type = Problems.TypePrefix + refused.Code, Detail = refused.Detail,
                Extensions = { ["code"] = refused.Code },
            };
            if (refused.Segment is { } segment) problem.Extensions["segment"] = segment;
            if (refused.Reason is { } reason) problem.Extensions["reason"] = reason;
            if (refused.Difference is { } difference) problem.Extensions["difference"] = difference;
            if (refused.Transaction is { } transaction) problem.Extensions["transaction"] = transaction;
            return TypedResults.Problem(problem);
        }
        await http.AuditShownAsync(dryRun == true ? "remittance.check" : "remittance.post",
            result.Posted!.SelectMany(r => r.Claims).Select(c => ShownAudit.ShownAccount(facility, c.PatientControlNumber)));
        return TypedResults.Ok(result.Posted!);
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
