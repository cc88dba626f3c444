using System.Security.Cryptography;
using System.Text;
using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>Payment-likelihood scoring of the account: when to rescore, with which model, and what is kept.</summary>
public sealed partial class PatientAccountGrain
{
    public async Task Rescore(long generation)
    {
        if (!State.IsOpen) return;
        if (scoring.Models.Current.Generation < generation) await scoring.Models.RefreshAsync();
        await RunCadenceAsync(takeSteps: true);
        await CommitAsync();
    }

    /// <summary>
    /// Since when the hospital knew the account, for the payment model: when it was opened here, or, for an imported
    /// history, the first of its entries' dates (so an imported past gives training rows for the dates it covers).
    /// </summary>
    private DateTimeOffset KnownSince
    {
        get
        {
            // Asked at every score: the entries already read are not read again while the ledger only grows.
            var (mark, openedAt, since) = _knownSince;
            var from = openedAt == State.OpenedAt ? mark.ReadOf(State.Entries) : 0;
            if (from == 0) since = State.OpenedAt;
            for (var i = from; i < State.Entries.Count; i++)
                if (State.Entries[i].KnownAt < since) since = State.Entries[i].KnownAt;
            mark.Read(State.Entries);
            _knownSince = (mark, State.OpenedAt, since);
            return since;
        }
    }

    private (LedgerReadMark Mark, DateTimeOffset OpenedAt, DateTimeOffset Since) _knownSince;

    public async Task<AccountScoringHistory?> GetScoringHistory()
    {
        AccountScoringHistory? history = null;
        if (State.IsOpen)
        {
            var guarantor = await grains.GetGrain<IGuarantorGrain>(State.GuarantorId).GetScoringFacts(Key);
            history = new AccountScoringHistory
            {
                AccountId = Id, PrimaryPayer = State.PrimaryPayer, OpenedAt = KnownSince, Guarantor = guarantor,
                Entries = State.Entries.ToList(), Holds = State.Holds.ToList(), Promises = State.Promises.ToList(), Plans = State.Plans.ToList(),
                Treatment = State.Treatment, TimeZones = State.GuarantorZones?.ToList(), GraceDays = settings.Arrangements.GraceDays,
                Score = State.Score,
            };
        }
        Audit("account.history.export", history is null ? "not-found" : "ok");
        await CommitAsync();
        return history;
    }

    /// <summary>
    /// Scores the account when what the score depends on has changed (ledger, contacts, holds, promises, plans, the
    /// live model) or the score has grown older than <see cref="ScoringSettings.RescoreAfter"/>. Only accounts where the
    /// patient owes something are scored; a settled account's score is cleared.
    /// </summary>
    private async Task ScoreIfStaleAsync(IGuarantorGrain guarantor, AccountBalances balances, DateTimeOffset now)
    {
        if (!scoring.Settings.Enabled) return;
        if (balances.PatientResponsibility <= 0)
        {
            State.Score = null;
            State.ScoreBasis = null;
            return;
        }
        if (scoring.Models.Current.For(Id) is not { } chosen) return;

        var facts = await guarantor.GetScoringFacts(Key);
        var basis = ScoreBasis(facts, chosen.Model.Version, chosen.IsChallenger);
        if (State.Score is { } current && State.ScoreBasis == basis && now - current.ScoredAt < scoring.Settings.RescoreAfter) return;

        var history = new AccountHistory
        {
            AccountId = Id, PrimaryPayer = State.PrimaryPayer, OpenedAt = KnownSince,
            GuarantorDateOfBirth = facts.DateOfBirth, HasEmail = facts.HasEmail, HasMobilePhone = facts.HasMobilePhone, HasTextConsent = facts.HasTextConsent,
            Entries = State.Entries, Contacts = facts.Contacts, Holds = [.. State.Holds, .. facts.Holds], Promises = State.Promises, Plans = State.Plans,
            TimeZones = State.GuarantorZones ?? [], GraceDays = settings.Arrangements.GraceDays, Balances = this.Balances, // the ledger's as it is now
        };
        var features = FeatureExtractor.Extract(history, now);
        var prediction = chosen.Model.Model.Score(features);
        var previousVersion = State.Score?.ModelVersion;
        if (CollectionsMetrics.CountsScores)
        {
            var version = chosen.Model.Version.ToString();
            _countAfterCommit.Add(() => CollectionsMetrics.Scored(version));
        }
        State.Score = new AccountScore
        {
            Probability = prediction.Probability,
            ModelVersion = chosen.Model.Version,
            ScoredAt = now,
            IsChallenger = chosen.IsChallenger,
            PatientBalance = balances.PatientResponsibility,
            ExpectedRecovery = decimal.Round((decimal)prediction.Probability * balances.PatientResponsibility, 2),
            Reasons = prediction.Reasons.Select(r => new ScoreReason { Feature = r.Feature, Text = r.Text, Effect = r.Effect }).ToList(),
        };
        State.ScoreBasis = basis;
        if (previousVersion != chosen.Model.Version)
        {
            var first = State.Score;
            var vector = features.ToArray();
            AddFacts(now, f => f with { FirstScore = first, FirstScoreFeatures = vector }); // the scoring-outcome projection records them
        }
    }

