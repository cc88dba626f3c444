using Collections.Domain;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>
/// What patients sent from the self-service page (key 0): messages, financial-assistance applications, disputes.
/// Open requests stay until staff close them; closed ones are kept 180 days as the record of what was handled.
/// </summary>
// A register or queue (a few per facility) read whole on activation: never shed when idle (Collections:Activations).
[KeepAlive]
public sealed class BillingOfficeQueueGrain(
    [PersistentState(StorageNames.BillingOfficeQueueState, StorageNames.Collections)] IPersistentState<BillingOfficeQueueState> queue,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IBillingOfficeQueueGrain
{
    private static readonly TimeSpan ClosedKept = TimeSpan.FromDays(180);

    public async Task Add(BillingRequest request)
    {
        if (queue.State.Requests.Any(r => r.RequestId == request.RequestId)) return;
        var now = clock.GetUtcNow();
        queue.State.Requests.RemoveAll(r => r.Status == BillingRequestStatus.Done && r.HandledAt < now - ClosedKept);
        queue.State.Requests.Add(request with { Status = BillingRequestStatus.Open });
        await queue.WriteStateAsync();
    }

    public Task<IReadOnlyList<BillingRequest>> List(BillingRequestStatus? status, int limit) =>
        Task.FromResult<IReadOnlyList<BillingRequest>>(queue.State.Requests
            .Where(r => status is null || r.Status == status)
            .OrderBy(r => r.ReceivedAt)
            .Take(Math.Clamp(limit, 1, 1000))
            .ToList());

    public async Task<Outcome<BillingRequest>> Close(string requestId, string? note)
    {
        var index = queue.State.Requests.FindIndex(r => r.RequestId == requestId);
        if (index < 0) return Outcome<BillingRequest>.Failure(DomainError.NotFound("request.not-found", "No patient request has this id."));
        var request = queue.State.Requests[index];
        if (request.Status == BillingRequestStatus.Done)
            return Outcome<BillingRequest>.Failure(DomainError.Conflict("request.closed", "This request was already closed."));
        var cleaned = Text.Clean(note);
        if (cleaned is { Length: > 500 })
            return Outcome<BillingRequest>.Failure(DomainError.Invalid("note", "note.too-long", "The note is at most 500 characters."));
        var closed = request with { Status = BillingRequestStatus.Done, HandledBy = CallerContext.Current.Actor, HandledAt = clock.GetUtcNow(), Note = cleaned };
        queue.State.Requests[index] = closed;
        await queue.WriteStateAsync(audit, AuditExtensions.Event(clock, "billing-request.close", "guarantor", request.GuarantorId, "ok", $"request={requestId};kind={request.Kind}"));
        return Outcome<BillingRequest>.Success(closed);
    }
}
