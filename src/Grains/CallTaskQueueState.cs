namespace Collections.Grains;

[GenerateSerializer, Alias("collections.CallTaskQueueState")]
public sealed class CallTaskQueueState
{
    [Id(0)] public List<CallTask> Tasks { get; set; } = [];
}
