using System.Globalization;

namespace Collections.Scoring;

/// <summary>
/// One account's outcome under its policy's control-group assignment: what it was assigned, what it reached in the
/// cadence, what it paid since. <paramref name="Steps"/> are the cadence steps the account reached after assignment (a
/// treated account took or tried them; a control account had them held back), so a step's comparison is between
/// accounts that got that far. <paramref name="ScoreBand"/> is the band of the score the account had when assigned
/// (<see cref="UpliftReport.Band"/>), null without one. Policy and band are fixed at assignment, so their comparisons are
/// as fair as the whole group's; a step's is between the accounts still unpaid when it came, which the earlier steps
/// (different in the two groups) already sorted, so a later step's difference is indicative rather than exact.
/// </summary>
/// <param name="ControlShare">The assigning policy's control share: the account's chance of control. Observations with
/// a share of 0 (no experiment) or of 1 are left out.</param>
public sealed record UpliftObservation(string Policy, bool Control, decimal ControlShare, decimal Collected, string? ScoreBand, IReadOnlyList<string> Steps);

/// <summary>
/// One group's outcome in a segment: accounts, the share who paid anything and dollars collected per account (both
/// weighted across policies by the inverse of each account's chance of its group; plain within one policy). No raw
/// totals are given, and below the minimum group size only the count: a figure of a few accounts would describe them.
/// </summary>
public sealed record GroupOutcome(long Accounts, double? PaymentRate, decimal? DollarsPerAccount);

/// <summary>An estimate with its confidence interval.</summary>
public sealed record Interval<T>(T Estimate, T Low, T High) where T : struct;

/// <summary>
/// Treated against control in one segment (everything, one policy, one step, one score band): payment rate and dollars
/// per account in each group, the differences with their confidence intervals, and what that means.
/// </summary>
public sealed record UpliftSegment
{
    /// <summary>"all", "policy", "step" or "scoreBand".</summary>
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required GroupOutcome Treated { get; init; }
    public required GroupOutcome Control { get; init; }
    /// <summary>Treated payment rate less control payment rate (Newcombe's hybrid score interval); null with too few accounts.</summary>
    public Interval<double>? RateDifference { get; init; }
    /// <summary>Treated dollars per account less control dollars per account (Welch's interval on Student's t); null with too few accounts.</summary>
    public Interval<decimal>? DollarsDifference { get; init; }
    /// <summary>The dollar difference times the treated accounts: what the outreach added over the baseline on them (null with too few).</summary>
    public decimal? IncrementalDollars { get; init; }
    /// <summary><see cref="UpliftVerdict"/>: "adds" (the dollar interval is above zero), "costs" (below), "unclear" (it spans zero), "too few".</summary>
    public required string Verdict { get; init; }
}

public static class UpliftVerdict
{
    public const string Adds = "adds", Costs = "costs", Unclear = "unclear", TooFew = "too few";
}

public sealed record UpliftReportOptions
{
    /// <summary>Two-sided confidence level of the intervals.</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>Below this many accounts in a group the group shows its count only (no figures), and the segment no interval.</summary>
    public int MinimumAccounts { get; init; } = 30;
}

/// <summary>
/// The uplift report: for every segment, treated against control. Accounts are assigned to control by a stable hash of
/// the account (<c>ControlGroups</c>), independently of anything about them, so the difference between the groups is
/// what the policy's non-baseline outreach caused, within the interval. Pure and streaming: <see cref="Add"/> every
/// observation once, then <see cref="Build"/>.
/// </summary>
public sealed class UpliftReport
{
    public const string All = "all", PolicyKind = "policy", StepKind = "step", ScoreBandKind = "scoreBand";

    /// <summary>Score bands by calibrated probability: five of 0.2 each.</summary>
    public static string? Band(double? probability) => probability switch
    {
        null => null,
        < 0.2 => "0.0-0.2",
        < 0.4 => "0.2-0.4",
        < 0.6 => "0.4-0.6",
        < 0.8 => "0.6-0.8",
        _ => "0.8-1.0",
    };

    /// <summary>
    /// One group's sums in a segment. Each account is weighted by the inverse of its chance of its group (1 / share for
    /// control, 1 / (1 - share) for treated), so segments that pool policies with different shares compare like with
    /// like; within one policy the weights are constant and the figures are the plain ones.
    /// </summary>
    private sealed class Sums
    {
        public long N;
        public double W, W2, WPaid, WY, W2Y, W2Y2;

