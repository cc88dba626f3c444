using System.Security.Claims;
using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
using Collections.Hosting;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Collections.Gateway.Api;

public static class AccountEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    public static RouteGroupBuilder MapAccounts(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/accounts").WithTags("Accounts");
        group.MapPost("/", Open).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Open a patient account (one billed encounter) for a registered guarantor.");
        group.MapGet("/{facility}/{accountNumber}", Get).RequireAuthorization(Policies.ReadAccounts)
            .WithSummary("Read an account with its balances, aging and ledger.");
        group.MapPost("/{facility}/{accountNumber}/entries", Post).RequireAuthorization(Policies.WorkAccounts)
            .WithSummary("Post a ledger entry: charge, insurancePayment, patientPayment, adjustment, transfer, refund or reversal. Requires an Idempotency-Key header; agents may post patient payments only.");
        group.MapPost("/{facility}/{accountNumber}/entries/batch", PostBatch).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Post up to 500 entries to one account together, all or none, in one commit (a claim's history, a remittance's lines); each entry carries its idempotencyKey, so a retry posts nothing twice. settleImport=true: the account was opened with importing=true and its history is now complete: the cadence starts from the state it leaves (a paid claim contacts nobody).");
        group.MapPut("/{facility}/{accountNumber}/discharge", RecordDischarge).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("Record the discharge date of an account opened during the stay (or correct it). A statement sent before it was an interim bill and does not start the 120 days before any extraordinary collection action; an account left without a post-discharge statement starts its cadence again from one. Idempotent: the same date again changes nothing.");
        group.MapPost("/{facility}/{accountNumber}/import/settle", Settle).RequireAuthorization(Policies.ManageAccounts)
            .WithSummary("The imported history of an account opened with importing=true is complete (with no entries, or posted one by one): the cadence starts from the account's state.");
        return group;
    }

    private static async Task<Results<Created<AccountResponse>, ProblemHttpResult>> Open(OpenAccountBody body, IGrainFactory grains)
    {
        var errors = new ErrorList();
        Identifiers.CheckFacility(body.Facility, "facility", errors);
        Identifiers.CheckAccountNumber(body.AccountNumber, "accountNumber", errors);
        if (errors.Any) return Problems.From(errors.Errors);
        var key = new AccountKey(body.Facility!, body.AccountNumber!);
        var outcome = await grains.GetGrain<IPatientAccountGrain>(key.ToString()).Open(body.ToRequest());
        return outcome.Succeeded
            ? TypedResults.Created(Location(key), AccountResponse.From(outcome.Value!))
            : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> Get(string facility, string accountNumber, IGrainFactory grains)
    {
        if (CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var view = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString()).Get();
        return view is null
            ? Problems.NotFound("account.not-found", "No account is open with this facility and account number.")
            : TypedResults.Ok(AccountResponse.From(view));
    }

    private static async Task<Results<Created<PostingResponse>, ProblemHttpResult>> Post(
        string facility, string accountNumber, PostEntryBody body,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        HttpContext http, IGrainFactory grains)
    {
        if (CheckKey(facility, accountNumber) is { } invalid) return invalid;
        if (string.IsNullOrWhiteSpace(idempotencyKey))
            return Problems.Invalid(IdempotencyKeyHeader, "idempotency-key.required", "Posting needs an Idempotency-Key header (any unique string, e.g. a UUID); a retry with the same key posts nothing twice.");
        if (http.User.IsInRole(Roles.Agent) && body.Kind is not (null or EntryKind.PatientPayment))
            return Problems.Forbidden("Agents may post patient payments only; ask a supervisor for other entries.");

        var key = new AccountKey(facility, accountNumber);
        var outcome = await grains.GetGrain<IPatientAccountGrain>(key.ToString()).Post(body.ToRequest(idempotencyKey));
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        var receipt = outcome.Value!;
        if (receipt.IsReplay) http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created(Location(key), new PostingResponse(receipt.Entry, receipt.IsReplay, BalancesResponse.From(receipt.Balances)));
    }

    public const int MaxBatch = 500;

    private static async Task<Results<Ok<PostBatchResponse>, ProblemHttpResult>> PostBatch(
        string facility, string accountNumber, PostBatchBody body, HttpContext http, IGrainFactory grains)
    {
        if (CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var errors = new ErrorList();
        var entries = body.Entries ?? [];
        if (entries.Count == 0 && body.SettleImport != true) errors.Invalid("entries", "entries.required", "Send at least one entry.");
        if (entries.Count > MaxBatch) errors.Invalid("entries", "entries.too-many", $"At most {MaxBatch} entries per batch; split it (by claim or by day).");
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is null) errors.Invalid($"entries[{i}]", "entry.required", "An entry is missing.");
            else if (string.IsNullOrWhiteSpace(entries[i]!.IdempotencyKey))
                errors.Invalid($"entries[{i}].idempotencyKey", "idempotency-key.required", "Every entry needs its idempotencyKey, so a retry posts nothing twice.");
        }
        var keys = entries.Where(e => e?.IdempotencyKey is not null).GroupBy(e => e!.IdempotencyKey!.Trim()).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var k in keys) errors.Invalid("entries", "idempotency-key.repeated", $"The idempotencyKey \"{(k.Length > 40 ? k[..40] + "…" : k)}\" is used by more than one entry of the batch.");
        if (errors.Any) return Problems.From(errors.Errors);

        var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString());
        var outcome = await account.PostBatch(entries.Select(e => e!.ToRequest()).ToList(), body.SettleImport == true);
        if (!outcome.Succeeded)
        {
            // Say which entry was refused: the first refusal names its field; the batch stopped there and nothing posted.
            return Problems.From(outcome.Errors);
        }
        var receipts = outcome.Value!;
        if (receipts.Count == 0)
            return await account.Get() is { } view
                ? TypedResults.Ok(new PostBatchResponse([], 0, 0, BalancesResponse.From(view.Balances)))
                : Problems.NotFound("account.not-found", "No account is open with this facility and account number.");
        return TypedResults.Ok(new PostBatchResponse(
            receipts.Select(r => new PostingResponse(r.Entry, r.IsReplay, BalancesResponse.From(r.Balances))).ToList(),
            receipts.Count(r => !r.IsReplay), receipts.Count(r => r.IsReplay), BalancesResponse.From(receipts[^1].Balances)));
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> RecordDischarge(string facility, string accountNumber, DischargeBody body, IGrainFactory grains)
    {
        if (CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var outcome = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString()).RecordDischarge(body.DischargeDate);
        return outcome.Succeeded ? TypedResults.Ok(AccountResponse.From(outcome.Value!)) : Problems.From(outcome.Errors);
    }

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> Settle(string facility, string accountNumber, IGrainFactory grains)
    {
        if (CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var outcome = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString()).SettleImport();
        return outcome.Succeeded ? TypedResults.Ok(AccountResponse.From(outcome.Value!)) : Problems.From(outcome.Errors);
    }

    /// <summary>A 400 problem if the facility code or account number in a URL is malformed; null when both are fine.</summary>
    public static ProblemHttpResult? CheckKey(string facility, string accountNumber)
    {
        var errors = new ErrorList();
        Identifiers.CheckFacility(facility, "facility", errors);
        Identifiers.CheckAccountNumber(accountNumber, "accountNumber", errors);
        return errors.Any ? Problems.From(errors.Errors) : null;
    }

    private static string Location(AccountKey key) =>
        $"/api/accounts/{Uri.EscapeDataString(key.Facility)}/{Uri.EscapeDataString(key.AccountNumber)}";
}

