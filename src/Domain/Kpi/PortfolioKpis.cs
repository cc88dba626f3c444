namespace Collections.Domain.Kpi;

/// <summary>Accounts with a balance (owed by anyone, above zero) that age from the same date, summed.</summary>
public sealed record AgingGroup(DateOnly? AgingBasisDate, decimal PatientBalance, decimal InsuranceBalance, int Accounts);

/// <summary>
/// The sums over many accounts' <see cref="AccountKpiFacts"/> the figures are computed from (the reporting store
/// computes them in SQL; <see cref="Of"/> is the same arithmetic in memory).
/// </summary>
public sealed record PortfolioTotals
{
    /// <summary>Only accounts whose whole balance is above zero (accounts in credit are not A/R).</summary>
    public IReadOnlyList<AgingGroup> Aging { get; init; } = [];
    public decimal PatientPaid { get; init; }
    public decimal PatientResponsibility { get; init; }
    public int PromisesKept { get; init; }
    public int PromisesBroken { get; init; }
    public int CreditAccounts { get; init; }
    public decimal CreditAmount { get; init; }
    public int PlacedAccounts { get; init; }
    /// <summary>What placed accounts' patients owe (patient balances above zero).</summary>
    public decimal PlacedAmount { get; init; }
    /// <summary>Gross charges with an effective date in <see cref="PortfolioKpis.ChargeWindowStart"/>..today.</summary>
    public decimal GrossChargesInWindow { get; init; }
    /// <summary>Revenue deductions (adjustments not reversed) with an effective date in the same window.</summary>
    public decimal RevenueDeductionsInWindow { get; init; }
    /// <summary>Accounts whose patient share was paid in full in the last 90 days, and their days from first statement summed.</summary>
    public int PaidInFullAccounts { get; init; }
    public long PaidInFullDays { get; init; }
    /// <summary>Credit balances whose refund deadline has passed.</summary>
    public int RefundsOverdueAccounts { get; init; }
    public decimal RefundsOverdueAmount { get; init; }

    public static PortfolioTotals Of(IReadOnlyCollection<AccountKpiFacts> accounts, DateOnly today)
    {
        var builder = new PortfolioTotalsBuilder(today);
        foreach (var account in accounts) builder.Add(account);
        return builder.Build();
    }
}

/// <summary>
/// Sums accounts' facts one at a time into <see cref="PortfolioTotals"/> (a portfolio's history is summed day by day
/// without holding every account's facts).
/// </summary>
public sealed class PortfolioTotalsBuilder(DateOnly today)
{
    private readonly DateOnly _chargesFrom = PortfolioKpis.ChargeWindowStart(today);
    private readonly Dictionary<DateOnly, (decimal Patient, decimal Insurance, int Accounts)> _aging = [];
    private (decimal Patient, decimal Insurance, int Accounts) _agingUndated;
    private decimal _paid, _responsibility, _credit, _placed, _charges, _deductions, _overdue;
    private int _kept, _broken, _creditAccounts, _placedAccounts, _paidInFull, _overdueAccounts;
    private long _paidInFullDays;

    public DateOnly Today => today;

    public void Add(AccountKpiFacts a)
    {
        if (a.Balance > 0)
        {
            var group = a.AgingBasisDate is { } d ? _aging.GetValueOrDefault(d) : _agingUndated;
            group = (group.Patient + a.PatientBalance, group.Insurance + a.InsuranceBalance, group.Accounts + 1);
            if (a.AgingBasisDate is { } basis) _aging[basis] = group;
            else _agingUndated = group;
        }
        _paid += a.PatientPaidTotal;
        _responsibility += a.PatientResponsibilityTotal;
        _kept += a.PromisesKept;
        _broken += a.PromisesBroken;
        if (a.CreditBalance > 0) _creditAccounts++;
        _credit += a.CreditBalance;
        if (a.PlacedWithAgency)
        {
            _placedAccounts++;
            _placed += Math.Max(a.PatientBalance, 0m);
        }
        foreach (var c in a.ChargesByDate)
            if (c.EffectiveDate >= _chargesFrom && c.EffectiveDate <= today) _charges += c.Amount;
        foreach (var d in a.Days)
        {
            if (d.Measure == KpiMeasure.RevenueDeduction && d.Day >= _chargesFrom && d.Day <= today)
                _deductions += d.Amount;
            else if (d.Measure == KpiMeasure.PaidInFull && d.Day >= _chargesFrom && d.Day <= today)
            {
                _paidInFull++;
                _paidInFullDays += d.Count;
            }
            else if (d.Measure == KpiMeasure.RefundDue && d.Day < today)
            {
                _overdueAccounts++;
                _overdue += d.Amount;
            }
        }
    }

    public PortfolioTotals Build() => new()
    {
        Aging = [.. _aging.Select(g => new AgingGroup(g.Key, g.Value.Patient, g.Value.Insurance, g.Value.Accounts)),
            .. _agingUndated.Accounts > 0 ? [new AgingGroup(null, _agingUndated.Patient, _agingUndated.Insurance, _agingUndated.Accounts)] : Array.Empty<AgingGroup>()],
        PatientPaid = _paid,
        PatientResponsibility = _responsibility,
        PromisesKept = _kept,
        PromisesBroken = _broken,
        CreditAccounts = _creditAccounts,
        CreditAmount = _credit,
        PlacedAccounts = _placedAccounts,
        PlacedAmount = _placed,
        GrossChargesInWindow = _charges,
        RevenueDeductionsInWindow = _deductions,
        PaidInFullAccounts = _paidInFull,
        PaidInFullDays = _paidInFullDays,
        RefundsOverdueAccounts = _overdueAccounts,
        RefundsOverdueAmount = _overdue,
    };
}

