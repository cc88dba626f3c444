using System.Text;
using Collections.Persistence;
using Collections.Scoring;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>A model version loaded in this silo.</summary>
public sealed record LiveModel(string Version, PaymentModel Model);

/// <summary>The versions this silo scores with, as of one registry generation.</summary>
public sealed record ScoringSnapshot(LiveModel? Champion, LiveModel? Challenger, double ChallengerShare, long Generation)
{
    public static readonly ScoringSnapshot Empty = new(null, null, 0, -1);

    /// <summary>The model for an account: the challenger for its stable share of accounts, the champion otherwise.</summary>
    public (LiveModel Model, bool IsChallenger)? For(string accountId)
    {
        if (Champion is null) return null;
        if (Challenger is not null && ChallengerShare > 0 && ChallengerBucket.Of(accountId) < ChallengerShare)
            return (Challenger, true);
        return (Champion, false);
    }
}

/// <summary>Puts an account in [0, 1) by a hash of its key that never changes (FNV-1a), so it stays on the same side of a champion/challenger split.</summary>
public static class ChallengerBucket
{
    public static double Of(string accountId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(accountId))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return hash / 4294967296.0;
    }
}

/// <summary>
/// The models this silo scores with. It asks the registry grain which versions are live and loads their files from
/// the database when the answer changes: a promotion reaches every silo within <see cref="ScoringSettings.RefreshInterval"/>,
/// without a restart. Scoring itself never waits for the database.
/// </summary>
public sealed class LiveScoringModels(IGrainFactory grains, ScoringModelCatalog catalog, ILogger<LiveScoringModels> logger) : IDisposable
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Dictionary<string, LiveModel> _loaded = [];
    private volatile ScoringSnapshot _current = ScoringSnapshot.Empty;

    public ScoringSnapshot Current => _current;

    public void Dispose() => _refresh.Dispose();

    /// <summary>Brings the snapshot up to the registry's assignment (loading new versions); returns it.</summary>
    public async Task<ScoringSnapshot> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var assignment = await grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key).GetAssignment();
            if (assignment.Generation == _current.Generation) return _current;
            var champion = await LoadAsync(assignment.Champion, cancellationToken);
            var challenger = await LoadAsync(assignment.Challenger, cancellationToken);
            var next = new ScoringSnapshot(champion, challenger, assignment.ChallengerShare, assignment.Generation);
            foreach (var version in _loaded.Keys.Where(v => v != champion?.Version && v != challenger?.Version).ToList())
                _loaded.Remove(version); // not disposed: a score in flight may still use it; the collector frees it
            if (_current.Champion?.Version != champion?.Version || _current.Challenger?.Version != challenger?.Version)
                logger.LogInformation("Scoring with model {Champion} (challenger {Challenger} for {Share:P0} of accounts), generation {Generation}",
                    champion?.Version ?? "none", challenger?.Version ?? "none", assignment.ChallengerShare, assignment.Generation);
            _current = next;
            return next;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<LiveModel?> LoadAsync(string? version, CancellationToken cancellationToken)
    {
        if (version is null) return null;
        if (_loaded.TryGetValue(version, out var loaded)) return loaded;
        var bytes = await catalog.LoadModelAsync(version, cancellationToken)
                    ?? throw new InvalidOperationException($"Model version {version} is registered but its file is not in the database.");
        var model = new LiveModel(version, PaymentModel.Load(bytes));
        _loaded[version] = model;
        return model;
    }
}

/// <summary>
/// Keeps this silo's models current, and on a first start with no model trains the bootstrap model on the synthetic
/// generator, stores it and asks the registry to adopt it (the first silo to get there wins; the others keep theirs
/// unused), so accounts are scored from the start.
/// </summary>
public sealed class ScoringModelRefresher(
    LiveScoringModels models, IGrainFactory grains, ScoringModelCatalog catalog, ScoringSettings settings, TimeProvider clock,
    IHostApplicationLifetime lifetime, ILogger<ScoringModelRefresher> logger) : BackgroundService
{
    public const string BootstrapVersion = "bootstrap-1";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Grain calls made before the silo has joined its cluster only fail and retry: wait until the host has started.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        var bootstrapped = !settings.Bootstrap;
        var resumed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!bootstrapped) bootstrapped = await EnsureBootstrapAsync(stoppingToken);
                await models.RefreshAsync(stoppingToken);
                if (!resumed)
                {
                    // Wakes the portfolio rescore, which resumes a pass a restart interrupted.
                    await grains.GetGrain<IPortfolioRescoreGrain>(IPortfolioRescoreGrain.Key).GetProgress();
                    resumed = true;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The silo may not be serving yet, or the database is briefly away: try again at the next interval.
                logger.LogDebug(ex, "Could not refresh the scoring models yet");
            }
            try
            {
                await Task.Delay(settings.RefreshInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<bool> EnsureBootstrapAsync(CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key);
        if ((await registry.GetAssignment()).Champion is not null) return true;
        if (await catalog.GetAsync(BootstrapVersion, cancellationToken) is null)
        {
            logger.LogInformation("No scoring model yet: training the bootstrap model on {Accounts} synthetic accounts", settings.BootstrapAccounts);
            var started = clock.GetTimestamp();
            var (model, report, chart) = await Task.Run(() => ScoringBootstrap.Train(settings, clock.GetUtcNow()), cancellationToken);
            var bytes = model.ToBytes();
            await catalog.AddAsync(new ScoringModelRecord(BootstrapVersion, "bootstrap", clock.GetUtcNow(), "system:bootstrap",
                "Trained by the engine on the synthetic generator at first start; replace it with a model trained on real history.",
                report.ToJson(), ScoringModelCatalog.Sha256Of(bytes)), bytes, chart, cancellationToken);
            logger.LogInformation("Bootstrap model trained in {Elapsed}: held-out AUC {Auc:0.000}", clock.GetElapsedTime(started), report.Auc);
        }
        var stored = await catalog.GetAsync(BootstrapVersion, cancellationToken);
        var info = ModelVersionInfo.Describe(stored!.Version, stored.Kind, stored.RegisteredAt, stored.RegisteredBy, stored.Notes, stored.ReportJson);
        await registry.AdoptBootstrap(info);
        return true;
    }
}

/// <summary>Trains the bootstrap model (pure apart from the temporary chart file).</summary>
public static class ScoringBootstrap
{
    public static (PaymentModel Model, EvaluationReport Report, byte[]? Chart) Train(ScoringSettings settings, DateTimeOffset now)
    {
        _ = now;
        var rows = SyntheticHistory.Rows(new SyntheticOptions { Seed = 1, Accounts = settings.BootstrapAccounts, Label = settings.Label }).ToList();
        var result = ModelTrainer.Train(rows, new TrainingOptions { Seed = 1, LabelDefinition = settings.Label, Version = ScoringModelRefresher.BootstrapVersion });
        byte[]? chart = null;
        var path = Path.Combine(Path.GetTempPath(), $"collections-bootstrap-{Guid.NewGuid():N}.png");
        try
        {
            result.Report.WriteChartPng(path);
            chart = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            // The chart is a convenience; the model and its report are what matter.
        }
        finally
        {
            File.Delete(path);
        }
        return (result.Model, result.Report, chart);
    }
}
