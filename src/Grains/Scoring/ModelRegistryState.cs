namespace Collections.Grains;

[GenerateSerializer, Alias("collections.ModelRegistryState")]
public sealed class ModelRegistryState
{
    [Id(0)] public List<ModelVersionInfo> Versions { get; set; } = [];
    [Id(1)] public ModelAssignment Assignment { get; set; } = new();
    /// <summary>Earlier champions, most recent last: what a rollback goes back to.</summary>
    [Id(2)] public List<string> EarlierChampions { get; set; } = [];
    [Id(3)] public List<ModelChange> History { get; set; } = [];
}