public sealed record AgingBucketFigure(AgingBucket Bucket, string Label, decimal Amount, int Accounts);

/// <summary>The supervisors' portfolio figures on one day.</summary>
public sealed record PortfolioKpis
{
    /// <summary>Days of net patient revenue days in A/R is measured against.</summary>
    public const int ChargeWindowDays = 90;

    public required DateOnly AsOf { get; init; }
    public required int AccountsWithBalance { get; init; }
    /// <summary>What is owed on accounts with a balance above zero (credit balances excluded): patient + insurance.</summary>
    public required decimal TotalAr { get; init; }
    public required decimal PatientAr { get; init; }
    public required decimal InsuranceAr { get; init; }
    /// <summary>Every bucket, youngest first (empty ones with zero).</summary>
    public required IReadOnlyList<AgingBucketFigure> Aging { get; init; }
    /// <summary>
    /// Total A/R ÷ average daily net patient revenue over the last 90 days (one decimal; HFMA's MAP Key): gross charges
    /// less revenue deductions (contractual allowances, charity, write-offs). Null when that revenue is not above zero.
    /// </summary>
    public required decimal? DaysInAr { get; init; }
    public required decimal GrossChargesLast90Days { get; init; }
    /// <summary>Gross charges less revenue deductions, both by effective date in the last 90 days.</summary>
    public decimal NetRevenueLast90Days { get; init; }
    /// <summary>Patient paid ÷ patient responsibility (four decimals); null when nothing was ever the patient's.</summary>
    public required decimal? CollectionRate { get; init; }
    /// <summary>Kept ÷ (kept + broken) (four decimals); null when no promise has been kept or broken.</summary>
    public required decimal? PromiseKeptRate { get; init; }
    public required int PromisesKept { get; init; }
    public required int PromisesBroken { get; init; }
    public required int CreditBalanceAccounts { get; init; }
    public required decimal CreditBalanceAmount { get; init; }
    public required int PlacedAccounts { get; init; }
    public required decimal PlacedAmount { get; init; }
    /// <summary>Average days from the first statement to paid in full, over accounts paid in full in the last 90 days (one decimal); null when none was.</summary>
    public decimal? AverageDaysToPaidInFull { get; init; }
    public int PaidInFullLast90Days { get; init; }
    /// <summary>Credit balances not refunded by their deadline (a day after it has passed).</summary>
    public int RefundsOverdueAccounts { get; init; }
    public decimal RefundsOverdueAmount { get; init; }

    /// <summary>The first day of the 90-day charge window ending on (and including) <paramref name="today"/>.</summary>
    public static DateOnly ChargeWindowStart(DateOnly today) => today.AddDays(-(ChargeWindowDays - 1));

    public static PortfolioKpis Compute(PortfolioTotals totals, DateOnly today)
    {
        var amounts = new decimal[Enum.GetValues<AgingBucket>().Length];
        var counts = new int[amounts.Length];
        decimal patient = 0m, insurance = 0m;
        var accounts = 0;
        foreach (var group in totals.Aging)
        {
            // An account ages from its basis date; a date after today (clock skew between silos) counts as day zero.
            var days = group.AgingBasisDate is { } basis ? Math.Max(0, today.DayNumber - basis.DayNumber) : 0;
            var bucket = (int)Domain.Aging.BucketFor(days);
            amounts[bucket] += group.PatientBalance + group.InsuranceBalance;
            counts[bucket] += group.Accounts;
            patient += group.PatientBalance;
            insurance += group.InsuranceBalance;
            accounts += group.Accounts;
        }
        var total = patient + insurance;
        var charges = totals.GrossChargesInWindow;
        var net = charges - totals.RevenueDeductionsInWindow;
        var decided = totals.PromisesKept + totals.PromisesBroken;
        return new PortfolioKpis
        {
            AsOf = today,
            AccountsWithBalance = accounts,
            TotalAr = total,
            PatientAr = patient,
            InsuranceAr = insurance,
            Aging = Enum.GetValues<AgingBucket>().Select(b => new AgingBucketFigure(b, Domain.Aging.Label(b), amounts[(int)b], counts[(int)b])).ToList(),
            DaysInAr = net > 0 ? decimal.Round(total / (net / ChargeWindowDays), 1, MidpointRounding.AwayFromZero) : null,
            GrossChargesLast90Days = charges,
            NetRevenueLast90Days = net,
            CollectionRate = totals.PatientResponsibility > 0
                ? decimal.Round(totals.PatientPaid / totals.PatientResponsibility, 4, MidpointRounding.AwayFromZero) : null,
            PromiseKeptRate = decided > 0 ? decimal.Round((decimal)totals.PromisesKept / decided, 4, MidpointRounding.AwayFromZero) : null,
            PromisesKept = totals.PromisesKept,
            PromisesBroken = totals.PromisesBroken,
            CreditBalanceAccounts = totals.CreditAccounts,
            CreditBalanceAmount = totals.CreditAmount,
            PlacedAccounts = totals.PlacedAccounts,
            PlacedAmount = totals.PlacedAmount,
            AverageDaysToPaidInFull = totals.PaidInFullAccounts > 0
                ? decimal.Round((decimal)totals.PaidInFullDays / totals.PaidInFullAccounts, 1, MidpointRounding.AwayFromZero) : null,
            PaidInFullLast90Days = totals.PaidInFullAccounts,
            RefundsOverdueAccounts = totals.RefundsOverdueAccounts,
            RefundsOverdueAmount = totals.RefundsOverdueAmount,
        };
    }
}
