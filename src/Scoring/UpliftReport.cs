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
public sealed record UpliftObservation(string Policy, bool Control, decimal Collected, string? ScoreBand, IReadOnlyList<string> Steps);

/// <summary>One group's outcome in a segment: accounts, how many paid anything, and dollars collected per account.</summary>
public sealed record GroupOutcome(long Accounts, long Paying, double PaymentRate, decimal Collected, decimal DollarsPerAccount);

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
    /// <summary>Treated dollars per account less control dollars per account (Welch's interval); null with too few accounts.</summary>
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
    /// <summary>Below this many accounts in either group a segment shows its counts but no interval.</summary>
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

    private sealed class Sums
    {
        public long N, Paying;
        public decimal Total;
        public double SumSquares;

        public void Add(decimal collected)
        {
            N++;
            if (collected > 0) Paying++;
            Total += collected;
            SumSquares += (double)collected * (double)collected;
        }
    }

    private readonly Dictionary<(string Kind, string Name), (Sums Treated, Sums Control)> _segments = [];

    public long Observations { get; private set; }

    public UpliftReport Add(UpliftObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        Observations++;
        Count(All, All, observation);
        Count(PolicyKind, observation.Policy, observation);
        if (observation.ScoreBand is { } band) Count(ScoreBandKind, band, observation);
        foreach (var step in observation.Steps.Distinct(StringComparer.Ordinal)) Count(StepKind, step, observation);
        return this;
    }

    public static IReadOnlyList<UpliftSegment> Of(IEnumerable<UpliftObservation> observations, UpliftReportOptions? options = null)
    {
        var report = new UpliftReport();
        foreach (var o in observations) report.Add(o);
        return report.Build(options);
    }

    private void Count(string kind, string name, UpliftObservation observation)
    {
        if (!_segments.TryGetValue((kind, name), out var sums)) _segments[(kind, name)] = sums = (new Sums(), new Sums());
        (observation.Control ? sums.Control : sums.Treated).Add(observation.Collected);
    }

    /// <summary>Segments in the order all, policies, steps, score bands (each by name).</summary>
    public IReadOnlyList<UpliftSegment> Build(UpliftReportOptions? options = null)
    {
        options ??= new UpliftReportOptions();
        if (options.Confidence is <= 0.5 or >= 1) throw new ArgumentOutOfRangeException(nameof(options), "The confidence level must be between 0.5 and 1.");
        var z = NormalQuantile(0.5 + options.Confidence / 2);
        string[] order = [All, PolicyKind, StepKind, ScoreBandKind];
        return [.. _segments.OrderBy(s => Array.IndexOf(order, s.Key.Kind)).ThenBy(s => s.Key.Name, StringComparer.Ordinal)
            .Select(s => Segment(s.Key.Kind, s.Key.Name, s.Value.Treated, s.Value.Control, z, options.MinimumAccounts))];
    }

    private static GroupOutcome Outcome(Sums s) => new(s.N, s.Paying, s.N == 0 ? 0 : (double)s.Paying / s.N, s.Total,
        s.N == 0 ? 0m : decimal.Round(s.Total / s.N, 2, MidpointRounding.AwayFromZero));

    private static UpliftSegment Segment(string kind, string name, Sums treated, Sums control, double z, int minimum)
    {
        var segment = new UpliftSegment { Kind = kind, Name = name, Treated = Outcome(treated), Control = Outcome(control), Verdict = UpliftVerdict.TooFew };
        if (treated.N < Math.Max(2, minimum) || control.N < Math.Max(2, minimum)) return segment;

        var rate = NewcombeDifference(treated.Paying, treated.N, control.Paying, control.N, z);
        var (meanT, varT) = MeanAndVariance(treated);
        var (meanC, varC) = MeanAndVariance(control);
        var difference = meanT - meanC;
        var half = z * Math.Sqrt(varT / treated.N + varC / control.N);
        var dollars = new Interval<decimal>(Dollars(difference), Dollars(difference - half), Dollars(difference + half));
        return segment with
        {
            RateDifference = rate, DollarsDifference = dollars,
            IncrementalDollars = Dollars(difference * treated.N),
            Verdict = difference - half > 0 ? UpliftVerdict.Adds : difference + half < 0 ? UpliftVerdict.Costs : UpliftVerdict.Unclear,
        };
    }

    private static decimal Dollars(double value) => decimal.Round((decimal)value, 2, MidpointRounding.AwayFromZero);

    private static (double Mean, double Variance) MeanAndVariance(Sums s)
    {
        var mean = (double)s.Total / s.N;
        return (mean, Math.Max(0, (s.SumSquares - s.N * mean * mean) / (s.N - 1)));
    }

    /// <summary>Wilson's score interval for a proportion.</summary>
    public static (double Low, double High) Wilson(long successes, long n, double z)
    {
        if (n == 0) return (0, 1);
        var p = (double)successes / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Newcombe's hybrid score interval (method 10) for the difference of two independent proportions.</summary>
    public static Interval<double> NewcombeDifference(long successes1, long n1, long successes0, long n0, double z)
    {
        var p1 = (double)successes1 / n1;
        var p0 = (double)successes0 / n0;
        var (l1, u1) = Wilson(successes1, n1, z);
        var (l0, u0) = Wilson(successes0, n0, z);
        var d = p1 - p0;
        return new Interval<double>(d, d - Math.Sqrt((p1 - l1) * (p1 - l1) + (u0 - p0) * (u0 - p0)), d + Math.Sqrt((u1 - p1) * (u1 - p1) + (p0 - l0) * (p0 - l0)));
    }

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p));
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

    /// <summary>The report as text lines for a terminal (one line per segment).</summary>
    public static IEnumerable<string> Lines(IReadOnlyList<UpliftSegment> segments, double confidence = 0.95)
    {
        var ci = ((int)Math.Round(confidence * 100)).ToString(CultureInfo.InvariantCulture) + "% CI";
        yield return $"{"segment",-34} {"treated",9} {"control",9} {"paid T",7} {"paid C",7} {"rate diff (" + ci + ")",-30} {"$/acct T",9} {"$/acct C",9} {"$ diff (" + ci + ")",-28} verdict";
        foreach (var s in segments)
        {
            var rate = s.RateDifference is { } r
                ? string.Create(CultureInfo.InvariantCulture, $"{r.Estimate:+0.0%;-0.0%} ({r.Low:+0.0%;-0.0%} to {r.High:+0.0%;-0.0%})") : "";
            var dollars = s.DollarsDifference is { } d
                ? string.Create(CultureInfo.InvariantCulture, $"{d.Estimate:+0.00;-0.00} ({d.Low:+0.00;-0.00} to {d.High:+0.00;-0.00})") : "";
            var name = s.Kind == All ? "all accounts" : $"{s.Kind} {s.Name}";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{name,-34} {s.Treated.Accounts,9} {s.Control.Accounts,9} {s.Treated.PaymentRate,7:0.0%} {s.Control.PaymentRate,7:0.0%} {rate,-30} {s.Treated.DollarsPerAccount,9:0.00} {s.Control.DollarsPerAccount,9:0.00} {dollars,-28} {s.Verdict}");
        }
    }
}
