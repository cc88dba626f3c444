using System.Diagnostics;
using System.Globalization;
using Collections.Domain;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Cli.Simulation;

public sealed record SimulationOptions
{
    public int Accounts { get; init; } = 10_000;
    public int Days { get; init; } = 180;
    public ulong Seed { get; init; } = 1;
    /// <summary>Day 0 of the virtual clock; each day the cadence runs at 19:00 UTC (mid-day in every US zone).</summary>
    public DateOnly Start { get; init; } = new(2026, 1, 5);
    public PortfolioModel Portfolio { get; init; } = new();
    public BehaviourModel Behaviour { get; init; } = new();
    public ComplianceRules Rules { get; init; } = new();
    /// <summary>-1: every core. The results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>
/// Runs cadence policies over virtual days on a seeded synthetic portfolio with the real <see cref="CadenceEngine"/> and
/// <see cref="ComplianceGate"/>, exactly as <c>PatientAccountGrain</c> combines them (select the policy from the book,
/// evaluate, take the due step through the gate channel by channel, record, defer or skip, evaluate again), and a
/// simple patient behaviour model in between. Every policy sees the same portfolio and the same random draws.
/// Money is counted in long cents inside the loop (fast, exact) and handed to the domain as decimal dollars.
/// </summary>
public static class PortfolioSimulator
{
    public const string Facility = "SIM";
    private static readonly TimeSpan DayLength = TimeSpan.FromDays(1);
    private static readonly TimeSpan RunAt = TimeSpan.FromHours(19);

