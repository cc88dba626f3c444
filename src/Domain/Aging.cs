namespace Collections.Domain;

/// <summary>The standard A/R aging buckets.</summary>
public enum AgingBucket
{
    Days0To30,
    Days31To60,
    Days61To90,
    Days91To120,
    Days121To180,
    Over180,
}

/// <summary>What an account's age is counted from.</summary>
public enum AgingBasis
{
    /// <summary>The first statement sent to the patient (once there is one).</summary>
    FirstPatientStatement,
    /// <summary>The earliest service date, before any patient statement.</summary>
    ServiceDate,
    /// <summary>The day the account was opened, when it has no charge yet.</summary>
    Opened,
}

[GenerateSerializer, Immutable, Alias("collections.AccountAge")]
public sealed record AccountAge
{
    [Id(0)] public required AgingBasis Basis { get; init; }
    [Id(1)] public required DateOnly BasisDate { get; init; }
    [Id(2)] public required int Days { get; init; }
    [Id(3)] public required AgingBucket Bucket { get; init; }
}

public static class Aging
{
    /// <summary>
    /// An account's age on <paramref name="asOf"/>: counted from the first patient statement, or before there is one
    /// from the earliest service date still on the ledger, or failing both from the day the account was opened.
    /// </summary>
    public static AccountAge Of(DateOnly? firstPatientStatement, IReadOnlyList<LedgerEntry> ledger, DateOnly opened, DateOnly asOf)
    {
        var (basis, date) = firstPatientStatement is { } statement
            ? (AgingBasis.FirstPatientStatement, statement)
            : EarliestServiceDate(ledger) is { } service
                ? (AgingBasis.ServiceDate, service)
                : (AgingBasis.Opened, opened);
        var days = Math.Max(0, asOf.DayNumber - date.DayNumber);
        return new AccountAge { Basis = basis, BasisDate = date, Days = days, Bucket = BucketFor(days) };
    }

    public static AgingBucket BucketFor(int days) => days switch
    {
        <= 30 => AgingBucket.Days0To30,
        <= 60 => AgingBucket.Days31To60,
        <= 90 => AgingBucket.Days61To90,
        <= 120 => AgingBucket.Days91To120,
        <= 180 => AgingBucket.Days121To180,
        _ => AgingBucket.Over180,
    };

    /// <summary>The label used in reports: 0-30, 31-60, 61-90, 91-120, 121-180, 180+.</summary>
    public static string Label(AgingBucket bucket) => bucket switch
    {
        AgingBucket.Days0To30 => "0-30",
        AgingBucket.Days31To60 => "31-60",
        AgingBucket.Days61To90 => "61-90",
        AgingBucket.Days91To120 => "91-120",
        AgingBucket.Days121To180 => "121-180",
        _ => "180+",
    };

    private static DateOnly? EarliestServiceDate(IReadOnlyList<LedgerEntry> ledger)
    {
        var reversed = Ledger.ReversedIds(ledger);
        DateOnly? earliest = null;
        foreach (var e in ledger)
            if (e.Kind == EntryKind.Charge && e.ServiceDate is { } d && !reversed.Contains(e.EntryId) && (earliest is null || d < earliest))
                earliest = d;
        return earliest;
    }
}
