using Collections.Domain.Cadence;

namespace Collections.Scoring;

/// <summary>One ordering's held-out Qini curve (from the randomised groups) and its area over random targeting.</summary>
public sealed record OrderingQini(string Ordering, string OrderedBy, double AreaOverRandom, IReadOnlyList<QiniPoint> Curve);

public sealed record UpliftEvaluationResult(
    int Accounts, int TrainingAccounts, int TestAccounts, int TestControl, IReadOnlyList<OrderingQini> Orderings, IReadOnlyList<UpliftSegment> TestGroups)
{
    /// <summary>The uplift model learnt on the training accounts (to rank accounts with).</summary>
    public required TwoModelUplift Model { get; init; }
}

/// <summary>One account ranked by the uplift model on its latest features: expected dollars treated, in control, and the difference.</summary>
public sealed record UpliftRanking(string AccountId, DateTimeOffset ScoringDate, double ExpectedTreated, double ExpectedControl, double ExpectedIncremental);

/// <summary>
/// The uplift model option on the engine's own export: one row per account (its first scoring date with a treatment
/// group: the export gives the group only on dates from the assignment on, and only under a policy with a control share), accounts split by a seeded hash into training and test, a <see cref="TwoModelUplift"/> of dollars collected
/// in the label window learnt on the training accounts, and on the test accounts the Qini curves (from the randomised
/// groups) of targeting by expected incremental dollars, by expected dollars (a propensity model in dollars), and at
/// random. It says whether ranking by uplift would pick better whom to contact; the worklist keeps its own order.
/// </summary>
public static class UpliftEvaluation
{
    public const int MinimumPerGroup = 100;

    public static UpliftEvaluationResult Run(IReadOnlyList<TrainingRow> rows, double testShare = 0.3, int seed = 1, RegressionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (testShare is <= 0.05 or >= 0.95) throw new ArgumentOutOfRangeException(nameof(testShare), "The test share must be between 0.05 and 0.95.");
        var accounts = rows.Where(r => r.TreatmentGroup is "control" or "treated")
            .GroupBy(r => r.AccountId, StringComparer.Ordinal).Select(g => g.MinBy(r => r.ScoringDate)!).OrderBy(r => r.AccountId, StringComparer.Ordinal).ToList();
        var controls = accounts.Count(r => r.TreatmentGroup == "control");
        if (controls < MinimumPerGroup || accounts.Count - controls < MinimumPerGroup)
            throw new ArgumentException($"the file has {accounts.Count - controls} treated and {controls} control accounts (TreatmentGroup); the uplift model needs at least "
                                        + $"{MinimumPerGroup} of each: give a policy a controlShare and export again once their label windows have ended");
        var test = accounts.Select(r => Position(seed, r.AccountId) < testShare).ToArray();
        var train = accounts.Where((_, i) => !test[i]).ToList();
        var held = accounts.Where((_, i) => test[i]).ToList();
        var smallerGroup = Math.Min(train.Count(r => r.TreatmentGroup == "control"), train.Count(r => r.TreatmentGroup == "treated"));
        settings ??= new RegressionSettings { Seed = seed, MinimumRowsPerLeaf = Math.Clamp(smallerGroup / 8, 5, 50) };

        var uplift = TwoModelUplift.Train([.. train.Select(r => r.Features.ToArray())], [.. train.Select(r => r.TreatmentGroup == "control")],
            [.. train.Select(r => (double)r.CollectedInWindow)], settings);
        var expected = ExpectedDollars.Train(train.Select(r => (r.Features.ToArray(), (double)r.CollectedInWindow)), PaymentFeatures.Count, settings);

        var features = held.Select(r => r.Features.ToArray()).ToList();
        var control = held.Select(r => r.TreatmentGroup == "control").ToArray();
        var dollars = held.Select(r => r.CollectedInWindow).ToArray();
        OrderingQini Ordering(string name, string by, IReadOnlyList<double> score)
        {
            var curve = QiniCurve.FromExperiment(score, control, dollars, points: 10);
            return new OrderingQini(name, by, Math.Round(QiniCurve.AreaOverRandom(curve), 2), curve);
        }
        // The export does not carry each policy's share: the held-out accounts' own control fraction weighs every account alike.
        var share = Math.Clamp(Math.Round((decimal)control.Count(c => c) / Math.Max(1, control.Length), 6), 0.000001m, 0.999999m);
        var groups = UpliftReport.Of(held.Select((r, i) => new UpliftObservation("(export)", control[i], share, r.CollectedInWindow, null, [])));
        return new UpliftEvaluationResult(accounts.Count, train.Count, held.Count, control.Count(c => c),
        [
            Ordering("uplift", "two-model expected incremental dollars", [.. uplift.Predict(features).Select(p => p.Uplift)]),
            Ordering("propensity", "expected dollars whatever the group", expected.Predict(features)),
            Ordering("random", "a hash of the account", [.. held.Select(r => Position(seed + 1, r.AccountId))]),
        ], groups) { Model = uplift };
    }

