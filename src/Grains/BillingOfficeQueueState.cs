namespace Collections.Grains;

[GenerateSerializer, Alias("collections.BillingOfficeQueueState")]
public sealed class BillingOfficeQueueState
{
    [Id(0)] public List<BillingRequest> Requests { get; set; } = [];
}
