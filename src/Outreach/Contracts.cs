using Collections.Domain;

namespace Collections.Outreach;

/// <summary>
/// What the engine asks to send. <see cref="MessageId"/> is the idempotency key (e.g. "MAIN/A1001/cadence-v3/step-d15/1"):
/// enqueueing the same id twice stores and sends one message.
/// </summary>
public sealed record MessageRequest
{
    public required string MessageId { get; init; }
    public required ContactChannel Channel { get; init; }
    public required OutreachAction Action { get; init; }
    public required string Facility { get; init; }
    public required string AccountNumber { get; init; }
    public required string GuarantorId { get; init; }
    /// <summary>PHI: stored in the database only, never logged.</summary>
    public required string RecipientName { get; init; }
    /// <summary>An email address, a 10-digit phone number, or a postal address as lines joined by '\n'. PHI.</summary>
    public required string Recipient { get; init; }
    /// <summary>Patient responsibility, two places.</summary>
    public required decimal AmountDue { get; init; }
    public DateOnly? DueDate { get; init; }
    /// <summary>For statements and final notices (the PDF).</summary>
    public IReadOnlyList<StatementLine> StatementLines { get; init; } = [];
    /// <summary>Which cadence policy version drove it, kept for audit.</summary>
    public string? PolicyReference { get; init; }
}

/// <summary>
/// One line of a patient statement: charges positive, payments and adjustments negative. <paramref name="Kind"/> says
/// which total the line counts towards; when it is null it is inferred (positive: a charge; negative: insurance if the
/// description mentions insurance, an adjustment if it mentions an adjustment, discount, write-off or charity, else a
/// patient payment).
/// </summary>
public sealed record StatementLine(DateOnly Date, string Description, decimal Amount, StatementLineKind? Kind = null)
{
    public StatementLineKind EffectiveKind => Kind ?? Infer(Description, Amount);

    /// <summary>Which statement total a ledger entry's kind counts towards (refunds count with the patient's payments).</summary>
    public static StatementLineKind KindOf(EntryKind kind) => kind switch
    {
        EntryKind.Charge => StatementLineKind.Charge,
        EntryKind.InsurancePayment => StatementLineKind.InsurancePayment,
        EntryKind.Adjustment => StatementLineKind.Adjustment,
        _ => StatementLineKind.PatientPayment,
    };

    private static StatementLineKind Infer(string description, decimal amount)
    {
        if (amount >= 0) return StatementLineKind.Charge;
        var d = description.ToUpperInvariant();
        if (d.Contains("INSURANCE", StringComparison.Ordinal) || d.Contains("INSURER", StringComparison.Ordinal)) return StatementLineKind.InsurancePayment;
        if (d.Contains("ADJUST", StringComparison.Ordinal) || d.Contains("DISCOUNT", StringComparison.Ordinal)
            || d.Contains("WRITE", StringComparison.Ordinal) || d.Contains("CHARITY", StringComparison.Ordinal)) return StatementLineKind.Adjustment;
        return StatementLineKind.PatientPayment;
    }
}

/// <summary>Which statement total a line counts towards.</summary>
public enum StatementLineKind
{
    Charge,
    InsurancePayment,
    Adjustment,
    PatientPayment,
}

