namespace Collections.Domain;

/// <summary>
/// A request to post one ledger entry, as it arrives (unvalidated). Which fields apply depends on <see cref="Kind"/>;
/// <see cref="LedgerPosting.Prepare"/> turns it into a <see cref="LedgerEntry"/> or says what is wrong.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.EntryRequest")]
public sealed record EntryRequest
{
    [Id(0)] public EntryKind? Kind { get; init; }
    [Id(1)] public decimal? Amount { get; init; }
    [Id(2)] public DateOnly? EffectiveDate { get; init; }
    [Id(3)] public ResponsibleParty? Party { get; init; }
    [Id(4)] public DateOnly? ServiceDate { get; init; }
    [Id(5)] public string? Code { get; init; }
    [Id(6)] public string? Description { get; init; }
    [Id(7)] public string? Payer { get; init; }
    [Id(8)] public string? ClaimReference { get; init; }
    [Id(9)] public PaymentMethod? Method { get; init; }
    [Id(10)] public string? Reference { get; init; }
    [Id(11)] public AdjustmentCategory? Category { get; init; }
    [Id(12)] public string? ReasonCode { get; init; }
    [Id(13)] public TransferDirection? Direction { get; init; }
    [Id(14)] public string? ReversesEntryId { get; init; }
    [Id(15)] public string? Note { get; init; }
    [Id(16)] public string? IdempotencyKey { get; init; }
    /// <summary>
    /// How a payment came in (payments only). Not part of the <see cref="Fingerprint"/>: it says where the money came
    /// from for the reports, not what is posted, so a retry that leaves it out is still the same request.
    /// </summary>
    [Id(17)] public PaymentChannel? Channel { get; init; }

    /// <summary>
    /// A stable hash of everything that decides the entry (not the idempotency key), so a retry of the same request
    /// can be told apart from a different request that reuses a key.
    /// </summary>
    public string Fingerprint()
    {
        var canonical = string.Join('\u001f',
            Kind, Amount is { } a ? Money.Normalize(a).ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
            EffectiveDate?.ToString("O"), Party, ServiceDate?.ToString("O"), Code, Description, Payer, ClaimReference,
            Method, Reference, Category, ReasonCode, Direction, ReversesEntryId, Note);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical));
        return Convert.ToHexString(hash, 0, 16);
    }
}
