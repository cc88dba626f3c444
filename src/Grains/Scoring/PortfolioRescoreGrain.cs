using Collections.Persistence;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>
/// Walks every account in key order, a page per second of <see cref="ScoringSettings.RescoreAccountsPerSecond"/>
/// accounts, asking each to rescore: after a promotion (new champion or challenger) and once a period for scores
/// grown old. Progress is stored after every page, and an hourly reminder resumes a pass a restart interrupted.
/// </summary>
public sealed class PortfolioRescoreGrain(
    [PersistentState(StorageNames.PortfolioRescoreState, StorageNames.Collections)] IPersistentState<PortfolioRescoreState> pass,
    IGrainFactory grains,
    AccountDirectory directory,
    ScoringSettings settings,
    TimeProvider clock,
    ILogger<PortfolioRescoreGrain> logger) : Grain, IPortfolioRescoreGrain, IRemindable
{
    private const string WatchReminder = "portfolio-rescore";
    private const int InFlight = 16;
    private IGrainTimer? _timer;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (pass.State.Running) StartTimer();
        if (settings.Enabled) await this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), cancellationToken);
    }

    public async Task Start(long generation, string reason)
    {
        pass.State.Running = true;
        pass.State.Generation = generation;
        pass.State.Reason = reason;
        pass.State.StartedAt = clock.GetUtcNow();
        pass.State.FinishedAt = null;
        pass.State.AccountsDone = 0;
        pass.State.LastAccount = null;
        await pass.WriteStateAsync();
        StartTimer();
    }

    public Task<RescoreProgress> GetProgress() => Task.FromResult(new RescoreProgress
    {
        Running = pass.State.Running, Generation = pass.State.Generation, Reason = pass.State.Reason, StartedAt = pass.State.StartedAt,
        FinishedAt = pass.State.FinishedAt, AccountsDone = pass.State.AccountsDone, LastAccount = pass.State.LastAccount,
    });

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder) return;
        if (pass.State.Running) StartTimer();
        else if (settings.Enabled && (pass.State.FinishedAt is not { } finished || clock.GetUtcNow() - finished >= settings.PortfolioRescoreEvery))
        {
            var generation = (await grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key).GetAssignment()).Generation;
            await Start(generation, "periodic");
        }
    }

    private async Task RescoreAsync(string key, long generation)
    {
        try
        {
            await grains.GetGrain<IPatientAccountGrain>(key).Rescore(generation);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One account that cannot rescore now does not stop the pass; it rescores at its next change.
            logger.LogWarning(ex, "An account could not be rescored during the portfolio pass");
        }
    }

    private void StartTimer()
    {
        if (_timer is not null) return;
        _timer = this.RegisterGrainTimer(RunPageAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromSeconds(1), Period = TimeSpan.FromSeconds(1), KeepAlive = true, Interleave = false,
        });
    }

    private async Task RunPageAsync(CancellationToken cancellationToken)
    {
        if (!pass.State.Running)
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }
        var page = await directory.PageAsync(pass.State.LastAccount, Math.Max(1, settings.RescoreAccountsPerSecond), cancellationToken);
        var generation = pass.State.Generation;
        foreach (var chunk in page.Chunk(InFlight))
            await Task.WhenAll(chunk.Select(key => RescoreAsync(key, generation)));
        pass.State.AccountsDone += page.Count;
        if (page.Count > 0) pass.State.LastAccount = page[^1];
        if (page.Count < settings.RescoreAccountsPerSecond)
        {
            pass.State.Running = false;
            pass.State.FinishedAt = clock.GetUtcNow();
            logger.LogInformation("Portfolio rescore ({Reason}) finished: {Accounts} accounts", pass.State.Reason, pass.State.AccountsDone);
        }
        await pass.WriteStateAsync(cancellationToken);
    }
}
