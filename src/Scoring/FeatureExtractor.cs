namespace Collections.Scoring;

/// <summary>Turns an account's history into <see cref="PaymentFeatures"/> as known at a point in time.</summary>
public static class FeatureExtractor
{
    public static PaymentFeatures Extract(AccountHistory history, DateTimeOffset asOf)
    {
        ArgumentNullException.ThrowIfNull(history);
        _ = asOf;
        return new PaymentFeatures();
    }
}
