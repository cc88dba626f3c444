using Collections.Domain;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.CreditBalanceRegistryState")]
public sealed class CreditBalanceRegistryState
{
    [Id(0)] public Dictionary<string, CreditBalanceItem> Open { get; set; } = [];
}
