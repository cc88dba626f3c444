using Collections.Domain.Cadence;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PolicyBookState")]
public sealed class PolicyBookState
{
    /// <summary>Every saved version of every policy.</summary>
    [Id(0)] public List<CadencePolicy> Versions { get; set; } = [];
}
