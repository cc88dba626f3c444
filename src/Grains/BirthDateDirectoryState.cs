namespace Collections.Grains;

[GenerateSerializer, Alias("collections.BirthDateDirectoryState")]
public sealed class BirthDateDirectoryState
{
    /// <summary>Guarantor id → last-name key.</summary>
    [Id(0)] public Dictionary<string, string> LastNames { get; set; } = [];
}
