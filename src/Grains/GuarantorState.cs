using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.GuarantorState")]
public sealed class GuarantorState
{
    [Id(0)] public bool IsRegistered { get; set; }
    [Id(1)] public GuarantorProfile? Profile { get; set; }
    /// <summary>Every consent decision ever recorded, oldest first; the latest per channel is in force.</summary>
    [Id(2)] public List<ChannelConsent> ConsentHistory { get; set; } = [];
    [Id(3)] public List<AccountKey> Accounts { get; set; } = [];
    [Id(4)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(5)] public string? RegisteredBy { get; set; }
    /// <summary>Holds on the person (they cover every account).</summary>
    [Id(6)] public List<Hold> Holds { get; set; } = [];
    /// <summary>Every contact and call with the person, across accounts, oldest first (trimmed to <see cref="GuarantorGrain.HistoryKept"/>).</summary>
    [Id(7)] public List<ContactAttempt> ContactHistory { get; set; } = [];
    /// <summary>Who every contact goes to instead of the guarantor (an attorney, the estate), if anyone.</summary>
    [Id(8)] public Representative? Representative { get; set; }
}
