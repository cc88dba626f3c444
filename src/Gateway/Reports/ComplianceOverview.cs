using Collections.Grains;
using Collections.Persistence;

namespace Collections.Gateway.Reports;

/// <summary>A queue of things waiting for a person, with how many and since when; <c>AtLeast</c> when the queue is longer than was read.</summary>
public sealed record ReviewQueueSummary(string Queue, int Open, DateTimeOffset? OldestReceivedAt, bool AtLeast = false);

/// <summary>The supervisors' compliance view: the gate's decisions by day, verdict and rule, and the review queues with their age.</summary>
public sealed record ComplianceView(string Facility, DateOnly From, DateOnly To, IReadOnlyList<GateDecisionCount> Decisions, IReadOnlyList<ReviewQueueSummary> ReviewQueues);

/// <summary>
/// Reads the compliance view: decisions from the gate-decisions projection, and the queues of unclear replies and of
/// what patients sent from their page (messages, financial-assistance applications, disputes), oldest first.
/// </summary>
public sealed class ComplianceOverview(GateDecisionStore decisions, IGrainFactory grains, TimeProvider clock)
{
    /// <summary>The most items a queue is read to; a queue this long is reported as at least this many.</summary>
    public const int QueueReadLimit = 1000;

    public async Task<ComplianceView> GetAsync(string? facility, int days, CancellationToken cancellationToken = default)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var from = today.AddDays(-days + 1);
        var counts = await decisions.CountAsync(facility, from, today, cancellationToken);
        var replies = await grains.GetGrain<IReplyReviewGrain>(0).List(ReplyReviewStatus.Open, QueueReadLimit);
        var allRequests = await grains.GetGrain<IBillingOfficeQueueGrain>(0).List(BillingRequestStatus.Open, QueueReadLimit);
        var requests = allRequests.Where(r => facility is null || r.Accounts.Any(a => a.Facility == facility)).ToList();
        ReviewQueueSummary Summary(string queue, IReadOnlyCollection<DateTimeOffset> received) =>
            new(queue, received.Count, received.Count == 0 ? null : received.Min(), replies.Count >= QueueReadLimit || allRequests.Count >= QueueReadLimit);
        return new ComplianceView(facility ?? "*", from, today, counts,
        [
            // Replies come from a phone or an address, not an account: the queue is the engine's, whatever the facility.
            Summary("unclear replies", replies.Select(r => r.ReceivedAt).ToList()),
            Summary("patient messages", requests.Where(r => r.Kind == BillingRequestKind.Message).Select(r => r.ReceivedAt).ToList()),
            Summary("financial-assistance applications", requests.Where(r => r.Kind == BillingRequestKind.FinancialAssistance).Select(r => r.ReceivedAt).ToList()),
            Summary("disputes", requests.Where(r => r.Kind == BillingRequestKind.Dispute).Select(r => r.ReceivedAt).ToList()),
        ]);
    }
}
