using Collections.Domain;
using Collections.Domain.Cadence;

namespace Collections.Cli.Simulation;

/// <summary>One column of the comparison: a name and the policy book in force (as the account grain sees it).</summary>
public sealed record PolicyScenario(string Name, IReadOnlyList<CadencePolicy> Book)
{
    /// <summary>The shipped book (standard and small-balance) with <paramref name="policy"/> saved over the policy of the same id, as a supervisor's save would.</summary>
    public static PolicyScenario Shipped(string name, CadencePolicy? policy = null)
    {
        var book = new List<CadencePolicy> { CadencePolicies.Standard, CadencePolicies.SmallBalance };
        if (policy is not null)
        {
            book.RemoveAll(p => p.PolicyId == policy.PolicyId);
            book.Add(policy);
        }
        return new PolicyScenario(name, book);
    }

    public string Policies => string.Join(", ", Book.Select(p => p.Reference));
}

/// <summary>What one policy did to the portfolio. Money in dollars (decimal); the simulator counts in cents.</summary>
public sealed record ScenarioResult
{
    public required string Name { get; init; }
    public required string Policies { get; init; }
    /// <summary>Steps done, by action: statements, emailReminders, texts, letters, callTasks, finalNotices, installmentReminders, agencyPlacements, writeOffReviews.</summary>
    public required IReadOnlyDictionary<string, long> Actions { get; init; }
    /// <summary>Contacts with the person, by channel (mail, email, sms, voice). Agency placements and write-off reviews are not contacts.</summary>
    public required IReadOnlyDictionary<string, long> ContactsByChannel { get; init; }
    public required long Contacts { get; init; }
    public required long GateAllowed { get; init; }
    /// <summary>Gate decisions that deferred a contact, by the rule that decided.</summary>
    public required IReadOnlyDictionary<string, long> Deferred { get; init; }
    /// <summary>Gate decisions that denied a contact, by rule (a denied channel may still fall back to another one).</summary>
    public required IReadOnlyDictionary<string, long> Denied { get; init; }
    public required long StepsSkippedBelowMinimum { get; init; }
    public required decimal StartingBalance { get; init; }
    public required decimal Collected { get; init; }
    public required decimal CollectedPercent { get; init; }
    public required decimal EndingBalance { get; init; }
    public required long AccountsPaying { get; init; }
    public required long AccountsPaidInFull { get; init; }
    public double? MedianDaysToPay { get; init; }
    public double? MeanDaysToPay { get; init; }
    public required long PlacedWithAgency { get; init; }
    public required decimal PlacedBalance { get; init; }
    public int? EarliestPlacementDay { get; init; }
    public decimal? CollectedPerContact { get; init; }
    public required long PromisesMade { get; init; }
    public required long PromisesKept { get; init; }
    public required long PlansStarted { get; init; }
    public required long PlansCompleted { get; init; }
    public required long PlansDefaulted { get; init; }
    public required long Disputes { get; init; }
    public required long StopReplies { get; init; }
    public required long Conversations { get; init; }
}

public sealed record SimulationReport
{
    public required ulong Seed { get; init; }
    public required int Accounts { get; init; }
    public required int Days { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required decimal StartingBalance { get; init; }
    public required decimal MedianBalance { get; init; }
    public required IReadOnlyList<ScenarioResult> Scenarios { get; init; }
    public required SimulationTiming Timing { get; init; }
}

/// <summary>How long the run took (not part of the results: it varies between runs).</summary>
public sealed record SimulationTiming(double Seconds, long AccountDays, double AccountDaysPerSecond, int Threads, long PeakWorkingSetBytes, long ManagedHeapBytes);

/// <summary>Counters for one scenario on one thread; merged by addition, so the total does not depend on the threads.</summary>
internal sealed class ScenarioTally(int days)
{
    public readonly long[] Actions = new long[Enum.GetValues<OutreachAction>().Length];
    public readonly long[] Channels = new long[Enum.GetValues<ContactChannel>().Length];
    public readonly Dictionary<string, long> Deferred = new(StringComparer.Ordinal);
    public readonly Dictionary<string, long> Denied = new(StringComparer.Ordinal);
    public readonly long[] DaysToPay = new long[days + 1];
    public long Allowed, SkippedBelowMinimum, StartingCents, CollectedCents, PlacedCents, EndingCents;
    public long Paying, PaidInFull, Placed, PromisesMade, PromisesKept, PlansStarted, PlansCompleted, PlansDefaulted, Disputes, StopReplies, Conversations;
    public int EarliestPlacementDay = int.MaxValue;

