using Collections.Domain;

namespace Collections.Grains;

/// <summary>One billed encounter or episode with its ledger. Keyed by <c>facility/accountNumber</c> (see <see cref="AccountKey"/>).</summary>
[Alias("collections.IPatientAccountGrain")]
public interface IPatientAccountGrain : IGrainWithStringKey
{
    /// <summary>Opens the account for a registered guarantor; refused with a conflict if it is already open.</summary>
    [Alias("Open")]
    Task<Outcome<AccountView>> Open(OpenAccountRequest request);

    /// <summary>The account with its balances, aging and ledger; null if it was never opened.</summary>
    [Alias("Get")]
    Task<AccountView?> Get();

    /// <summary>Posts one ledger entry. The same idempotency key with the same request returns the first result.</summary>
    [Alias("Post")]
    Task<Outcome<PostingReceipt>> Post(EntryRequest request);
}

/// <summary>The patient who received care, when it is not the guarantor.</summary>
[GenerateSerializer, Immutable, Alias("collections.PatientDetails")]
public sealed record PatientDetails
{
    [Id(0)] public string? FirstName { get; init; }
    [Id(1)] public string? LastName { get; init; }
    [Id(2)] public DateOnly? DateOfBirth { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.OpenAccountRequest")]
public sealed record OpenAccountRequest
{
    [Id(0)] public string? GuarantorId { get; init; }
    [Id(1)] public PatientDetails? Patient { get; init; }
    /// <summary>The primary insurance payer, if any; null for self-pay.</summary>
    [Id(2)] public string? PrimaryPayer { get; init; }
    [Id(3)] public DateOnly? AdmitDate { get; init; }
    [Id(4)] public DateOnly? DischargeDate { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.AccountView")]
public sealed record AccountView
{
    [Id(0)] public required string Facility { get; init; }
    [Id(1)] public required string AccountNumber { get; init; }
    [Id(2)] public required string GuarantorId { get; init; }
    [Id(3)] public PatientDetails? Patient { get; init; }
    [Id(4)] public string? PrimaryPayer { get; init; }
    [Id(5)] public DateOnly? AdmitDate { get; init; }
    [Id(6)] public DateOnly? DischargeDate { get; init; }
    [Id(7)] public required DateTimeOffset OpenedAt { get; init; }
    [Id(8)] public DateOnly? FirstPatientStatementDate { get; init; }
    [Id(9)] public required AccountBalances Balances { get; init; }
    [Id(10)] public required AccountAge Age { get; init; }
    [Id(11)] public required IReadOnlyList<LedgerEntry> Entries { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PostingReceipt")]
public sealed record PostingReceipt
{
    [Id(0)] public required LedgerEntry Entry { get; init; }
    /// <summary>True when the entry was already posted by an earlier request with the same idempotency key.</summary>
    [Id(1)] public required bool IsReplay { get; init; }
    [Id(2)] public required AccountBalances Balances { get; init; }
}

/// <summary>Answers when the cluster is up: the gateway's readiness probe calls it.</summary>
[Alias("collections.IClusterProbeGrain")]
public interface IClusterProbeGrain : IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task<string> Ping();
}
