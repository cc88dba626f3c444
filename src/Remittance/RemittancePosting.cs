using Collections.Domain;

namespace Collections.Remittance;

/// <summary>
/// What to post for one claim payment, or why it cannot be posted automatically (<see cref="Problem"/>), or why it moves
/// no money at all (<see cref="NoMoneyReason"/>: a predetermination, or a denial with nothing to write off).
/// </summary>
public sealed record ClaimPostingPlan(IReadOnlyList<EntryRequest> Entries, string? Problem, string? NoMoneyReason = null);

/// <summary>
/// Choices a facility makes about remittances (<c>Collections:Remittance</c>). By default a denied claim (CLP02=4)
/// waits for a person; listing adjustment groups here (e.g. <c>CO</c>) lets a denial whose every adjustment is in those
/// groups post by itself.
/// </summary>
public sealed record RemittanceRules
{
    public IReadOnlyList<string> AutoPostDeniedGroups { get; init; } = [];

    public static RemittanceRules Default { get; } = new();
}

/// <summary>
/// Turns an 835 claim payment into ledger entries: the payer's payment as an insurance payment; contractual (CO) and
/// payer-initiated (PI) adjustments as contractual adjustments, other (OA) and correction (CR) adjustments as
/// administrative ones, each with its group-reason codes; patient responsibility (PR: deductible, coinsurance, copay)
/// as a transfer to the patient, which starts the cadence. What the claim status allows decides first: a
/// predetermination (25) moves no money; a denial (4) waits for a person unless the facility allows it; a claim
/// forwarded to another payer (19-21) leaves the patient's share with insurance until that payer answers; a claim
/// that is not ours (23) or has a status the 835 guide does not define waits for a person. A reversal (22) reverses what
/// one earlier remittance posted for the same payer claim, and only when its amounts are that posting's, negated.
/// Every entry's idempotency key is derived from the remittance, the claim and its occurrence in the transaction, so
/// posting the same file again posts nothing twice and two loops of one claim are two payments.
/// </summary>
public static class RemittancePosting
{
    public const string KeyPrefix = "835/";

    private static readonly HashSet<int> KnownStatuses = [1, 2, 3, 4, 19, 20, 21, 22, 23, 25];

    /// <summary>The idempotency-key prefix of one claim loop's entries.</summary>
    public static string ClaimKeyPrefix(string remittanceId, ClaimPayment claim) =>
        $"{KeyPrefix}{remittanceId}/{claim.PatientControlNumber}/{claim.PayerClaimControlNumber}{(claim.Occurrence > 1 ? $"#{claim.Occurrence}" : "")}/";

    /// <summary>
    /// CARC 23, "the impact of prior payer(s) adjudication including payments and/or adjustments" (group OA): on a
    /// secondary or tertiary payer's claim it stands for what the earlier payers paid and adjusted, which their own
    /// remittances already posted. It balances the claim; it is not money this payer moves.
    /// </summary>
    public static bool IsPriorPayerImpact(ClaimAdjustment adjustment) => adjustment.Reason == "23";

    /// <summary>
    /// The date a remittance's entries take: its payment date (BPR16, the check or EFT date), or, for a remittance that
    /// arrives before its money settles (BPR16 after <paramref name="today"/>), today: the ledger holds no future dates.
    /// </summary>
    public static DateOnly? EffectiveDate(Remittance835 remittance, DateOnly? today) =>
        remittance.PaymentDate is { } paid && today is { } t && paid > t ? t : remittance.PaymentDate;

