using Collections.Payments;

namespace Collections.Grains;

/// <summary>The self-service page's durable state for one guarantor (see <see cref="PatientPortalGrain"/>).</summary>
[GenerateSerializer, Alias("collections.PatientPortalState")]
public sealed class PatientPortalState
{
    /// <summary>When wrong dates of birth were given (kept as long as they can still count toward a lock).</summary>
    [Id(0)] public List<DateTimeOffset> Failures { get; set; } = [];
    [Id(1)] public SavedCard? Card { get; set; }
    [Id(2)] public List<AutopayEnrollment> Autopay { get; set; } = [];
    /// <summary>The person's card payments, newest last (at most 20).</summary>
    [Id(3)] public List<string> Payments { get; set; } = [];
    /// <summary>Autopay charges made per installment ("{account}|{plan}|{number}"), when each was tried.</summary>
    [Id(4)] public Dictionary<string, List<DateTimeOffset>> AutopayAttempts { get; set; } = [];
    /// <summary>Sessions the patient signed out of, until each would have expired: a copy of the cookie opens nothing.</summary>
    [Id(5)] public Dictionary<string, DateTimeOffset> EndedSessions { get; set; } = [];
}
