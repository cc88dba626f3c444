using System.Globalization;
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
        var decidedByTwin = new List<(string Exception, RemittanceException Twin)>();
        foreach (var exception in exceptions)
        {
            if (log.State.Exceptions.Any(e => e.ExceptionId == exception.ExceptionId))
            {
                listed++;
                continue;
            }
            // The same claim sent again in a file that differs in form has another content id, so another exception id:
            // listed once, and once decided, decided for every form (a dismissed denial does not come back; a matched one
            // is not matched, and written off, again).
            var identity = ClaimIdentity(exception, remittance);
            var twin = identity is not null && ByIdentity().TryGetValue(identity, out var at) ? log.State.Exceptions[at] : null;
            if (twin is null)
            {
                log.State.Exceptions.Add(exception);
                Remember(log.State.Exceptions.Count - 1);
                added++;
            }
            else if (twin.Status != ExceptionStatus.Open)
            {
                log.State.Exceptions.Add(exception with
                {
                    Status = twin.Status, ResolvedAt = now, ResolvedBy = CallerContext.Current.Actor,
                    Resolution = $"the same claim as exception {twin.ExceptionId} (sent again in another form), already {twin.Status.ToString().ToLowerInvariant()}: {twin.Resolution}",
                });
                Remember(log.State.Exceptions.Count - 1);
                decidedByTwin.Add((exception.ExceptionId, twin));
                listed++;
            }
            else
            {
                // Its twin waits for a person: the claim's record here says where it is decided.
                TellClaim(exception, $"{exception.Reason} It is the same claim as exception {twin.ExceptionId} (sent before in another form), which waits for a person: decide it there.");
                listed++;
            }
        }
        await log.WriteStateAsync();
        foreach (var (exception, twin) in decidedByTwin)
            await audit.RecordAsync(clock, "remittance.exception.twin", "remittance", exception, "ok", $"twin={twin.ExceptionId};status={twin.Status.ToString().ToLowerInvariant()}");
        var open = log.State.Exceptions.Count(e => e.RemittanceId == remittance.RemittanceId && e.Status == ExceptionStatus.Open);
        return new RemittanceLogOutcome(added, listed, open);
    }

    private Dictionary<string, int>? _byIdentity;
    private Dictionary<string, RemittanceRecord>? _remittances;

    /// <summary>
    /// The listed exceptions by their claim's identity (their place in the list), a decided one before an open one of the
    /// same claim: built once per activation, kept as exceptions are added and decided.
    /// </summary>
    private Dictionary<string, int> ByIdentity()
    {
        if (_byIdentity is not null) return _byIdentity;
        _byIdentity = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < log.State.Exceptions.Count; i++) Remember(i);
        return _byIdentity;
    }

    private void Remember(int at)
    {
        if (_byIdentity is null) return; // built, with this one, when first needed
        var exception = log.State.Exceptions[at];
        _remittances ??= log.State.Remittances.GroupBy(r => r.RemittanceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        if (!_remittances.TryGetValue(exception.RemittanceId, out var remittance))
            _remittances[exception.RemittanceId] = remittance = log.State.Remittances.FirstOrDefault(r => r.RemittanceId == exception.RemittanceId)!;
        if (ClaimIdentity(exception, remittance) is not { } identity) return;
        if (!_byIdentity.TryGetValue(identity, out var seen) || (log.State.Exceptions[seen].Status == ExceptionStatus.Open && exception.Status != ExceptionStatus.Open))
            _byIdentity[identity] = at;
    }

    /// <summary>Adds to the reason its remittance's record gives for an exception's claim.</summary>
    private void TellClaim(RemittanceException exception, string reason)
    {
        var at = log.State.Remittances.FindIndex(r => r.RemittanceId == exception.RemittanceId);
        var slash = exception.ExceptionId.LastIndexOf('/');
        if (at < 0 || !int.TryParse(exception.ExceptionId.AsSpan(slash + 1), out var claim) || claim >= log.State.Remittances[at].Claims.Count) return;
        var claims = log.State.Remittances[at].Claims.ToList();
        claims[claim] = claims[claim] with { Reason = reason };
        log.State.Remittances[at] = log.State.Remittances[at] with { Claims = claims };
    }

    /// <summary>
    /// A claim as its payer adjudicated it, whatever the file's form (amounts written 300 or 300.00, control numbers,
    /// separators): the payment's payer and trace number (TRN02, unique per payment), the claim loop, its status and
    /// amounts, and what it plans to post. Null without a trace number, when nothing tells two payments apart.
    /// </summary>
    private static string? ClaimIdentity(RemittanceException exception, RemittanceRecord? remittance)
    {
        if (remittance is null || string.IsNullOrWhiteSpace(remittance.TraceNumber)) return null;
        var c = exception.Claim;
        // Dated by the payment date (BPR16) when there is one: a remittance posted before it is planned as of the day it
        // came, so the same one sent again on a later day would otherwise differ.
        var planned = exception.PlannedEntries
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Kind}|{p.Amount:0.00}|{Text.Clean(p.ReasonCode)}|{Text.Clean(p.Reference)}|{(remittance.PaymentDate is null ? p.EffectiveDate : null):yyyy-MM-dd}"))
            .Order(StringComparer.Ordinal);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Text.Clean(remittance.PayerName)}|{remittance.TraceNumber.Trim()}|{remittance.PaymentDate:yyyy-MM-dd}|{c.PatientControlNumber}|{c.PayerClaimControlNumber}|{c.Occurrence}|{c.Status}|{c.ChargeAmount:0.00}|{c.PaidAmount:0.00}|{string.Join(';', planned)}");
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
        string? resolution = null;
        var outcome = await ResolveAsync(exceptionId, async exception =>
        {
            if (string.IsNullOrWhiteSpace(accountNumber))
                return [DomainError.Invalid("accountNumber", "account-number.required", "Name the account to post the claim to: accountNumber.")];
            if (!Identifiers.IsAccountNumber(accountNumber))
                return [DomainError.Invalid("accountNumber", "account-number.invalid", "The account number must be 1 to 40 letters, digits, '-', '_' or '.'.")];
            if (exception.PlannedEntries.Count == 0)
                return [DomainError.Conflict("exception.nothing-to-post", "This claim has nothing that can be posted automatically (a reversal or a refused plan): dismiss it and post by hand.")];
            var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(Facility, accountNumber).ToString());
            // The same claim sent again in another form is listed again under its new content id: matched to the account
            // that already has it, it would post (a denial: write off) twice.
            if (await account.Get() is { } view && Remittance.RemittancePosting.PostedFromAnotherRemittance(exception.PlannedEntries, view.Entries,
                    id => log.State.Remittances.FirstOrDefault(r => r.RemittanceId == id)?.PaymentDate) is { } earlier)
            {
                resolution = $"matched to {accountNumber}, which already had this claim's entries from remittance {earlier} (the same claim sent again in another form): nothing posted again";
                return [];
            }
            var posted = await account.PostBatch(exception.PlannedEntries);
            return posted.Errors;
        }, ExceptionStatus.Matched, () => resolution ?? $"matched to {accountNumber}");
        await audit.RecordAsync(clock, "remittance.exception.match", "remittance", exceptionId, AuditExtensions.OutcomeOf(outcome.Errors), $"account={Facility}/{accountNumber}");
        return outcome;
    }

    public async Task<Outcome<RemittanceException>> Dismiss(string exceptionId, string reason)
    {
        var outcome = await ResolveAsync(exceptionId, _ =>
            Task.FromResult<IReadOnlyList<DomainError>>(string.IsNullOrWhiteSpace(reason)
                ? [DomainError.Invalid("reason", "reason.required", "Say why the claim is dismissed.")]
                : []), ExceptionStatus.Dismissed, () => reason?.Trim() ?? "");
        await audit.RecordAsync(clock, "remittance.exception.dismiss", "remittance", exceptionId, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    private async Task<Outcome<RemittanceException>> ResolveAsync(string exceptionId, Func<RemittanceException, Task<IReadOnlyList<DomainError>>> act, ExceptionStatus status, Func<string> resolution)
    {
        var index = log.State.Exceptions.FindIndex(e => e.ExceptionId == exceptionId);
        if (index < 0) return Outcome<RemittanceException>.Failure(DomainError.NotFound("exception.not-found", "No remittance exception with this id."));
        var exception = log.State.Exceptions[index];
        if (exception.Status != ExceptionStatus.Open) return Outcome<RemittanceException>.Failure(DomainError.Conflict("exception.resolved", $"This exception was already {exception.Status.ToString().ToLowerInvariant()}."));
        var errors = await act(exception);
        if (errors.Count > 0) return Outcome<RemittanceException>.Failure(errors);
        var resolved = exception with { Status = status, Resolution = resolution(), ResolvedAt = clock.GetUtcNow(), ResolvedBy = CallerContext.Current.Actor };
        log.State.Exceptions[index] = resolved;
        Remember(index);
        await log.WriteStateAsync();
        return Outcome<RemittanceException>.Success(resolved);
    }
}
