using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Scoring;

/// <summary>
/// Simulates one account for <see cref="SyntheticHistory"/>. The account's life is cut into periods that end on the
/// scoring-date grid (one label window long). At the start of each period the true probability of the label event is
/// computed from the account's state as it is then (<see cref="TrueProbability"/>: only things the engine knows at that
/// moment), the event is drawn, and the period's payments are made to agree with the draw: at least the label's share
/// of the balance when it happens, less when it does not. Contacts, promises, plans, holds and financial assistance are
/// generated along the way, consistent with the payments.
/// </summary>
internal sealed class AccountSimulator
{
    private const string By = "synthetic";
    private static readonly TimeSpan Eps = TimeSpan.FromMinutes(15);

    private readonly SyntheticOptions _options;
    private readonly Random _rng;
    private readonly string _accountId;
    private readonly AccountKey _key;
    private readonly int _window;
    private readonly DateTimeOffset _now;

    // The guarantor and the account.
    private readonly PayerClass _payerClass;
    private readonly string? _payer;
    private readonly DateTimeOffset _opened;
    private readonly DateOnly _born;
    private readonly bool _email, _mobile, _consent;
    /// <summary>Latent: how readily the guarantor answers and talks (not a feature; it shows only through contact outcomes).</summary>
    private readonly double _engagement;
    /// <summary>Latent: the channel the guarantor tends to pay after.</summary>
    private readonly ContactChannel _preferred;

    // What has happened.
    private readonly List<LedgerEntry> _entries = [];
    private readonly List<ContactAttempt> _contacts = [];
    private readonly List<Hold> _holds = [];
    private readonly List<SimPromise> _promises = [];
    private readonly List<SimPlan> _plans = [];
    private readonly List<SimPayment> _payments = [];
    private readonly Dictionary<DateTimeOffset, double> _trueProbabilities = [];
    private readonly Dictionary<DateTimeOffset, bool> _outcomes = [];
    private readonly List<(DateTimeOffset At, decimal Fraction)> _assistanceDecisions = [];
    private decimal _balance;
    /// <summary>When the cadence starts (the patient's share is known and billed).</summary>
    private DateTimeOffset _owedFrom;
    /// <summary>When the patient first owed something (the posting that made the patient balance positive).</summary>
    private DateTimeOffset _owedSince;
    private DateTimeOffset? _placedWithAgency;
    private int _entryCount;

    private sealed class SimPayment
    {
        public required DateTimeOffset At { get; init; }
        public required decimal Amount { get; init; }
        public required string EntryId { get; init; }
        public DateTimeOffset? ReturnedAt { get; set; }
    }

    private sealed class SimPromise
    {
        public required DateTimeOffset CreatedAt { get; init; }
        public required decimal Amount { get; init; }
        public required DateOnly PromisedDate { get; init; }
        public DateTimeOffset Deadline => ArrangementRulesLogic.Deadline(PromisedDate, KnownLedger.DefaultGraceDays);
        public DateTimeOffset? KeptAt { get; set; }
    }

    private sealed class SimPlan
    {
        public required PaymentPlan Plan { get; init; }
        public decimal Paid { get; set; }
        public DateTimeOffset? CompletedAt { get; set; }
        public DateTimeOffset? DefaultedAt { get; set; }
        public DateTimeOffset? EndedAt => CompletedAt ?? DefaultedAt;
        public bool ActiveAt(DateTimeOffset t) => Plan.CreatedAt <= t && (EndedAt is not { } end || end > t);
    }

