using System.Text.RegularExpressions;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Domain.Worklist;

/// <summary>
/// A queue of accounts for a group of agents: which accounts it takes (facility, guarantor's language), who works it,
/// how it orders them, and how long a lease lasts.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistQueueDefinition")]
public sealed record WorklistQueueDefinition
{
    [Id(0)] public required string QueueId { get; init; }
    [Id(1)] public required string Name { get; init; }
    /// <summary>The facility code whose accounts it takes, or <c>*</c> for any facility.</summary>
    [Id(2)] public string Facility { get; init; } = WorklistRouting.AnyFacility;
    /// <summary>The guarantor's preferred language (ISO 639-1) it takes; null for any language.</summary>
    [Id(3)] public string? Language { get; init; }
    /// <summary>A label for supervisors (not used for routing).</summary>
    [Id(4)] public string? Team { get; init; }
    /// <summary>The agents (API key ids) who work it.</summary>
    [Id(5)] public IReadOnlyList<string> Agents { get; init; } = [];
    [Id(6)] public WorklistOrdering Ordering { get; init; } = WorklistOrdering.ExpectedRecovery;
    /// <summary>How long an offered account stays reserved for its agent.</summary>
    [Id(7)] public int LeaseMinutes { get; init; } = WorklistQueueRules.DefaultLeaseMinutes;
    /// <summary>After an attempt that reached nobody (no answer, message left, wrong number), how long before it is offered again.</summary>
    [Id(8)] public int RetryMinutes { get; init; } = WorklistQueueRules.DefaultRetryMinutes;
    [Id(9)] public int Version { get; init; }
    [Id(10)] public DateTimeOffset? SavedAt { get; init; }
    [Id(11)] public string? SavedBy { get; init; }
    /// <summary>False for the implicit queue of a facility that no definition covers.</summary>
    [Id(12)] public bool Defined { get; init; } = true;
}

/// <summary>A queue definition as a supervisor sends it (unvalidated).</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistQueueRequest")]
public sealed record WorklistQueueRequest
{
    [Id(0)] public string? Name { get; init; }
    [Id(1)] public string? Facility { get; init; }
    [Id(2)] public string? Language { get; init; }
    [Id(3)] public string? Team { get; init; }
    [Id(4)] public IReadOnlyList<string?>? Agents { get; init; }
    [Id(5)] public WorklistOrdering? Ordering { get; init; }
    [Id(6)] public int? LeaseMinutes { get; init; }
    [Id(7)] public int? RetryMinutes { get; init; }
}

public static partial class WorklistQueueRules
{
    public const int DefaultLeaseMinutes = 15;
    public const int DefaultRetryMinutes = 240;
    public const int MaxLeaseMinutes = 240;
    public const int MaxRetryMinutes = 7 * 24 * 60;
    public const int MaxAgents = 1000;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    private static partial Regex QueueIdPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")]
    private static partial Regex AgentPattern();

    public static bool IsQueueId(string? value) => value is not null && QueueIdPattern().IsMatch(value);

    public static void CheckQueueId(string? value, string field, ErrorList errors)
    {
        if (!IsQueueId(value))
            errors.Invalid(field, "queue-id.invalid", "The queue id must be 1 to 32 letters, digits, '-' or '_'.");
    }

