using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>
/// The review queue of replies (key 0). Open reviews stay until a person decides; decided ones are kept 90 days as the
/// record of what was read and why.
/// </summary>
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class ReplyReviewGrain(
    [PersistentState(StorageNames.ReplyReviewState, StorageNames.Collections)] IPersistentState<ReplyReviewState> queue,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IReplyReviewGrain
{
    private static readonly TimeSpan DecidedKept = TimeSpan.FromDays(90);

    public async Task Add(ReplyReview review)
    {
        if (queue.State.Reviews.Any(r => r.ReviewId == review.ReviewId)) return;
        var now = clock.GetUtcNow();
        queue.State.Reviews.RemoveAll(r => r.Status != ReplyReviewStatus.Open && r.ResolvedAt < now - DecidedKept);
        queue.State.Reviews.Add(review with { Status = ReplyReviewStatus.Open });
        await queue.WriteStateAsync();
    }

    public Task<IReadOnlyList<ReplyReview>> List(ReplyReviewStatus? status, int limit) =>
        Task.FromResult<IReadOnlyList<ReplyReview>>(queue.State.Reviews
            .Where(r => status is null || r.Status == status)
            .OrderBy(r => r.ReceivedAt)
            .Take(Math.Clamp(limit, 1, 1000))
            .ToList());

    public async Task<Outcome<ReplyReview>> Resolve(string reviewId, ReplyReviewStatus decision, string? note)
    {
        var index = queue.State.Reviews.FindIndex(r => r.ReviewId == reviewId);
        if (index < 0) return Outcome<ReplyReview>.Failure(DomainError.NotFound("review.not-found", "No reply under review has this id."));
        var review = queue.State.Reviews[index];
        if (review.Status != ReplyReviewStatus.Open)
            return Outcome<ReplyReview>.Failure(DomainError.Conflict("review.decided", $"This reply was already decided ({review.Status})."));
        if (decision == ReplyReviewStatus.Open)
            return Outcome<ReplyReview>.Failure(DomainError.Invalid("decision", "decision.invalid", "Decide optedOut or noAction."));
        var cleaned = Text.Clean(note);
        if (cleaned is { Length: > 500 })
            return Outcome<ReplyReview>.Failure(DomainError.Invalid("note", "note.too-long", "The note is at most 500 characters."));

        if (decision == ReplyReviewStatus.OptedOut)
        {
            foreach (var guarantorId in review.GuarantorIds)
                foreach (var channel in Outreach.ReplyKeywords.ChannelsRevoked(review.Text, review.Channel))
                {
                    var recorded = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(new ConsentRequest
                    {
                        Channel = channel, Status = ConsentStatus.OptedOut, Source = $"reply read by staff ({review.ReceivedAt:yyyy-MM-dd HH:mm} UTC)",
                    });
                    if (!recorded.Succeeded) return Outcome<ReplyReview>.Failure(recorded.Errors);
                }
        }
        var resolved = review with { Status = decision, Note = cleaned, ResolvedBy = CallerContext.Current.Actor, ResolvedAt = clock.GetUtcNow() };
        queue.State.Reviews[index] = resolved;
        await queue.WriteStateAsync();
        foreach (var guarantorId in review.GuarantorIds)
            await audit.RecordAsync(clock, "guarantor.reply.review", "guarantor", guarantorId, "ok", $"review={reviewId};decision={decision}");
        return Outcome<ReplyReview>.Success(resolved);
    }
}
