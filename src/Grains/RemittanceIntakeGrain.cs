using Collections.Domain;
using Collections.Persistence;
using Collections.Remittance;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>
/// The 835 workflow behind <see cref="IRemittanceIntakeGrain"/>: the pure reader and posting plan
/// (<see cref="Remittance835Reader"/>, <see cref="RemittancePosting"/>) in the middle, accounts and the facility's
/// remittance log at the edges. Stateless: any silo takes a file.
/// </summary>
[StatelessWorker]
public sealed class RemittanceIntakeGrain(IGrainFactory grains, TimeProvider clock, DatabaseOptions database) : Grain, IRemittanceIntakeGrain
{
    public async Task<RemittanceIntakeResult> Post(string facility, string text)
    {
        IReadOnlyList<Remittance835> remittances;
        try
        {
            remittances = Remittance835Reader.Read(text);
        }
        catch (X12FormatException error)
        {
            return new RemittanceIntakeResult
            {
                Refused = new RemittanceRefusal
                {
                    Code = "x12.malformed", Title = "The file is not a valid 835", Detail = error.Message, Segment = error.SegmentNumber, Reason = error.Reason,
                },
            };
        }
        // The whole file is checked before anything posts: an unbalanced transaction refuses the file.
        if (remittances.FirstOrDefault(r => !r.IsBalanced) is { } unbalanced)
            return new RemittanceIntakeResult
            {
                Refused = new RemittanceRefusal
                {
                    Code = "remittance.unbalanced", Title = "The remittance does not balance",
                    Detail = $"Transaction {unbalanced.TransactionControlNumber} (from segment {unbalanced.FirstSegment}): the payment (BPR02) is {unbalanced.PaymentAmount:0.00} but the claim payments ({unbalanced.ClaimPaymentsTotal:0.00}) less the provider-level adjustments ({unbalanced.ProviderAdjustmentsTotal:0.00}) come to {unbalanced.ExpectedPayment:0.00}: a difference of {unbalanced.Imbalance:0.00}. Nothing was posted.",
                    Transaction = unbalanced.TransactionControlNumber, Difference = unbalanced.Imbalance,
                },
            };

        var log = grains.GetGrain<IRemittanceLogGrain>(facility);
        var summaries = new List<RemittanceSummary>();
        foreach (var remittance in remittances)
        {
            // Claims for different accounts are independent: post them in parallel, each account's claims in file order.
            // SQLite has one writer at a time, so more than a few at once only queue on its lock.
            var parallelism = database.Provider == DatabaseProvider.Sqlite ? 2 : 16;
            var results = new (RemittanceClaimRecord Record, RemittanceException? Exception)[remittance.Claims.Count];
            var byAccount = Enumerable.Range(0, remittance.Claims.Count).GroupBy(i => remittance.Claims[i].PatientControlNumber);
            await Parallel.ForEachAsync(byAccount, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (group, _) =>
            {
                foreach (var i in group)
                    results[i] = await PostOneAsync(facility, remittance, i);
            });
            var claims = results.Select(r => r.Record).ToList();
            var exceptions = results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();
            var warnings = remittance.Warnings.Select(w => $"Segment {w.SegmentNumber}: {w.Reason}").ToList();
            await log.Record(new RemittanceRecord
            {
                RemittanceId = remittance.RemittanceId, Facility = facility, PayerName = remittance.PayerName, PaymentAmount = remittance.PaymentAmount,
                TraceNumber = remittance.TraceNumber, PaymentDate = remittance.PaymentDate, ReceivedAt = clock.GetUtcNow(),
                ProviderAdjustments = remittance.ProviderAdjustments.Select(p => new ProviderAdjustmentRecord(p.ReasonCode, p.Reference, p.Amount)).ToList(),
                Claims = claims, Warnings = warnings,
            }, exceptions);
            summaries.Add(new RemittanceSummary(remittance.RemittanceId, remittance.PaymentAmount,
                claims.Count(c => c.Outcome == ClaimPostingStatus.Posted), claims.Count(c => c.Outcome == ClaimPostingStatus.AlreadyPosted),
                claims.Count(c => c.Outcome == ClaimPostingStatus.Exception), remittance.ProviderAdjustmentsTotal, warnings));
        }
        return new RemittanceIntakeResult { Posted = summaries };
    }

    private async Task<(RemittanceClaimRecord, RemittanceException?)> PostOneAsync(string facility, Remittance835 remittance, int index)
    {
        var claim = remittance.Claims[index];
        var record = new RemittanceClaimRecord
        {
            PatientControlNumber = claim.PatientControlNumber, PayerClaimControlNumber = claim.PayerClaimControlNumber, Status = claim.Status,
            ChargeAmount = claim.ChargeAmount, PaidAmount = claim.PaidAmount, Outcome = ClaimPostingStatus.Exception,
        };
        var (posted, problem, planned) = await PostClaimAsync(facility, remittance, claim);
        if (problem is null)
            return (record with
            {
                Outcome = posted!.All(p => p.IsReplay) ? ClaimPostingStatus.AlreadyPosted : ClaimPostingStatus.Posted,
                EntryIds = posted!.Select(p => p.Entry.EntryId).ToList(),
            }, null);
        return (record with { Reason = problem }, new RemittanceException
        {
            ExceptionId = $"{remittance.RemittanceId}/{index}", RemittanceId = remittance.RemittanceId, Claim = record with { Reason = problem },
            Reason = problem, PlannedEntries = planned, CreatedAt = clock.GetUtcNow(),
        });
    }

    /// <summary>Posts one claim to its account; a problem instead when it cannot (with what would have posted, for a later match).</summary>
    private async Task<(IReadOnlyList<PostingReceipt>? Posted, string? Problem, IReadOnlyList<EntryRequest> Planned)> PostClaimAsync(
        string facility, Remittance835 remittance, ClaimPayment claim)
    {
        var unplanned = RemittancePosting.Plan(remittance, claim, []);
        if (!Identifiers.IsAccountNumber(claim.PatientControlNumber))
            return (null, "The patient control number is not an account number this engine can hold.", unplanned.Entries);
        var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, claim.PatientControlNumber).ToString());
        var view = await account.Get();
        if (view is null)
            return (null, $"No account {claim.PatientControlNumber} is open at {facility}.", unplanned.Entries);
        var plan = RemittancePosting.Plan(remittance, claim, view.Entries);
        if (plan.Problem is not null) return (null, plan.Problem, []);
        if (plan.Entries.Count == 0) return ([], null, []);
        var outcome = await account.PostBatch(plan.Entries);
        return outcome.Succeeded ? (outcome.Value, null, plan.Entries) : (null, outcome.Errors[0].Message, plan.Entries);
    }
}
