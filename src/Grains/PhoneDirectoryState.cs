using Collections.Domain.Compliance;
using Collections.Domain;
using Collections.Domain.Cadence;
using Collections.Persistence;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PhoneDirectoryState")]
public sealed class PhoneDirectoryState
{
    [Id(0)] public List<string> GuarantorIds { get; set; } = [];
}
