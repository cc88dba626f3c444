namespace Collections.Scoring;

/// <summary>One labelled example: an account's features at a scoring date and what happened in the window after it.</summary>
public sealed record TrainingRow
{
    public required string AccountId { get; init; }
    public required DateTimeOffset ScoringDate { get; init; }
    public required PaymentFeatures Features { get; init; }
    /// <summary>Whether the label event happened (see <see cref="LabelDefinition"/>).</summary>
    public required bool Label { get; init; }
    /// <summary>The patient balance at the scoring date (what the label's share is of).</summary>
    public required decimal PatientBalance { get; init; }
    /// <summary>Net patient payments posted in the label window (payments less reversed payments): the dollars a decile captured.</summary>
    public required decimal CollectedInWindow { get; init; }
    /// <summary>The true probability of the label event, when the row is synthetic and it is known.</summary>
    public double? TrueProbability { get; init; }
    /// <summary>"control" or "treated" under the account's policy's control share; null when never assigned (synthetic rows).</summary>
    public string? TreatmentGroup { get; init; }
}
