namespace Collections.Scoring;

/// <summary>One point of a Qini curve: treating the top <see cref="Share"/> of accounts by a score adds these dollars.</summary>
public sealed record QiniPoint(double Share, decimal IncrementalDollars, long ExtraContacts);

/// <summary>
/// Qini curves: the incremental dollars of treating the top share of accounts by a score. With a randomised group only
/// (<see cref="FromExperiment"/>), the treated dollars in the top share less the control dollars scaled to the treated
/// count; where each account's effect is known (a simulation runs both worlds, <see cref="FromEffects"/>), the sum of
/// the effects. The Qini coefficient is the area between the curve and random targeting as a share of the area the
/// best possible ordering gets (1 = perfect, 0 = no better than random).
/// </summary>
public static class QiniCurve
{
    /// <param name="score">Higher first; ties by index.</param>
    /// <param name="effect">Each account's incremental dollars when treated.</param>
    /// <param name="extraContacts">Contacts each account gets when treated beyond the baseline.</param>
    public static IReadOnlyList<QiniPoint> FromEffects(IReadOnlyList<double> score, IReadOnlyList<decimal> effect, IReadOnlyList<long> extraContacts, int points = 20)
    {
        ArgumentNullException.ThrowIfNull(score);
        var order = HighestFirst(score);
        var curve = new List<QiniPoint>(points + 1) { new(0, 0m, 0) };
        decimal dollars = 0m;
        long contacts = 0;
        var next = 1;
        for (var k = 0; k < order.Length; k++)
        {
            dollars += effect[order[k]];
            contacts += extraContacts[order[k]];
            while (next <= points && (k + 1) * points >= (long)next * order.Length)
            {
                curve.Add(new QiniPoint((double)next / points, dollars, contacts));
                next++;
            }
        }
        return curve;
    }

    /// <summary>The Qini curve from a randomised experiment: treated dollars less control dollars times treated/control counts, in the top share.</summary>
    public static IReadOnlyList<QiniPoint> FromExperiment(IReadOnlyList<double> score, IReadOnlyList<bool> control, IReadOnlyList<decimal> dollars, int points = 20)
    {
        ArgumentNullException.ThrowIfNull(score);
        var order = HighestFirst(score);
        var curve = new List<QiniPoint>(points + 1) { new(0, 0m, 0) };
        // Until the top share holds a control account, its treated accounts are compared with the mean control account.
        var allControls = control.Count(c => c);
        var controlMean = allControls == 0 ? 0m : dollars.Where((_, i) => control[i]).Sum() / allControls;
        decimal treatedDollars = 0m, controlDollars = 0m;
        long treated = 0, controls = 0;
        var next = 1;
        for (var k = 0; k < order.Length; k++)
        {
            var i = order[k];
            if (control[i]) { controls++; controlDollars += dollars[i]; }
            else { treated++; treatedDollars += dollars[i]; }
            while (next <= points && (k + 1) * points >= (long)next * order.Length)
            {
                var gain = controls == 0 ? treatedDollars - controlMean * treated : treatedDollars - controlDollars * treated / controls;
                curve.Add(new QiniPoint((double)next / points, decimal.Round(gain, 2), 0));
                next++;
            }
        }
        return curve;
    }

    /// <summary>Account indexes by score, highest first; ties by index, so the order is total and repeatable.</summary>
    private static int[] HighestFirst(IReadOnlyList<double> score) => [.. Enumerable.Range(0, score.Count).OrderByDescending(i => score[i]).ThenBy(i => i)];

    /// <summary>Area between the curve and the straight line to its end (random targeting), by the trapezoid rule, in dollars x share.</summary>
    public static double AreaOverRandom(IReadOnlyList<QiniPoint> curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (curve.Count < 2) return 0;
        var end = (double)curve[^1].IncrementalDollars;
        double area = 0;
        for (var i = 1; i < curve.Count; i++)
        {
            var width = curve[i].Share - curve[i - 1].Share;
            double Above(QiniPoint p) => (double)p.IncrementalDollars - end * p.Share;
            area += width * (Above(curve[i]) + Above(curve[i - 1])) / 2;
        }
        return area;
    }

    /// <summary>The Qini coefficient: <paramref name="curve"/>'s area over random as a share of <paramref name="best"/>'s.</summary>
    public static double Coefficient(IReadOnlyList<QiniPoint> curve, IReadOnlyList<QiniPoint> best)
    {
        var top = AreaOverRandom(best);
        return top <= 0 ? 0 : AreaOverRandom(curve) / top;
    }
}
