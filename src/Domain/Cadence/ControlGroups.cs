using System.Security.Cryptography;
using System.Text;

namespace Collections.Domain.Cadence;

/// <summary>Whether an account is in a policy's control group, and what it is assigned.</summary>
public static class ControlGroups
{
    public const string SkipReason = "Control group: the policy keeps this account to its baseline (no other outreach), to measure what outreach adds.";

    /// <summary>
    /// The account's place in [0, 1) for the policy: a SHA-256 of the policy id and the account, the same in every
    /// process, version and run, and independent between policies.
    /// </summary>
    public static double Position(string policyId, string account) => StableShare($"control|{policyId}|{account}");

    /// <summary>A key's place in [0, 1): the first 8 bytes of its SHA-256 over 2^64, the same everywhere and always.</summary>
    public static double StableShare(string key) => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0) / 18446744073709551616.0;

    /// <summary>True when the policy keeps a control share and the account falls in it.</summary>
    public static bool InControl(CadencePolicy policy, string account) =>
        policy.ControlShare > 0 && Position(policy.PolicyId, account) < (double)policy.ControlShare;

    /// <param name="score">The account's score when assigned (its band splits the uplift report), null when unscored.</param>
    /// <param name="owed">What the patient owed when assigned.</param>
    public static TreatmentAssignment Assign(CadencePolicy policy, string account, DateTimeOffset now, double? score = null, decimal owed = 0m) => new()
    {
        PolicyId = policy.PolicyId, Control = InControl(policy, account), ControlShare = policy.ControlShare, AssignedAt = now,
        CallsInBaseline = policy.BaselineActions.Contains(OutreachAction.CallTask), ScoreAtAssignment = score, OwedAtAssignment = owed,
    };

    /// <summary>
    /// Whether <paramref name="assigned"/> still holds: an account keeps its group for the whole debt (its cadence cycle),
    /// whichever policy the cadence selects meanwhile (a standard account paid down into the small-balance policy stays
    /// in its group, so the experiment keeps its payers), and keeps it while it owes nothing (the finished debt's
    /// outcome stays). A debt that starts draws afresh under the policy selected then (an insured account assigned at a
    /// zero patient balance is drawn again when its share is transferred to the patient); so does a new cycle, a change
    /// of the assigning policy's share or baseline, or that policy leaving the book.
    /// </summary>
    /// <param name="selected">The policy the cadence selected for this run (it may be the built-in standard, outside the book).</param>
    /// <param name="progress">The cadence before this run.</param>
    /// <param name="patientOwes">What the patient owes now (a run with a positive balance and no cycle running starts one).</param>
    public static bool StillHolds(TreatmentAssignment? assigned, CadencePolicy selected, IEnumerable<CadencePolicy> book, CadenceProgress progress, decimal patientOwes)
    {
        ArgumentNullException.ThrowIfNull(selected);
        if (assigned is null) return false;
        if (!progress.IsRunning) return patientOwes <= 0;
        if (assigned.Cycle is { } cycle && cycle != progress.Cycle) return false;
        var own = assigned.PolicyId == selected.PolicyId ? selected : book.FirstOrDefault(p => p.PolicyId == assigned.PolicyId);
        return own is not null && own.ControlShare == assigned.ControlShare && own.BaselineActions.Contains(OutreachAction.CallTask) == assigned.CallsInBaseline;
    }

    /// <summary>
    /// The assignment after a cadence run: the cycle it belongs to (set at the first run that has one) and every step the
    /// account reached since it was assigned, kept here because the cadence forgets its steps when a debt is paid.
    /// The same instance when nothing changed.
    /// </summary>
    public static TreatmentAssignment Record(TreatmentAssignment assigned, CadenceProgress progress)
    {
        ArgumentNullException.ThrowIfNull(assigned);
        ArgumentNullException.ThrowIfNull(progress);
        var cycle = assigned.Cycle ?? (progress.IsRunning ? progress.Cycle : null);
        var reached = progress.Steps.Where(s => s.At >= assigned.AssignedAt).Select(s => s.StepId)
            .Where(id => !assigned.StepsReached.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
        return cycle == assigned.Cycle && reached.Count == 0 ? assigned : assigned with { Cycle = cycle, StepsReached = [.. assigned.StepsReached, .. reached] };
    }
}

/// <summary>
/// An account's assignment under its policy: control (baseline only) or treated, the share that decided it, and since
/// when. Kept on the account and in the training-set export, so outcomes can be compared by group.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.TreatmentAssignment")]
public sealed record TreatmentAssignment
{
    [Id(0)] public required string PolicyId { get; init; }
    [Id(1)] public required bool Control { get; init; }
    [Id(2)] public required decimal ControlShare { get; init; }
    [Id(3)] public required DateTimeOffset AssignedAt { get; init; }
    /// <summary>The policy's baseline includes agents' calls (a control account stays on the worklist).</summary>
    [Id(4)] public bool CallsInBaseline { get; init; }
    /// <summary>The account's score when assigned; null when it had none.</summary>
    [Id(5)] public double? ScoreAtAssignment { get; init; }
    /// <summary>What the patient owed when assigned.</summary>
    [Id(6)] public decimal OwedAtAssignment { get; init; }
    /// <summary>The cadence cycle (the debt) the assignment is for; null until the first run that has one.</summary>
    [Id(7)] public int? Cycle { get; init; }
    /// <summary>The cadence steps the account reached since assignment (taken or tried; held back for a control account).</summary>
    [Id(8)] public IReadOnlyList<string> StepsReached { get; init; } = [];

    public string Group => Control ? "control" : "treated";
}
