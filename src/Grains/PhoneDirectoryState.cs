namespace Collections.Grains;

[GenerateSerializer, Alias("collections.PhoneDirectoryState")]
public sealed class PhoneDirectoryState
{
    [Id(0)] public List<string> GuarantorIds { get; set; } = [];
}
