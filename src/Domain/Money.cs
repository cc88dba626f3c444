namespace Collections.Domain;

/// <summary>
/// Rules for amounts of money. Money is always <see cref="decimal"/> with at most two decimal places; an amount on a
/// ledger entry is always positive, its direction comes from the entry's kind.
/// </summary>
public static class Money
{
    /// <summary>The largest amount one entry may carry: far above any single hospital bill, low enough to catch typos.</summary>
    public const decimal MaxEntryAmount = 99_999_999.99m;

    public static void ValidateEntryAmount(decimal? amount, string field, ErrorList errors)
    {
        if (amount is not { } value)
        {
            errors.Invalid(field, "amount.required", "An amount is required.");
            return;
        }
        if (value == 0m)
            errors.Invalid(field, "amount.zero", "The amount must not be zero.");
        else if (value < 0m)
            errors.Invalid(field, "amount.negative", "The amount must be positive; the entry kind gives its direction (use a reversal to undo an entry).");
        else if (decimal.Round(value, 2) != value)
            errors.Invalid(field, "amount.precision", "The amount must have at most two decimal places.");
        else if (value > MaxEntryAmount)
            errors.Invalid(field, "amount.too-large", $"The amount must not exceed {MaxEntryAmount:0.00}.");
    }

    /// <summary>Normalises an amount to exactly two decimal places (e.g. 40 becomes 40.00) for display and storage.</summary>
    public static decimal Normalize(decimal amount) => decimal.Round(amount, 2) + 0.00m;

    /// <summary>
    /// An amount without its trailing zeros (50, 50.0 and 50.00 alike; 50.001 stays itself), to tell whether two
    /// requests asked for the same amount however their senders wrote it.
    /// </summary>
    // The divisor is exactly 1 written with 28 decimal places; decimal division returns the exact quotient with the
    // smallest scale that holds it, so the value is unchanged and only its trailing zeros go. It cannot overflow.
    public static decimal Canonical(decimal amount) => amount / 1.0000000000000000000000000000m;
}