public static class AdministrationEndpoints
{
    public static RouteGroupBuilder MapAdministration(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("API keys").RequireAuthorization(Policies.ManageKeys);
        keys.MapPost("/", CreateKey).WithSummary("Create an API key for a role; the key is shown once.");
        keys.MapGet("/", async (ApiKeyStore store, EngineSettings settings, TimeProvider clock, CancellationToken ct) =>
                TypedResults.Ok((await store.ListAsync(ct)).Select(k => new KeyListing(k.KeyId, k.Name, k.Role, k.CreatedAt, k.CreatedBy, k.RevokedAt, k.ExpiresAt,
                    settings.OutlivesMaxLifetime(k, clock.GetUtcNow()) ? true : null)).ToList()))
            .WithSummary("List API keys (never their secrets); outlivesMaxLifetime marks a working key made before Collections:ApiKeyMaxLifetimeDays that lives longer.");
        keys.MapDelete("/{keyId}", RevokeKey).WithSummary("Revoke an API key.");

        api.MapGet("/audit", ReadAudit).WithTags("Audit").RequireAuthorization(Policies.ReadAudit)
            .WithSummary("Read the audit trail, newest first. Filters: resourceType and resourceId (who saw this person: resourceType=account&resourceId=FAC/123), actor (what this key or user saw), action, since and until (ISO 8601; since inclusive, until exclusive), limit (100, at most 10000).");

        var projections = api.MapGroup("/admin/projections").WithTags("Projections").RequireAuthorization(Policies.ManageKeys);
        projections.MapGet("/", async (IGrainFactory grains) => TypedResults.Ok(await grains.GetGrain<IProjectionControlGrain>(0).Status()))
            .WithName("GetProjections")
            .WithSummary("Each projection of the account event log (worklist, KPIs, webhooks, registers, outbox reactions): its checkpoint, the head of the log, and its lag.");
        projections.MapPost("/{name}/rebuild", RebuildProjection).WithName("RebuildProjection")
            .WithSummary("Empties a projection's view and replays the event log into it from the start (idempotent; the view catches up in the background).");
        return api;
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RebuildProjection(
        string name, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var rebuilt = await grains.GetGrain<IProjectionControlGrain>(0).Rebuild(name);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "projection.rebuild", "projection", name,
            rebuilt ? "ok" : "not-found", caller.ClientAddress, caller.CorrelationId), ct);
        return rebuilt
            ? TypedResults.Accepted("/api/admin/projections")
            : Problems.NotFound("projection.not-found", "No projection has this name; GET /api/admin/projections lists them.");
    }

    private static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateKeyBody body, ApiKeyStore store, EngineSettings settings, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var errors = new ErrorList();
        Text.Require(body.Name, "name", 100, errors);
        if (body.Role is null || !Roles.All.Contains(body.Role))
            errors.Invalid("role", "role.invalid", $"The role must be one of: {string.Join(", ", Roles.All)}.");
        if (body.ExpiresInDays is < 1 or > EngineSettings.LongestKeyDays)
            errors.Invalid("expiresInDays", "expires-in-days.out-of-range", $"expiresInDays is 1 to {EngineSettings.LongestKeyDays}.");
        else if (body.ExpiresInDays > settings.ApiKeyMaxLifetimeDays)
            errors.Invalid("expiresInDays", "expires-in-days.too-long", $"Keys live at most {settings.ApiKeyMaxLifetimeDays} days here (Collections:ApiKeyMaxLifetimeDays).");
        if (errors.Any) return Problems.From(errors.Errors);
        var caller = http.ToCaller();
        var now = clock.GetUtcNow();
        var (record, token) = await store.CreateAsync(body.Name!.Trim(), body.Role!, caller.Actor, settings.NewKeyExpiry(now, body.ExpiresInDays), ct);
        await audit.RecordAsync(new AuditEvent(now, caller.Actor, caller.Role, "api-key.create", "api-key", record.KeyId, "ok",
            caller.ClientAddress, caller.CorrelationId,
            $"role={record.Role}" + (record.ExpiresAt is { } end ? $";expires={ApiKeyRecord.Utc(end)}" : "")), ct);
        return TypedResults.Created($"/api/keys/{record.KeyId}", new CreatedKeyResponse(record.KeyId, record.Name, record.Role, token, record.ExpiresAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string keyId, ApiKeyStore store, RevokedApiKeys revokedKeys, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var revoked = await store.RevokeAsync(keyId, ct);
        if (revoked) revokedKeys.Revoked(keyId);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "api-key.revoke", "api-key", keyId,
            revoked ? "ok" : "not-found", caller.ClientAddress, caller.CorrelationId), ct);
        return revoked ? TypedResults.NoContent() : Problems.NotFound("api-key.not-found", "No API key has this id.");
    }

    private static async Task<Results<Ok<IReadOnlyList<AuditEvent>>, ProblemHttpResult>> ReadAudit(
        string? resourceType, string? resourceId, string? actor, string? action, DateTimeOffset? since, DateTimeOffset? until, int? limit,
        IAuditTrail audit, HttpContext http, CancellationToken ct)
    {
        if (limit is < 1 or > AuditQuery.MaxLimit)
            return Problems.Invalid("limit", "limit.out-of-range", $"limit is 1 to {AuditQuery.MaxLimit} (100 when not given).");
        if (since is { } from && until is { } to && to <= from)
            return Problems.Invalid("until", "until.before-since", "until must be after since (since is inclusive, until exclusive).");
        var events = await audit.QueryAsync(new AuditQuery(Blank(resourceType), Blank(resourceId), Blank(actor), Blank(action), since, until, limit ?? 100), ct);
        // Who looked at whom is itself about those people: reading it is recorded for each account and guarantor it names.
        await http.AuditShownAsync("audit.read", events.Where(e => e.ResourceType is "account" or "guarantor").Select(e => (e.ResourceType, e.ResourceId)));
        return TypedResults.Ok(events);
    }

    private static string? Blank(string? filter) => string.IsNullOrWhiteSpace(filter) ? null : filter.Trim();
}

/// <summary>An API key as listed: never its secret; <c>outlivesMaxLifetime</c> only when true.</summary>
public sealed record KeyListing(string KeyId, string Name, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt, bool? OutlivesMaxLifetime);