    /// <summary>Every account in <paramref name="rows"/> on its latest scoring date, highest expected incremental dollars first.</summary>
    public static IReadOnlyList<UpliftRanking> Rank(IReadOnlyList<TrainingRow> rows, TwoModelUplift model)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(model);
        var latest = rows.GroupBy(r => r.AccountId, StringComparer.Ordinal).Select(g => g.MaxBy(r => r.ScoringDate)!).ToList();
        var predicted = model.Predict([.. latest.Select(r => r.Features.ToArray())]);
        return [.. latest.Select((r, i) => new UpliftRanking(r.AccountId, r.ScoringDate, predicted[i].Treated, predicted[i].Control, predicted[i].Uplift))
            .OrderByDescending(r => r.ExpectedIncremental).ThenBy(r => r.AccountId, StringComparer.Ordinal)];
    }

    /// <summary>The ranking as CSV (RFC 4180): AccountId, ScoringDate, ExpectedIncrementalDollars, ExpectedDollarsTreated, ExpectedDollarsControl.</summary>
    public static void WriteRankingCsv(TextWriter writer, IEnumerable<UpliftRanking> ranking)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(ranking);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        writer.Write("AccountId,ScoringDate,ExpectedIncrementalDollars,ExpectedDollarsTreated,ExpectedDollarsControl\n");
        foreach (var r in ranking)
        {
            var id = r.AccountId.IndexOfAny([',', '"', '\n', '\r']) < 0 ? r.AccountId : $"\"{r.AccountId.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            writer.Write(string.Create(inv, $"{id},{r.ScoringDate:yyyy-MM-dd},{r.ExpectedIncremental:0.00},{r.ExpectedTreated:0.00},{r.ExpectedControl:0.00}\n"));
        }
    }

    /// <summary>The account's place in [0, 1) for a seeded split: the control groups' stable hash, under a key of its own.</summary>
    private static double Position(int seed, string account) => ControlGroups.StableShare($"uplift-split|{seed}|{account}");

    public static IEnumerable<string> Lines(UpliftEvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        yield return string.Create(inv, $"{result.Accounts} accounts with a group: {result.TrainingAccounts} to learn from, {result.TestAccounts} held out ({result.TestControl} of them control).");
        var all = result.TestGroups.Single(s => s.Kind == UpliftReport.All);
        if (all.DollarsDifference is { } d)
            yield return string.Create(inv, $"Held out: treated less control {d.Estimate:+0.00;-0.00} dollars per account (95% CI {d.Low:+0.00;-0.00} to {d.High:+0.00;-0.00}).");
        yield return "Incremental dollars when treating the top share by each ordering (held-out accounts, treated less control scaled to the treated count):";
        var shares = result.Orderings[0].Curve.Skip(1).Select(p => p.Share).ToList();
        var header = string.Join(" ", shares.Select(s => string.Create(inv, $"{s,9:0%}")));
        yield return $"{"ordering",-11} {"area over random",17} {header}  ordered by";
        foreach (var o in result.Orderings)
        {
            var points = string.Join(" ", o.Curve.Skip(1).Select(p => string.Create(inv, $"{p.IncrementalDollars,9:0}")));
            yield return string.Create(inv, $"{o.Ordering,-11} {o.AreaOverRandom,17:0.00} {points}  {o.OrderedBy}");
        }
        yield return "A larger area over random means the ordering finds the accounts outreach moves; on a small held-out set read it with the interval above.";
    }
}
