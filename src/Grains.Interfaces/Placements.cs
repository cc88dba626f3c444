using Collections.Domain;

namespace Collections.Grains;

public enum PlacementStatus
{
    Placed,
    Recalled,
}

/// <summary>An account placed with a collection agency (after the compliance gate allowed it).</summary>
[GenerateSerializer, Immutable, Alias("collections.AgencyPlacement")]
public sealed record AgencyPlacement
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required string GuarantorId { get; init; }
    [Id(2)] public required decimal BalancePlaced { get; init; }
    [Id(3)] public required DateTimeOffset PlacedAt { get; init; }
    [Id(4)] public DateTimeOffset? FirstStatementAt { get; init; }
    [Id(5)] public string? PolicyReference { get; init; }
    [Id(6)] public PlacementStatus Status { get; init; }
    [Id(7)] public DateTimeOffset? RecalledAt { get; init; }
    [Id(8)] public string? RecallReason { get; init; }
}

/// <summary>The agency placements of one facility.</summary>
[Alias("collections.IPlacementRegisterGrain")]
public interface IPlacementRegisterGrain : IGrainWithStringKey
{
    [Alias("Place")]
    Task Place(AgencyPlacement placement);

    [Alias("Recall")]
    Task Recall(AccountKey account, string reason, DateTimeOffset at);

    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<AgencyPlacement>> List(PlacementStatus? status);
}
