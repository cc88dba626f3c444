namespace Collections.Domain.Worklist;

/// <summary>How a queue orders the accounts it can offer now (best first).</summary>
public enum WorklistOrdering
{
    /// <summary>Probability of paying times the patient balance, highest first (then balance).</summary>
    ExpectedRecovery,
    /// <summary>Probability of paying, highest first (then expected recovery).</summary>
    Probability,
    /// <summary>Patient balance, largest first (then expected recovery).</summary>
    Balance,
    /// <summary>The oldest balance first (aging basis date), then the largest balance.</summary>
    Oldest,
}

/// <summary>
/// One account as a worklist holds it: what it is worth, how likely it is to pay and from when it may be called. Built
/// by the account from its own state (and its score) and sent to its queue whenever it materially changes.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistEntry")]
public sealed record WorklistEntry
{
    /// <summary>The probability assumed for an account not scored yet.</summary>
    public const double PriorProbability = 0.5;

    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required string GuarantorId { get; init; }
    /// <summary>What the patient owes now.</summary>
    [Id(2)] public required decimal PatientBalance { get; init; }
    /// <summary>The calibrated probability of paying; null until the account is scored (then <see cref="PriorProbability"/> orders it).</summary>
    [Id(3)] public double? Probability { get; init; }
    /// <summary>Probability (or the prior) times the patient balance, in cents.</summary>
    [Id(4)] public required decimal ExpectedRecovery { get; init; }
    /// <summary>Where the account's aging counts from (first statement, else earliest service date): oldest-first ordering.</summary>
    [Id(5)] public DateOnly? OldestBalanceDate { get; init; }
    /// <summary>Not callable before this instant (the compliance gate's not-before); null: callable now.</summary>
    [Id(6)] public DateTimeOffset? CallableFrom { get; init; }
    [Id(7)] public string? ModelVersion { get; init; }
    [Id(8)] public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Probability (the prior when unscored) times the balance, rounded to cents.</summary>
    public static decimal ExpectedRecoveryOf(double? probability, decimal patientBalance)
    {
        var p = probability is { } value && !double.IsNaN(value) ? Math.Clamp(value, 0d, 1d) : PriorProbability;
        return Math.Round((decimal)p * patientBalance, 2, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// Whether the two entries would order and offer the account alike at <paramref name="now"/>: everything but
    /// <see cref="UpdatedAt"/>, with any callable-from at or before now counting as "callable now". The account re-sends
    /// its entry only when this is false.
    /// </summary>
    public bool SameAs(WorklistEntry other, DateTimeOffset now) =>
        Account == other.Account && GuarantorId == other.GuarantorId && PatientBalance == other.PatientBalance
        && Nullable.Equals(Probability, other.Probability) && ExpectedRecovery == other.ExpectedRecovery
        && OldestBalanceDate == other.OldestBalanceDate && ModelVersion == other.ModelVersion
        && Nullable.Equals(Pending(CallableFrom, now), Pending(other.CallableFrom, now));

    private static DateTimeOffset? Pending(DateTimeOffset? callableFrom, DateTimeOffset now) => callableFrom > now ? callableFrom : null;
}

/// <summary>
/// An entry's rank under an ordering, as two integers where larger is better (compared in order). Together with the
/// account key as the last tie-break this is a total order, so every queue offers its accounts in one definite order.
/// </summary>
public readonly record struct WorklistPriority(long Primary, long Secondary)
{
    public static WorklistPriority Of(WorklistEntry entry, WorklistOrdering ordering) => ordering switch
    {
        WorklistOrdering.ExpectedRecovery => new(Cents(entry.ExpectedRecovery), Cents(entry.PatientBalance)),
        WorklistOrdering.Probability => new(Billionths(entry.Probability ?? WorklistEntry.PriorProbability), Cents(entry.ExpectedRecovery)),
        WorklistOrdering.Balance => new(Cents(entry.PatientBalance), Cents(entry.ExpectedRecovery)),
        WorklistOrdering.Oldest => new(entry.OldestBalanceDate is { } date ? -date.DayNumber : long.MinValue, Cents(entry.PatientBalance)),
        _ => throw new ArgumentOutOfRangeException(nameof(ordering)),
    };

    /// <summary>Best first: higher primary, then higher secondary.</summary>
    public static int CompareBestFirst(WorklistPriority a, WorklistPriority b)
    {
        var primary = b.Primary.CompareTo(a.Primary);
        return primary != 0 ? primary : b.Secondary.CompareTo(a.Secondary);
    }

    private static long Cents(decimal amount) =>
        amount >= 92_233_720_368_547_758m ? long.MaxValue : amount <= -92_233_720_368_547_758m ? long.MinValue : (long)decimal.Round(amount * 100m);

    private static long Billionths(double p) => double.IsNaN(p) ? 0 : (long)Math.Round(Math.Clamp(p, 0d, 1d) * 1_000_000_000d);
}

/// <summary>Total order of account keys: facility, then account number, ordinal.</summary>
public static class AccountKeyOrder
{
    public static int Compare(AccountKey a, AccountKey b)
    {
        var facility = string.CompareOrdinal(a.Facility, b.Facility);
        return facility != 0 ? facility : string.CompareOrdinal(a.AccountNumber, b.AccountNumber);
    }
}

/// <summary>What an agent recorded after working a worklist account.</summary>
public enum WorklistOutcome
{
    NoAnswer,
    LeftMessage,
    RightPartyContact,
    WrongNumber,
    /// <summary>The guarantor promised to pay an amount by a date (a promise is recorded; the cadence pauses until then).</summary>
    PromiseToPay,
    /// <summary>The guarantor disputes the debt (a dispute hold stops all collection until verification).</summary>
    Dispute,
    /// <summary>The guarantor asked for a payment plan (started when its terms are given).</summary>
    PaymentPlanRequested,
    /// <summary>The guarantor asked for financial assistance (a hold suspends collection while it is decided).</summary>
    FinancialAssistanceRequested,
}

public static class WorklistOutcomes
{
    /// <summary>The outcome as the API and the records write it (<c>promiseToPay</c>).</summary>
    public static string Name(WorklistOutcome outcome) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString());

    /// <summary>The key an account logs an agent's call outcome under (the call, and its note), from the request's idempotency key.</summary>
    public static string CallKey(string idempotencyKey) => $"worklist-{idempotencyKey}";

    /// <summary>How the call itself ended, for the compliance history: every outcome past the first four was a conversation.</summary>
    public static Compliance.ContactOutcome CallOutcome(WorklistOutcome outcome) => outcome switch
    {
        WorklistOutcome.NoAnswer => Compliance.ContactOutcome.NoAnswer,
        WorklistOutcome.LeftMessage => Compliance.ContactOutcome.LeftMessage,
        WorklistOutcome.WrongNumber => Compliance.ContactOutcome.WrongNumber,
        _ => Compliance.ContactOutcome.RightPartyContact,
    };

    /// <summary>An attempt that reached nobody: the queue waits its retry time before offering the account again.</summary>
    public static bool IsAttempt(WorklistOutcome outcome) =>
        outcome is WorklistOutcome.NoAnswer or WorklistOutcome.LeftMessage or WorklistOutcome.WrongNumber;
}

/// <summary>An account an agent worked, and how it ended.</summary>
[GenerateSerializer, Immutable, Alias("collections.WorkedAccount")]
public sealed record WorkedAccount
{
    [Id(0)] public required string Agent { get; init; }
    [Id(1)] public required AccountKey Account { get; init; }
    [Id(2)] public required WorklistOutcome Outcome { get; init; }
    [Id(3)] public required DateTimeOffset At { get; init; }
    /// <summary>The Idempotency-Key the outcome was recorded with: a retry with it finds this record.</summary>
    [Id(4)] public string? IdempotencyKey { get; init; }
}

/// <summary>An account leased to an agent until <see cref="ExpiresAt"/>.</summary>
[GenerateSerializer, Immutable, Alias("collections.WorklistLease")]
public sealed record WorklistLease
{
    [Id(0)] public required WorklistEntry Entry { get; init; }
    [Id(1)] public required string Agent { get; init; }
    [Id(2)] public required DateTimeOffset LeasedAt { get; init; }
    [Id(3)] public required DateTimeOffset ExpiresAt { get; init; }
    /// <summary>True when the agent already held this lease and was offered it again.</summary>
    [Id(4)] public bool Reoffered { get; init; }
}

/// <summary>Who may record the outcome of an account: the agent holding its lease, or whose lease ran out with nobody leasing it since.</summary>
[GenerateSerializer, Immutable, Alias("collections.LeaseHolding")]
public sealed record LeaseHolding
{
    [Id(0)] public required string Agent { get; init; }
    /// <summary>False when the lease has expired (the agent may still record the outcome until someone else leases the account).</summary>
    [Id(1)] public required bool Active { get; init; }
    [Id(2)] public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>When the active lease was taken.</summary>
    [Id(3)] public DateTimeOffset? LeasedAt { get; init; }
}
