namespace Collections.Domain.Kpi;

/// <summary>
/// What the fairness report reads of an account: its guarantor's language and ZIP income band (a band, never the ZIP),
/// its current score, and the outreach it has had: contacts beyond statements (texts, emails, letters, final notices,
/// reminders, agents' outbound calls) and agents' outbound calls.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.FairnessFacts")]
public sealed record FairnessFacts
{
    [Id(0)] public required string Language { get; init; }
    [Id(1)] public required string IncomeBand { get; init; }
    [Id(2)] public double? Score { get; init; }
    [Id(3)] public required int OutreachContacts { get; init; }
    [Id(4)] public required int Calls { get; init; }

    /// <summary>Whether an allowed contact of this action counts as outreach: statements are everyone's baseline; placements, credit reports, reviews and call tasks are not contacts with the person, and receipts and opt-out confirmations are not collection.</summary>
    public static bool IsOutreach(OutreachAction action) =>
        action is not (OutreachAction.PatientStatement or OutreachAction.AgencyPlacement or OutreachAction.CreditReporting or OutreachAction.WriteOffReview
            or OutreachAction.CallTask or OutreachAction.PaymentReceipt or OutreachAction.OptOutConfirmation);
}
