using System.Security.Claims;
using Collections.Domain;
using Collections.Grains;
using Collections.Persistence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Collections.Gateway.Security;

/// <summary>Records refused access (an authenticated caller without the role) in the audit trail, then answers as usual.</summary>
public sealed class AuditedAuthorizationResultHandler(IAuditTrail audit, TimeProvider clock) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
            var caller = context.ToCaller();
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, $"{context.Request.Method} {route}",
                "endpoint", route, "denied", caller.ClientAddress, caller.CorrelationId));
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}

/// <summary>Audit of answers that show people's data: one event per account or guarantor shown.</summary>
public static class ShownAudit
{
    /// <summary>
    /// Records that this caller was shown each of <paramref name="shown"/> (resource type and id: <c>account</c>
    /// <c>FACILITY/NUMBER</c>, <c>guarantor</c> id), one event each, committed together before the answer leaves.
    /// </summary>
    public static Task AuditShownAsync(this HttpContext http, string action, IEnumerable<(string ResourceType, string ResourceId)> shown)
    {
        var caller = http.ToCaller();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var events = shown.Distinct()
            .Select(s => new AuditEvent(now, caller.Actor, caller.Role, action, s.ResourceType, s.ResourceId, "ok", caller.ClientAddress, caller.CorrelationId))
            .ToList();
        return http.RequestServices.GetRequiredService<IAuditTrail>().RecordAllAsync(events, http.RequestAborted);
    }

    public static (string, string) Shown(this AccountKey account) => ("account", account.ToString());

    public static (string, string) ShownAccount(string facility, string accountNumber) => ("account", new AccountKey(facility, accountNumber).ToString());

    public static (string, string) ShownGuarantor(string guarantorId) => ("guarantor", guarantorId);
}

public static class CallerExtensions
{
    /// <summary>The caller as the grains see it: key id and role, client address, correlation id. No names.</summary>
    public static Caller ToCaller(this HttpContext context) => new()
    {
        Actor = context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous",
        Role = context.User.FindFirstValue(ClaimTypes.Role) ?? "none",
        ClientAddress = context.Connection.RemoteIpAddress?.ToString(),
        CorrelationId = context.TraceIdentifier,
    };

    /// <summary>Passes the authenticated caller to every grain call this endpoint makes.</summary>
    public static TBuilder WithCallerContext<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            CallerContext.Set(invocation.HttpContext.ToCaller());
            return await next(invocation);
        });
}
