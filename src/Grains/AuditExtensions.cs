using Collections.Persistence;

namespace Collections.Grains;

internal static class AuditExtensions
{
    /// <summary>Records what the current caller did to a resource, and waits until it is durable.</summary>
    public static Task RecordAsync(this IAuditTrail audit, TimeProvider clock, string action, string resourceType, string resourceId, string outcome, string? detail = null) =>
        audit.RecordAsync(Event(clock, action, resourceType, resourceId, outcome, detail));

    /// <summary>What the current caller did to a resource, as its audit record.</summary>
    public static AuditEvent Event(TimeProvider clock, string action, string resourceType, string resourceId, string outcome, string? detail = null)
    {
        var caller = CallerContext.Current;
        return new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, action, resourceType, resourceId, outcome,
            caller.ClientAddress, caller.CorrelationId, detail);
    }

    public static string OutcomeOf(IReadOnlyList<Domain.DomainError> errors) =>
        errors.Count == 0 ? "ok" : $"refused:{errors[0].Code}";
}
