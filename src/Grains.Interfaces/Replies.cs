using Collections.Domain;

namespace Collections.Grains;

public enum ReplyReviewStatus
{
    /// <summary>Waiting for a person.</summary>
    Open,
    /// <summary>A person read it as a revocation: the channel was closed for the guarantors it came from.</summary>
    OptedOut,
    /// <summary>A person read it and nothing about consent changes (a question, a dispute handled elsewhere).</summary>
    NoAction,
}

/// <summary>An inbound reply no machine rule understood: a person must read it and decide.</summary>
[GenerateSerializer, Immutable, Alias("collections.ReplyReview")]
public sealed record ReplyReview
{
    /// <summary>Derived from the sender, the time and the text: a vendor's retry of the same reply is the same review.</summary>
    [Id(0)] public required string ReviewId { get; init; }
    [Id(1)] public required ContactChannel Channel { get; init; }
    /// <summary>The sender's number (10 digits).</summary>
    [Id(2)] public required string From { get; init; }
    [Id(3)] public required string Text { get; init; }
    [Id(4)] public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>The guarantors with that number (none: an unknown sender).</summary>
    [Id(5)] public IReadOnlyList<string> GuarantorIds { get; init; } = [];
    [Id(6)] public ReplyReviewStatus Status { get; init; }
    [Id(7)] public string? Note { get; init; }
    [Id(8)] public string? ResolvedBy { get; init; }
    [Id(9)] public DateTimeOffset? ResolvedAt { get; init; }
}

/// <summary>The replies waiting for a person (one queue for the engine), and those people decided.</summary>
[Alias("collections.IReplyReviewGrain")]
public interface IReplyReviewGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a reply (again: nothing changes).</summary>
    [Alias("Add")]
    Task Add(ReplyReview review);

    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<ReplyReview>> List(ReplyReviewStatus? status, int limit);

    /// <summary>A person's reading: OptedOut closes the reply's channel for its guarantors; NoAction only clears it.</summary>
    [Alias("Resolve")]
    Task<Outcome<ReplyReview>> Resolve(string reviewId, ReplyReviewStatus decision, string? note);
}

/// <summary>What receiving one inbound reply did.</summary>
[GenerateSerializer, Immutable, Alias("collections.ReplyIntakeResult")]
public sealed record ReplyIntakeResult
{
    [Id(0)] public int GuarantorsMatched { get; init; }
    [Id(1)] public int OptedOut { get; init; }
    [Id(2)] public int ConfirmationsSent { get; init; }
    /// <summary>optOut, acknowledgement or needsReview.</summary>
    [Id(3)] public required string Meaning { get; init; }
    /// <summary>Set when the reply went to the review queue.</summary>
    [Id(4)] public string? ReviewId { get; init; }
}

/// <summary>
/// Takes an inbound reply from a vendor: finds the guarantors with the sender's number, honours a revocation at once,
/// and puts every reply it does not clearly understand in the review queue. Stateless.
/// </summary>
[Alias("collections.IReplyIntakeGrain")]
public interface IReplyIntakeGrain : IGrainWithIntegerKey
{
    [Alias("Receive")]
    Task<ReplyIntakeResult> Receive(string fromDigits, InboundReply reply);
}
