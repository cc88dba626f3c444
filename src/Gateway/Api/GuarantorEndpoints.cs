using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

public static class GuarantorEndpoints
{
    public static RouteGroupBuilder MapGuarantors(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/guarantors").WithTags("Guarantors");
        group.MapPost("/", Register).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Register a guarantor (the person responsible for paying).");
        group.MapGet("/{guarantorId}", Get).RequireAuthorization(Policies.ReadAccounts)
            .WithSummary("Read a guarantor, their consents and their accounts.");
        group.MapPost("/{guarantorId}/consents", RecordConsent).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Record a consent or opt-out for a contact channel, with its source, with an Idempotency-Key: a retry under the key, however late, answers what it recorded and changes nothing (a retried grant never undoes an opt-out recorded since). Without a key, the same status from the same source as the channel already stands at changes nothing and is not recorded twice. Replays answer with Idempotent-Replayed.");
        group.MapPut("/{guarantorId}/representative", SetRepresentative).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Record who speaks for the guarantor: kind attorney (contact goes to the attorney, never the patient) or estate (the executor of a guarantor who died), with name, organization, mailing address, phone, email. Texts and automated calls stop; letters, emails and agents' calls go to the representative.");
        group.MapPost("/{guarantorId}/representative/end", EndRepresentation).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("End the representation, with a note saying why: contact goes to the guarantor again, as the rules allow.");
        return group;
    }

    public sealed record EndRepresentationBody(string? Note);

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> SetRepresentative(string guarantorId, RepresentativeDetails body, IGrainFactory grains)
    {
        if (!Identifiers.IsGuarantorId(guarantorId))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).SetRepresentative(body);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> EndRepresentation(string guarantorId, EndRepresentationBody body, IGrainFactory grains)
    {
        if (!Identifiers.IsGuarantorId(guarantorId))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).RemoveRepresentative(body.Note);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Created<GuarantorView>, ProblemHttpResult>> Register(RegisterGuarantorBody body, IGrainFactory grains, TimeProvider clock)
    {
        var id = string.IsNullOrWhiteSpace(body.GuarantorId) ? "G" + Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 6) : body.GuarantorId.Trim();
        if (!Identifiers.IsGuarantorId(id))
        {
            // Every problem at once: the id's, and the details' (the same pure rules the grain applies).
            var (_, others) = GuarantorRules.Validate(body.ToDetails(), DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
            return Problems.From([DomainError.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'."), .. others]);
        }
        var outcome = await grains.GetGrain<IGuarantorGrain>(id).Register(body.ToDetails());
        return outcome.Succeeded
            ? TypedResults.Created($"/api/guarantors/{Uri.EscapeDataString(id)}", outcome.Value)
            : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> Get(string guarantorId, IGrainFactory grains)
    {
        if (!Identifiers.IsGuarantorId(guarantorId))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        var view = await grains.GetGrain<IGuarantorGrain>(guarantorId).Get();
        return view is null ? Problems.NotFound("guarantor.not-found", "No guarantor has this id.") : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> RecordConsent(string guarantorId, ConsentRequest body,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey, IGrainFactory grains, HttpContext http)
    {
        if (!Identifiers.IsGuarantorId(guarantorId))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(body with { IdempotencyKey = idempotencyKey });
        if (outcome.Replayed) http.Response.Headers[AccountEndpoints.IdempotentReplayedHeader] = "true";
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }
}
