namespace Collections.Scoring;

/// <summary>The evaluation metrics of the report, on plain arrays (probabilities or scores and 0/1 outcomes).</summary>
public static class Metrics
{
    /// <summary>
    /// Area under the ROC curve: the chance that a random positive scores above a random negative, ties counting half
    /// (Mann-Whitney with average ranks). NaN when there are no positives or no negatives.
    /// </summary>
    public static double Auc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        Check(scores, labels);
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positives = 0, negatives = 0, positiveRanks = 0;
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j < order.Length && scores[order[j]] == scores[order[i]]) j++;
            var averageRank = (i + 1 + j) / 2.0; // ranks i+1 .. j
            for (var k = i; k < j; k++)
            {
                if (labels[order[k]]) { positives++; positiveRanks += averageRank; }
                else negatives++;
            }
            i = j;
        }
        if (positives == 0 || negatives == 0) return double.NaN;
        return (positiveRanks - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>
    /// Area under the precision-recall curve as average precision: going down the scores (tied scores taken together),
    /// the sum of each step's gain in recall times the precision at that step. NaN without positives.
    /// </summary>
    public static double PrAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        Check(scores, labels);
        var totalPositives = labels.Count(l => l);
        if (totalPositives == 0) return double.NaN;
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double truePositives = 0, seen = 0, ap = 0;
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            var groupPositives = 0;
            while (j < order.Length && scores[order[j]] == scores[order[i]])
            {
                if (labels[order[j]]) groupPositives++;
                j++;
            }
            truePositives += groupPositives;
            seen += j - i;
            ap += groupPositives / (double)totalPositives * (truePositives / seen);
            i = j;
        }
        return ap;
    }

    /// <summary>
    /// Expected calibration error: over ten equal-width probability bins, the share of rows in each times the gap
    /// between its mean predicted probability and its observed rate, summed.
    /// </summary>
    public static double Ece(IReadOnlyList<double> probabilities, IReadOnlyList<bool> labels, int bins = 10)
    {
        Check(probabilities, labels);
        if (probabilities.Count == 0) return double.NaN;
        var sum = new double[bins];
        var positives = new double[bins];
        var counts = new int[bins];
        for (var i = 0; i < probabilities.Count; i++)
        {
            var b = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            sum[b] += probabilities[i];
            if (labels[i]) positives[b]++;
            counts[b]++;
        }
        double ece = 0;
        for (var b = 0; b < bins; b++)
            if (counts[b] > 0) ece += counts[b] / (double)probabilities.Count * Math.Abs(sum[b] / counts[b] - positives[b] / counts[b]);
        return ece;
    }

    /// <summary>
    /// The ECE a perfectly calibrated model would show on these rows by chance alone: the mean ECE of outcomes drawn
    /// from the probabilities themselves (seeded). On a thousand rows it is a few hundredths, so an ECE near it is as
    /// good as the rows can tell.
    /// </summary>
    public static double EceByChance(IReadOnlyList<double> probabilities, int draws = 200, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (probabilities.Count == 0) return double.NaN;
        var random = new Random(seed);
        var outcomes = new bool[probabilities.Count];
        double total = 0;
        for (var d = 0; d < draws; d++)
        {
            for (var i = 0; i < outcomes.Length; i++) outcomes[i] = random.NextDouble() < probabilities[i];
            total += Ece(probabilities, outcomes);
        }
        return total / draws;
    }

    /// <summary>Mean negative natural log of the probability given to what happened; probabilities are clamped to [1e-15, 1 - 1e-15].</summary>
    public static double LogLoss(IReadOnlyList<double> probabilities, IReadOnlyList<bool> labels)
    {
        Check(probabilities, labels);
        if (probabilities.Count == 0) return double.NaN;
        double sum = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var p = Math.Clamp(probabilities[i], 1e-15, 1 - 1e-15);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / probabilities.Count;
    }

    /// <summary>Mean squared difference between the probability and the outcome (1 or 0).</summary>
    public static double Brier(IReadOnlyList<double> probabilities, IReadOnlyList<bool> labels)
    {
        Check(probabilities, labels);
        if (probabilities.Count == 0) return double.NaN;
        double sum = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var d = probabilities[i] - (labels[i] ? 1 : 0);
            sum += d * d;
        }
        return sum / probabilities.Count;
    }

    /// <summary>Ten equal-width bins of predicted probability ([0, 0.1), ..., [0.9, 1]): mean prediction, observed rate, count. Empty bins are kept with NaN means.</summary>
    public static IReadOnlyList<CalibrationBin> Calibration(IReadOnlyList<double> probabilities, IReadOnlyList<bool> labels, int bins = 10)
    {
        Check(probabilities, labels);
        var sums = new double[bins];
        var positives = new int[bins];
        var counts = new int[bins];
        for (var i = 0; i < probabilities.Count; i++)
        {
            var b = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            sums[b] += probabilities[i];
            counts[b]++;
            if (labels[i]) positives[b]++;
        }
        return [.. Enumerable.Range(0, bins).Select(b => new CalibrationBin(
            (double)b / bins, (double)(b + 1) / bins,
            counts[b] == 0 ? double.NaN : sums[b] / counts[b],
            counts[b] == 0 ? double.NaN : positives[b] / (double)counts[b],
            counts[b]))];
    }

    /// <summary>
    /// Rows sorted by score, highest first, cut into ten groups as equal as can be (decile 1 is the top tenth): count,
    /// mean score, positive rate, lift (positive rate over the overall rate), patient balance and dollars collected in the window.
    /// </summary>
    public static IReadOnlyList<DecileRow> Deciles(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, IReadOnlyList<decimal>? balances = null, IReadOnlyList<decimal>? collected = null)
    {
        Check(scores, labels);
        var n = scores.Count;
        if (n == 0) return [];
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var overall = labels.Count(l => l) / (double)n;
        var rows = new List<DecileRow>(10);
        for (var d = 0; d < 10; d++)
        {
            int from = (int)((long)d * n / 10), to = (int)((long)(d + 1) * n / 10);
            if (to <= from) continue;
            double score = 0;
            int positives = 0;
            decimal balance = 0, captured = 0;
            for (var k = from; k < to; k++)
            {
                var i = order[k];
                score += scores[i];
                if (labels[i]) positives++;
                if (balances is not null) balance += balances[i];
                if (collected is not null) captured += collected[i];
            }
            var count = to - from;
            var rate = positives / (double)count;
            rows.Add(new DecileRow(d + 1, count, score / count, rate, overall > 0 ? rate / overall : double.NaN, balance, captured));
        }
        return rows;
    }

    private static void Check<T>(IReadOnlyList<T> values, IReadOnlyList<bool> labels)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(labels);
        if (values.Count != labels.Count) throw new ArgumentException($"{values.Count} scores for {labels.Count} labels.", nameof(labels));
    }
}

