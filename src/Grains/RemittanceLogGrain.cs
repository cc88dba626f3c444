using Collections.Domain;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>Keyed by facility.</summary>
public sealed class RemittanceLogGrain(
    [PersistentState(StorageNames.RemittanceLogState, StorageNames.Collections)] IPersistentState<RemittanceLogState> log,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IRemittanceLogGrain
{
    private string Facility => this.GetPrimaryKeyString();

    public async Task<RemittanceLogOutcome> Record(RemittanceRecord remittance, IReadOnlyList<RemittanceException> exceptions)
    {
        var index = log.State.Remittances.FindIndex(r => r.RemittanceId == remittance.RemittanceId);
        if (index < 0) log.State.Remittances.Add(remittance);
        else log.State.Remittances[index] = log.State.Remittances[index] with { Claims = Merge(log.State.Remittances[index].Claims, remittance.Claims) };
        int added = 0, listed = 0;
        // An exception whose claim posted on this submission (its account has since been opened, say) is settled:
        // left open, a supervisor could match it to another account and post the payment twice.
        var now = clock.GetUtcNow();
        for (var i = 0; i < log.State.Exceptions.Count; i++)
        {
            var waiting = log.State.Exceptions[i];
            if (waiting.RemittanceId != remittance.RemittanceId || waiting.Status != ExceptionStatus.Open) continue;
            var slash = waiting.ExceptionId.LastIndexOf('/');
            if (!int.TryParse(waiting.ExceptionId.AsSpan(slash + 1), out var claimIndex) || claimIndex >= remittance.Claims.Count) continue;
            if (remittance.Claims[claimIndex].Outcome is ClaimPostingStatus.Posted or ClaimPostingStatus.AlreadyPosted)
                log.State.Exceptions[i] = waiting with
                {
                    Status = ExceptionStatus.Matched, Resolution = "posted to its own account when the file was posted again",
                    ResolvedAt = now, ResolvedBy = CallerContext.Current.Actor,
                };
        }
        foreach (var exception in exceptions)
        {
            if (log.State.Exceptions.Any(e => e.ExceptionId == exception.ExceptionId)) listed++;
            else
            {
                log.State.Exceptions.Add(exception);
                added++;
            }
        }
        await log.WriteStateAsync();
        var open = log.State.Exceptions.Count(e => e.RemittanceId == remittance.RemittanceId && e.Status == ExceptionStatus.Open);
        return new RemittanceLogOutcome(added, listed, open);
    }

    public Task<RemittanceLookup> Lookup(string remittanceId, string legacyId, string interchangeControlNumber) => Task.FromResult(new RemittanceLookup
    {
        Legacy = log.State.Remittances.FirstOrDefault(r => r.RemittanceId == legacyId),
        SameInterchangeNumber = log.State.Remittances
            .Where(r => r.InterchangeControlNumber == interchangeControlNumber && r.RemittanceId != remittanceId && r.RemittanceId != legacyId)
            .Select(r => r.RemittanceId).ToList(),
        Exceptions = log.State.Exceptions.Where(e => e.RemittanceId == remittanceId || e.RemittanceId == legacyId).ToList(),
    });

    /// <summary>Posting a file again keeps the first record of each claim, unless it was an exception that has since posted.</summary>
    private static List<RemittanceClaimRecord> Merge(IReadOnlyList<RemittanceClaimRecord> before, IReadOnlyList<RemittanceClaimRecord> now) =>
        before.Zip(now, (b, n) => b.Outcome == ClaimPostingStatus.Exception && n.Outcome != ClaimPostingStatus.Exception ? n : b).ToList();

    public Task<RemittanceRecord?> Get(string remittanceId) =>
        Task.FromResult(log.State.Remittances.FirstOrDefault(r => r.RemittanceId == remittanceId));

    public Task<IReadOnlyList<RemittanceException>> Exceptions(ExceptionStatus? status) =>
        Task.FromResult<IReadOnlyList<RemittanceException>>(log.State.Exceptions.Where(e => status is null || e.Status == status).ToList());

    public async Task<Outcome<RemittanceException>> Match(string exceptionId, string accountNumber)
    {
        var outcome = await ResolveAsync(exceptionId, async exception =>
        {
            if (string.IsNullOrWhiteSpace(accountNumber))
                return [DomainError.Invalid("accountNumber", "account-number.required", "Name the account to post the claim to: accountNumber.")];
            if (!Identifiers.IsAccountNumber(accountNumber))
                return [DomainError.Invalid("accountNumber", "account-number.invalid", "The account number must be 1 to 40 letters, digits, '-', '_' or '.'.")];
            if (exception.PlannedEntries.Count == 0)
                return [DomainError.Conflict("exception.nothing-to-post", "This claim has nothing that can be posted automatically (a reversal or a refused plan): dismiss it and post by hand.")];
            var posted = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(Facility, accountNumber).ToString()).PostBatch(exception.PlannedEntries);
            return posted.Errors;
        }, ExceptionStatus.Matched, $"matched to {accountNumber}");
        await audit.RecordAsync(clock, "remittance.exception.match", "remittance", exceptionId, AuditExtensions.OutcomeOf(outcome.Errors), $"account={Facility}/{accountNumber}");
        return outcome;
    }

    public async Task<Outcome<RemittanceException>> Dismiss(string exceptionId, string reason)
    {
        var outcome = await ResolveAsync(exceptionId, _ =>
            Task.FromResult<IReadOnlyList<DomainError>>(string.IsNullOrWhiteSpace(reason)
                ? [DomainError.Invalid("reason", "reason.required", "Say why the claim is dismissed.")]
                : []), ExceptionStatus.Dismissed, reason?.Trim() ?? "");
        await audit.RecordAsync(clock, "remittance.exception.dismiss", "remittance", exceptionId, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    private async Task<Outcome<RemittanceException>> ResolveAsync(string exceptionId, Func<RemittanceException, Task<IReadOnlyList<DomainError>>> act, ExceptionStatus status, string resolution)
    {
        var index = log.State.Exceptions.FindIndex(e => e.ExceptionId == exceptionId);
        if (index < 0) return Outcome<RemittanceException>.Failure(DomainError.NotFound("exception.not-found", "No remittance exception with this id."));
        var exception = log.State.Exceptions[index];
        if (exception.Status != ExceptionStatus.Open) return Outcome<RemittanceException>.Failure(DomainError.Conflict("exception.resolved", $"This exception was already {exception.Status.ToString().ToLowerInvariant()}."));
        var errors = await act(exception);
        if (errors.Count > 0) return Outcome<RemittanceException>.Failure(errors);
        var resolved = exception with { Status = status, Resolution = resolution, ResolvedAt = clock.GetUtcNow(), ResolvedBy = CallerContext.Current.Actor };
        log.State.Exceptions[index] = resolved;
        await log.WriteStateAsync();
        return Outcome<RemittanceException>.Success(resolved);
    }
}