    /// <summary>A fingerprint of what the score was computed from (not of time): equal means nothing it reads has changed.</summary>
    /// <summary>
    /// What the score was computed from, as a fingerprint that is the same in every process and after a restart (so a
    /// restarted silo does not rescore accounts whose inputs did not change): the model, the side of the
    /// champion/challenger split, and the counts and states of entries, holds, promises, plans and contacts.
    /// </summary>
    private string ScoreBasis(GuarantorScoringFacts facts, string modelVersion, bool challenger)
    {
        var inputs = new StringBuilder();
        inputs.Append(State.Entries.Count).Append('|').Append(facts.Contacts.Count).Append('|')
            .Append(facts.HasEmail).Append(facts.HasMobilePhone).Append(facts.HasTextConsent);
        foreach (var hold in State.Holds.Concat(facts.Holds)) inputs.Append("|h:").Append(hold.HoldId).Append('@').Append(hold.ReleasedAt?.ToUnixTimeMilliseconds());
        foreach (var promise in State.Promises) inputs.Append("|p:").Append(promise.PromiseId).Append('=').Append(promise.Status);
        foreach (var plan in State.Plans) inputs.Append("|l:").Append(plan.PlanId).Append('=').Append(plan.Status);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(inputs.ToString()));
        return $"{modelVersion}|{challenger}|{Convert.ToHexStringLower(digest.AsSpan(0, 8))}";
    }

    /// <summary>Set when a posting scored the account, for the cadence run that follows it in the same call.</summary>
    private bool _scoredWithPosting;

    /// <summary>
    /// Rescores a posting's account before its state is written, so the new score goes in the same write as the entry
    /// (the cadence run that follows then finds the score current and writes nothing more for it). A failure here never
    /// stops the posting: the cadence run tries again.
    /// </summary>
    private async Task ScoreWithPostingAsync(DateTimeOffset now)
    {
        try
        {
            await ScoreIfStaleAsync(grains.GetGrain<IGuarantorGrain>(State.GuarantorId), Balances, now);
            _scoredWithPosting = true; // the cadence run right after the posting need not ask the guarantor again
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not score an account with its posting ({Error}); its cadence run tries again", ex.GetType().Name);
        }
    }

    /// <summary>
    /// The cadence run's rescoring. A model that cannot score the account (a bad promotion, a file gone) never stops a
    /// command: the account keeps its last score, the run goes on and the next run tries again.
    /// </summary>
    private async Task ScoreOrKeepLastAsync(IGuarantorGrain guarantor, AccountBalances balances, DateTimeOffset now)
    {
        try
        {
            await ScoreIfStaleAsync(guarantor, balances, now);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not score an account in its cadence run ({Error}); it keeps its last score and the next run tries again", ex.GetType().Name);
        }
    }

    /// <summary>Patient payments count toward the outcome of the scores whose window they fall in (champion/challenger tracking, a projection).</summary>
    private void TrackPayments(IEnumerable<LedgerEntry> posted, DateTimeOffset now)
    {
        // An imported history's payments (KnownFrom) were made before any score here: neither collected after a score nor due a receipt.
        var cents = posted.Where(e => e.Kind == EntryKind.PatientPayment && e.KnownFrom is null).Sum(e => (long)decimal.Round(e.Amount * 100m));
        if (cents > 0) AddFacts(now, f => f with { PatientPaymentCents = f.PatientPaymentCents + cents });
        var cardPayments = posted.Where(e => e.Kind == EntryKind.PatientPayment && e.IdempotencyKey is { } k && k.StartsWith(PaymentChannels.CardPaymentKeyPrefix, StringComparison.Ordinal))
            .Select(e => e.IdempotencyKey![PaymentChannels.CardPaymentKeyPrefix.Length..].Split('/')[0]).Distinct().ToList();
        if (cardPayments.Count > 0) AddFacts(now, f => f with { CardPayments = [.. f.CardPayments, .. cardPayments.Except(f.CardPayments)] });
        var receipts = posted.Where(e => e is { Kind: EntryKind.PatientPayment, Channel: PaymentChannel.Agent, Method: PaymentMethod.Check or PaymentMethod.Cash, KnownFrom: null })
            .Select(e => new ReceiptDue { EntryId = e.EntryId, Amount = e.Amount, GuarantorId = State.GuarantorId }).ToList();
        if (receipts.Count > 0) AddFacts(now, f => f with { Receipts = [.. f.Receipts, .. receipts] });
    }
}
