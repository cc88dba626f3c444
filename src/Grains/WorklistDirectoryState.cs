using Collections.Domain.Worklist;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.WorklistDirectoryState")]
public sealed class WorklistDirectoryState
{
    /// <summary>The current definition of every queue.</summary>
    [Id(0)] public List<WorklistQueueDefinition> Queues { get; set; } = [];
}
