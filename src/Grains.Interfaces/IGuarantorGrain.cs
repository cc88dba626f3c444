using Collections.Domain;

namespace Collections.Grains;

/// <summary>The person responsible for paying one or more patient accounts. Keyed by guarantor id.</summary>
[Alias("collections.IGuarantorGrain")]
public interface IGuarantorGrain : IGrainWithStringKey
{
    /// <summary>Registers the guarantor; refused with a conflict if the id is already taken.</summary>
    [Alias("Register")]
    Task<Outcome<GuarantorView>> Register(GuarantorDetails details);

    /// <summary>The guarantor's record, or null if no guarantor has this id.</summary>
    [Alias("Get")]
    Task<GuarantorView?> Get();

    /// <summary>Records a consent or opt-out for a channel, with its source.</summary>
    [Alias("RecordConsent")]
    Task<Outcome<GuarantorView>> RecordConsent(ConsentRequest request);

    /// <summary>Adds an account to the guarantor's list; false if the guarantor does not exist.</summary>
    [Alias("LinkAccount")]
    Task<bool> LinkAccount(AccountKey account);
}

[GenerateSerializer, Immutable, Alias("collections.ConsentRequest")]
public sealed record ConsentRequest
{
    [Id(0)] public ContactChannel? Channel { get; init; }
    [Id(1)] public ConsentStatus? Status { get; init; }
    [Id(2)] public string? Source { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.GuarantorView")]
public sealed record GuarantorView
{
    [Id(0)] public required string GuarantorId { get; init; }
    [Id(1)] public required GuarantorProfile Profile { get; init; }
    /// <summary>The latest consent decision per channel.</summary>
    [Id(2)] public required IReadOnlyList<ChannelConsent> Consents { get; init; }
    [Id(3)] public required IReadOnlyList<AccountKey> Accounts { get; init; }
    [Id(4)] public required DateTimeOffset RegisteredAt { get; init; }
}
