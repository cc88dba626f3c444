using Collections.Domain.Arrangements;

namespace Collections.Domain.Kpi;

/// <summary>
/// What an account's KPI facts on any past day follow from: its ledger, promises, first statement and agency
/// placement. The trend backfill asks each account for this once and sums its facts day by day, so a portfolio that
/// came with its history (an import, an engine upgraded with accounts already open) gets 90 days of trends at once.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AccountKpiHistory")]
public sealed record AccountKpiHistory
{
    [Id(0)] public required AccountKey Account { get; init; }
    [Id(1)] public required DateOnly Opened { get; init; }
    [Id(2)] public required IReadOnlyList<LedgerEntry> Entries { get; init; }
    [Id(3)] public IReadOnlyList<PromiseToPay> Promises { get; init; } = [];
    [Id(4)] public DateOnly? FirstPatientStatementDate { get; init; }
    [Id(5)] public DateTimeOffset? PlacedWithAgencyAt { get; init; }
    [Id(6)] public DateTimeOffset? RecalledFromAgencyAt { get; init; }
    /// <summary>Since when the account has held its current credit balance, and the day it must be refunded by.</summary>
    [Id(7)] public DateTimeOffset? CreditBalanceSince { get; init; }
    [Id(8)] public DateOnly? RefundDueBy { get; init; }
    /// <summary>Placements recalled before the current one.</summary>
    [Id(9)] public IReadOnlyList<EarlierPlacement> EarlierPlacements { get; init; } = [];

    /// <summary>
    /// The account's facts at the end of <paramref name="day"/> (UTC), or null before it existed. Money counts by its
    /// effective date (a payment deposited that day, a charge for that day's service), so an imported history is
    /// placed where it happened, not on the day it was loaded; promises count as kept or broken from the day they
    /// were resolved; the first statement and a placement from the day they happened.
    /// </summary>
    public AccountKpiFacts? AsOf(DateOnly day)
    {
        var ledger = Entries.Where(e => e.EffectiveDate <= day).ToList();
        if (ledger.Count == 0 && Opened > day) return null;
        var promises = Promises.Where(p => Day(p.CreatedAt) <= day)
            .Select(p => p.ResolvedAt is { } resolved && Day(resolved) <= day ? p : p with { Status = PromiseStatus.Pending });
        var statement = FirstPatientStatementDate is { } s && s <= day ? s : (DateOnly?)null;
        var placedNow = PlacedWithAgencyAt is { } at && Day(at) <= day && !(RecalledFromAgencyAt is { } back && Day(back) <= day);
        var placed = placedNow || EarlierPlacements.Any(p => Day(p.PlacedAt) <= day && Day(p.RecalledAt) > day);
        var opened = Opened <= day ? Opened : day;
        var balances = AccountBalances.Of(ledger);
        // Only the current credit balance's start is kept: an earlier credit, since refunded, is not seen.
        var refundDue = CreditBalanceSince is { } since && Day(since) <= day ? RefundDueBy : null;
        return AccountKpiFacts.Of(Account, ledger, balances, promises, Aging.Of(statement, ledger, opened, day).BasisDate, placed) with
        {
            // Agents' work is not rebuilt (the history carries no calls): the days' figures need cash, paid in full and refunds due.
            Days = KpiDayFacts.Of(ledger, balances, statement, placedNow ? Day(PlacedWithAgencyAt!.Value) : null, null, refundDue, [], [], []),
        };
    }

    private static DateOnly Day(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);
}