    /// <param name="today">The day the remittance is posted (the posting clock's), so a payment dated later posts as of today.</param>
    public static ClaimPostingPlan Plan(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger, RemittanceRules? rules = null, DateOnly? today = null)
    {
        rules ??= RemittanceRules.Default;
        var effective = EffectiveDate(remittance, today);
        var prefix = ClaimKeyPrefix(remittance.RemittanceId, claim);
        var payer = remittance.PayerName ?? "payer";
        if (!KnownStatuses.Contains(claim.Status))
            return new ClaimPostingPlan([], $"Claim status {claim.Status} (CLP02) is not one the 835 guide defines; a person must decide what it means.");
        if (claim.Status == 23)
            return new ClaimPostingPlan([], "The payer says this is not our claim (status 23).");
        if (claim.Status == 25)
            return claim.PaidAmount == 0m
                ? new ClaimPostingPlan([], null, "Predetermination pricing only (status 25): no money moves.")
                : new ClaimPostingPlan([], $"A predetermination (status 25) that pays {claim.PaidAmount:0.00}: a person must look at it.");
        // This claim loop of this remittance already posted (claims post whole): nothing more, whatever the rules that
        // planned it then would plan now (a payment date since passed, a rule changed by an upgrade), and a reversal
        // that went through reverses nothing more, whatever posted since.
        if (ledger.Any(e => IsOfLoop(e.IdempotencyKey, prefix)))
            return new ClaimPostingPlan([], null);
        if (claim.IsReversal)
            return PlanReversal(remittance, claim, ledger, prefix);

        if (PaidUnderThisTrace(remittance, claim, ledger, payer))
            return new ClaimPostingPlan([], null); // the same payment, sent again in a file that differs in form: posted

        // Claim balancing (835 guide): the charge less the payment is exactly the claim's and its lines' adjustments. A
        // claim that does not balance lost a segment on the way (a CAS, most often); posted, it would post in part.
        var adjustedTotal = claim.AllAdjustments.Sum(a => a.Amount);
        var imbalance = claim.ChargeAmount - claim.PaidAmount - adjustedTotal;
        if (imbalance != 0m && imbalance == -claim.Interest)
            return new ClaimPostingPlan([],
                $"The payment includes {claim.Interest:0.00} of late-payment interest (AMT*I), which is not part of the patient's charges: a person posts the claim and the interest apart.");
        if (imbalance != 0m && !(claim.Status == 4 && claim.PaidAmount == 0m && !claim.AllAdjustments.Any()))
            return new ClaimPostingPlan([],
                $"The claim does not balance: its charge ({claim.ChargeAmount:0.00}) less its payment ({claim.PaidAmount:0.00}) and adjustments ({adjustedTotal:0.00}) leaves {imbalance:0.00}, where the 835 guide requires nothing to be left; a segment may be missing from the file. A person must post it.");

        // CARC 23 stands for what earlier payers did; a claim the payer processed as primary (1, 19) had none. Left out
        // of the posting as on a secondary claim, its amount would stay with insurance unnoticed.
        var priorOnPrimary = claim.Status is 1 or 19 && claim.AllAdjustments.FirstOrDefault(IsPriorPayerImpact) is { } prior
            ? $"A claim processed as primary (status {claim.Status}) carries a prior payer's adjudication ({prior.Group}-23, {prior.Amount:0.00}), which only a secondary or tertiary claim can have; a person must post it (matched, everything but that amount posts)."
            : null;
        var patient = claim.AllAdjustments.Where(a => a.Group == "PR").ToList();
        var owed = patient.Sum(a => a.Amount);
        if (claim.PatientResponsibility is { } stated && stated != owed)
            return new ClaimPostingPlan([], $"CLP05 says the patient owes {stated:0.00}, but the patient-responsibility (PR) adjustments add up to {owed:0.00}; a person must post it.");
        // The 835 guide requires CLP05 whenever the patient owes something: without it nothing confirms the PR
        // adjustments, and a patient is billed only on a share the payer stated twice.
        if (claim.PatientResponsibility is null && owed != 0m && claim.Status is not (19 or 20 or 21))
            return new ClaimPostingPlan([], $"The patient-responsibility (PR) adjustments add up to {owed:0.00}, but CLP05 (the patient's share) is blank, which the 835 guide allows only when the patient owes nothing; a person must post it.");

        var entries = new List<EntryRequest>();
        if (claim.PaidAmount < 0)
            return new ClaimPostingPlan([], $"A negative payment ({claim.PaidAmount:0.00}) outside a reversal needs a person to post it.");
        if (claim.PaidAmount > 0)
            entries.Add(new EntryRequest
            {
                Kind = EntryKind.InsurancePayment, Amount = claim.PaidAmount, Payer = payer, ClaimReference = Clip(claim.PayerClaimControlNumber, 40),
                Reference = Clip(remittance.TraceNumber, 40), EffectiveDate = effective, Note = ServiceDetail(claim), IdempotencyKey = prefix + "payment",
            });
        foreach (var (groups, category) in new[] { (new[] { "CO", "PI" }, AdjustmentCategory.Contractual), (new[] { "OA", "CR" }, AdjustmentCategory.Administrative) })
        {
            var adjustments = claim.AllAdjustments.Where(a => groups.Contains(a.Group) && !IsPriorPayerImpact(a)).ToList();
            var net = adjustments.Sum(a => a.Amount);
            if (net < 0)
                return new ClaimPostingPlan([], $"The {string.Join("/", groups)} adjustments add up to a negative amount ({net:0.00}); a person must post it.");
            if (net > 0)
                entries.Add(new EntryRequest
                {
                    Kind = EntryKind.Adjustment, Amount = net, Category = category, Party = ResponsibleParty.Insurance, Payer = payer,
                    ReasonCode = Codes(adjustments), EffectiveDate = effective, IdempotencyKey = prefix + $"adjustment-{category}".ToLowerInvariant(),
                });
        }
        if (owed < 0)
            return new ClaimPostingPlan([], $"The patient-responsibility adjustments add up to a negative amount ({owed:0.00}); a person must post it.");
        var forwarded = claim.Status is 19 or 20 or 21;
        if (owed > 0 && !forwarded)
            entries.Add(new EntryRequest
            {
                Kind = EntryKind.Transfer, Amount = owed, Direction = TransferDirection.InsuranceToPatient, Payer = payer,
                ClaimReference = Clip(claim.PayerClaimControlNumber, 40), ReasonCode = Codes(patient), EffectiveDate = effective,
                IdempotencyKey = prefix + "patient-responsibility",
            });

        // Recognised before any rule that waits for a person: a denial a person matched once, resent in another form,
        // must not wait to be matched (and written off) a second time.
        if (SameAdjudicationPosted(remittance, claim, ledger, entries))
            return new ClaimPostingPlan([], null); // this claim loop, adjudicated the same, posted from a file that differed in form
        if (priorOnPrimary is not null) return new ClaimPostingPlan(entries, priorOnPrimary);
        if (claim.Status == 4)
        {
            if (claim.PaidAmount != 0m)
                return new ClaimPostingPlan(entries, $"A denied claim (status 4) that pays {claim.PaidAmount:0.00}: a person must look at it.");
            var groupsUsed = claim.AllAdjustments.Select(a => a.Group).Distinct().ToList();
            if (groupsUsed.Count == 0)
                return new ClaimPostingPlan([], null, "Denied (status 4) with no adjustment: nothing to post; the charge stays with insurance.");
            if (!groupsUsed.All(g => rules.AutoPostDeniedGroups.Contains(g, StringComparer.OrdinalIgnoreCase)))
                return new ClaimPostingPlan(entries,
                    $"Denied by the payer (status 4; {Codes(claim.AllAdjustments)}): review before anything is written off or billed to the patient (Collections:Remittance:AutoPostDeniedGroups may allow groups to post by themselves).");
        }
        return new ClaimPostingPlan(entries, null);
    }

