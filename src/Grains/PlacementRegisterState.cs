using Collections.Domain;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PlacementRegisterState")]
public sealed class PlacementRegisterState
{
    [Id(0)] public Dictionary<string, AgencyPlacement> Placements { get; set; } = [];
}
