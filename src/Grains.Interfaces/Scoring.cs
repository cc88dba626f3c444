namespace Collections.Grains;

/// <summary>One of the few features that pushed an account's score most, in words an agent understands.</summary>
[GenerateSerializer, Immutable, Alias("collections.ScoreReason")]
public sealed record ScoreReason
{
    /// <summary>The feature's name in the model (e.g. <c>PatientPaymentCount</c>).</summary>
    [Id(0)] public required string Feature { get; init; }
    /// <summary>"Has paid 3 times before".</summary>
    [Id(1)] public required string Text { get; init; }
    /// <summary>How much it moved the score: positive raises the likelihood of paying, negative lowers it.</summary>
    [Id(2)] public required double Effect { get; init; }
}

/// <summary>How likely the account is to pay, by which model version, and why.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountScore")]
public sealed record AccountScore
{
    /// <summary>Calibrated probability (0-1) that the label event happens (by default: at least half the patient balance paid within 90 days).</summary>
    [Id(0)] public required double Probability { get; init; }
    [Id(1)] public required string ModelVersion { get; init; }
    [Id(2)] public required DateTimeOffset ScoredAt { get; init; }
    [Id(3)] public IReadOnlyList<ScoreReason> Reasons { get; init; } = [];
    /// <summary>True when the account is in the challenger's share and this score came from the challenger.</summary>
    [Id(4)] public bool IsChallenger { get; init; }
    /// <summary>Probability times the patient balance at scoring time: what the worklist orders by.</summary>
    [Id(5)] public required decimal ExpectedRecovery { get; init; }
    /// <summary>The patient balance the score was computed on.</summary>
    [Id(6)] public required decimal PatientBalance { get; init; }
}
