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
            .WithSummary("Record a consent or opt-out for a contact channel, with its source.");
        return group;
    }

    private static async Task<Results<Created<GuarantorView>, ProblemHttpResult>> Register(RegisterGuarantorBody body, IGrainFactory grains)
    {
        var id = string.IsNullOrWhiteSpace(body.GuarantorId) ? "G" + Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 6) : body.GuarantorId.Trim();
        if (!Identifiers.IsGuarantorId(id))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
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

    private static async Task<Results<Ok<GuarantorView>, ProblemHttpResult>> RecordConsent(string guarantorId, ConsentRequest body, IGrainFactory grains)
    {
        if (!Identifiers.IsGuarantorId(guarantorId))
            return Problems.Invalid("guarantorId", "guarantor-id.invalid", "The guarantor id must be 1 to 40 letters, digits, '-', '_' or '.'.");
        var outcome = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(body);
        return outcome.Succeeded ? TypedResults.Ok(outcome.Value) : Problems.From(outcome.Errors);
    }
}
