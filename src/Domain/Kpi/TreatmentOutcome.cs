using Collections.Domain.Cadence;

namespace Collections.Domain.Kpi;

/// <summary>
/// An account's control-group outcome for the uplift report: its assignment, what the patient has paid since (net of
/// refunds, reversed entries left out, by effective date from the day of assignment) and the cadence steps it reached
/// since (taken or tried, or held back for a control account).
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.TreatmentOutcome")]
public sealed record TreatmentOutcome
{
    [Id(0)] public required string PolicyId { get; init; }
    [Id(1)] public required bool Control { get; init; }
    [Id(2)] public required DateOnly AssignedOn { get; init; }
    [Id(3)] public double? ScoreAtAssignment { get; init; }
    [Id(4)] public required decimal Owed { get; init; }
    [Id(5)] public required decimal Collected { get; init; }
    [Id(6)] public required IReadOnlyList<string> Steps { get; init; }
    /// <summary>The assigning policy's control share: the chance the account had of control (0: no experiment, left out of the report).</summary>
    [Id(7)] public decimal ControlShare { get; init; }

    /// <summary>The outcome of <paramref name="assignment"/> (its steps as <see cref="ControlGroups.Record"/> kept them) on <paramref name="ledger"/>.</summary>
    public static TreatmentOutcome Of(TreatmentAssignment assignment, IReadOnlyList<LedgerEntry> ledger)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var assignedOn = DateOnly.FromDateTime(assignment.AssignedAt.UtcDateTime);
        var reversed = Ledger.ReversedIds(ledger);
        return new TreatmentOutcome
        {
            PolicyId = assignment.PolicyId, Control = assignment.Control, AssignedOn = assignedOn, ScoreAtAssignment = assignment.ScoreAtAssignment,
            Owed = assignment.OwedAtAssignment, Steps = assignment.StepsReached, ControlShare = assignment.ControlShare,
            Collected = ledger.Where(e => e.EffectiveDate >= assignedOn && !reversed.Contains(e.EntryId)).Sum(Ledger.PatientPaid),
        };
    }
}
