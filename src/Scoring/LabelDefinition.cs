namespace Collections.Scoring;

/// <summary>
/// What "the account pays" means: patient payments posted in the <see cref="WindowDays"/> days after the scoring time
/// reach at least <see cref="PaidShare"/> of the patient balance at the scoring time.
/// </summary>
public sealed record LabelDefinition
{
    public decimal PaidShare { get; init; } = 0.5m;
    public int WindowDays { get; init; } = 90;

    /// <summary>"at least 50% of the patient balance paid within 90 days".</summary>
    public override string ToString() => $"at least {PaidShare * 100m:0.##}% of the patient balance paid within {WindowDays} days";
}
