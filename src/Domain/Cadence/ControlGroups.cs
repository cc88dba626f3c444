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
    public static double Position(string policyId, string account)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"control|{policyId}|{account}"));
        return BitConverter.ToUInt64(hash, 0) / 18446744073709551616.0; // 2^64
    }

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

    /// <summary>Whether <paramref name="assigned"/> still holds under <paramref name="policy"/> (same policy, share and baseline).</summary>
    public static bool StillHolds(TreatmentAssignment? assigned, CadencePolicy policy) =>
        assigned is not null && assigned.PolicyId == policy.PolicyId && assigned.ControlShare == policy.ControlShare
        && assigned.CallsInBaseline == policy.BaselineActions.Contains(OutreachAction.CallTask);
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

    public string Group => Control ? "control" : "treated";
}