    /// <summary>
    /// Whether this claim loop's adjudication already posted from another file: the same entries (kinds, amounts,
    /// reason codes and payment date) under the same loop of the same claim in another remittance. It recognises a
    /// claim that pays nothing (adjustments only), which has no payment and trace number to recognise it by, resent in a
    /// file that differs only in form. An earlier posting since reversed does not count: the payer adjudicated again.
    /// A claim that pays is recognised by its payment's trace number instead (<see cref="PaidUnderThisTrace"/>).
    /// </summary>
    private static bool SameAdjudicationPosted(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger, List<EntryRequest> planned)
    {
        if (claim.PaidAmount != 0m || planned.Count == 0 || planned.Any(p => p.EffectiveDate is null)) return false;
        var date = planned[0].EffectiveDate!.Value;
        // A remittance that came before its payment date (BPR16) posts as of the day it came: the same one sent again
        // on a later day before BPR16 is planned as of that day; an earlier posting dated on or before BPR16 is it.
        return EarlierPosting(OtherPostingsOfLoop(ClaimKeyPrefix(remittance.RemittanceId, claim), ledger), ledger, planned,
            (_, posted) => posted == date || (remittance.PaymentDate is { } paid && paid > date && posted <= paid)) is not null;
    }

    /// <summary>
    /// The remittance whose posting of the same claim loop the ledger already holds, the same entries to the cent
    /// (kinds, amounts, reason codes, references, dates) and none of them reversed, when <paramref name="planned"/> (a
    /// claim's planned entries, as an exception keeps them) would post it again from another remittance; else null.
    /// A person matching a claim sent again in another form (its own exception, under another content id) to the
    /// account that already has it must not post it twice. Two remittances of one payment date (BPR16, from
    /// <paramref name="paymentDateOf"/>) are one adjudication whatever day each was posted.
    /// </summary>
    public static string? PostedFromAnotherRemittance(IReadOnlyList<EntryRequest> planned, IReadOnlyList<LedgerEntry> ledger, Func<string, DateOnly?>? paymentDateOf = null)
    {
        if (planned.Count == 0 || planned.Any(p => p.IdempotencyKey is null || p.EffectiveDate is null || ClaimOf(p.IdempotencyKey) is null)) return null;
        var prefix = ClaimOf(planned[0].IdempotencyKey!)!.Value.Prefix;
        if (planned.Any(p => ClaimOf(p.IdempotencyKey!)!.Value.Prefix != prefix)) return null;
        var date = planned[0].EffectiveDate!.Value;
        var paid = paymentDateOf?.Invoke(RemittanceIdOf(prefix));
        return EarlierPosting(OtherPostingsOfLoop(prefix, ledger), ledger, planned,
            (other, posted) => posted == date || (paid is not null && paymentDateOf!(RemittanceIdOf(other)) == paid));
    }

