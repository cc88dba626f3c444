using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>Outbound webhook subscriptions (admins only) and their delivery log.</summary>
public static class WebhookEndpoints
{
    public sealed record SubscribeBody(string? Url, IReadOnlyList<string>? Events, string? Description);

    /// <summary>The answer to a subscription: the secret is shown here once and never again.</summary>
    public sealed record CreatedSubscription(string Id, string Url, IReadOnlyList<string> Events, string? Description, DateTimeOffset CreatedAt, string Secret);

    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/webhooks").WithTags("Webhooks").RequireAuthorization(Policies.ManageWebhooks);
        hooks.MapPost("/", Subscribe)
            .WithSummary("Subscribe a URL to account events (balanceChanged, statusChanged, placed, paidInFull; none = all). The signing secret is shown once.");
        hooks.MapGet("/", async (IWebhookStore store, CancellationToken ct) => TypedResults.Ok(await store.ListAsync(ct)))
            .WithSummary("The live subscriptions (never their secrets).");
        hooks.MapDelete("/{id}", Unsubscribe).WithSummary("End a subscription; its deliveries not yet under way are cancelled.");
        hooks.MapGet("/deliveries", Deliveries)
            .WithSummary("The delivery log, newest first: subscription=, status=pending|sending|delivered|failed|cancelled, limit (100).");
        return api;
    }

    private static async Task<Results<Created<CreatedSubscription>, ProblemHttpResult>> Subscribe(
        SubscribeBody body, IWebhookStore store, WebhookTargets targets, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var errors = new ErrorList();
        var url = body.Url?.Trim();
        if (string.IsNullOrEmpty(url))
            errors.Invalid("url", "url.required", "The url is required.");
        else if (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            errors.Invalid("url", "url.invalid", "The url must be an absolute https URL of at most 2000 characters.");
        else if ((targets.CheckUrl(uri) ?? await targets.CheckResolvedAsync(uri, TimeSpan.FromSeconds(3), ct)) is { } refused)
            errors.Invalid("url", "url.target-refused", refused);
        var events = (body.Events ?? []).Select(e => e?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        foreach (var e in events.Where(e => !AccountEventTypes.All.Contains(e)))
            errors.Invalid("events", "events.unknown", $"Unknown event \"{Truncate(e)}\"; events are: {string.Join(", ", AccountEventTypes.All)} (none = all).");
        var description = Text.Clean(body.Description);
        if (description is { Length: > 200 }) errors.Invalid("description", "description.too-long", "The description is at most 200 characters.");
        if (errors.Any) return Problems.From(errors.Errors);

        var caller = http.ToCaller();
        var (subscription, secret) = await store.CreateAsync(url!, events, description, caller.Actor, ct);
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "webhook.subscribe", "webhook", subscription.Id, "ok",
            caller.ClientAddress, caller.CorrelationId, $"events={(events.Count == 0 ? "all" : string.Join(",", events))}"), ct);
        return TypedResults.Created($"/api/webhooks/{subscription.Id}",
            new CreatedSubscription(subscription.Id, subscription.Url, subscription.Events, subscription.Description, subscription.CreatedAt, secret));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Unsubscribe(
        string id, IWebhookStore store, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var deleted = await store.DeleteAsync(id, ct);
        var caller = http.ToCaller();
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "webhook.unsubscribe", "webhook", id,
            deleted ? "ok" : "not-found", caller.ClientAddress, caller.CorrelationId), ct);
        return deleted ? TypedResults.NoContent() : Problems.NotFound("webhook.not-found", "No live webhook subscription has this id.");
    }

    private static async Task<Results<Ok<IReadOnlyList<WebhookDelivery>>, ProblemHttpResult>> Deliveries(
        string? subscription, string? status, int? limit, IWebhookStore store, HttpContext http, CancellationToken ct)
    {
        if (status is not null && !WebhookStatus.All.Contains(status))
            return Problems.Invalid("status", "status.invalid", $"The status must be one of: {string.Join(", ", WebhookStatus.All)}.");
        if (limit is < 1 or > 1000)
            return Problems.Invalid("limit", "limit.invalid", "The limit must be between 1 and 1000.");
        var deliveries = await store.DeliveriesAsync(subscription, status, limit ?? 100, ct);
        await http.AuditShownAsync("webhook.deliveries.read", deliveries.Select(d => ShownAudit.ShownAccount(d.Facility, d.AccountNumber)));
        return TypedResults.Ok(deliveries);
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