    public AccountSimulator(SyntheticOptions options, int index)
    {
        _options = options;
        _rng = new Random(unchecked((options.Seed * 1_000_003) ^ (index * 7919) ^ 0x5bd1e995));
        _accountId = $"SYN/A{index + 1:D7}";
        _key = AccountKey.Parse(_accountId);
        _window = options.Label.WindowDays;
        _now = SyntheticHistory.Now(options);

        (_payerClass, _payer) = _rng.NextDouble() switch
        {
            < 0.20 => (PayerClass.SelfPay, (string?)null),
            < 0.45 => (PayerClass.Medicare, "Medicare Part B"),
            < 0.60 => (PayerClass.Medicaid, _rng.NextDouble() < 0.5 ? "Texas Medicaid" : "Medi-Cal"),
            < 0.95 => (PayerClass.Commercial, new[] { "Aetna", "BCBS of Texas", "UnitedHealthcare", "Cigna", "Humana" }[_rng.Next(5)]),
            _ => (PayerClass.Other, _rng.NextDouble() < 0.5 ? "TRICARE" : "State Workers Comp Fund"),
        };
        var span = options.HistoryDays + (options.ScoringDates - 1) * _window;
        _opened = options.FirstScoringDate.AddDays(-options.HistoryDays + _rng.NextDouble() * span).AddSeconds(-1);
        var age = _payerClass == PayerClass.Medicare ? 62 + _rng.Next(30) : 18 + _rng.Next(60);
        _born = DateOnly.FromDateTime(_opened.UtcDateTime).AddYears(-age).AddDays(-_rng.Next(365));
        _email = _rng.NextDouble() < 0.6;
        _mobile = _rng.NextDouble() < 0.75;
        _consent = _mobile && _rng.NextDouble() < 0.55;
        _engagement = Normal();
        var channels = new List<ContactChannel> { ContactChannel.Mail, ContactChannel.Voice };
        if (_email) channels.Add(ContactChannel.Email);
        if (_consent) channels.Add(ContactChannel.Sms);
        _preferred = channels[_rng.Next(channels.Count)];
    }

    public SyntheticAccount Run()
    {
        Encounter();
        var t = _owedFrom;
        while (_balance > 0 && t < _now)
        {
            var onGrid = OnGrid(t);
            var end = onGrid ? t.AddDays(_window) : NextGridPoint(t);
            if (end - t < TimeSpan.FromDays(2))
            {
                // Too short a stretch before the first scoring-grid date for anything to happen in it.
                t = end;
                continue;
            }
            var p = TrueProbability(t);
            var drawP = onGrid ? p : p * (end - t).TotalDays / _window;
            var happens = _rng.NextDouble() < drawP;
            if (onGrid && IsScoringDate(t))
            {
                _trueProbabilities[t] = p;
                _outcomes[t] = happens;
            }
            Period(t, end, happens);
            t = end;
        }
        return new SyntheticAccount(History(), _trueProbabilities, _outcomes);
    }

    // ---------------------------------------------------------------- the encounter and insurance

    private void Encounter()
    {
        var charge = Math.Round((decimal)Math.Clamp(Math.Exp(Math.Log(1500) + 1.0 * Normal()), 60, 90_000), 2);
        var serviceDate = DateOnly.FromDateTime(_opened.UtcDateTime);
        if (_payerClass == PayerClass.SelfPay)
        {
            // The self-pay discount is posted with the charge: the balance first owed is already the discounted one.
            var billed = _opened.AddHours(1);
            Post(EntryKind.Charge, charge, billed, party: ResponsibleParty.Patient, serviceDate: serviceDate);
            _balance = charge;
            if (_rng.NextDouble() < 0.7)
            {
                var discount = Math.Round(charge * 0.25m, 2);
                Post(EntryKind.Adjustment, discount, billed, party: ResponsibleParty.Patient, category: AdjustmentCategory.Administrative);
                _balance -= discount;
            }
            _owedSince = _owedFrom = billed;
            return;
        }
        Post(EntryKind.Charge, charge, _opened.AddHours(1), party: ResponsibleParty.Insurance, serviceDate: serviceDate);
        var adjudicated = _opened.AddDays(14 + _rng.NextDouble() * 46);
        var allowedShare = _payerClass switch { PayerClass.Medicare => 0.35m, PayerClass.Medicaid => 0.25m, PayerClass.Commercial => 0.55m, _ => 0.5m };
        var allowed = Math.Round(charge * allowedShare, 2);
        var patientShare = _rng.NextDouble() < 0.06 ? 1m : _payerClass switch
        {
            PayerClass.Medicare => 0.2m,
            PayerClass.Medicaid => _rng.NextDouble() < 0.6 ? 0m : 0.05m,
            PayerClass.Commercial => (decimal)(0.05 + _rng.NextDouble() * 0.45),
            _ => 0.15m,
        };
        var patient = Math.Round(allowed * patientShare, 2);
        // The remittance (contractual adjustment, payment, patient share) is posted at one instant.
        Post(EntryKind.Adjustment, charge - allowed, adjudicated, party: ResponsibleParty.Insurance, category: AdjustmentCategory.Contractual, payer: _payer);
        if (allowed - patient > 0) Post(EntryKind.InsurancePayment, allowed - patient, adjudicated, payer: _payer);
        if (patient < 5m)
        {
            if (patient > 0) Post(EntryKind.Adjustment, patient, adjudicated, party: ResponsibleParty.Insurance, category: AdjustmentCategory.SmallBalance);
            _owedSince = _owedFrom = _now;
            return;
        }
        Post(EntryKind.Transfer, patient, adjudicated, direction: TransferDirection.InsuranceToPatient);
        _balance = patient;
        _owedSince = _owedFrom = adjudicated;
    }

