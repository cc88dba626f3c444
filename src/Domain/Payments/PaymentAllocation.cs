namespace Collections.Domain.Payments;

/// <summary>What one account of a guarantor owes the patient, and since when (the oldest is paid first).</summary>
public sealed record AccountOwed(AccountKey Account, decimal Owed, DateOnly Since);

/// <summary>One account's share of a patient's payment.</summary>
[GenerateSerializer, Immutable, Alias("collections.PaymentShare")]
public sealed record PaymentShare
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required decimal Amount { get; init; }
}

/// <summary>
/// How a patient's payment on the self-service page is split over their accounts: the accounts they chose (all of them
/// by default), the oldest debt first, never more than an account owes; a payment above what they owe is refused (the
/// page offers the total). Pure.
/// </summary>
public static class PaymentAllocation
{
    /// <summary>A payment's key (its payment id) asked again for another amount.</summary>
    public static readonly DomainError KeyReused = DomainError.Conflict("idempotency-key.reused",
        "This Idempotency-Key started a payment of a different amount: use a new key for a new payment.");

    public const decimal Minimum = 1.00m;

    public static (IReadOnlyList<PaymentShare> Shares, IReadOnlyList<DomainError> Errors) Allocate(decimal amount, IReadOnlyList<AccountOwed> accounts)
    {
        var errors = new ErrorList();
        var owing = accounts.Where(a => a.Owed > 0).OrderBy(a => a.Since).ThenBy(a => a.Account.ToString(), StringComparer.Ordinal).ToList();
        var total = owing.Sum(a => a.Owed);
        if (decimal.Round(amount, 2) != amount)
            errors.Invalid("amount", "amount.precision", "The amount has at most two decimal places (cents).");
        else if (owing.Count == 0)
            errors.Invalid("amount", "amount.nothing-owed", "Nothing is owed on these accounts.");
        else if (amount < Math.Min(Minimum, total))
            errors.Invalid("amount", "amount.too-small", $"The smallest payment is {Math.Min(Minimum, total):0.00}.");
        else if (amount > total)
            errors.Invalid("amount", "amount.more-than-owed", $"The amount is more than is owed on these accounts ({total:0.00}).");
        if (errors.Any) return ([], errors.Errors);

        var shares = new List<PaymentShare>();
        var left = amount;
        foreach (var account in owing)
        {
            if (left <= 0) break;
            var share = Math.Min(left, account.Owed);
            shares.Add(new PaymentShare { Account = account.Account, Amount = share });
            left -= share;
        }
        return (shares, []);
    }
}