    /// <summary>
    /// The other remittance among <paramref name="sameLoop"/>'s postings that holds exactly the planned entries (kinds,
    /// amounts, reason codes, references), none of them reversed, each dated as <paramref name="sameDate"/> allows
    /// (given that posting's key prefix and the entry's date); else null.
    /// </summary>
    private static string? EarlierPosting(IEnumerable<(LedgerEntry Entry, string Prefix)> sameLoop, IReadOnlyList<LedgerEntry> ledger,
        IReadOnlyList<EntryRequest> planned, Func<string, DateOnly, bool> sameDate)
    {
        var reversed = Ledger.ReversedIds(ledger);
        var wanted = planned.Select(p => Shape(p.Kind, p.Amount, p.ReasonCode, p.Reference)).Order(StringComparer.Ordinal).ToList();
        return sameLoop
            .Where(x => x.Entry.Kind != EntryKind.Reversal)
            .GroupBy(x => x.Prefix, x => x.Entry, StringComparer.Ordinal)
            .FirstOrDefault(g => !g.Any(e => reversed.Contains(e.EntryId)) && g.All(e => sameDate(g.Key, e.EffectiveDate))
                                 && g.Select(e => Shape(e.Kind, e.Amount, e.ReasonCode, e.Reference)).Order(StringComparer.Ordinal).SequenceEqual(wanted))
            is { } earlier ? RemittanceIdOf(earlier.Key) : null;
    }

    /// <summary>An entry as two postings of one adjudication agree on it: kind, amount, reason codes, reference (a trace).</summary>
    private static string Shape(EntryKind? kind, decimal? amount, string? reasonCode, string? reference) =>
        $"{kind}|{amount?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}|{Text.Clean(reasonCode)}|{Text.Clean(reference)}";