    // ---------------------------------------------------------------- the truth

    /// <summary>
    /// The true probability of the label event over the next window, from what is known at <paramref name="t"/> (and
    /// nothing latent). Log-odds add up effects of the balance, payer, age, payment record, contacts, arrangements,
    /// holds and the guarantor (docs/scoring.md lists them).
    /// </summary>
    private double TrueProbability(DateTimeOffset t)
    {
        var b = (double)Math.Clamp(_balance, 10m, 50_000m);
        var logit = -1.9 - 0.55 * Math.Log(b / 400);
        logit += _payerClass switch { PayerClass.SelfPay => -0.3, PayerClass.Medicaid => -0.6, PayerClass.Medicare => 0.2, PayerClass.Commercial => 0.3, _ => 0 };
        if (_payerClass == PayerClass.SelfPay && b > 2000) logit -= 0.5;
        var daysOwed = (t - _owedSince).TotalDays;
        if (daysOwed < 45) logit += 0.5;
        if (daysOwed >= 200) logit -= 0.6;

        var known = _payments.Where(p => p.At <= t && !(p.ReturnedAt <= t)).ToList();
        logit += 0.45 * Math.Min(known.Count, 3);
        if (known.Count > 0 && (t - known.Max(p => p.At)).TotalDays < 60) logit += 0.5;
        if (_payments.Any(p => p.ReturnedAt <= t)) logit -= 0.6;

        var contacts = _contacts.Where(c => c.At <= t).ToList();
        logit += 0.35 * Math.Min(contacts.Count(c => c.Outcome == ContactOutcome.RightPartyContact), 3);
        if (contacts.Any(c => c.Outcome == ContactOutcome.WrongNumber)) logit -= 0.5;
        if (contacts.Any(c => c.Initiator != ContactInitiator.Inbound && FeatureExtractor.ChannelOf(c) == ContactChannel.Sms
                              && known.Any(p => p.At > c.At && p.At <= c.At.AddDays(FeatureExtractor.ResponseDays)))) logit += 0.3;
        if (_placedWithAgency <= t) logit -= 0.7;

        var promises = _promises.Where(p => p.CreatedAt <= t).ToList();
        logit += 0.5 * Math.Min(promises.Count(p => p.KeptAt <= t), 2);
        logit -= 0.7 * Math.Min(promises.Count(p => !(p.KeptAt <= t) && p.Deadline <= t), 2);
        if (promises.Any(p => !(p.KeptAt <= t) && p.Deadline > t)) logit += 0.8;
        if (_plans.Any(p => p.ActiveAt(t))) logit += 1.6;
        logit -= 0.6 * Math.Min(_plans.Count(p => p.DefaultedAt <= t), 2);

        var holds = _holds.Where(h => h.PlacedAt <= t).ToList();
        bool Active(Hold h) => h.ReleasedAt is not { } r || r > t;
        if (holds.Any(h => h.Reason == HoldReason.Dispute && Active(h))) logit -= 2.0;
        if (holds.Any(h => h.Reason == HoldReason.FinancialAssistancePending && Active(h))) logit -= 1.2;
        if (holds.Any(h => h.Reason == HoldReason.FinancialAssistancePending)) logit -= 0.3;
        if (holds.Any(h => h.Reason == HoldReason.Bankruptcy && Active(h))) logit -= 4.0;

        if (_consent) logit += 0.3;
        if (_email) logit += 0.15;
        var today = DateOnly.FromDateTime(t.UtcDateTime);
        var age = today.Year - _born.Year - (today < _born.AddYears(today.Year - _born.Year) ? 1 : 0);
        if (age is >= 35 and < 65) logit += 0.3;
        else if (age < 26) logit -= 0.3;
        return 1 / (1 + Math.Exp(-logit));
    }

