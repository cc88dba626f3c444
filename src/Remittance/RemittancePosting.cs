using Collections.Domain;

namespace Collections.Remittance;

/// <summary>What to post for one claim payment, or why it cannot be posted automatically.</summary>
public sealed record ClaimPostingPlan(IReadOnlyList<EntryRequest> Entries, string? Problem);

/// <summary>
/// Turns an 835 claim payment into ledger entries: the payer's payment as an insurance payment; contractual (CO) and
/// payer-initiated (PI) adjustments as contractual adjustments, other (OA) and correction (CR) adjustments as
/// administrative ones, each with its group-reason codes; patient responsibility (PR: deductible, coinsurance, copay)
/// as a transfer to the patient, which starts the cadence. A reversal (status 22) reverses what earlier remittances
/// posted for the same payer claim. Every entry's idempotency key is derived from the remittance and the claim, so
/// posting the same file again posts nothing twice.
/// </summary>
public static class RemittancePosting
{
    public const string KeyPrefix = "835/";

    public static ClaimPostingPlan Plan(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger)
    {
        var prefix = $"{KeyPrefix}{remittance.RemittanceId}/{claim.PatientControlNumber}/{claim.PayerClaimControlNumber}/";
        var note = ServiceDetail(claim);
        var payer = remittance.PayerName ?? "payer";
        if (claim.Status == 23)
            return new ClaimPostingPlan([], "The payer says this is not our claim (status 23).");
        if (claim.IsReversal)
            return PlanReversal(remittance, claim, ledger, prefix);

        var entries = new List<EntryRequest>();
        if (claim.PaidAmount < 0)
            return new ClaimPostingPlan([], $"A negative payment ({claim.PaidAmount:0.00}) outside a reversal needs a person to post it.");
        if (claim.PaidAmount > 0)
            entries.Add(new EntryRequest
            {
                Kind = EntryKind.InsurancePayment, Amount = claim.PaidAmount, Payer = payer, ClaimReference = Clip(claim.PayerClaimControlNumber, 40),
                Reference = Clip(remittance.TraceNumber, 40), EffectiveDate = remittance.PaymentDate, Note = note, IdempotencyKey = prefix + "payment",
            });
        foreach (var (groups, category) in new[] { (new[] { "CO", "PI" }, AdjustmentCategory.Contractual), (new[] { "OA", "CR" }, AdjustmentCategory.Administrative) })
        {
            var adjustments = claim.AllAdjustments.Where(a => groups.Contains(a.Group)).ToList();
            var net = adjustments.Sum(a => a.Amount);
            if (net < 0)
                return new ClaimPostingPlan([], $"The {string.Join("/", groups)} adjustments add up to a negative amount ({net:0.00}); a person must post it.");
            if (net > 0)
                entries.Add(new EntryRequest
                {
                    Kind = EntryKind.Adjustment, Amount = net, Category = category, Party = ResponsibleParty.Insurance, Payer = payer,
                    ReasonCode = Codes(adjustments), EffectiveDate = remittance.PaymentDate, IdempotencyKey = prefix + $"adjustment-{category}".ToLowerInvariant(),
                });
        }
        var patient = claim.AllAdjustments.Where(a => a.Group == "PR").ToList();
        var owed = patient.Sum(a => a.Amount);
        if (owed < 0)
            return new ClaimPostingPlan([], $"The patient-responsibility adjustments add up to a negative amount ({owed:0.00}); a person must post it.");
        if (owed > 0)
            entries.Add(new EntryRequest
            {
                Kind = EntryKind.Transfer, Amount = owed, Direction = TransferDirection.InsuranceToPatient, Payer = payer,
                ClaimReference = Clip(claim.PayerClaimControlNumber, 40), ReasonCode = Codes(patient), EffectiveDate = remittance.PaymentDate,
                IdempotencyKey = prefix + "patient-responsibility",
            });
        return new ClaimPostingPlan(entries, null);
    }

    private static ClaimPostingPlan PlanReversal(Remittance835 remittance, ClaimPayment claim, IReadOnlyList<LedgerEntry> ledger, string prefix)
    {
        var earlierMarker = $"/{claim.PatientControlNumber}/{claim.PayerClaimControlNumber}/";
        var reversed = ledger.Where(e => e.ReversesEntryId is not null).Select(e => e.ReversesEntryId!).ToHashSet();
        var earlier = ledger.Where(e => e.IdempotencyKey.StartsWith(KeyPrefix, StringComparison.Ordinal)
                                        && e.IdempotencyKey.Contains(earlierMarker, StringComparison.Ordinal)
                                        && !e.IdempotencyKey.StartsWith(prefix, StringComparison.Ordinal)
                                        && e.Kind != EntryKind.Reversal
                                        && !reversed.Contains(e.EntryId)).ToList();
        // The transfer to the patient is reversed first, then adjustments, then the payment, so balances never go negative on the way.
        var ordered = earlier.OrderByDescending(e => e.Kind == EntryKind.Transfer).ThenByDescending(e => e.Kind == EntryKind.Adjustment).ToList();
        if (ordered.Count == 0)
        {
            // Posting this file again after the reversal went through: the earlier entries are already reversed.
            var alreadyDone = ledger.Any(e => e.IdempotencyKey.StartsWith(prefix, StringComparison.Ordinal));
            return alreadyDone ? new ClaimPostingPlan([], null) : new ClaimPostingPlan([], "A reversal of a payment this account never received from a remittance.");
        }
        return new ClaimPostingPlan(ordered.Select(e => new EntryRequest
        {
            Kind = EntryKind.Reversal, ReversesEntryId = e.EntryId, Note = $"Reversed by remittance {remittance.RemittanceId}",
            IdempotencyKey = prefix + $"reverse-{e.EntryId}",
        }).ToList(), null);
    }

    private static string Codes(IEnumerable<ClaimAdjustment> adjustments) =>
        Clip(string.Join(",", adjustments.Select(a => $"{a.Group}-{a.Reason}").Distinct()), 40)!;

    /// <summary>The SVC lines, kept on the payment entry as a note: "HC:99211 800.00 paid 500.00; ...".</summary>
    private static string? ServiceDetail(ClaimPayment claim) =>
        claim.ServiceLines.Count == 0 ? null
            : Clip(string.Join("; ", claim.ServiceLines.Select(l => $"{l.Procedure} {l.Charge:0.00} paid {l.Paid:0.00}")), LedgerPosting.MaxTextLength);

    private static string? Clip(string? value, int max) => value is null ? null : value.Length <= max ? value : value[..max];
}
