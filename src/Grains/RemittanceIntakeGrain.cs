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
public sealed class RemittanceIntakeGrain(IGrainFactory grains, TimeProvider clock, DatabaseOptions database, RemittanceRules rules) : Grain, IRemittanceIntakeGrain
{
    public Task<RemittanceIntakeResult> Post(string facility, string text, bool allowTestData = false) => RunAsync(facility, text, dryRun: false, allowTestData);

    public Task<RemittanceIntakeResult> Check(string facility, string text) => RunAsync(facility, text, dryRun: true, allowTestData: false);

    private async Task<RemittanceIntakeResult> RunAsync(string facility, string text, bool dryRun, bool allowTestData)
    {
        IReadOnlyList<Remittance835> remittances;
        try
        {
            remittances = Remittance835Reader.Read(text);
        }
        catch (X12FormatException error)
        {
            return Refused(new RemittanceRefusal
            {
                Code = "x12.malformed", Title = "The file is not a valid 835", Detail = error.Message, Segment = error.SegmentNumber, Reason = error.Reason,
            });
        }
        // Test data (ISA15 = T) moves no money on real accounts (its patient control numbers may well match some); a
        // dry run shows what it holds, and a training system may post it on purpose.
        if (!dryRun && !allowTestData && remittances.FirstOrDefault(r => r.IsTest) is { } test)
            return Refused(new RemittanceRefusal
            {
                Code = "x12.test-interchange", Title = "A test file moves no money",
                Detail = $"Interchange {test.InterchangeControlNumber} is marked as test data (ISA15 = T). Nothing was posted. Check it with dryRun=true; on a training or test system, post it with allowTestData=true.",
                Segment = test.InterchangeSegment > 0 ? test.InterchangeSegment : test.FirstSegment,
            });
        // The whole file is checked before anything posts: an unbalanced transaction refuses the file.
        if (remittances.FirstOrDefault(r => !r.IsBalanced) is { } unbalanced)
            return Refused(new RemittanceRefusal
            {
                Code = "remittance.unbalanced", Title = "The remittance does not balance",
                Detail = $"Transaction {unbalanced.TransactionControlNumber} (from segment {unbalanced.FirstSegment}): the payment (BPR02{(unbalanced.CreditDebit == "D" ? ", a debit" : "")}) is {unbalanced.SignedPaymentAmount:0.00} but the claim payments ({unbalanced.ClaimPaymentsTotal:0.00}) less the provider-level adjustments ({unbalanced.ProviderAdjustmentsTotal:0.00}) come to {unbalanced.ExpectedPayment:0.00}: a difference of {unbalanced.Imbalance:0.00}. Nothing was posted.",
                Transaction = unbalanced.TransactionControlNumber, Difference = unbalanced.Imbalance,
            });

        var log = grains.GetGrain<IRemittanceLogGrain>(facility);
        var summaries = new List<RemittanceSummary>();
        var inThisFile = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var read in remittances)
        {
            var remittance = read;
            var warnings = remittance.Warnings.Select(w => $"Segment {w.SegmentNumber}: {w.Reason}").ToList();
            if (remittance.PaymentDate is { } paymentDate && paymentDate > Today)
                warnings.Add($"The payment date (BPR16) is {paymentDate:yyyy-MM-dd}, after today: the remittance arrived before its money settles, so its entries are dated today.");
            if (remittance.IsTest)
                warnings.Add(dryRun ? $"Interchange {remittance.InterchangeControlNumber} is test data (ISA15 = T): it posts only with allowTestData=true."
                    : $"Interchange {remittance.InterchangeControlNumber} is test data (ISA15 = T), posted because allowTestData=true.");
            if (inThisFile.TryGetValue(remittance.RemittanceId, out var first))
            {
                // The same transaction twice in one file (a resent interchange appended): it is one payment.
                summaries.Add(new RemittanceSummary
                {
                    RemittanceId = remittance.RemittanceId, PaymentAmount = remittance.PaymentAmount, DuplicateOf = first, DryRun = dryRun,
                    TraceNumber = remittance.TraceNumber, PayerName = remittance.PayerName,
                    Warnings = [.. warnings, $"Transaction {remittance.TransactionControlNumber} (segment {remittance.FirstSegment}) repeats transaction {first} of this file exactly; it was not posted again."],
                });
                continue;
            }
            inThisFile[remittance.RemittanceId] = $"{remittance.InterchangeControlNumber}/{remittance.TransactionControlNumber}";

            var lookup = await log.Lookup(remittance.RemittanceId, remittance.LegacyId, remittance.InterchangeControlNumber);
            if (lookup.Legacy is { } legacy && SameRemittance(legacy, remittance))
                remittance = remittance with { RemittanceId = legacy.RemittanceId }; // posted before under its earlier id: keep it, so nothing posts twice
            foreach (var other in lookup.SameInterchangeNumber.Where(o => !remittances.Any(r => r.RemittanceId == o))) // not this file's other transactions
                warnings.Add($"Interchange control number {remittance.InterchangeControlNumber} was also used by remittance {other}, which has different content: they are kept apart.");
            var listed = lookup.Exceptions.ToDictionary(e => e.ExceptionId, StringComparer.Ordinal);

            // Claims for different accounts are independent: post them in parallel, each account's claims in file order.
            // SQLite has one writer at a time, so more than a few at once only queue on its lock.
            var parallelism = database.Provider == DatabaseProvider.Sqlite ? 2 : 16;
            var results = new (RemittanceClaimRecord Record, RemittanceException? Exception)[remittance.Claims.Count];
            var byAccount = Enumerable.Range(0, remittance.Claims.Count).GroupBy(i => remittance.Claims[i].PatientControlNumber);
            await Parallel.ForEachAsync(byAccount, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (group, _) =>
            {
                foreach (var i in group)
                    results[i] = await PostOneAsync(facility, remittance, i, listed.GetValueOrDefault($"{remittance.RemittanceId}/{i}"), dryRun);
            });
            var claims = results.Select(r => r.Record).ToList();
            var exceptions = results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();
            var logged = new RemittanceLogOutcome(exceptions.Count(e => !listed.ContainsKey(e.ExceptionId)), exceptions.Count(e => listed.ContainsKey(e.ExceptionId)),
                lookup.Exceptions.Count(e => e.Status == ExceptionStatus.Open) + exceptions.Count(e => !listed.ContainsKey(e.ExceptionId)));
            if (!dryRun)
                logged = await log.Record(new RemittanceRecord
                {
                    RemittanceId = remittance.RemittanceId, Facility = facility, PayerName = remittance.PayerName, PaymentAmount = remittance.PaymentAmount,
                    TraceNumber = remittance.TraceNumber, PaymentDate = remittance.PaymentDate, ReceivedAt = clock.GetUtcNow(),
                    ProviderAdjustments = remittance.ProviderAdjustments.Select(p => new ProviderAdjustmentRecord(p.ReasonCode, p.Reference, p.Amount)).ToList(),
                    Claims = claims, Warnings = warnings, InterchangeControlNumber = remittance.InterchangeControlNumber,
                }, exceptions);
            summaries.Add(new RemittanceSummary
            {
                RemittanceId = remittance.RemittanceId, PaymentAmount = remittance.PaymentAmount, DryRun = dryRun,
                TraceNumber = remittance.TraceNumber, PayerName = remittance.PayerName,
                ClaimsPosted = claims.Count(c => c.Outcome == ClaimPostingStatus.Posted),
                ClaimsToPost = claims.Count(c => c.Outcome == ClaimPostingStatus.WouldPost),
                ClaimsAlreadyPosted = claims.Count(c => c.Outcome == ClaimPostingStatus.AlreadyPosted),
                ClaimsWithoutMoney = claims.Count(c => c.Outcome == ClaimPostingStatus.NoMoneyMoved),
                Exceptions = logged.NewExceptions, ExceptionsAlreadyListed = logged.ExceptionsAlreadyListed, ExceptionsOpen = logged.ExceptionsOpen,
                ProviderAdjustments = remittance.ProviderAdjustmentsTotal, Warnings = warnings, Claims = claims,
            });
        }
        return new RemittanceIntakeResult { Posted = summaries };
    }

    /// <summary>Today in UTC: the latest date a remittance's entries take (the ledger refuses later ones).</summary>
    private DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    private static RemittanceIntakeResult Refused(RemittanceRefusal refusal) => new() { Refused = refusal };

    /// <summary>A remittance recorded under its earlier id is this one when payment, trace and claims agree.</summary>
    private static bool SameRemittance(RemittanceRecord recorded, Remittance835 remittance) =>
        recorded.PaymentAmount == remittance.PaymentAmount && recorded.TraceNumber == remittance.TraceNumber
        && recorded.Claims.Select(c => (c.PatientControlNumber, c.PayerClaimControlNumber, c.PaidAmount))
            .SequenceEqual(remittance.Claims.Select(c => (c.PatientControlNumber, c.PayerClaimControlNumber, c.PaidAmount)));

    private async Task<(RemittanceClaimRecord, RemittanceException?)> PostOneAsync(
        string facility, Remittance835 remittance, int index, RemittanceException? listed, bool dryRun)
    {
        var claim = remittance.Claims[index];
        var record = new RemittanceClaimRecord
        {
            PatientControlNumber = claim.PatientControlNumber, PayerClaimControlNumber = claim.PayerClaimControlNumber, Status = claim.Status,
            ChargeAmount = claim.ChargeAmount, PaidAmount = claim.PaidAmount, Outcome = ClaimPostingStatus.Exception, Occurrence = claim.Occurrence,
        };
        // A person already decided this claim (matched it to an account, or dismissed it): never post it again by itself.
        if (listed is { Status: not ExceptionStatus.Open })
            return (record with { Outcome = ClaimPostingStatus.AlreadyPosted, Reason = $"Already {listed.Status.ToString().ToLowerInvariant()} on the exceptions list: {listed.Resolution}" }, null);

        var (posted, problem, planned, noMoney) = await PostClaimAsync(facility, remittance, claim, dryRun);
        if (noMoney is not null)
            return (record with { Outcome = ClaimPostingStatus.NoMoneyMoved, Reason = noMoney }, null);
        if (problem is null)
            return (record with
            {
                Outcome = dryRun ? (planned.Count == 0 ? ClaimPostingStatus.AlreadyPosted : ClaimPostingStatus.WouldPost)
                    : posted!.All(p => p.IsReplay) ? ClaimPostingStatus.AlreadyPosted : ClaimPostingStatus.Posted,
                EntryIds = posted?.Select(p => p.Entry.EntryId).ToList() ?? [],
                Entries = planned,
            }, null);
        return (record with { Reason = problem, Entries = planned }, new RemittanceException
        {
            ExceptionId = $"{remittance.RemittanceId}/{index}", RemittanceId = remittance.RemittanceId, Claim = record with { Reason = problem },
            Reason = problem, PlannedEntries = planned, CreatedAt = clock.GetUtcNow(),
        });
    }

    /// <summary>
    /// Posts one claim to its account (a dry run: plans it only); a problem instead when it cannot, with what would have
    /// posted, for a later match; or why it moves no money.
    /// </summary>
    private async Task<(IReadOnlyList<PostingReceipt>? Posted, string? Problem, IReadOnlyList<EntryRequest> Planned, string? NoMoney)> PostClaimAsync(
        string facility, Remittance835 remittance, ClaimPayment claim, bool dryRun)
    {
        var today = Today;
        var unplanned = RemittancePosting.Plan(remittance, claim, [], rules, today);
        if (unplanned.NoMoneyReason is not null) return (null, null, [], unplanned.NoMoneyReason);
        if (!Identifiers.IsAccountNumber(claim.PatientControlNumber))
            return (null, "The patient control number is not an account number this engine can hold.", unplanned.Entries, null);
        var account = grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, claim.PatientControlNumber).ToString());
        var view = await account.Get();
        if (view is null)
            return (null, $"No account {claim.PatientControlNumber} is open at {facility}.", unplanned.Entries, null);
        var plan = RemittancePosting.Plan(remittance, claim, view.Entries, rules, today);
        if (plan.NoMoneyReason is not null) return (null, null, [], plan.NoMoneyReason);
        if (plan.Problem is not null) return (null, plan.Problem, plan.Entries, null);
        if (plan.Entries.Count == 0) return ([], null, [], null);
        if (dryRun) return (null, null, plan.Entries.Where(e => !view.Entries.Any(x => x.IdempotencyKey == e.IdempotencyKey)).ToList(), null);
        var outcome = await account.PostBatch(plan.Entries);
        return outcome.Succeeded ? (outcome.Value, null, plan.Entries, null) : (null, outcome.Errors[0].Message, plan.Entries, null);
    }
}
