// Scoring benchmark: single-account scoring latency (with and without reason codes), feature extraction latency,
// batch scoring throughput, and synthetic generation and training time and peak memory at 100,000 and 1,000,000 rows.
//
//   dotnet run -c Release --project bench/Scoring.Bench -- [--sizes 100000,1000000] [--learners fasttree,lightgbm] [--calls 20000]
//   bench/run.sh scoring [...]      (this benchmark only)
//
// Each training size runs in a child process of its own, so its peak memory is its own.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Collections.Scoring;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (Arg("--train-run") is { } run)
{
    Console.WriteLine(JsonSerializer.Serialize(TrainRun(int.Parse(run, CultureInfo.InvariantCulture), Arg("--learner") ?? "fasttree", Arg("--importance") != "0")));
    return;
}

var sizes = (Arg("--sizes") ?? "100000,1000000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var learners = (Arg("--learners") ?? "fasttree,lightgbm").Split(',');
var calls = int.Parse(Arg("--calls") ?? "20000", CultureInfo.InvariantCulture);

Console.WriteLine($"Scoring benchmark — {Environment.ProcessorCount} cores ({Cpu()}), {Math.Round(TotalMemoryGb())} GB RAM, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine();

// ---------------------------------------------------------------- latency and throughput, on a model trained on 100,000 rows
var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 1, Accounts = int.MaxValue }).Take(100_000).ToList();
using var model = ModelTrainer.Train(rows, new TrainingOptions { ImportanceSampleRows = 0 }).Model;
var features = rows.Select(r => r.Features).ToList();
Console.WriteLine($"Model: {model.Version} ({model.Learner}, 200 trees of 16 leaves, {model.FeatureNames.Count} features), trees evaluated directly: {model.EvaluatesTreesDirectly}");
Console.WriteLine();
Console.WriteLine("| single account, one thread | p50 µs | p99 µs | mean µs |");
Console.WriteLine("|---|---:|---:|---:|");
Latency("score without reasons", i => model.Score(features[i % features.Count], withReasons: false));
Latency("score with 3 reason codes", i => model.Score(features[i % features.Count]));
var histories = SyntheticHistory.Accounts(new SyntheticOptions { Seed = 2, Accounts = 3000 }).Where(a => a.Outcomes.Count > 0).ToList();
Latency("extract features from a history", i =>
{
    var a = histories[i % histories.Count];
    return FeatureExtractor.Extract(a.History, a.Outcomes.Keys.Max());
});
Console.WriteLine();
Console.WriteLine($"| batch of {features.Count:N0} accounts, every core | accounts/s | elapsed s |");
Console.WriteLine("|---|---:|---:|");
foreach (var withReasons in new[] { false, true })
{
    model.ScoreBatch(features.Take(5000).ToList(), withReasons);
    var sw = Stopwatch.StartNew();
    var scored = model.ScoreBatch(features, withReasons);
    sw.Stop();
    Console.WriteLine($"| ScoreBatch {(withReasons ? "with" : "without")} reasons | {scored.Count / sw.Elapsed.TotalSeconds:N0} | {sw.Elapsed.TotalSeconds:N2} |");
}
rows.Clear();
features.Clear();
histories.Clear();

// ---------------------------------------------------------------- generation and training at scale, one child process each
Console.WriteLine();
Console.WriteLine("| rows | learner | generate s | rows/s | peak MB after generating | train s (fit, calibrate, evaluate, importance) | peak MB after training | train rows | AUC | true-probability AUC |");
Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var size in sizes)
    foreach (var learner in learners)
    {
        var r = Child(size, learner, importance: true);
        Console.WriteLine($"| {size:N0} | {r.Learner} | {r.GenerateSeconds:N1} | {size / r.GenerateSeconds:N0} | {r.PeakMbAfterGenerate:N0} | {r.TrainSeconds:N1} | {r.PeakMbAfterTrain:N0} | {r.TrainRows:N0} | {r.Auc:0.0000} | {r.TrueAuc:0.0000} |");
    }
var noImportance = Child(sizes[0], learners[0], importance: false);
Console.WriteLine();
Console.WriteLine($"Without permutation importance, training on {sizes[0]:N0} rows ({noImportance.Learner}) takes {noImportance.TrainSeconds:N1} s.");
return;

void Latency(string name, Func<int, object> action)
{
    for (var i = 0; i < 2000; i++) action(i);
    var times = new double[calls];
    for (var i = 0; i < calls; i++)
    {
        var start = Stopwatch.GetTimestamp();
        action(i);
        times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
    Array.Sort(times);
    Console.WriteLine($"| {name} | {times[calls / 2]:N1} | {times[(int)(calls * 0.99)]:N1} | {times.Average():N1} |");
}

static TrainRunResult TrainRun(int size, string learner, bool importance)
{
    var sw = Stopwatch.StartNew();
    var data = SyntheticHistory.Rows(new SyntheticOptions { Seed = 1, Accounts = int.MaxValue }).Take(size).ToList();
    var generate = sw.Elapsed.TotalSeconds;
    var peakGenerate = PeakMb();
    sw.Restart();
    var result = ModelTrainer.Train(data, new TrainingOptions
    {
        Learner = learner == "lightgbm" ? Learner.LightGbm : Learner.FastTree,
        ImportanceSampleRows = importance ? new TrainingOptions().ImportanceSampleRows : 0,
    });
    var train = sw.Elapsed.TotalSeconds;
    result.Model.Dispose();
    return new TrainRunResult(result.Report.Learner, generate, peakGenerate, train, PeakMb(), result.Report.TrainRows, result.Report.Auc, result.Report.TrueProbabilityAuc ?? double.NaN);
}

static TrainRunResult Child(int size, string learner, bool importance)
{
    var self = Environment.ProcessPath!;
    var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(TrainRunResult).Assembly.Location);
    foreach (var a in new[] { "--train-run", size.ToString(CultureInfo.InvariantCulture), "--learner", learner, "--importance", importance ? "1" : "0" }) info.ArgumentList.Add(a);
    using var child = Process.Start(info)!;
    var text = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    if (child.ExitCode != 0) throw new InvalidOperationException($"training run {size} {learner} failed: {text}");
    return JsonSerializer.Deserialize<TrainRunResult>(text.Trim().Split('\n')[^1])!;
}

static double PeakMb() => Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0;

static string Cpu()
{
    try
    {
        return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    }
    catch (IOException)
    {
        return "unknown CPU";
    }
}

static double TotalMemoryGb() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed record TrainRunResult(string Learner, double GenerateSeconds, double PeakMbAfterGenerate, double TrainSeconds, double PeakMbAfterTrain, int TrainRows, double Auc, double TrueAuc);