    /// <summary>
    /// Whether this claim's payment already posted from another file of the same payment: the 835 guide makes the trace
    /// number (TRN02) unique per payment, so an earlier payment entry with this trace, payer, payer claim number, account
    /// and amount, under another remittance id, is this claim sent again in a file that differs only in form (trailing
    /// separators, amounts written 100 or 100.00, another production date). Counted per occurrence: two loops of one
    /// claim in a transaction are two payments. A claim that pays nothing has no such entry to recognise it by.
    /// </summary>
    private static bool PaidUnderThisTrace(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger, string payer)
    {
        if (claim.PaidAmount <= 0 || string.IsNullOrWhiteSpace(remittance.TraceNumber)) return false;
        // Compared as the ledger stores them (trimmed).
        var trace = Text.Clean(Clip(remittance.TraceNumber, 40));
        var claimReference = Text.Clean(Clip(claim.PayerClaimControlNumber, 40));
        var cleanPayer = Text.Clean(payer);
        return OtherPostingsOfLoop(ClaimKeyPrefix(remittance.RemittanceId, claim), ledger).Any(x => x.Entry is { Kind: EntryKind.InsurancePayment } e
            && e.Amount == claim.PaidAmount && e.Reference == trace && e.ClaimReference == claimReference && e.Payer == cleanPayer);
    }

    /// <summary>
    /// The entries another remittance posted for the loop whose key prefix (in this remittance) is
    /// <paramref name="claimPrefix"/>: the same account, payer claim number and place among the claim's loops, that is
    /// the whole prefix but the remittance id; with each one's own prefix.
    /// </summary>
    private static IEnumerable<(LedgerEntry Entry, string Prefix)> OtherPostingsOfLoop(string claimPrefix, IReadOnlyList<LedgerEntry> ledger)
    {
        var remittanceId = RemittanceIdOf(claimPrefix);
        var loop = claimPrefix[(KeyPrefix.Length + remittanceId.Length)..]; // "/{account}/{payer claim}[#n]/"
        foreach (var e in ledger)
            if (ClaimOf(e.IdempotencyKey) is { } c && RemittanceIdOf(c.Prefix) is var other && other != remittanceId && c.Prefix == $"{KeyPrefix}{other}{loop}")
                yield return (e, c.Prefix);
    }

    /// <summary>The remittance id in a claim's key prefix: <c>835/{remittance}/...</c> (ids hold no '/').</summary>
    private static string RemittanceIdOf(string claimPrefix)
    {
        var rest = claimPrefix[KeyPrefix.Length..];
        return rest[..rest.IndexOf('/')];
    }

    /// <summary>
    /// Whether a key is one of this claim loop's entries: its prefix and then the entry's own name, not a longer payer
    /// claim number that begins with this one (payer claim numbers may hold '/').
    /// </summary>
    private static bool IsOfLoop(string key, string claimPrefix) =>
        key.StartsWith(claimPrefix, StringComparison.Ordinal) && key.IndexOf('/', claimPrefix.Length) < 0;

