namespace Collections.Domain.Arrangements;

public enum PromiseStatus
{
    Pending,
    Kept,
    Broken,
}

/// <summary>A guarantor's promise to pay an amount by a date. Collection contact pauses until then.</summary>
[GenerateSerializer, Immutable, Alias("collections.PromiseToPay")]
public sealed record PromiseToPay
{
    [Id(0)] public required string PromiseId { get; init; }
    [Id(1)] public required decimal Amount { get; init; }
    [Id(2)] public required DateOnly PromisedDate { get; init; }
    [Id(3)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(4)] public required string CreatedBy { get; init; }
    [Id(5)] public PromiseStatus Status { get; init; } = PromiseStatus.Pending;
    [Id(6)] public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>The Idempotency-Key it was made with, if any.</summary>
    [Id(7), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PromiseRequest")]
public sealed record PromiseRequest
{
    [Id(0)] public decimal? Amount { get; init; }
    [Id(1)] public DateOnly? PromisedDate { get; init; }
    /// <summary>Sent again with this key, the request answers with the promise it made.</summary>
    [Id(2), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

public enum InstallmentFrequency
{
    Weekly,
    Biweekly,
    Monthly,
}

public enum PlanStatus
{
    Active,
    Completed,
    /// <summary>An installment was missed past the grace period: the cadence resumes.</summary>
    Defaulted,
}

[GenerateSerializer, Immutable, Alias("collections.Installment")]
public sealed record Installment
{
    [Id(0)] public required int Number { get; init; }
    [Id(1)] public required DateOnly DueDate { get; init; }
    [Id(2)] public required decimal Amount { get; init; }
}

/// <summary>A payment plan: a down payment now, then equal installments (the last one absorbs the cents).</summary>
[GenerateSerializer, Immutable, Alias("collections.PaymentPlan")]
public sealed record PaymentPlan
{
    [Id(0)] public required string PlanId { get; init; }
    [Id(1)] public required decimal Total { get; init; }
    [Id(2)] public required decimal DownPayment { get; init; }
    [Id(3)] public required InstallmentFrequency Frequency { get; init; }
    [Id(4)] public required IReadOnlyList<Installment> Installments { get; init; }
    [Id(5)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(6)] public required string CreatedBy { get; init; }
    [Id(7)] public PlanStatus Status { get; init; } = PlanStatus.Active;
    [Id(8)] public DateTimeOffset? EndedAt { get; init; }
    /// <summary>Installments whose reminder has been sent.</summary>
    [Id(9)] public IReadOnlyList<int> Reminded { get; init; } = [];
    /// <summary>When a defaulted plan became active again: money deposited in time for what it missed was posted later.</summary>
    [Id(10)] public DateTimeOffset? ReinstatedAt { get; init; }
    /// <summary>The Idempotency-Key it was started with, if any.</summary>
    [Id(11), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PlanRequest")]
public sealed record PlanRequest
{
    [Id(0)] public decimal? DownPayment { get; init; }
    [Id(1)] public int? InstallmentCount { get; init; }
    [Id(2)] public InstallmentFrequency? Frequency { get; init; }
    [Id(3)] public DateOnly? FirstDueDate { get; init; }
    /// <summary>Sent again with this key, the request answers with the plan it started.</summary>
    [Id(4), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

/// <summary>A patient payment as a promise sees it: when it became known, the day it was deposited, how it came, how much, who posted it.</summary>
public readonly record struct PromisePayment(DateTimeOffset KnownAt, DateOnly Deposited, PaymentChannel Channel, decimal Amount, string PostedBy);

/// <summary>The numbers of promises and plans (<c>Collections:Arrangements</c>).</summary>
public sealed record ArrangementRules
{
    public decimal MinimumInstallment { get; init; } = 25.00m;
    public int MaxInstallments { get; init; } = 60;
    public int MaxPromiseDays { get; init; } = 90;
    /// <summary>Days after a due date before an unpaid installment or promise counts as missed.</summary>
    public int GraceDays { get; init; } = 5;
    /// <summary>Days before an installment's due date that its reminder goes out.</summary>
    public int ReminderLeadDays { get; init; } = 3;
}

public static class ArrangementRulesLogic
{
    /// <summary>Patient payments (not reversed) posted at or after <paramref name="since"/>.</summary>
    public static decimal PaidSince(IReadOnlyList<LedgerEntry> ledger, DateTimeOffset since)
    {
        var reversed = Ledger.ReversedIds(ledger);
        return ledger.Where(e => e.Kind == EntryKind.PatientPayment && e.PostedAt >= since && !reversed.Contains(e.EntryId)).Sum(e => e.Amount);
    }

    /// <summary>The end of a calendar day plus grace, as an instant: the end of that day for the patient (UTC when their zone is not known).</summary>
    public static DateTimeOffset Deadline(DateOnly date, int graceDays, PatientCalendar? calendar = null) =>
        (calendar ?? PatientCalendar.Utc).EndOf(date.AddDays(graceDays));

    /// <summary>The promise a request with this Idempotency-Key made before (the same amount and date), or the key's error.</summary>
    public static (PromiseToPay? Earlier, DomainError? Error) RepeatOf(PromiseRequest request, IReadOnlyList<PromiseToPay> existing) =>
        RepeatedRequests.Find(request.IdempotencyKey, existing, p => p.IdempotencyKey,
            p => p.Amount == request.Amount && p.PromisedDate == request.PromisedDate, "promise");

    /// <summary>The plan a request with this Idempotency-Key started before (the same terms), or the key's error.</summary>
    public static (PaymentPlan? Earlier, DomainError? Error) RepeatOf(PlanRequest request, IReadOnlyList<PaymentPlan> existing) =>
        RepeatedRequests.Find(request.IdempotencyKey, existing, p => p.IdempotencyKey,
            p => p.DownPayment == (request.DownPayment ?? 0m) && p.Installments.Count == request.InstallmentCount && p.Frequency == request.Frequency
                 && p.Installments[0].DueDate == request.FirstDueDate, "plan");

    public static (PromiseToPay? Promise, IReadOnlyList<DomainError> Errors) MakePromise(
        PromiseRequest request, decimal patientResponsibility, int existingCount, bool hasPending, ArrangementRules rules, string by, DateTimeOffset now,
        PatientCalendar? calendar = null)
    {
        var errors = new ErrorList();
        var today = (calendar ?? PatientCalendar.Utc).Today(now);
        if (hasPending) return (null, [DomainError.Conflict("promise.pending", "A promise to pay is already pending on this account.")]);
        if (patientResponsibility <= 0) return (null, [DomainError.Conflict("promise.nothing-owed", "The patient owes nothing on this account.")]);
        Money.ValidateEntryAmount(request.Amount, "amount", errors);
        if (request.Amount > patientResponsibility)
            errors.Invalid("amount", "amount.exceeds-balance", $"The promise may not exceed what the patient owes ({patientResponsibility:0.00}).");
        if (request.PromisedDate is not { } date)
            errors.Invalid("promisedDate", "promised-date.required", "The promised date is required.");
        else if (date < today)
            errors.Invalid("promisedDate", "date.past", "The promised date must not be in the past.");
        else if (date > today.AddDays(rules.MaxPromiseDays))
            errors.Invalid("promisedDate", "date.too-far", $"The promised date must be within {rules.MaxPromiseDays} days; offer a payment plan instead.");
        if (errors.Any) return (null, errors.Errors);
        return (new PromiseToPay
        {
            PromiseId = $"P{existingCount + 1}", Amount = Money.Normalize(request.Amount!.Value), PromisedDate = request.PromisedDate!.Value,
            CreatedAt = now, CreatedBy = by, IdempotencyKey = RepeatedRequests.Key(request.IdempotencyKey).Key,
        }, []);
    }

    /// <summary>How long after a promise's deadline a payment deposited in time may still be posted and keep it (a lockbox file, an agency's remittance).</summary>
    public const int LateDepositPostingDays = 30;

    /// <summary>One promise as <see cref="EvaluatePromises"/> finds it (the account's others decide which payments are left for it).</summary>
    public static PromiseToPay Evaluate(PromiseToPay promise, IReadOnlyList<LedgerEntry> ledger, ArrangementRules rules, DateTimeOffset now, PatientCalendar? calendar = null) =>
        EvaluatePromises([promise], ledger, rules, now, calendar)[0];

    /// <summary>
    /// The account's promises, in the same order, as they stand at <paramref name="now"/>: kept once enough is paid in
    /// time (<see cref="InTimeFor"/>), broken when the promised date plus grace passes without it. Each payment counts
    /// toward one promise at most, the earliest made first. A broken promise becomes kept when a payment deposited in
    /// time is posted later: a check the lockbox deposited by the deadline, which its file brought the day after. A
    /// kept promise stays kept (and keeps only the payments known when it was kept).
    /// </summary>
    public static IReadOnlyList<PromiseToPay> EvaluatePromises(IReadOnlyList<PromiseToPay> promises, IReadOnlyList<LedgerEntry> ledger, ArrangementRules rules,
        DateTimeOffset now, PatientCalendar? calendar = null)
    {
        // Kept promises stay kept: with nothing else (most accounts), there is nothing to work out.
        if (promises.All(p => p.Status == PromiseStatus.Kept)) return promises;
        calendar ??= PatientCalendar.Utc;
        var payments = PatientPayments(ledger);
        var inOrder = true; // posted in this order already; an imported history sorted, stably (the scoring view's order too)
        for (var i = 1; i < payments.Count && inOrder; i++) inOrder = payments[i - 1].KnownAt <= payments[i].KnownAt;
        var kept = KeptBy(promises, inOrder ? payments : [.. payments.OrderBy(p => p.KnownAt)], rules.GraceDays, calendar, keptStaysKept: true);
        var result = new PromiseToPay[promises.Count];
        for (var i = 0; i < promises.Count; i++)
        {
            var promise = promises[i];
            result[i] = promise.Status == PromiseStatus.Kept ? promise
                : kept[i] ? promise with { Status = PromiseStatus.Kept, ResolvedAt = now }
                : promise.Status == PromiseStatus.Pending && now >= Deadline(promise.PromisedDate, rules.GraceDays, calendar)
                    ? promise with { Status = PromiseStatus.Broken, ResolvedAt = now }
                    : promise;
        }
        return result;
    }

    /// <summary>
    /// Which promises the payments keep (by index): promises taken in the order they were made, each taking what is left
    /// of the payments in time for it, in the order they became known, until its amount is covered (one they do not
    /// cover takes nothing). With
    /// <paramref name="keptStaysKept"/> (the engine's own record) a promise already kept is kept and takes only payments
    /// known by then; without it (the scoring's view at a past time) every status is recomputed.
    /// </summary>
    public static bool[] KeptBy(IReadOnlyList<PromiseToPay> promises, IReadOnlyList<PromisePayment> paymentsByTime, int graceDays, PatientCalendar calendar,
        bool keptStaysKept)
    {
        var left = new decimal[paymentsByTime.Count];
        for (var i = 0; i < left.Length; i++) left[i] = paymentsByTime[i].Amount;
        var kept = new bool[promises.Count];
        var order = Enumerable.Range(0, promises.Count).OrderBy(i => promises[i].CreatedAt).ThenBy(i => i);
        foreach (var index in order)
        {
            var promise = promises[index];
            var resolved = keptStaysKept && promise.Status == PromiseStatus.Kept;
            var knownBy = resolved ? promise.ResolvedAt ?? DateTimeOffset.MaxValue : DateTimeOffset.MaxValue;
            var deadline = Deadline(promise.PromisedDate, graceDays, calendar);
            var owed = promise.Amount;
            var taken = new List<(int Payment, decimal Amount)>();
            for (var i = 0; i < paymentsByTime.Count && owed > 0; i++)
            {
                var payment = paymentsByTime[i];
                if (left[i] <= 0 || payment.KnownAt > knownBy || !InTimeFor(promise, payment, deadline, graceDays)) continue;
                var amount = Math.Min(left[i], owed);
                left[i] -= amount;
                owed -= amount;
                taken.Add((i, amount));
            }
            kept[index] = resolved || owed <= 0;
            // A promise the payments do not keep leaves them to a later one (a part of the money is not a kept promise).
            if (!kept[index])
                foreach (var (payment, amount) in taken) left[payment] += amount;
        }
        return kept;
    }

    /// <summary>
    /// Whether a patient payment counts toward a promise: known after the promise was made, and made in time, that is
    /// known before the deadline, or deposited by the promised date plus grace and posted later (within
    /// <see cref="LateDepositPostingDays"/> after the deadline) by a channel that brings money after it was deposited
    /// (the mail's lockbox, an agency, a file), never a payment taken on a call or on the patient's page, which is
    /// posted as it is made, nor one posted by whoever took the promise (an agent does not date the payment that keeps
    /// their own promise). The engine asks with the time an entry was posted, the scoring's point-in-time view with
    /// the time it was known.
    /// </summary>
    public static bool InTimeFor(PromiseToPay promise, PromisePayment payment, DateTimeOffset deadline, int graceDays)
    {
        if (payment.KnownAt < promise.CreatedAt) return false;
        return payment.KnownAt < deadline || DepositedInTime(payment, promise.PromisedDate, deadline, graceDays, promise.CreatedBy);
    }

    /// <summary>
    /// Whether a payment posted after <paramref name="deadline"/> (<paramref name="due"/> plus grace) was deposited in
    /// time for it and counts as paid then: deposited by the due date plus grace and before the day it was posted, posted
    /// within <see cref="LateDepositPostingDays"/> after the deadline, by a channel that brings money after it was
    /// deposited (the mail's lockbox, an agency, a file), never a payment taken on a call or on the patient's page, and
    /// not posted by whoever made the arrangement (an agent does not date the payment that keeps their own).
    /// </summary>
    public static bool DepositedInTime(PromisePayment payment, DateOnly due, DateTimeOffset deadline, int graceDays, string arrangedBy) =>
        payment.Channel is not (PaymentChannel.Agent or PaymentChannel.PatientPage)
        && payment.PostedBy != arrangedBy
        && payment.Deposited < DateOnly.FromDateTime(payment.KnownAt.UtcDateTime)
        && payment.Deposited <= due.AddDays(graceDays)
        && payment.KnownAt < deadline.AddDays(LateDepositPostingDays);

    /// <summary>The plan's deadlines in order: the down payment's (the day it was made), then each installment's due date, with what must be paid by each.</summary>
    public static IEnumerable<(DateOnly Due, decimal Required)> Deadlines(PaymentPlan plan, PatientCalendar calendar)
    {
        var required = plan.DownPayment;
        if (required > 0) yield return (calendar.DayOf(plan.CreatedAt), required);
        foreach (var installment in plan.Installments)
        {
            required += installment.Amount;
            yield return (installment.DueDate, required);
        }
    }

    /// <summary>
    /// Whether the payments cover every deadline of the plan that passed by <paramref name="upTo"/> as the engine would
    /// have found them: for each, those known when it looked (by <paramref name="lookedAt"/> for a deadline before it,
    /// by the deadline itself for a later one) and those posted after but deposited in time (<see cref="DepositedInTime"/>).
    /// </summary>
    public static bool CoveredInTime(PaymentPlan plan, IReadOnlyList<PromisePayment> payments, int graceDays, PatientCalendar calendar,
        DateTimeOffset upTo, DateTimeOffset lookedAt)
    {
        foreach (var (due, required) in Deadlines(plan, calendar))
        {
            var deadline = Deadline(due, graceDays, calendar);
            if (deadline > upTo) break;
            var known = deadline > lookedAt ? deadline : lookedAt;
            var paid = 0m;
            foreach (var p in payments)
                if (p.KnownAt >= plan.CreatedAt && (p.KnownAt <= known || DepositedInTime(p, due, deadline, graceDays, plan.CreatedBy)))
                    paid += p.Amount;
            if (paid < required) return false;
        }
        return true;
    }

    /// <summary>Whether a defaulted plan may still be reinstated by money posted later (<see cref="Evaluate"/>): within the days a deposit made in time may take to be posted.</summary>
    public static bool MayBeReinstated(PaymentPlan plan, int graceDays, DateTimeOffset now) =>
        plan.Status == PlanStatus.Defaulted && plan.EndedAt is { } defaultedAt && now < defaultedAt.AddDays(LateDepositPostingDays + graceDays + 1);

    /// <summary>Patient payments (not reversed) as arrangements see them, in the ledger's order.</summary>
    public static List<PromisePayment> PatientPayments(IReadOnlyList<LedgerEntry> ledger)
    {
        var reversed = Ledger.ReversedIds(ledger);
        var payments = new List<PromisePayment>();
        foreach (var e in ledger)
            if (e.Kind == EntryKind.PatientPayment && !reversed.Contains(e.EntryId))
                payments.Add(new PromisePayment(e.PostedAt, e.EffectiveDate, PaymentChannels.Of(e), e.Amount, e.PostedBy));
        return payments;
    }

    public static (PaymentPlan? Plan, IReadOnlyList<DomainError> Errors) MakePlan(
        PlanRequest request, decimal patientResponsibility, int existingCount, bool hasActive, ArrangementRules rules, string by, DateTimeOffset now,
        PatientCalendar? calendar = null)
    {
        if (hasActive) return (null, [DomainError.Conflict("plan.active", "A payment plan is already active on this account.")]);
        if (patientResponsibility <= 0) return (null, [DomainError.Conflict("plan.nothing-owed", "The patient owes nothing on this account.")]);
        var errors = new ErrorList();
        var today = (calendar ?? PatientCalendar.Utc).Today(now);
        var down = request.DownPayment ?? 0m;
        if (down < 0 || decimal.Round(down, 2) != down)
            errors.Invalid("downPayment", "amount.invalid", "The down payment must be zero or positive with at most two decimals.");
        else if (down >= patientResponsibility)
            errors.Invalid("downPayment", "down-payment.covers-balance", "The down payment covers the whole balance: post it as a payment instead.");
        if (request.InstallmentCount is not { } count || count < 1 || count > rules.MaxInstallments)
            errors.Invalid("installmentCount", "installment-count.out-of-range", $"The number of installments must be 1 to {rules.MaxInstallments}.");
        if (request.Frequency is null)
            errors.Invalid("frequency", "frequency.required", "The frequency is required (weekly, biweekly, monthly).");
        if (request.FirstDueDate is not { } first)
            errors.Invalid("firstDueDate", "first-due-date.required", "The first due date is required.");
        else if (first <= today || first > today.AddDays(60))
            errors.Invalid("firstDueDate", "first-due-date.out-of-range", "The first installment must be due within the next 60 days.");
        if (errors.Any) return (null, errors.Errors);

        var financed = patientResponsibility - down;
        var n = request.InstallmentCount!.Value;
        var each = decimal.Floor(financed / n * 100m) / 100m;
        if (n > 1 && each < rules.MinimumInstallment)
            return (null, [DomainError.Invalid("installmentCount", "installment.below-minimum",
                $"Each installment would be {each:0.00}, under the minimum of {rules.MinimumInstallment:0.00}; choose fewer installments.")]);
        var installments = Enumerable.Range(1, n).Select(i => new Installment
        {
            Number = i,
            DueDate = DueDate(request.FirstDueDate!.Value, request.Frequency!.Value, i - 1),
            Amount = i < n ? each : financed - each * (n - 1),
        }).ToList();
        return (new PaymentPlan
        {
            PlanId = $"PL{existingCount + 1}", Total = patientResponsibility, DownPayment = Money.Normalize(down), Frequency = request.Frequency!.Value,
            Installments = installments, CreatedAt = now, CreatedBy = by, IdempotencyKey = RepeatedRequests.Key(request.IdempotencyKey).Key,
        }, []);
    }

    public static DateOnly DueDate(DateOnly first, InstallmentFrequency frequency, int index) => frequency switch
    {
        InstallmentFrequency.Weekly => first.AddDays(7 * index),
        InstallmentFrequency.Biweekly => first.AddDays(14 * index),
        _ => first.AddMonths(index),
    };

    /// <summary>
    /// Completed once paid off; defaulted when an installment (or the down payment) is unpaid past its grace period.
    /// A defaulted plan is active again (reinstated) when money deposited in time for what it missed is posted later,
    /// as a check the lockbox deposited by the deadline and its file brought the week after
    /// (<see cref="DepositedInTime"/>), unless another plan was made since (<paramref name="mayReinstate"/> false).
    /// </summary>
    public static PaymentPlan Evaluate(PaymentPlan plan, IReadOnlyList<LedgerEntry> ledger, decimal patientResponsibility, ArrangementRules rules, DateTimeOffset now,
        PatientCalendar? calendar = null, bool mayReinstate = true)
    {
        calendar ??= PatientCalendar.Utc;
        if (mayReinstate && MayBeReinstated(plan, rules.GraceDays, now) // later, nothing posted can count
            && CoveredInTime(plan, PatientPayments(ledger), rules.GraceDays, calendar, upTo: now, lookedAt: plan.EndedAt!.Value))
        {
            // Not reinstated only to default again on a later installment the money does not cover.
            var reinstated = Evaluate(plan with { Status = PlanStatus.Active, EndedAt = null, ReinstatedAt = now }, ledger, patientResponsibility, rules, now,
                calendar, mayReinstate: false);
            return reinstated.Status == PlanStatus.Defaulted ? plan : reinstated;
        }
        if (plan.Status != PlanStatus.Active) return plan;
        var paid = PaidSince(ledger, plan.CreatedAt);
        if (patientResponsibility <= 0 || paid >= plan.Total)
            return plan with { Status = PlanStatus.Completed, EndedAt = now };
        var required = plan.DownPayment;
        if (required > 0 && now >= Deadline(calendar.DayOf(plan.CreatedAt), rules.GraceDays, calendar) && paid < required)
            return plan with { Status = PlanStatus.Defaulted, EndedAt = now };
        foreach (var installment in plan.Installments)
        {
            required += installment.Amount;
            if (now >= Deadline(installment.DueDate, rules.GraceDays, calendar) && paid < required)
                return plan with { Status = PlanStatus.Defaulted, EndedAt = now };
        }
        return plan;
    }

    /// <summary>The installment whose reminder is due now, if any (one not yet reminded, due within the lead time, not yet paid).</summary>
    public static Installment? ReminderDue(PaymentPlan plan, IReadOnlyList<LedgerEntry> ledger, ArrangementRules rules, DateTimeOffset now, PatientCalendar? calendar = null)
    {
        if (plan.Status != PlanStatus.Active) return null;
        calendar ??= PatientCalendar.Utc;
        var paid = PaidSince(ledger, plan.CreatedAt);
        var required = plan.DownPayment;
        foreach (var installment in plan.Installments)
        {
            required += installment.Amount;
            var remindAt = calendar.StartOf(installment.DueDate.AddDays(-rules.ReminderLeadDays));
            if (!plan.Reminded.Contains(installment.Number) && paid < required && now >= remindAt && now < Deadline(installment.DueDate, 0, calendar))
                return installment;
        }
        return null;
    }

    /// <summary>When the plan next needs looking at: a reminder time or the end of a grace period.</summary>
    public static DateTimeOffset? NextCheck(PaymentPlan plan, ArrangementRules rules, DateTimeOffset now, PatientCalendar? calendar = null)
    {
        if (plan.Status != PlanStatus.Active) return null;
        calendar ??= PatientCalendar.Utc;
        var times = new List<DateTimeOffset>();
        if (plan.DownPayment > 0) times.Add(Deadline(calendar.DayOf(plan.CreatedAt), rules.GraceDays, calendar));
        foreach (var installment in plan.Installments)
        {
            if (!plan.Reminded.Contains(installment.Number))
                times.Add(calendar.StartOf(installment.DueDate.AddDays(-rules.ReminderLeadDays)));
            times.Add(Deadline(installment.DueDate, rules.GraceDays, calendar));
        }
        var future = times.Where(t => t > now).ToList();
        return future.Count == 0 ? null : future.Min();
    }
}
