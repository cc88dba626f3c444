using System.Diagnostics;
using System.Globalization;
using System.Text;
using Collections.Domain.Cadence;
using Collections.Scoring;

namespace Collections.Cli.Simulation;

public sealed record UpliftSimulationOptions
{
    public int Accounts { get; init; } = 20_000;
    /// <summary>Accounts of the pilot portfolio (another seed) the targeting models learn from, half of them in control.</summary>
    public int TrainingAccounts { get; init; } = 20_000;
    public int Days { get; init; } = 120;
    public ulong Seed { get; init; } = 1;
    /// <summary>Every policy's control share in the measured portfolio.</summary>
    public decimal ControlShare { get; init; } = 0.2m;
    /// <summary>Share of accounts the targeting comparison treats (the rest get the baseline), for dollars per contact.</summary>
    public double TargetShare { get; init; } = 0.3;
    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>One segment of the uplift report on simulated accounts, with the true effect beside the estimate.</summary>
public sealed record SimulatedUpliftSegment(UpliftSegment Estimate, decimal TrueDollarsPerAccount, double TrueRateDifference, bool? TruthInInterval);

/// <summary>One way of choosing whom to treat: its Qini curve on the portfolio (true effects), coefficient and yield at the target share.</summary>
public sealed record TargetingResult(string Strategy, string OrderedBy, double QiniCoefficient, decimal IncrementalDollarsAtTarget, long ExtraContactsAtTarget,
    decimal? DollarsPerExtraContact, IReadOnlyList<QiniPoint> Curve);

public sealed record UpliftSimulationReport(
    UpliftSimulationOptions Options, string Policies, long TreatedAccounts, long ControlAccounts,
    IReadOnlyList<SimulatedUpliftSegment> Segments, IReadOnlyList<TargetingResult> Targeting, double Seconds);

/// <summary>
/// Proof that the uplift report measures what outreach causes, and a comparison of targeting by uplift, by propensity
/// and oldest-first. Every simulated account is run twice with the same random draws: treated (the policy in full) and
/// control (the policy's baseline only, as <see cref="CadenceRun"/> does for a control account), so its true effect is
/// known. The report sees only the world its stable hash assigned it to, like the engine's, and its estimates are
/// printed beside the truth. For targeting, models learn on a pilot portfolio (another seed, half control) from what
/// the engine could observe (balance, contact details, a noisy payment-history signal, days owed), and each ordering's
/// Qini curve on the measured portfolio is drawn from the true effects.
/// </summary>
public static class UpliftSimulation
{
    /// <summary>Purposes of the draws that make the observable signals (keyed on day -2, which no simulation uses).</summary>
    private const int SignalDay = -2, DrawSignal = 1, DrawDaysOwed = 3;

    /// <summary>What one account did in both worlds.</summary>
    private readonly record struct Worlds(string Policy, string[] TreatedSteps, string[] ControlSteps, long TreatedCents, long ControlCents, int TreatedContacts, int ControlContacts);