    /// <summary>Validates a queue definition; every mistake is reported with its field.</summary>
    public static (WorklistQueueDefinition? Definition, IReadOnlyList<DomainError> Errors) Validate(string? queueId, WorklistQueueRequest? request)
    {
        var errors = new ErrorList();
        CheckQueueId(queueId, "queueId", errors);
        if (request is null)
        {
            errors.Invalid("", "body.required", "The queue definition is required.");
            return (null, errors.Errors);
        }
        Text.Require(request.Name, "name", 100, errors);
        var facility = request.Facility?.Trim() ?? WorklistRouting.AnyFacility;
        if (facility != WorklistRouting.AnyFacility) Identifiers.CheckFacility(facility, "facility", errors);
        Languages.Check(request.Language, "language", errors);
        Text.Check(request.Team, "team", 100, errors);
        var agents = new List<string>();
        if (request.Agents is { Count: > MaxAgents })
            errors.Invalid("agents", "agents.too-many", $"A queue lists at most {MaxAgents} agents.");
        foreach (var (agent, i) in (request.Agents ?? []).Select((a, i) => (a?.Trim(), i)))
        {
            if (agent is null || !AgentPattern().IsMatch(agent))
                errors.Invalid($"agents[{i}]", "agent.invalid", "An agent is the id of their API key (letters, digits and - _ . : @, at most 64).");
            else if (agents.Contains(agent, StringComparer.Ordinal))
                errors.Invalid($"agents[{i}]", "agent.duplicate", "This agent is listed twice.");
            else
                agents.Add(agent);
        }
        var lease = request.LeaseMinutes ?? DefaultLeaseMinutes;
        if (lease is < 1 or > MaxLeaseMinutes)
            errors.Invalid("leaseMinutes", "lease-minutes.out-of-range", $"A lease lasts 1 to {MaxLeaseMinutes} minutes.");
        var retry = request.RetryMinutes ?? DefaultRetryMinutes;
        if (retry is < 0 or > MaxRetryMinutes)
            errors.Invalid("retryMinutes", "retry-minutes.out-of-range", $"The wait after an unanswered call is 0 to {MaxRetryMinutes} minutes.");
        if (errors.Any) return (null, errors.Errors);
        return (new WorklistQueueDefinition
        {
            QueueId = queueId!,
            Name = request.Name!.Trim(),
            Facility = facility,
            Language = Languages.Normalize(request.Language),
            Team = Text.Clean(request.Team),
            Agents = agents,
            Ordering = request.Ordering ?? WorklistOrdering.ExpectedRecovery,
            LeaseMinutes = lease,
            RetryMinutes = retry,
        }, []);
    }
}

/// <summary>Which queue an account belongs to.</summary>
public static class WorklistRouting
{
    public const string AnyFacility = "*";

    /// <summary>
    /// The most specific queue matching the account's facility and its guarantor's language (a named facility counts
    /// more than a language, and either more than "any"; ties go to the smallest queue id). When none matches, the
    /// facility's own queue, whose id is the facility code.
    /// </summary>
    public static string Route(IEnumerable<WorklistQueueDefinition> queues, string facility, string? language)
    {
        var lang = Languages.Normalize(language) ?? Languages.Default;
        WorklistQueueDefinition? best = null;
        var bestScore = -1;
        foreach (var queue in queues)
        {
            var facilityMatches = queue.Facility == AnyFacility || string.Equals(queue.Facility, facility, StringComparison.Ordinal);
            var languageMatches = queue.Language is null || queue.Language == lang;
            if (!facilityMatches || !languageMatches) continue;
            var score = (queue.Facility == AnyFacility ? 0 : 2) + (queue.Language is null ? 0 : 1);
            if (score > bestScore || (score == bestScore && string.CompareOrdinal(queue.QueueId, best!.QueueId) < 0))
            {
                best = queue;
                bestScore = score;
            }
        }
        return best?.QueueId ?? facility;
    }

    /// <summary>The implicit queue of a facility no definition covers (it can be defined too, under the facility code as its id).</summary>
    public static WorklistQueueDefinition Implicit(string queueId) => new()
    {
        QueueId = queueId, Name = $"{queueId} (default)", Facility = queueId, Defined = false,
    };
}

/// <summary>Which accounts belong on a worklist at all, before the compliance gate is asked about calling them now.</summary>
public static class WorklistEligibility
{
    /// <summary>
    /// Null when the account belongs on the worklist: the patient owes something, no hold is active, it is not with a
    /// collection agency (unless recalled), no promise to pay is pending, no payment plan is active, and its cadence is
    /// running. Otherwise a denial naming why.
    /// </summary>
    public static GateDecision? Refusal(decimal patientResponsibility, bool onHold, bool placedWithAgency, bool recalledFromAgency,
        bool promisePending, bool planActive, CadenceStatus cadence, bool controlWithoutCalls = false)
    {
        if (patientResponsibility <= 0) return GateDecision.Deny("worklist.nothing-owed", "The patient owes nothing on this account.");
        if (onHold) return GateDecision.Deny("worklist.on-hold", "A hold stops all collection on this account.");
        if (placedWithAgency && !recalledFromAgency) return GateDecision.Deny("worklist.placed", "The account is with a collection agency.");
        if (promisePending) return GateDecision.Deny("worklist.promise-pending", "A promise to pay is pending: no collection call until it is kept or broken.");
        if (planActive) return GateDecision.Deny("worklist.payment-plan", "A payment plan is active: installment reminders replace collection calls.");
        if (cadence == CadenceStatus.Idle) return GateDecision.Deny("worklist.no-cadence", "The account's follow-up has not started.");
        if (controlWithoutCalls) return GateDecision.Deny("worklist.control-group", "The account is in its policy's control group, which gets no collection calls.");
        return null;
    }
}