    /// <summary>
    /// A reversal undoes one earlier posting of the same payer claim: the one whose payment, adjustments and patient
    /// share are the reversal's amounts negated (the latest, if several are). Amounts that match no earlier posting
    /// are not guessed at: a person posts them.
    /// </summary>
    private static ClaimPostingPlan PlanReversal(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger, string prefix)
    {
        var reversed = Ledger.ReversedIds(ledger);
        var postings = ledger
            .Where(e => e.Kind != EntryKind.Reversal && !reversed.Contains(e.EntryId)
                        && ClaimOf(e.IdempotencyKey) is { } c && c.PatientControlNumber == claim.PatientControlNumber && c.PayerClaimControlNumber == claim.PayerClaimControlNumber)
            .GroupBy(e => ClaimOf(e.IdempotencyKey)!.Value.Prefix)
            .Select(g => g.ToList())
            .ToList();
        if (postings.Count == 0)
            return new ClaimPostingPlan([], "A reversal of a payment this account never received from a remittance.");
        var paid = -claim.PaidAmount;
        var adjusted = Math.Abs(claim.AllAdjustments.Where(a => a.Group != "PR" && !IsPriorPayerImpact(a)).Sum(a => a.Amount));
        // A posting made before prior-payer amounts (CARC 23) were left out wrote them off with the rest.
        var adjustedWithPriorPayer = Math.Abs(claim.AllAdjustments.Where(a => a.Group != "PR").Sum(a => a.Amount));
        var patientShare = Math.Abs(claim.AllAdjustments.Where(a => a.Group == "PR").Sum(a => a.Amount));
        var match = postings.LastOrDefault(p =>
            p.Where(e => e.Kind == EntryKind.InsurancePayment).Sum(e => e.Amount) == paid
            && p.Where(e => e.Kind == EntryKind.Adjustment).Sum(e => e.Amount) is var postedAdjustments && (postedAdjustments == adjusted || postedAdjustments == adjustedWithPriorPayer)
            && (p.Where(e => e.Kind == EntryKind.Transfer).Sum(e => e.Amount) is var transferred && (transferred == patientShare || transferred == 0m)));
        if (match is null)
        {
            var latest = postings[^1];
            return new ClaimPostingPlan([],
                $"The reversal (payment {claim.PaidAmount:0.00}, adjustments {adjusted:0.00}) does not match what was posted for this claim " +
                $"(payment {latest.Where(e => e.Kind == EntryKind.InsurancePayment).Sum(e => e.Amount):0.00}, adjustments {latest.Where(e => e.Kind == EntryKind.Adjustment).Sum(e => e.Amount):0.00}); a person must post it.");
        }
        // The transfer to the patient is reversed first, then adjustments, then the payment, so balances never go negative on the way.
        var ordered = match.OrderByDescending(e => e.Kind == EntryKind.Transfer).ThenByDescending(e => e.Kind == EntryKind.Adjustment).ToList();
        return new ClaimPostingPlan(ordered.Select(e => new EntryRequest
        {
            Kind = EntryKind.Reversal, ReversesEntryId = e.EntryId, Note = $"Reversed by remittance {remittance.RemittanceId}",
            IdempotencyKey = prefix + $"reverse-{e.EntryId}",
        }).ToList(), null);
    }

    /// <summary>The claim a remittance entry's idempotency key names: <c>835/{remittance}/{patient control}/{payer claim}[#n]/{what}</c>.</summary>
    public static (string Prefix, string PatientControlNumber, string PayerClaimControlNumber)? ClaimOf(string idempotencyKey)
    {
        if (!idempotencyKey.StartsWith(KeyPrefix, StringComparison.Ordinal)) return null;
        var parts = idempotencyKey[KeyPrefix.Length..].Split('/');
        if (parts.Length < 4) return null;
        // The payer's claim number may itself hold '/': everything between the patient control number and the last part.
        var payerClaim = string.Join('/', parts[2..^1]);
        var hash = payerClaim.LastIndexOf('#');
        var bare = hash >= 0 && int.TryParse(payerClaim.AsSpan(hash + 1), out _) ? payerClaim[..hash] : payerClaim;
        return (idempotencyKey[..(idempotencyKey.Length - parts[^1].Length)], parts[1], bare);
    }

    private static string Codes(IEnumerable<ClaimAdjustment> adjustments) =>
        Clip(string.Join(",", adjustments.Select(a => $"{a.Group}-{a.Reason}").Distinct()), 40)!;

    /// <summary>The SVC lines, kept on the payment entry as a note: "HC:99211 800.00 paid 500.00; ...".</summary>
    private static string? ServiceDetail(ClaimPayment claim) =>
        claim.ServiceLines.Count == 0 ? null
            : Clip(string.Join("; ", claim.ServiceLines.Select(l => $"{l.Procedure} {l.Charge:0.00} paid {l.Paid:0.00}")), LedgerPosting.MaxTextLength);

    private static string? Clip(string? value, int max) => value is null ? null : value.Length <= max ? value : value[..max];
}