    // ---------------------------------------------------------------- one period

    private void Period(DateTimeOffset start, DateTimeOffset end, bool happens)
    {
        var opening = _balance;
        var threshold = _options.Label.PaidShare * opening;
        var bankrupt = _holds.Any(h => h.Reason == HoldReason.Bankruptcy && h.ReleasedAt is null);
        decimal budget;
        if (happens)
        {
            budget = _rng.NextDouble() < 0.45 ? opening : Math.Round(opening * (decimal)(0.5 + 0.5 * _rng.NextDouble()), 2);
            budget = Math.Min(opening, Math.Max(budget, Math.Ceiling(threshold * 100m) / 100m));
        }
        else if (bankrupt || _rng.NextDouble() < 0.55) budget = 0;
        else
        {
            budget = Math.Round(opening * (decimal)(0.05 + _rng.NextDouble() * 0.4) * _options.Label.PaidShare * 2m, 2);
            if (budget >= threshold) budget = Math.Ceiling(threshold * 100m) / 100m - 0.01m;
            if (budget < 0.01m) budget = 0;
        }
        var remaining = budget;
        var windowPayments = new List<SimPayment>();
        var lastCreation = start;

        NewHolds(start, end, happens, bankrupt);

        // Installments of a plan already running that fall due in this period.
        foreach (var plan in _plans.Where(p => p.EndedAt is null))
            remaining = PayInstallments(plan, start, end, remaining, windowPayments);

        // Contacts in time order; a conversation may lead to a plan or a promise.
        foreach (var (at, action, channel, initiator) in Candidates(start, end, happens))
        {
            if (Held(at) || (_placedWithAgency is { } placed && placed < at && initiator != ContactInitiator.Inbound)) continue;
            var arranged = _plans.Any(p => p.ActiveAt(at)) || _promises.Any(p => p.CreatedAt <= at && !(p.KeptAt <= at) && p.Deadline > at);
            if (arranged && action != OutreachAction.InstallmentReminder && initiator != ContactInitiator.Inbound) continue;
            if (action == OutreachAction.AgencyPlacement)
            {
                if (arranged) continue;
                _placedWithAgency = at;
            }
            var outcome = OutcomeOf(action, channel, initiator, happens);
            _contacts.Add(new ContactAttempt
            {
                RequestId = $"C{_contacts.Count + 1}", Account = _key, Action = action, Channel = channel, Initiator = initiator, At = at, Outcome = outcome,
            });
            if (outcome != ContactOutcome.RightPartyContact || arranged || end - at < TimeSpan.FromDays(8)) continue;
            var balanceNow = opening - windowPayments.Where(p => p.At < at).Sum(p => p.Amount);
            if (balanceNow <= 0) continue;
            if (balanceNow >= 400 && _rng.NextDouble() < 0.2)
            {
                var plan = NewPlan(at, balanceNow);
                _plans.Add(plan);
                lastCreation = at;
                remaining = PayInstallments(plan, start, end, remaining, windowPayments);
            }
            else if (_rng.NextDouble() < 0.4)
            {
                remaining = NewPromise(at, end, balanceNow, remaining, windowPayments);
                lastCreation = at;
            }
        }

        // Whatever is left of the period's budget: one to three payments, often soon after a message on the favourite channel.
        if (remaining > 0)
        {
            var pieces = remaining < 50 ? 1 : 1 + _rng.Next(3);
            var left = remaining;
            for (var i = 0; i < pieces; i++)
            {
                var amount = i == pieces - 1 ? left : Math.Round(left * (decimal)(0.3 + 0.4 * _rng.NextDouble()), 2);
                if (amount <= 0) continue;
                left -= amount;
                var at = PaymentTime(lastCreation, end);
                windowPayments.Add(Pay(at, amount));
                // A running plan counts every payment made since it was set up, not only the installments.
                foreach (var plan in _plans.Where(p => p.ActiveAt(at)))
                {
                    plan.Paid += amount;
                    if (plan.Paid >= plan.Plan.Total) plan.CompletedAt = at;
                }
            }
            remaining = 0;
        }

        // A returned check, only where the label event did not happen (it can only lower what was collected).
        if (!happens && windowPayments.Count > 0 && _rng.NextDouble() < 0.08)
        {
            var payment = windowPayments[_rng.Next(windowPayments.Count)];
            var returnedAt = payment.At.AddDays(3 + _rng.NextDouble() * 5);
            if (returnedAt < end - Eps && !_promises.Any(p => p.KeptAt == payment.At) && !_plans.Any(p => p.Plan.CreatedAt <= payment.At))
            {
                payment.ReturnedAt = returnedAt;
                Post(EntryKind.Reversal, payment.Amount, returnedAt, reverses: payment.EntryId);
            }
        }

        var collected = windowPayments.Sum(p => p.ReturnedAt is null ? p.Amount : 0m);
        _balance = opening - collected;

        // Paid in full: nothing is sent, promised or planned after the last payment.
        if (_balance == 0 && windowPayments.Count > 0)
        {
            var paidOff = windowPayments.Max(p => p.At);
            _contacts.RemoveAll(c => c.At > paidOff);
            _promises.RemoveAll(p => p.CreatedAt > paidOff);
        }

        // Financial assistance decided in this period: charity on what the payments leave.
        foreach (var (at, fraction) in _assistanceDecisions.Where(d => d.At > start && d.At < end).ToList())
        {
            var charity = Math.Round(_balance * fraction, 2);
            if (charity >= 0.01m && _balance > 0)
            {
                Post(EntryKind.Adjustment, charity, at, party: ResponsibleParty.Patient, category: AdjustmentCategory.Charity);
                _balance -= charity;
            }
        }
        if (_balance is > 0 and < 5m)
        {
            Post(EntryKind.Adjustment, _balance, end.AddMinutes(-5), party: ResponsibleParty.Patient, category: AdjustmentCategory.SmallBalance);
            _balance = 0;
        }
        foreach (var plan in _plans.Where(p => p.EndedAt is null && (p.Paid >= p.Plan.Total || _balance <= 0)))
            plan.CompletedAt = windowPayments.Count > 0 ? windowPayments.Max(p => p.At) : end.AddMinutes(-1);
    }

