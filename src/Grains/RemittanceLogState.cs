namespace Collections.Grains;

[GenerateSerializer, Alias("collections.RemittanceLogState")]
public sealed class RemittanceLogState
{
    [Id(0)] public List<RemittanceRecord> Remittances { get; set; } = [];
    [Id(1)] public List<RemittanceException> Exceptions { get; set; } = [];
}