    public static UpliftSimulationReport Run(UpliftSimulationOptions options, PolicyScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(scenario);
        if (options.ControlShare is <= 0 or > 0.5m) throw new ArgumentOutOfRangeException(nameof(options), "The control share must be above 0 and at most 0.5.");
        var stopwatch = Stopwatch.StartNew();
        var book = scenario.Book.Select(p => p with { ControlShare = options.ControlShare }).ToList();
        var simulation = new SimulationOptions { Accounts = options.Accounts, Days = options.Days, Seed = options.Seed, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism };
        var specs = Portfolio.Generate(options.Accounts, options.Seed, simulation.Portfolio, options.MaxDegreeOfParallelism);
        var worlds = BothWorlds(specs, book, simulation);

        // The report, as the engine would make it: each account in the world its hash chose.
        var control = new bool[specs.Length];
        var report = new UpliftReport();
        var truth = new Dictionary<(string, string), (decimal Dollars, long PaidDifference, long N)>();
        for (var i = 0; i < specs.Length; i++)
        {
            var w = worlds[i];
            var policy = book.First(p => p.PolicyId == w.Policy);
            control[i] = ControlGroups.InControl(policy, PortfolioSimulator.AccountId(i));
            var observation = new UpliftObservation(w.Policy, control[i], options.ControlShare, (control[i] ? w.ControlCents : w.TreatedCents) / 100m,
                UpliftReport.Band(NinetyDayPropensity(specs[i])), control[i] ? w.ControlSteps : w.TreatedSteps);
            report.Add(observation);
            var effect = (w.TreatedCents - w.ControlCents) / 100m;
            var paid = (w.TreatedCents > 0 ? 1 : 0) - (w.ControlCents > 0 ? 1 : 0);
            void Truth(string kind, string name)
            {
                var t = truth.GetValueOrDefault((kind, name));
                truth[(kind, name)] = (t.Dollars + effect, t.PaidDifference + paid, t.N + 1);
            }
            Truth(UpliftReport.All, UpliftReport.All);
            Truth(UpliftReport.PolicyKind, observation.Policy);
            Truth(UpliftReport.ScoreBandKind, observation.ScoreBand!);
            foreach (var step in observation.Steps) Truth(UpliftReport.StepKind, step);
        }
        var segments = report.Build().Select(s =>
        {
            var t = truth[(s.Kind, s.Name)];
            var dollars = decimal.Round(t.Dollars / t.N, 2);
            return new SimulatedUpliftSegment(s, dollars, (double)t.PaidDifference / t.N,
                s.DollarsDifference is { } d ? d.Low <= dollars && dollars <= d.High : null);
        }).ToList();

        var targeting = Targeting(options, book, simulation, specs, worlds);
        stopwatch.Stop();
        return new UpliftSimulationReport(options, scenario.Policies, control.LongLength - control.Count(c => c), control.Count(c => c), segments, targeting,
            stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>The chance the account pays anything unprompted within 90 days: the simulator's true propensity, banded like a score.</summary>
    private static double NinetyDayPropensity(in AccountSpec spec) => 1 - Math.Pow(1 - spec.DailyPropensity, 90);

    private static Worlds[] BothWorlds(AccountSpec[] specs, IReadOnlyList<CadencePolicy> book, SimulationOptions simulation)
    {
        var worlds = new Worlds[specs.Length];
        const int chunk = 256;
        Parallel.For(0, (specs.Length + chunk - 1) / chunk, new ParallelOptions { MaxDegreeOfParallelism = simulation.MaxDegreeOfParallelism }, c =>
        {
            var lift = new double[simulation.Days + 40];
            var scratch = new ScenarioTally(simulation.Days);
            AccountTrace treated = new(), controlled = new();
            for (var i = c * chunk; i < Math.Min(specs.Length, (c + 1) * chunk); i++)
            {
                PortfolioSimulator.SimulateAs(i, specs[i], book, simulation, control: false, scratch, lift, treated);
                PortfolioSimulator.SimulateAs(i, specs[i], book, simulation, control: true, scratch, lift, controlled);
                worlds[i] = new Worlds(treated.PolicyId ?? CadencePolicies.Standard.PolicyId, [.. treated.Steps], [.. controlled.Steps],
                    treated.CollectedCents, controlled.CollectedCents, treated.Contacts, controlled.Contacts);
            }
        });
        return worlds;
    }

    /// <summary>What the engine could know about a simulated account before outreach: balance, contact details, a payment-history signal, days owed.</summary>
    private static float[] Features(int i, in AccountSpec spec, ulong seed)
    {
        // A noisy view of the latent propensity, standing for the patient's payment history (real features are noisier still).
        var signal = Math.Log(spec.DailyPropensity) + 0.8 * Randomness.Normal(seed, i, SignalDay, DrawSignal);
        // Older debts are a little less likely to be paid: days owed leans on the propensity, with most of it noise.
        var daysOwed = Math.Clamp(60 - 15 * (Math.Log(spec.DailyPropensity) - Math.Log(0.004)) + 40 * Randomness.Normal(seed, i, SignalDay, DrawDaysOwed), 0, 365);
        return
        [
            spec.BalanceCents / 100f, spec.HasEmail ? 1 : 0, spec.HasMobile ? 1 : 0, spec.HasLandline ? 1 : 0, spec.SmsConsent ? 1 : 0,
            (float)spec.Preferred, (float)signal, (float)Math.Round(daysOwed),
        ];
    }

    private static IReadOnlyList<TargetingResult> Targeting(UpliftSimulationOptions options, IReadOnlyList<CadencePolicy> book, SimulationOptions simulation,
        AccountSpec[] specs, Worlds[] worlds)
    {
        // The pilot: another portfolio, half in control, seen only in its assigned world.
        var pilotSeed = options.Seed + 7_919;
        var pilotSpecs = Portfolio.Generate(options.TrainingAccounts, pilotSeed, simulation.Portfolio, options.MaxDegreeOfParallelism);
        var pilotWorlds = BothWorlds(pilotSpecs, book, simulation with { Seed = pilotSeed, Accounts = options.TrainingAccounts });
        var pilotFeatures = pilotSpecs.Select((s, i) => Features(i, s, pilotSeed)).ToArray();
        var pilotControl = pilotSpecs.Select((_, i) => ControlGroups.Position("pilot", PortfolioSimulator.AccountId(i)) < 0.5).ToArray();
        var pilotDollars = pilotWorlds.Select((w, i) => (pilotControl[i] ? w.ControlCents : w.TreatedCents) / 100.0).ToArray();
        var settings = new RegressionSettings { Seed = (int)(options.Seed % int.MaxValue), MinimumRowsPerLeaf = 200, Trees = 100 };
        var uplift = TwoModelUplift.Train(pilotFeatures, pilotControl, pilotDollars, settings);
        // Propensity as the worklist uses it: expected dollars from everyone (what a model without a control group learns).
        var propensity = ExpectedDollars.Train(pilotFeatures.Select((f, i) => (f, pilotDollars[i])), pilotFeatures[0].Length, settings);

        var features = specs.Select((s, i) => Features(i, s, options.Seed)).ToArray();
        var effects = worlds.Select(w => (w.TreatedCents - w.ControlCents) / 100m).ToArray();
        var extra = worlds.Select(w => (long)Math.Max(0, w.TreatedContacts - w.ControlContacts)).ToArray();
        var upliftScores = uplift.Predict(features).Select(p => p.Uplift).ToArray();
        var propensityScores = propensity.Predict(features);
        var oldest = features.Select(f => (double)f[7]).ToArray();
        var random = specs.Select((_, i) => Randomness.Uniform(options.Seed, i, SignalDay, 99)).ToArray();
        var best = effects.Select(e => (double)e).ToArray();
        var bestCurve = QiniCurve.FromEffects(best, effects, extra);

        TargetingResult Result(string name, string orderedBy, double[] score)
        {
            var curve = QiniCurve.FromEffects(score, effects, extra);
            var at = curve.MinBy(p => Math.Abs(p.Share - options.TargetShare))!;
            return new TargetingResult(name, orderedBy, Math.Round(QiniCurve.Coefficient(curve, bestCurve), 3), at.IncrementalDollars, at.ExtraContacts,
                at.ExtraContacts == 0 ? null : decimal.Round(at.IncrementalDollars / at.ExtraContacts, 2), curve);
        }
        return
        [
            Result("uplift", "two-model expected incremental dollars", upliftScores),
            Result("propensity", "expected dollars (what a payment model ranks by)", propensityScores),
            Result("oldest-first", "days owed", oldest),
            Result("random", "a hash (the control group's own choice)", random),
            Result("true effect", "each account's true incremental dollars (upper bound)", best),
        ];
    }

    public static string Table(UpliftSimulationReport report)
    {
        var us = CultureInfo.GetCultureInfo("en-US");
        var o = report.Options;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"portfolio: {o.Accounts:N0} accounts over {o.Days} days, seed {o.Seed}; policies {report.Policies}; control share {o.ControlShare:0.##}: {report.TreatedAccounts:N0} treated, {report.ControlAccounts:N0} control");
        text.AppendLine("score band: the simulator's true 90-day propensity; steps: the cadence steps an account reached (a control account had the non-baseline ones held back).");
        text.AppendLine("A later step compares the accounts still unpaid when it came, which earlier outreach already sorted: read its row as indicative; 'all', policy and band rows are exact comparisons.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"segment",-30} {"treated",8} {"control",8} {"$ diff (95% CI)",-28} {"true $",8} {"rate diff (95% CI)",-28} {"true",7}  verdict");
        foreach (var s in report.Segments)
        {
            var e = s.Estimate;
            var name = e.Kind == UpliftReport.All ? "all accounts" : $"{e.Kind} {e.Name}";
            var dollars = UpliftReport.Text(e.DollarsDifference);
            var rate = UpliftReport.Text(e.RateDifference);
            var inside = s.TruthInInterval switch { true => "", false => "  (truth outside the interval)", null => "" };
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{name,-30} {e.Treated.Accounts,8:N0} {e.Control.Accounts,8:N0} {dollars,-28} {s.TrueDollarsPerAccount,8:+0.00;-0.00} {rate,-28} {s.TrueRateDifference,7:+0.0%;-0.0%}  {e.Verdict}{inside}");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"targeting: models learnt on a pilot of {o.TrainingAccounts:N0} accounts (half control); curves from the true effects; treating the top {o.TargetShare:P0}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"strategy",-14} {"Qini coef.",10} {"incremental $",14} {"extra contacts",15} {"$/extra contact",16}  ordered by");
        foreach (var t in report.Targeting)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{t.Strategy,-14} {t.QiniCoefficient,10:0.000} {t.IncrementalDollarsAtTarget.ToString("C0", us),14} {t.ExtraContactsAtTarget,15:N0} {(t.DollarsPerExtraContact is { } c ? c.ToString("C2", us) : "-"),16}  {t.OrderedBy}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Simulated in {report.Seconds:0.0} s.");
        return text.ToString();
    }
}