    private void NewHolds(DateTimeOffset start, DateTimeOffset end, bool happens, bool bankrupt)
    {
        if (bankrupt || _holds.Any(h => h.ReleasedAt is not { } r || r > start)) return;
        var u = _rng.NextDouble();
        var placed = start.AddDays(3 + _rng.NextDouble() * Math.Min(37, (end - start).TotalDays - 4));
        if (placed >= end - Eps || placed <= start + Eps) return;
        var assistanceRate = (_payerClass is PayerClass.SelfPay or PayerClass.Medicaid || _balance > 3000 ? 0.10 : 0.05) * (happens ? 0.2 : 1);
        var disputeRate = happens ? 0 : 0.04;
        var bankruptcyRate = happens ? 0 : 0.007;
        if (u < disputeRate)
            _holds.Add(NewHold(HoldReason.Dispute, placed, placed.AddDays(20 + _rng.NextDouble() * 55)));
        else if (u < disputeRate + assistanceRate)
        {
            var decided = placed.AddDays(20 + _rng.NextDouble() * 55);
            _holds.Add(NewHold(HoldReason.FinancialAssistancePending, placed, decided));
            var approval = _rng.NextDouble();
            _assistanceDecisions.Add((decided, approval < 0.4 ? 1m : approval < 0.6 ? 0.5m : 0m));
        }
        else if (u < disputeRate + assistanceRate + bankruptcyRate)
            _holds.Add(NewHold(HoldReason.Bankruptcy, placed, null));
    }

