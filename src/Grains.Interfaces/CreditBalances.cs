using Collections.Domain;

namespace Collections.Grains;

/// <summary>An account holding money that belongs to someone else, and when it must be refunded by.</summary>
[GenerateSerializer, Immutable, Alias("collections.CreditBalanceItem")]
public sealed record CreditBalanceItem
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required decimal CreditBalance { get; init; }
    [Id(2)] public required DateTimeOffset Since { get; init; }
    [Id(3)] public required DateOnly RefundDueBy { get; init; }
}

/// <summary>The open credit balances of one facility: kept up to date by the accounts as they enter and leave credit.</summary>
[Alias("collections.ICreditBalanceRegistryGrain")]
public interface ICreditBalanceRegistryGrain : IGrainWithStringKey
{
    /// <summary>Records the account's credit (or, with null, that it has none any more).</summary>
    [Alias("Update")]
    Task Update(AccountKey account, CreditBalanceItem? item);

    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<CreditBalanceItem>> List();
}

/// <summary>A supervisor's approved refund of a credit balance.</summary>
[GenerateSerializer, Immutable, Alias("collections.RefundApproval")]
public sealed record RefundApproval
{
    /// <summary>Defaults to the whole credit balance.</summary>
    [Id(0)] public decimal? Amount { get; init; }
    [Id(1)] public ResponsibleParty? Party { get; init; }
    [Id(2)] public string? Payer { get; init; }
    [Id(3)] public PaymentMethod? Method { get; init; }
    [Id(4)] public string? Reference { get; init; }
    [Id(5)] public string? IdempotencyKey { get; init; }
}