/// <summary>
/// Platt scaling: p = 1 / (1 + exp(-(Slope * score + Intercept))), fitted by maximum likelihood (Newton's method) on
/// rows the trees were not trained on, with Platt's smoothed targets so that a perfectly separated slice does not give
/// infinite weights.
/// </summary>
public sealed record PlattCalibration(double Slope, double Intercept)
{
    public double Probability(double score) => Sigmoid(Slope * score + Intercept);

    public static PlattCalibration Fit(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        var positives = labels.Count(l => l);
        var negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException("Calibration needs both outcomes among its rows.", nameof(labels));
        double hi = (positives + 1.0) / (positives + 2.0), lo = 1.0 / (negatives + 2.0);
        double a = 0, b = Math.Log((positives + 1.0) / (negatives + 1.0));
        var loss = Loss(a, b);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            double g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h21 = 0;
            for (var i = 0; i < scores.Count; i++)
            {
                var s = scores[i];
                var p = Sigmoid(a * s + b);
                var d = p - (labels[i] ? hi : lo);
                var w = p * (1 - p);
                g1 += d * s;
                g2 += d;
                h11 += w * s * s;
                h22 += w;
                h21 += w * s;
            }
            var det = h11 * h22 - h21 * h21;
            if (Math.Abs(det) < 1e-300) break;
            var da = (h22 * g1 - h21 * g2) / det;
            var db = (h11 * g2 - h21 * g1) / det;
            // Newton's step, halved until the loss does not grow.
            var step = 1.0;
            double na = a - da, nb = b - db, newLoss = Loss(na, nb);
            while (newLoss > loss + 1e-12 && step > 1e-6)
            {
                step /= 2;
                na = a - step * da;
                nb = b - step * db;
                newLoss = Loss(na, nb);
            }
            var moved = Math.Abs(na - a) + Math.Abs(nb - b);
            (a, b, loss) = (na, nb, newLoss);
            if (moved < 1e-10) break;
        }
        return new PlattCalibration(a, b);

        double Loss(double slope, double intercept)
        {
            double sum = 0;
            for (var i = 0; i < scores.Count; i++)
            {
                var z = slope * scores[i] + intercept;
                var t = labels[i] ? hi : lo;
                // -[t log p + (1-t) log(1-p)] with log p = -log(1+e^-z), computed stably.
                sum += t * Softplus(-z) + (1 - t) * Softplus(z);
            }
            return sum;
        }
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private static double Softplus(double z) => z > 30 ? z : Math.Log(1 + Math.Exp(z));
}