        public void Add(decimal collected, double weight)
        {
            var y = (double)collected;
            N++;
            W += weight;
            W2 += weight * weight;
            WY += weight * y;
            W2Y += weight * weight * y;
            W2Y2 += weight * weight * y * y;
            if (collected > 0) WPaid += weight;
        }

        public double Mean => WY / W;
        public double Rate => WPaid / W;
        /// <summary>Kish's effective sample size: the plain count when the weights are equal.</summary>
        public double EffectiveN => W * W / W2;

        /// <summary>The variance of the weighted mean (the plain s² / n when the weights are equal).</summary>
        public double VarianceOfMean()
        {
            var m = Mean;
            return Math.Max(0, (W2Y2 - 2 * m * W2Y + m * m * W2) / (W * W)) * N / (N - 1);
        }
    }

    private readonly Dictionary<(string Kind, string Name), (Sums Treated, Sums Control)> _segments = [];

    /// <summary>Observations counted (those with a control share strictly between 0 and 1).</summary>
    public long Observations { get; private set; }

    /// <summary>Observations left out: their policy kept no control group.</summary>
    public long LeftOut { get; private set; }

    public UpliftReport Add(UpliftObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.ControlShare is <= 0 or >= 1)
        {
            LeftOut++;
            return this;
        }
        Observations++;
        var weight = observation.Control ? 1 / (double)observation.ControlShare : 1 / (1 - (double)observation.ControlShare);
        Count(All, All, observation, weight);
        Count(PolicyKind, observation.Policy, observation, weight);
        if (observation.ScoreBand is { } band) Count(ScoreBandKind, band, observation, weight);
        foreach (var step in observation.Steps.Distinct(StringComparer.Ordinal)) Count(StepKind, step, observation, weight);
        return this;
    }

    public static IReadOnlyList<UpliftSegment> Of(IEnumerable<UpliftObservation> observations, UpliftReportOptions? options = null)
    {
        var report = new UpliftReport();
        foreach (var o in observations) report.Add(o);
        return report.Build(options);
    }

    private void Count(string kind, string name, UpliftObservation observation, double weight)
    {
        if (!_segments.TryGetValue((kind, name), out var sums)) _segments[(kind, name)] = sums = (new Sums(), new Sums());
        (observation.Control ? sums.Control : sums.Treated).Add(observation.Collected, weight);
    }

    /// <summary>Segments in the order all, policies, steps, score bands (each by name).</summary>
    public IReadOnlyList<UpliftSegment> Build(UpliftReportOptions? options = null)
    {
        options ??= new UpliftReportOptions();
        if (!double.IsFinite(options.Confidence) || options.Confidence is <= 0.5 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(options), "The confidence level must be between 0.5 and 1.");
        var p = 0.5 + options.Confidence / 2;
        string[] order = [All, PolicyKind, StepKind, ScoreBandKind];
        var minimum = Math.Max(2, options.MinimumAccounts);
        return [.. _segments.OrderBy(s => Array.IndexOf(order, s.Key.Kind)).ThenBy(s => s.Key.Name, StringComparer.Ordinal)
            .Select(s => Segment(s.Key.Kind, s.Key.Name, s.Value.Treated, s.Value.Control, p, minimum))];
    }

    private static GroupOutcome Outcome(Sums s, int minimum) => s.N < minimum
        ? new GroupOutcome(s.N, null, null)
        : new GroupOutcome(s.N, s.Rate, Dollars(s.Mean));

    private static UpliftSegment Segment(string kind, string name, Sums treated, Sums control, double p, int minimum)
    {
        var segment = new UpliftSegment { Kind = kind, Name = name, Treated = Outcome(treated, minimum), Control = Outcome(control, minimum), Verdict = UpliftVerdict.TooFew };
        if (treated.N < minimum || control.N < minimum) return segment;

        var rate = NewcombeDifference(treated.Rate, treated.EffectiveN, control.Rate, control.EffectiveN, NormalQuantile(p));
        var (varT, varC) = (treated.VarianceOfMean(), control.VarianceOfMean());
        var difference = treated.Mean - control.Mean;
        // Welch: Student's t on the Welch-Satterthwaite degrees of freedom (of the effective sizes, for weighted groups).
        var df = Math.Max(1, (varT + varC) * (varT + varC) / (varT * varT / Math.Max(1, treated.EffectiveN - 1) + varC * varC / Math.Max(1, control.EffectiveN - 1)));
        var half = (double.IsFinite(df) ? StudentQuantile(p, df) : NormalQuantile(p)) * Math.Sqrt(varT + varC);
        var dollars = new Interval<decimal>(Dollars(difference), Dollars(difference - half), Dollars(difference + half));
        return segment with
        {
            RateDifference = rate, DollarsDifference = dollars,
            IncrementalDollars = Dollars(difference * treated.N),
            Verdict = difference - half > 0 ? UpliftVerdict.Adds : difference + half < 0 ? UpliftVerdict.Costs : UpliftVerdict.Unclear,
        };
    }

    private static decimal Dollars(double value) => decimal.Round((decimal)value, 2, MidpointRounding.AwayFromZero);

    /// <summary>Wilson's score interval for a proportion <paramref name="p"/> of <paramref name="n"/> (an effective size may be fractional).</summary>
    public static (double Low, double High) Wilson(double p, double n, double z)
    {
        if (n <= 0) return (0, 1);
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Newcombe's hybrid score interval (method 10) for the difference of two independent proportions.</summary>
    public static Interval<double> NewcombeDifference(double p1, double n1, double p0, double n0, double z)
    {
        var (l1, u1) = Wilson(p1, n1, z);
        var (l0, u0) = Wilson(p0, n0, z);
        var d = p1 - p0;
        return new Interval<double>(d, d - Math.Sqrt((p1 - l1) * (p1 - l1) + (u0 - p0) * (u0 - p0)), d + Math.Sqrt((u1 - p1) * (u1 - p1) + (p0 - l0) * (p0 - l0)));
    }

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (!double.IsFinite(p) || p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p));
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    /// <summary>
    /// Student's t quantile with <paramref name="df"/> degrees of freedom (the Cornish-Fisher expansion in the normal
    /// quantile, Abramowitz and Stegun 26.7.5: within 1e-4 from 8 degrees of freedom, exact as they grow).
    /// </summary>
    public static double StudentQuantile(double p, double df)
    {
        if (!double.IsFinite(df) || df < 1) throw new ArgumentOutOfRangeException(nameof(df));
        var x = NormalQuantile(p);
        double x2 = x * x, x3 = x2 * x, x5 = x3 * x2, x7 = x5 * x2, x9 = x7 * x2;
        var g1 = (x3 + x) / 4;
        var g2 = (5 * x5 + 16 * x3 + 3 * x) / 96;
        var g3 = (3 * x7 + 19 * x5 + 17 * x3 - 15 * x) / 384;
        var g4 = (79 * x9 + 776 * x7 + 1482 * x5 - 1920 * x3 - 945 * x) / 92160;
        return x + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
    }

    /// <summary>A rate difference as "+1.2% (+0.4% to +2.0%)"; empty without one.</summary>
    public static string Text(Interval<double>? r) =>
        r is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{r.Estimate:+0.0%;-0.0%} ({r.Low:+0.0%;-0.0%} to {r.High:+0.0%;-0.0%})");

    /// <summary>A dollar difference as "+12.34 (+5.00 to +19.68)"; empty without one.</summary>
    public static string Text(Interval<decimal>? d) =>
        d is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{d.Estimate:+0.00;-0.00} ({d.Low:+0.00;-0.00} to {d.High:+0.00;-0.00})");

    /// <summary>The report as text lines for a terminal (one line per segment).</summary>
    public static IEnumerable<string> Lines(IReadOnlyList<UpliftSegment> segments, double confidence = 0.95)
    {
        var ci = ((int)Math.Round(confidence * 100)).ToString(CultureInfo.InvariantCulture) + "% CI";
        yield return $"{"segment",-34} {"treated",9} {"control",9} {"paid T",7} {"paid C",7} {"rate diff (" + ci + ")",-30} {"$/acct T",9} {"$/acct C",9} {"$ diff (" + ci + ")",-28} verdict";
        foreach (var s in segments)
        {
            var rate = Text(s.RateDifference);
            var dollars = Text(s.DollarsDifference);
            var name = s.Kind == All ? "all accounts" : $"{s.Kind} {s.Name}";
            static string Rate(double? v) => v is { } r ? r.ToString("0.0%", CultureInfo.InvariantCulture) : "-";
            static string Money(decimal? v) => v is { } d ? d.ToString("0.00", CultureInfo.InvariantCulture) : "-";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{name,-34} {s.Treated.Accounts,9} {s.Control.Accounts,9} {Rate(s.Treated.PaymentRate),7} {Rate(s.Control.PaymentRate),7} {rate,-30} {Money(s.Treated.DollarsPerAccount),9} {Money(s.Control.DollarsPerAccount),9} {dollars,-28} {s.Verdict}");
        }
    }
}
