using Collections.Domain;

namespace Collections.Domain.Tests;

/// <summary>Builds ledgers by posting requests through the real rules, as the grain does.</summary>
internal sealed class LedgerBuilder
{
    public static readonly DateTimeOffset Now = new(2026, 11, 23, 15, 0, 0, TimeSpan.Zero);
    private int _key;

    public List<LedgerEntry> Entries { get; } = [];
    public AccountFacts Facts { get; init; } = new(HasInsurance: true);

    public PostingDecision Try(EntryRequest request, DateTimeOffset? now = null) =>
        LedgerPosting.Prepare(request.IdempotencyKey is null ? request with { IdempotencyKey = $"k{++_key}" } : request, Entries, Facts, "test", now ?? Now);

    public LedgerEntry Post(EntryRequest request)
    {
        var decision = Try(request);
        Assert.True(decision.Accepted, string.Join("; ", decision.Errors.Select(e => e.Message)));
        if (!decision.IsReplay) Entries.Add(decision.Entry!);
        return decision.Entry!;
    }

    public AccountBalances Balances => AccountBalances.Of(Entries);

    public static EntryRequest Charge(decimal amount, ResponsibleParty? party = null, DateOnly? serviceDate = null) => new()
    {
        Kind = EntryKind.Charge, Amount = amount, ServiceDate = serviceDate ?? new DateOnly(2026, 10, 1), Code = "99213", Party = party,
    };

    public static EntryRequest PatientPayment(decimal amount) => new() { Kind = EntryKind.PatientPayment, Amount = amount, Method = PaymentMethod.Card };

    public static EntryRequest InsurancePayment(decimal amount) => new() { Kind = EntryKind.InsurancePayment, Amount = amount, Payer = "Acme Health" };

    public static EntryRequest Adjustment(decimal amount, AdjustmentCategory category) => new() { Kind = EntryKind.Adjustment, Amount = amount, Category = category, ReasonCode = "45" };

    public static EntryRequest ToPatient(decimal amount) => new() { Kind = EntryKind.Transfer, Amount = amount, Direction = TransferDirection.InsuranceToPatient, ReasonCode = "PR-1" };

    public static EntryRequest Reverse(string entryId) => new() { Kind = EntryKind.Reversal, ReversesEntryId = entryId, Note = "posted to wrong account" };
}
