namespace Collections.Scoring;

/// <summary>One of the few features that pushed a score most, in words an agent understands.</summary>
public sealed record ReasonCode
{
    /// <summary>The feature's name (one of <see cref="PaymentFeatures.Names"/>, or a CSV column).</summary>
    public required string Feature { get; init; }
    /// <summary>"Has paid 3 times before".</summary>
    public required string Text { get; init; }
    /// <summary>Signed effect on the calibrated log-odds of paying: positive raises the likelihood, negative lowers it.</summary>
    public required double Effect { get; init; }
}

/// <summary>A calibrated probability of the label event and, when asked for, the reasons.</summary>
public sealed record PaymentPrediction
{
    public required double Probability { get; init; }
    public IReadOnlyList<ReasonCode> Reasons { get; init; } = [];
}