public interface IOutreachService
{
    /// <summary>
    /// Renders the current template for (Channel, Action) and writes the message to the outbox durably. Returns the
    /// stored message: the existing one if <see cref="MessageRequest.MessageId"/> was already enqueued, never a second copy.
    /// Throws <see cref="ArgumentException"/> for a channel or action that is not a message (Voice, AutomatedVoice,
    /// CallTask, WriteOffReview, CreditReporting), a pair with no template, or invalid fields.
    /// </summary>
    Task<OutboxMessage> EnqueueAsync(MessageRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first half of <see cref="EnqueueAsync"/>: the message rendered with its payment link, not yet stored, so that
    /// a caller can store it in its own transaction (<see cref="IOutboxStore.AddInTransactionAsync"/>). Null when it
    /// can no longer be rendered but a message with its id is already stored (a repeat). Throws as EnqueueAsync does.
    /// </summary>
    Task<PreparedMessage?> PrepareAsync(MessageRequest request, CancellationToken cancellationToken = default);

    /// <summary>Stores a prepared message in a transaction of its own (for a caller whose own store cannot take it).</summary>
    Task StoreAsync(PreparedMessage prepared, CancellationToken cancellationToken = default);

    /// <summary>After the prepared message's transaction committed: logs it and wakes the sender, if it was new.</summary>
    void Stored(PreparedMessage prepared);
}

/// <summary>
/// A message rendered for the outbox with the payment link it carries, on its way into a transaction; once that
/// committed, <see cref="Created"/> says whether it inserted the message (false: a message with its id was there).
/// Before the commit, or after a rollback, it means nothing.
/// </summary>
public sealed class PreparedMessage(OutboxMessage message, IssuedPayLink? payLink)
{
    public OutboxMessage Message { get; } = message;
    public IssuedPayLink? PayLink { get; } = payLink;
    public bool Created { get; set; }
}

/// <summary>Where a message is in its life.</summary>
public enum OutboxStatus
{
    /// <summary>Waiting to be sent (first time or after a failed attempt, at <see cref="OutboxMessage.NextAttemptAt"/>).</summary>
    Pending,
    /// <summary>A sender holds a lease on it and is delivering it.</summary>
    Sending,
    /// <summary>The transport accepted it.</summary>
    Sent,
    /// <summary>The vendor reported it delivered (a delivery receipt).</summary>
    Delivered,
    /// <summary>Gave up: a permanent refusal, too many attempts, or a failure receipt.</summary>
    Failed,
    /// <summary>The vendor reported that it bounced (a delivery receipt).</summary>
    Bounced,
    /// <summary>Never sent: before it went, the account stopped being collected (paid, in credit, on hold, promise or plan).</summary>
    Cancelled,
}

/// <summary>What became of a message, without its text.</summary>
public sealed record MessageFate(OutreachAction Action, ContactChannel Channel, OutboxStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>A message as the outbox stores it.</summary>
public sealed record OutboxMessage
{
    public required string MessageId { get; init; }
    public required ContactChannel Channel { get; init; }
    public required OutreachAction Action { get; init; }
    public required string Facility { get; init; }
    public required string AccountNumber { get; init; }
    public required string GuarantorId { get; init; }
    public required string RecipientName { get; init; }
    public required string Recipient { get; init; }
    public required decimal AmountDue { get; init; }
    public DateOnly? DueDate { get; init; }
    public IReadOnlyList<StatementLine> StatementLines { get; init; } = [];
    public string? PolicyReference { get; init; }
    public string? Subject { get; init; }
    public required string Body { get; init; }
    /// <summary>e.g. "sms/smsReminder": the (channel, action) the template is for.</summary>
    public required string TemplateId { get; init; }
    /// <summary>0 for the default shipped in code, else the saved version.</summary>
    public required int TemplateVersion { get; init; }
    public required OutboxStatus Status { get; init; }
    public required int Attempts { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? ProviderMessageId { get; init; }
    /// <summary>What went wrong last: a status code or error kind, never PHI.</summary>
    public string? LastError { get; init; }

    public string AccountKey => $"{Facility}/{AccountNumber}";
}

public enum ReceiptStatus
{
    Delivered,
    Failed,
    Bounced,
}

/// <summary>A vendor's report of what happened to a message.</summary>
public sealed record DeliveryReceipt(string MessageId, ReceiptStatus Status, string? ProviderMessageId, DateTimeOffset OccurredAt);

/// <summary>One try at delivering a message.</summary>
public sealed record DeliveryAttempt(string MessageId, int Attempt, string Transport, DateTimeOffset StartedAt, DateTimeOffset FinishedAt,
    string Outcome, string? ProviderMessageId, string? Error);