    public void Add(ScenarioTally o)
    {
        for (var i = 0; i < Actions.Length; i++) Actions[i] += o.Actions[i];
        for (var i = 0; i < Channels.Length; i++) Channels[i] += o.Channels[i];
        for (var i = 0; i < DaysToPay.Length; i++) DaysToPay[i] += o.DaysToPay[i];
        foreach (var (k, v) in o.Deferred) Deferred[k] = Deferred.GetValueOrDefault(k) + v;
        foreach (var (k, v) in o.Denied) Denied[k] = Denied.GetValueOrDefault(k) + v;
        Allowed += o.Allowed; SkippedBelowMinimum += o.SkippedBelowMinimum; StartingCents += o.StartingCents; CollectedCents += o.CollectedCents;
        PlacedCents += o.PlacedCents; EndingCents += o.EndingCents; Paying += o.Paying; PaidInFull += o.PaidInFull; Placed += o.Placed;
        PromisesMade += o.PromisesMade; PromisesKept += o.PromisesKept; PlansStarted += o.PlansStarted; PlansCompleted += o.PlansCompleted;
        PlansDefaulted += o.PlansDefaulted; Disputes += o.Disputes; StopReplies += o.StopReplies; Conversations += o.Conversations;
        EarliestPlacementDay = Math.Min(EarliestPlacementDay, o.EarliestPlacementDay);
    }

    public ScenarioResult ToResult(PolicyScenario scenario)
    {
        var contacts = Channels.Sum();
        double? median = null, mean = null;
        if (PaidInFull > 0)
        {
            long seen = 0, sum = 0;
            for (var d = 0; d < DaysToPay.Length; d++) sum += d * DaysToPay[d];
            mean = Math.Round((double)sum / PaidInFull, 1);
            // The median of the days (the lower middle for an even count, then averaged with the upper one).
            long lowerRank = (PaidInFull - 1) / 2, upperRank = PaidInFull / 2;
            int? lower = null, upper = null;
            for (var d = 0; d < DaysToPay.Length && upper is null; d++)
            {
                seen += DaysToPay[d];
                if (lower is null && seen > lowerRank) lower = d;
                if (seen > upperRank) upper = d;
            }
            median = (lower!.Value + upper!.Value) / 2.0;
        }
        static decimal Dollars(long cents) => cents / 100m;
        return new ScenarioResult
        {
            Name = scenario.Name,
            Policies = scenario.Policies,
            Actions = new Dictionary<string, long>
            {
                ["statements"] = Actions[(int)OutreachAction.PatientStatement],
                ["emailReminders"] = Actions[(int)OutreachAction.EmailReminder],
                ["texts"] = Actions[(int)OutreachAction.SmsReminder],
                ["letters"] = Actions[(int)OutreachAction.Letter],
                ["callTasks"] = Actions[(int)OutreachAction.CallTask],
                ["finalNotices"] = Actions[(int)OutreachAction.FinalNotice],
                ["installmentReminders"] = Actions[(int)OutreachAction.InstallmentReminder],
                ["agencyPlacements"] = Actions[(int)OutreachAction.AgencyPlacement],
                ["creditReports"] = Actions[(int)OutreachAction.CreditReporting],
                ["writeOffReviews"] = Actions[(int)OutreachAction.WriteOffReview],
            },
            ContactsByChannel = new Dictionary<string, long>
            {
                ["mail"] = Channels[(int)ContactChannel.Mail],
                ["email"] = Channels[(int)ContactChannel.Email],
                ["sms"] = Channels[(int)ContactChannel.Sms],
                ["voice"] = Channels[(int)ContactChannel.Voice] + Channels[(int)ContactChannel.AutomatedVoice],
            },
            Contacts = contacts,
            GateAllowed = Allowed,
            Deferred = Deferred.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
            Denied = Denied.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
            StepsSkippedBelowMinimum = SkippedBelowMinimum,
            StartingBalance = Dollars(StartingCents),
            Collected = Dollars(CollectedCents),
            CollectedPercent = StartingCents == 0 ? 0 : Math.Round(100m * CollectedCents / StartingCents, 2),
            EndingBalance = Dollars(EndingCents),
            AccountsPaying = Paying,
            AccountsPaidInFull = PaidInFull,
            MedianDaysToPay = median,
            MeanDaysToPay = mean,
            PlacedWithAgency = Placed,
            PlacedBalance = Dollars(PlacedCents),
            EarliestPlacementDay = Placed > 0 ? EarliestPlacementDay : null,
            CollectedPerContact = contacts == 0 ? null : Math.Round(Dollars(CollectedCents) / contacts, 2),
            PromisesMade = PromisesMade,
            PromisesKept = PromisesKept,
            PlansStarted = PlansStarted,
            PlansCompleted = PlansCompleted,
            PlansDefaulted = PlansDefaulted,
            Disputes = Disputes,
            StopReplies = StopReplies,
            Conversations = Conversations,
        };
    }
}