    public static SimulationReport Run(SimulationOptions options, IReadOnlyList<PolicyScenario> scenarios)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Accounts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Days, 1);
        var stopwatch = Stopwatch.StartNew();
        var specs = Portfolio.Generate(options.Accounts, options.Seed, options.Portfolio, options.MaxDegreeOfParallelism);
        var totals = scenarios.Select(_ => new ScenarioTally(options.Days)).ToArray();
        var gate = new object();
        const int chunk = 512;
        Parallel.For(0, (specs.Length + chunk - 1) / chunk, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism },
            () => scenarios.Select(_ => new ScenarioTally(options.Days)).ToArray(),
            (c, _, local) =>
            {
                var lift = new double[options.Days + 40];
                var end = Math.Min(specs.Length, (c + 1) * chunk);
                for (var i = c * chunk; i < end; i++)
                {
                    var profile = Profile(specs[i]);
                    for (var s = 0; s < scenarios.Count; s++)
                        new AccountRun(i, specs[i], profile, scenarios[s].Book, options, local[s], lift).Simulate();
                }
                return local;
            },
            local =>
            {
                lock (gate)
                    for (var s = 0; s < totals.Length; s++) totals[s].Add(local[s]);
            });
        stopwatch.Stop();

        var balances = specs.Select(s => s.BalanceCents).Order().ToArray();
        var accountDays = (long)options.Accounts * options.Days * scenarios.Count;
        using var process = Process.GetCurrentProcess();
        return new SimulationReport
        {
            Seed = options.Seed,
            Accounts = options.Accounts,
            Days = options.Days,
            Start = StartOf(options),
            StartingBalance = balances.Sum() / 100m,
            MedianBalance = balances[(balances.Length - 1) / 2] / 100m,
            Scenarios = [.. totals.Select((t, s) => t.ToResult(scenarios[s]))],
            Timing = new SimulationTiming(stopwatch.Elapsed.TotalSeconds, accountDays, accountDays / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9),
                options.MaxDegreeOfParallelism > 0 ? options.MaxDegreeOfParallelism : Environment.ProcessorCount,
                process.PeakWorkingSet64, GC.GetTotalMemory(false)),
        };
    }

    private static DateTimeOffset StartOf(SimulationOptions options) => new(options.Start.ToDateTime(TimeOnly.MinValue) + RunAt, TimeSpan.Zero);

    private static readonly TimeZoneResolution[] ZoneResolutions = [.. Portfolio.Zones.Select(TimeZoneResolution.Given)];
    private static readonly PostalAddress Address = new() { Line1 = "1 Simulated Way", City = "Anytown", State = "TX", Zip = "78701" };
    private static readonly DateTimeOffset ConsentRecordedAt = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static GuarantorProfile Profile(in AccountSpec spec)
    {
        var phones = new List<PhoneNumber>(2);
        if (spec.HasMobile) phones.Add(new PhoneNumber { Number = "5125550100", Type = PhoneType.Mobile });
        if (spec.HasLandline) phones.Add(new PhoneNumber { Number = "5125550101", Type = PhoneType.Landline });
        return new GuarantorProfile
        {
            FirstName = "Sim", LastName = "Patient", DateOfBirth = new DateOnly(1980, 1, 1), Address = Address, Phones = phones,
            Email = spec.HasEmail ? "patient@example.org" : null, PreferredChannel = spec.Preferred, TimeZone = ZoneResolutions[spec.Zone],
        };
    }

    // Purposes of the per-day random draws (one account, one day): the same purpose means the same coin under every policy.
    private const int DrawRespond = 0, DrawFull = 1, DrawArrangement = 2, DrawPromiseDate = 3, DrawPromiseKept = 4, DrawPartial = 5,
        DrawInstallment = 6, DrawStop = 10, DrawDispute = 11, DrawRightParty = 12, DrawConversationResponse = 13, DrawHoldLength = 14;
    private const int PlanInstallmentDays = 30, GraceDays = 5, ReminderLeadDays = 3;

    /// <summary>
    /// One account under one policy book as a control account (<paramref name="control"/>: the policy's baseline only) or
    /// a treated one, whatever its hash says: the uplift simulation runs both and keeps what each did in <paramref name="trace"/>.
    /// </summary>
    internal static void SimulateAs(int index, in AccountSpec spec, IReadOnlyList<CadencePolicy> book, SimulationOptions options, bool control,
        ScenarioTally tally, double[] lift, AccountTrace trace)
    {
        trace.Clear();
        new AccountRun(index, spec, Profile(spec), book, options, tally, lift, control, trace).Simulate();
    }

    /// <summary>The account key the simulator gives account <paramref name="index"/> (its control-group hash is of this).</summary>
    internal static string AccountId(int index) => new AccountKey(Facility, index.ToString(CultureInfo.InvariantCulture)).ToString();

    /// <summary>One account under one policy book, day by day. The grain's shell, minus Orleans and the database.</summary>
    private sealed class AccountRun(int index, AccountSpec spec, GuarantorProfile profile, IReadOnlyList<CadencePolicy> book, SimulationOptions options, ScenarioTally tally, double[] lift,
        bool control = false, AccountTrace? trace = null)
    {
        private readonly AccountKey _key = new(Facility, index.ToString(CultureInfo.InvariantCulture));
        private readonly BehaviourModel _model = options.Behaviour;
        private readonly List<ChannelConsent> _consents = spec.SmsConsent
            ? [new ChannelConsent { Channel = ContactChannel.Sms, Status = ConsentStatus.Granted, Source = "registration form", RecordedAt = ConsentRecordedAt, RecordedBy = "sim" }]
            : [];
        private readonly List<ContactAttempt> _history = [];
        private readonly List<Hold> _holds = [];
        private long _balance = spec.BalanceCents;
        private CadenceProgress _progress = new();
        private DateTimeOffset? _firstStatementAt, _finalNoticeAt, _wake;
        private bool _run = true, _placed, _paidSomething, _respondTomorrow;
        private int _holdUntil = -1;
        private int _promiseDay = -1;
        private bool _promiseKept;
        private int _planFirstDue = -1, _planCount, _planNext, _planReminded = -1;
        private long _planInstallment;

        private bool OnHold => _holds.Count > 0 && _holds[^1].IsActive;
        private bool PromisePending => _promiseDay >= 0;
        private bool OnPlan => _planFirstDue >= 0;
        private int PlanDue(int k) => _planFirstDue + k * PlanInstallmentDays;

        public void Simulate()
        {
            Array.Clear(lift);
            tally.StartingCents += _balance;
            var start = StartOf(options);
            for (var day = 0; day < options.Days; day++)
            {
                var now = start + DayLength * day;
                if (day > 0) Behave(day, now);
                if (_balance <= 0) break; // paid in full: the cadence goes idle and nothing more happens
                if (OnPlan && !OnHold && _planReminded < _planNext && day >= PlanDue(_planNext) - ReminderLeadDays) _run = true;
                if (_run || (_wake is { } wake && wake <= now)) RunCadence(day, now);
                if (_placed) break; // the agency works it from here: nothing more is collected by the hospital in this model
            }
            tally.EndingCents += _placed ? 0 : _balance;
            if (_paidSomething) tally.Paying++;
        }

        private double U(int day, int purpose) => Randomness.Uniform(options.Seed, index, day, purpose);

        private void Behave(int day, DateTimeOffset now)
        {
            if (OnHold && day >= _holdUntil)
            {
                _holds[^1] = _holds[^1] with { ReleasedAt = now, ReleasedBy = "sim", ReleaseNote = "verification sent" };
                _run = true;
            }
            if (PromisePending)
            {
                if (day == _promiseDay && _promiseKept)
                {
                    tally.PromisesKept++;
                    _promiseDay = -1;
                    Pay(day, _balance);
                }
                else if (day >= _promiseDay + GraceDays)
                {
                    _promiseDay = -1; // broken: the cadence resumes where it was
                    _run = true;
                }
                return;
            }
            if (OnPlan)
            {
                var due = PlanDue(_planNext);
                if (day == due && U(day, DrawInstallment) < _model.InstallmentPaidRate)
                {
                    _planNext++;
                    Pay(day, _planNext >= _planCount ? _balance : Math.Min(_balance, _planInstallment));
                    if (_balance <= 0) { tally.PlansCompleted++; _planFirstDue = -1; }
                }
                else if (day >= due + GraceDays)
                {
                    tally.PlansDefaulted++;
                    _planFirstDue = -1;
                    _run = true;
                }
                return;
            }
            var hazard = spec.DailyPropensity * (1.0 + lift[day]);
            if (_respondTomorrow || U(day, DrawRespond) < hazard) Respond(day);
            _respondTomorrow = false;
        }

        /// <summary>The patient acts on the balance: pays in full, starts a plan, promises, or pays part.</summary>
        private void Respond(int day)
        {
            var balance = _balance / 100m;
            if (U(day, DrawFull) < _model.FullPaymentProbability(balance)) { Pay(day, _balance); return; }
            var w = U(day, DrawArrangement);
            if (balance >= _model.PlanMinimumBalance && w < _model.PlanShare)
            {
                _planCount = (int)Math.Clamp(Math.Ceiling(balance / 150m), 3, 12);
                _planInstallment = _balance / _planCount;
                _planFirstDue = day + PlanInstallmentDays;
                _planNext = 0;
                _planReminded = -1;
                tally.PlansStarted++;
                _run = true;
            }
            else if (w < _model.PlanShare + _model.PromiseShare)
            {
                _promiseDay = day + 7 + (int)(U(day, DrawPromiseDate) * 21);
                _promiseKept = U(day, DrawPromiseKept) < _model.PromiseKeptRate;
                tally.PromisesMade++;
                _run = true;
            }
            else
            {
                var share = _model.PartialMin + U(day, DrawPartial) * (_model.PartialMax - _model.PartialMin);
                Pay(day, Math.Min(_balance, Math.Max(500, (long)Math.Round(_balance * share))));
            }
        }

        private void Pay(int day, long cents)
        {
            if (cents <= 0) return;
            _balance -= cents;
            tally.CollectedCents += cents;
            if (trace is not null) trace.CollectedCents += cents;
            _paidSomething = true;
            _run = true; // a posting re-runs the cadence
            if (_balance <= 0)
            {
                tally.PaidInFull++;
                tally.DaysToPay[day]++;
            }
        }

        /// <summary>PatientAccountGrain.RunCadenceCoreAsync: installment reminder, then the cadence steps.</summary>
        private void RunCadence(int day, DateTimeOffset now)
        {
            _run = false;
            var balance = _balance / 100m;
            var onHold = OnHold;
            if (OnPlan && !onHold && _planReminded < _planNext && day >= PlanDue(_planNext) - ReminderLeadDays)
            {
                var channel = profile.PreferredChannel is ContactChannel.Voice or ContactChannel.AutomatedVoice ? ContactChannel.Mail : profile.PreferredChannel;
                var decision = Check(OutreachAction.InstallmentReminder, channel, balance, now);
                if (decision.Verdict == GateVerdict.Allow) Contacted(day, now, OutreachAction.InstallmentReminder, channel);
                if (decision.Verdict != GateVerdict.Defer) _planReminded = _planNext;
            }

            var policy = CadencePolicies.Select(book, Facility, balance, selfPay: true) ?? CadencePolicies.Standard;
            if (trace is not null) trace.PolicyId ??= policy.PolicyId; // the policy the account was assigned under
            var situation = new CadenceSituation(balance, onHold, PromisePending, OnPlan, control);
            // The same run the account grain makes (CadenceRun), with the gate asked on this person's facts. The gate
            // here is synchronous, so the run completes synchronously.
            var running = CadenceRun.RunAsync(_progress, policy, situation, profile.PreferredChannel, DayLength, now, takeSteps: true,
                    attempt => ValueTask.FromResult(Check(attempt.Action, attempt.Channel, balance, now)),
                    (attempt, _) =>
                    {
                        switch (attempt.Action)
                        {
                            case OutreachAction.PatientStatement: _firstStatementAt ??= now; break;
                            case OutreachAction.FinalNotice: _finalNoticeAt ??= now; break;
                        }
                        Contacted(day, now, attempt.Action, attempt.Channel);
                    },
                    _ => tally.SkippedBelowMinimum++);
            if (!running.IsCompletedSuccessfully) throw new InvalidOperationException("The simulated gate is synchronous: the run completes at once.");
            var run = running.Result;
            _progress = run.Evaluation.Progress;
            if (trace is not null)
                foreach (var step in _progress.Steps) // a few steps: a list is quicker than a set
                    if (!trace.Steps.Contains(step.StepId)) trace.Steps.Add(step.StepId);
            _wake = run.Evaluation.WakeAt;
        }

        /// <summary>GuarantorGrain.RequestContact's gate check, with this person's consents, holds and contact history.</summary>
        private GateDecision Check(OutreachAction action, ContactChannel? channel, decimal balance, DateTimeOffset now)
        {
            var decision = ComplianceGate.Check(
                new ContactRequest(_key, action, channel, ContactInitiator.Engine),
                new PersonFacts(profile, _consents, [], _history),
                new DebtFacts(_holds, balance, _firstStatementAt, _finalNoticeAt),
                options.Rules, now);
            switch (decision.Verdict)
            {
                case GateVerdict.Allow: tally.Allowed++; break;
                case GateVerdict.Defer: tally.Deferred[decision.Rule] = tally.Deferred.GetValueOrDefault(decision.Rule) + 1; break;
                default: tally.Denied[decision.Rule] = tally.Denied.GetValueOrDefault(decision.Rule) + 1; break;
            }
            return decision;
        }

        /// <summary>An allowed action happened: count it, remember it for the gate, and let the patient react.</summary>
        private void Contacted(int day, DateTimeOffset now, OutreachAction action, ContactChannel? channel)
        {
            tally.Actions[(int)action]++;
            if (trace is not null && action is not (OutreachAction.AgencyPlacement or OutreachAction.CreditReporting or OutreachAction.WriteOffReview))
                trace.Contacts++;
            var isTask = action is OutreachAction.CallTask or OutreachAction.WriteOffReview or OutreachAction.AgencyPlacement or OutreachAction.CreditReporting;
            _history.Add(new ContactAttempt
            {
                RequestId = $"{day}/{action}", Account = _key, Action = action, Channel = isTask ? null : channel,
                Initiator = ContactInitiator.Engine, At = now, Outcome = ContactOutcome.Attempted,
            });
            switch (action)
            {
                case OutreachAction.AgencyPlacement:
                    _placed = true;
                    tally.Placed++;
                    tally.PlacedCents += _balance;
                    tally.EarliestPlacementDay = Math.Min(tally.EarliestPlacementDay, day);
                    return;
                case OutreachAction.CreditReporting or OutreachAction.WriteOffReview:
                    return;
                case OutreachAction.CallTask:
                    Called(day, now);
                    return;
            }
            if (channel is { } c) tally.Channels[(int)c]++;
            var response = _model.ResponseTo(action, channel);
            for (var d = day + response.DelayDays; d < day + response.DelayDays + response.Days && d < lift.Length; d++) lift[d] += response.Lift;
            if (action == OutreachAction.SmsReminder && U(day, DrawStop) < _model.StopRate)
            {
                tally.StopReplies++;
                _consents.Add(new ChannelConsent { Channel = ContactChannel.Sms, Status = ConsentStatus.OptedOut, Source = "sms reply \"STOP\"", RecordedAt = now.AddMinutes(30), RecordedBy = "sim" });
            }
            if (action is OutreachAction.PatientStatement or OutreachAction.Letter or OutreachAction.FinalNotice) MaybeDispute(day, now);
        }

        /// <summary>The agent works the call task the same day; the call itself is recorded as the agent's (it counts toward the call limits).</summary>
        private void Called(int day, DateTimeOffset now)
        {
            if (profile.Phones.Count == 0) return;
            tally.Channels[(int)ContactChannel.Voice]++;
            var talked = U(day, DrawRightParty) < _model.RightPartyContactRate;
            _history.Add(new ContactAttempt
            {
                RequestId = $"{day}/call", Account = _key, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice,
                Initiator = ContactInitiator.Agent, At = now.AddMinutes(5), Outcome = talked ? ContactOutcome.RightPartyContact : ContactOutcome.NoAnswer,
            });
            if (!talked)
            {
                var r = _model.CallWithoutConversation;
                for (var d = day + r.DelayDays; d < day + r.DelayDays + r.Days && d < lift.Length; d++) lift[d] += r.Lift;
                return;
            }
            tally.Conversations++;
            if (U(day, DrawConversationResponse) < _model.ResponseAfterConversation) _respondTomorrow = true; // posted by the agent the next morning
            else MaybeDispute(day, now);
        }

        private void MaybeDispute(int day, DateTimeOffset now)
        {
            if (OnHold || U(day, DrawDispute) >= _model.DisputeRate) return;
            tally.Disputes++;
            _holds.Add(new Hold { HoldId = $"H{_holds.Count + 1}", Reason = HoldReason.Dispute, Note = "patient disputes the balance", PlacedBy = "sim", PlacedAt = now.AddMinutes(1) });
            _holdUntil = day + 30 + (int)(U(day, DrawHoldLength) * 31);
            _run = true;
        }
    }
}

/// <summary>What one simulated account did in one world: the policy it started under, the steps it reached, its contacts and what it paid.</summary>
internal sealed class AccountTrace
{
    public string? PolicyId;
    public readonly List<string> Steps = [];
    public int Contacts;
    public long CollectedCents;

    public void Clear()
    {
        PolicyId = null;
        Steps.Clear();
        Contacts = 0;
        CollectedCents = 0;
    }
}