    private Hold NewHold(HoldReason reason, DateTimeOffset placed, DateTimeOffset? released) => new()
    {
        HoldId = $"H{_holds.Count + 1}", Reason = reason, Note = "synthetic", PlacedBy = By, PlacedAt = placed,
        ReleasedAt = released, ReleasedBy = released is null ? null : By,
    };

    private bool Held(DateTimeOffset at) => _holds.Any(h => h.PlacedAt <= at && (h.ReleasedAt is not { } r || r > at));

    /// <summary>The cadence's contacts due in (start, end), plus an inbound call from some who are about to pay.</summary>
    private List<(DateTimeOffset At, OutreachAction Action, ContactChannel? Channel, ContactInitiator Initiator)> Candidates(DateTimeOffset start, DateTimeOffset end, bool happens)
    {
        var list = new List<(DateTimeOffset, OutreachAction, ContactChannel?, ContactInitiator)>();
        void Add(double day, OutreachAction action, ContactChannel? channel, ContactInitiator initiator = ContactInitiator.Engine)
        {
            var at = _owedFrom.AddDays(day).AddHours(_rng.NextDouble() * 8);
            if (at > start + Eps && at < end - Eps) list.Add((at, action, channel, initiator));
        }
        var from = Math.Max(0, (start - _owedFrom).TotalDays - 40);
        var to = (end - _owedFrom).TotalDays + 1;
        for (var s = 1.0; s < to; s += 30)
        {
            if (s + 20 < from) continue;
            Add(s, OutreachAction.PatientStatement, ContactChannel.Mail);
            if (_email) Add(s + 7, OutreachAction.EmailReminder, ContactChannel.Email);
            if (_consent) Add(s + 12, OutreachAction.SmsReminder, ContactChannel.Sms);
        }
        foreach (var day in new[] { 40.0, 75, 110, 145 }) Add(day, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent);
        Add(60, OutreachAction.Letter, ContactChannel.Mail);
        Add(120, OutreachAction.FinalNotice, ContactChannel.Mail);
        Add(150, OutreachAction.AgencyPlacement, null);
        foreach (var plan in _plans.Where(p => p.EndedAt is null || p.EndedAt > start))
            foreach (var installment in plan.Plan.Installments)
            {
                var at = new DateTimeOffset(installment.DueDate.AddDays(-3).ToDateTime(new TimeOnly(14, 0)), TimeSpan.Zero);
                if (at > start + Eps && at < end - Eps && at > plan.Plan.CreatedAt) list.Add((at, OutreachAction.InstallmentReminder, _consent ? ContactChannel.Sms : ContactChannel.Email, ContactInitiator.Engine));
            }
        if (happens && _rng.NextDouble() < 0.25)
        {
            var at = start.AddDays(1 + _rng.NextDouble() * ((end - start).TotalDays - 12));
            if (at > start + Eps && at < end - Eps) list.Add((at, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Inbound));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    private ContactOutcome OutcomeOf(OutreachAction action, ContactChannel? channel, ContactInitiator initiator, bool happens)
    {
        if (initiator == ContactInitiator.Inbound) return ContactOutcome.RightPartyContact;
        if (channel != ContactChannel.Voice) return ContactOutcome.Attempted;
        if (_rng.NextDouble() < 0.06) return ContactOutcome.WrongNumber;
        var reach = 1 / (1 + Math.Exp(-(_engagement - 0.8 + (happens ? 0.8 : 0) - (_mobile ? 0 : 0.5))));
        if (_rng.NextDouble() < reach) return ContactOutcome.RightPartyContact;
        return _rng.NextDouble() < 0.5 ? ContactOutcome.NoAnswer : ContactOutcome.LeftMessage;
    }

    // ---------------------------------------------------------------- arrangements and payments

    private SimPlan NewPlan(DateTimeOffset at, decimal balance)
    {
        var count = new[] { 3, 4, 6, 9, 12 }[_rng.Next(5)];
        var down = _rng.NextDouble() < 0.5 ? 0m : Math.Round(balance * 0.1m, 2);
        var first = DateOnly.FromDateTime(at.UtcDateTime).AddDays(30);
        var financed = balance - down;
        var each = decimal.Floor(financed / count * 100m) / 100m;
        var installments = Enumerable.Range(1, count).Select(i => new Installment
        {
            Number = i, DueDate = ArrangementRulesLogic.DueDate(first, InstallmentFrequency.Monthly, i - 1), Amount = i < count ? each : financed - each * (count - 1),
        }).ToList();
        return new SimPlan
        {
            Plan = new PaymentPlan
            {
                PlanId = $"PL{_plans.Count + 1}", Total = balance, DownPayment = down, Frequency = InstallmentFrequency.Monthly,
                Installments = installments, CreatedAt = at, CreatedBy = By,
            },
        };
    }

    /// <summary>
    /// Pays the plan's obligations whose grace period ends in this period, in order, while the budget lasts; the first
    /// one it cannot cover defaults the plan at the end of its grace period.
    /// </summary>
    private decimal PayInstallments(SimPlan plan, DateTimeOffset start, DateTimeOffset end, decimal remaining, List<SimPayment> windowPayments)
    {
        var obligations = new List<(DateOnly Due, DateTimeOffset Deadline, decimal Required)>();
        var required = plan.Plan.DownPayment;
        var created = DateOnly.FromDateTime(plan.Plan.CreatedAt.UtcDateTime);
        if (required > 0) obligations.Add((created, ArrangementRulesLogic.Deadline(created, KnownLedger.DefaultGraceDays), required));
        foreach (var installment in plan.Plan.Installments)
        {
            required += installment.Amount;
            obligations.Add((installment.DueDate, ArrangementRulesLogic.Deadline(installment.DueDate, KnownLedger.DefaultGraceDays), required));
        }
        var earliest = start > plan.Plan.CreatedAt ? start : plan.Plan.CreatedAt;
        foreach (var (due, deadline, cumulative) in obligations)
        {
            if (deadline <= start || deadline > end) continue;
            var needed = cumulative - plan.Paid;
            if (needed <= 0) continue;
            if (remaining < needed)
            {
                plan.DefaultedAt = deadline;
                return remaining;
            }
            var dueAt = new DateTimeOffset(due.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero).AddDays(-3 * _rng.NextDouble());
            var from = dueAt > earliest ? dueAt : earliest;
            var until = deadline < end ? deadline : end;
            var at = from + (until - from) * (0.05 + 0.3 * _rng.NextDouble());
            if (at <= earliest) at = earliest + Eps;
            windowPayments.Add(Pay(at, needed));
            plan.Paid += needed;
            remaining -= needed;
            earliest = at + Eps;
            if (plan.Paid >= plan.Plan.Total)
            {
                plan.CompletedAt = at;
                return remaining;
            }
        }
        return remaining;
    }

    private decimal NewPromise(DateTimeOffset at, DateTimeOffset end, decimal balance, decimal remaining, List<SimPayment> windowPayments)
    {
        var today = DateOnly.FromDateTime(at.UtcDateTime);
        var lastDate = DateOnly.FromDateTime(end.UtcDateTime).AddDays(-KnownLedger.DefaultGraceDays - 2);
        var promised = today.AddDays(5 + _rng.Next(21));
        if (promised > lastDate) promised = lastDate;
        if (promised <= today) return remaining;
        var promise = new SimPromise
        {
            CreatedAt = at, PromisedDate = promised,
            Amount = remaining > 0 ? Math.Max(0.01m, Math.Round(remaining * (decimal)(0.5 + 0.5 * _rng.NextDouble()), 2)) : Math.Max(1m, Math.Round(balance * (decimal)(0.2 + 0.4 * _rng.NextDouble()), 2)),
        };
        _promises.Add(promise);
        if (remaining <= 0) return remaining;
        var byDate = new DateTimeOffset(promised.ToDateTime(new TimeOnly(18, 0)), TimeSpan.Zero);
        var paidAt = at + (byDate - at) * (0.1 + 0.85 * _rng.NextDouble());
        windowPayments.Add(Pay(paidAt, promise.Amount));
        promise.KeptAt = paidAt;
        return remaining - promise.Amount;
    }

    private DateTimeOffset PaymentTime(DateTimeOffset after, DateTimeOffset end)
    {
        var from = after + Eps;
        if (from >= end - Eps) from = end - 2 * Eps;
        if (_rng.NextDouble() < 0.6)
        {
            var prompts = _contacts.Where(c => c.At > from && c.At < end - TimeSpan.FromDays(2) && FeatureExtractor.ChannelOf(c) == _preferred).ToList();
            if (prompts.Count > 0)
            {
                var prompt = prompts[_rng.Next(prompts.Count)].At.AddDays(0.5 + _rng.NextDouble() * 9);
                if (prompt < end - Eps) return prompt;
            }
        }
        return from + (end - Eps - from) * _rng.NextDouble();
    }

    private SimPayment Pay(DateTimeOffset at, decimal amount)
    {
        var entry = Post(EntryKind.PatientPayment, amount, at, method: (PaymentMethod)_rng.Next(5));
        var payment = new SimPayment { At = at, Amount = amount, EntryId = entry.EntryId };
        _payments.Add(payment);
        return payment;
    }

    // ---------------------------------------------------------------- helpers

    private LedgerEntry Post(EntryKind kind, decimal amount, DateTimeOffset at, ResponsibleParty? party = null, DateOnly? serviceDate = null,
        AdjustmentCategory? category = null, TransferDirection? direction = null, string? payer = null, PaymentMethod? method = null, string? reverses = null)
    {
        var id = $"E{++_entryCount}";
        var entry = new LedgerEntry
        {
            EntryId = id, Kind = kind, Amount = amount, EffectiveDate = DateOnly.FromDateTime(at.UtcDateTime), PostedAt = at, Party = party,
            ServiceDate = serviceDate, Category = category, Direction = direction, Payer = payer, Method = method, ReversesEntryId = reverses,
            IdempotencyKey = id, PostedBy = By,
        };
        _entries.Add(entry);
        return entry;
    }

    private AccountHistory History()
    {
        var promises = _promises.Select((p, i) => new PromiseToPay
        {
            PromiseId = $"P{i + 1}", Amount = p.Amount, PromisedDate = p.PromisedDate, CreatedAt = p.CreatedAt, CreatedBy = By,
            Status = p.KeptAt is not null ? PromiseStatus.Kept : p.Deadline <= _now ? PromiseStatus.Broken : PromiseStatus.Pending,
            ResolvedAt = p.KeptAt ?? (p.Deadline <= _now ? p.Deadline : null),
        }).ToList();
        var plans = _plans.Select(p => p.Plan with
        {
            Status = p.CompletedAt is not null ? PlanStatus.Completed : p.DefaultedAt is not null ? PlanStatus.Defaulted : PlanStatus.Active,
            EndedAt = p.EndedAt,
        }).ToList();
        return new AccountHistory
        {
            AccountId = _accountId, PrimaryPayer = _payer, OpenedAt = _opened, GuarantorDateOfBirth = _born,
            HasEmail = _email, HasMobilePhone = _mobile, HasTextConsent = _consent,
            Entries = [.. _entries.OrderBy(e => e.PostedAt)], Contacts = [.. _contacts.OrderBy(c => c.At)], Holds = _holds, Promises = promises, Plans = plans,
        };
    }

    private bool OnGrid(DateTimeOffset t) => (t - _options.FirstScoringDate).Ticks % TimeSpan.FromDays(_window).Ticks == 0;

    private bool IsScoringDate(DateTimeOffset t)
    {
        var k = (t - _options.FirstScoringDate).TotalDays / _window;
        return k >= 0 && k < _options.ScoringDates;
    }

    private DateTimeOffset NextGridPoint(DateTimeOffset t)
    {
        var k = Math.Floor((t - _options.FirstScoringDate).TotalDays / _window) + 1;
        return _options.FirstScoringDate.AddDays(k * _window);
    }

    private double Normal()
    {
        var u1 = 1.0 - _rng.NextDouble();
        var u2 = _rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
