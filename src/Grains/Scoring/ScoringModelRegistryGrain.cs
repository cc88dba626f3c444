using Collections.Domain;
using Collections.Persistence;

namespace Collections.Grains;

public sealed class ScoringModelRegistryGrain(
    [PersistentState(StorageNames.ModelRegistryState, StorageNames.Collections)] IPersistentState<ModelRegistryState> registry,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IScoringModelRegistryGrain
{
    public const double MaxChallengerShare = 0.5;
    private const string Resource = "model";
    private ModelRegistryState State => registry.State;

    public Task<ModelAssignment> GetAssignment() => Task.FromResult(State.Assignment);

    public Task<ModelRegistryView> Get() => Task.FromResult(new ModelRegistryView
    {
        Assignment = State.Assignment,
        Versions = State.Versions.ToList(),
        History = State.History.AsEnumerable().Reverse().Take(100).ToList(),
    });

    public async Task<Outcome<ModelVersionInfo>> Register(ModelVersionInfo version)
    {
        Outcome<ModelVersionInfo> outcome;
        if (State.Versions.FirstOrDefault(v => v.Version == version.Version) is { } existing)
            outcome = Outcome<ModelVersionInfo>.Success(existing); // the file was checked against the stored one: a retry
        else
        {
            State.Versions.Add(version);
            await registry.WriteStateAsync();
            outcome = Outcome<ModelVersionInfo>.Success(version);
        }
        await audit.RecordAsync(clock, "model.register", Resource, version.Version, AuditExtensions.OutcomeOf(outcome.Errors), $"kind={version.Kind}");
        return outcome;
    }

    public async Task<bool> AdoptBootstrap(ModelVersionInfo version)
    {
        if (State.Assignment.Champion is not null) return false;
        if (State.Versions.All(v => v.Version != version.Version)) State.Versions.Add(version);
        await ChangeAsync("bootstrap", null, version.Version, "No model was registered: the engine trained one on synthetic data.",
            State.Assignment with { Champion = version.Version }, "system:bootstrap");
        return true;
    }

    public async Task<Outcome<ModelAssignment>> Promote(string version, string? reason)
    {
        Outcome<ModelAssignment> outcome;
        if (State.Versions.All(v => v.Version != version))
            outcome = NotRegistered(version);
        else if (State.Assignment.Champion == version)
            outcome = Outcome<ModelAssignment>.Success(State.Assignment); // already live: a retry changes nothing
        else
        {
            if (State.Assignment.Champion is { } previous) State.EarlierChampions.Add(previous);
            var next = State.Assignment with { Champion = version };
            if (next.Challenger == version) next = next with { Challenger = null, ChallengerShare = 0 };
            await ChangeAsync("promote", State.Assignment.Champion, version, reason, next);
            outcome = Outcome<ModelAssignment>.Success(State.Assignment);
        }
        await audit.RecordAsync(clock, "model.promote", Resource, version, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public Task<Outcome<ModelAssignment>> Rollback(string? reason) => RollbackAsync(reason, null);

    public Task<Outcome<ModelAssignment>> RollbackOnce(string? reason, string idempotencyKey) => RollbackAsync(reason, idempotencyKey);

    private async Task<Outcome<ModelAssignment>> RollbackAsync(string? reason, string? idempotencyKey)
    {
        Outcome<ModelAssignment> outcome;
        var (key, keyError) = RepeatedRequests.Key(idempotencyKey);
        if (keyError is not null)
            outcome = Outcome<ModelAssignment>.Failure(keyError);
        else if (key is not null && State.History.Any(c => c.IdempotencyKey == key))
        {
            // Done before (the answer was lost): the assignment as it stands, nothing rolled back again. If the rescore
            // it starts never started (the first answer failed after the change was stored), it starts now.
            var rescore = grains.GetGrain<IPortfolioRescoreGrain>(IPortfolioRescoreGrain.Key);
            if ((await rescore.GetProgress()).Generation < State.Assignment.Generation)
                await rescore.Start(State.Assignment.Generation, $"rollback {State.Assignment.Champion}");
            outcome = Outcome<ModelAssignment>.Success(State.Assignment) with { Replayed = true };
            await audit.RecordAsync(clock, "model.rollback.replay", Resource, State.Assignment.Champion ?? "", AuditExtensions.OutcomeOf(outcome.Errors));
            return outcome;
        }
        else if (State.EarlierChampions.Count == 0)
            outcome = Outcome<ModelAssignment>.Failure(DomainError.Conflict("model.no-earlier-champion", "There is no earlier champion to go back to."));
        else
        {
            var back = State.EarlierChampions[^1];
            State.EarlierChampions.RemoveAt(State.EarlierChampions.Count - 1);
            var next = State.Assignment with { Champion = back };
            if (next.Challenger == back) next = next with { Challenger = null, ChallengerShare = 0 };
            await ChangeAsync("rollback", State.Assignment.Champion, back, reason, next, idempotencyKey: key);
            outcome = Outcome<ModelAssignment>.Success(State.Assignment);
        }
        await audit.RecordAsync(clock, "model.rollback", Resource, State.Assignment.Champion ?? "", AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public async Task<Outcome<ModelAssignment>> SetChallenger(string version, double share, string? reason)
    {
        Outcome<ModelAssignment> outcome;
        if (State.Versions.All(v => v.Version != version))
            outcome = NotRegistered(version);
        else if (State.Assignment.Champion is null)
            outcome = Outcome<ModelAssignment>.Failure(DomainError.Conflict("model.no-champion", "There is no champion yet for a challenger to be compared with."));
        else if (State.Assignment.Champion == version)
            outcome = Outcome<ModelAssignment>.Failure(DomainError.Conflict("model.challenger-is-champion", "This version is the champion; a challenger must be another version.", "version"));
        else if (double.IsNaN(share) || share <= 0 || share > MaxChallengerShare)
            outcome = Outcome<ModelAssignment>.Failure(DomainError.Invalid("share", "share.out-of-range", $"The challenger's share must be above 0 and at most {MaxChallengerShare}."));
        else if (State.Assignment.Challenger == version && State.Assignment.ChallengerShare == share)
            outcome = Outcome<ModelAssignment>.Success(State.Assignment);
        else
        {
            await ChangeAsync("challenger", State.Assignment.Challenger, version, reason ?? $"share {share:0.###}",
                State.Assignment with { Challenger = version, ChallengerShare = share });
            outcome = Outcome<ModelAssignment>.Success(State.Assignment);
        }
        await audit.RecordAsync(clock, "model.challenger", Resource, version, AuditExtensions.OutcomeOf(outcome.Errors), $"share={share}");
        return outcome;
    }

    public async Task<Outcome<ModelAssignment>> ClearChallenger(string? reason)
    {
        if (State.Assignment.Challenger is { } challenger)
            await ChangeAsync("challenger-cleared", challenger, null, reason, State.Assignment with { Challenger = null, ChallengerShare = 0 });
        await audit.RecordAsync(clock, "model.challenger.clear", Resource, "", "ok");
        return Outcome<ModelAssignment>.Success(State.Assignment);
    }

    private static Outcome<ModelAssignment> NotRegistered(string version) =>
        Outcome<ModelAssignment>.Failure(DomainError.NotFound("model.not-found", $"No model version {version} is registered.", "version"));

    /// <summary>Records a change of the live versions and starts a throttled rescore of the whole portfolio with them.</summary>
    private async Task ChangeAsync(string action, string? from, string? to, string? reason, ModelAssignment next, string? by = null, string? idempotencyKey = null)
    {
        State.Assignment = next with { Generation = State.Assignment.Generation + 1 };
        State.History.Add(new ModelChange
        {
            At = clock.GetUtcNow(), By = by ?? CallerContext.Current.Actor, Action = action, From = from, To = to, Reason = reason, IdempotencyKey = idempotencyKey,
        });
        if (State.History.Count > 500) State.History.RemoveRange(0, State.History.Count - 500);
        await registry.WriteStateAsync();
        await grains.GetGrain<IPortfolioRescoreGrain>(IPortfolioRescoreGrain.Key).Start(State.Assignment.Generation, $"{action} {to ?? from}");
    }
}
