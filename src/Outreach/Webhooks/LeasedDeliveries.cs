using System.Collections.Concurrent;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Deliveries the webhook projection wrote already leased to this process's dispatcher, handed to it in memory: the
/// dispatcher sends them without claiming them from the table, which spares a claim query and a row version per
/// delivery (under 64-way posting on PostgreSQL the claims were the dispatcher's largest statement). The rows are
/// written as any claim leaves them (sending, this owner, one attempt), so nothing else changes: if the process stops
/// before sending one, or the dispatcher falls behind its lease, the lease runs out and any dispatcher claims the row.
/// Only when a dispatcher runs here (<see cref="Owner"/> set) and its queue is short; otherwise rows are written
/// pending, as before.
/// </summary>
public sealed class LeasedDeliveries
{
    /// <summary>Beyond this many waiting, deliveries are written pending and claimed from the table instead.</summary>
    public const int MaxWaiting = 4096;

    private readonly ConcurrentQueue<(ClaimedDelivery Delivery, DateTimeOffset LeaseUntil)> _waiting = new();
    private volatile Lease? _lease;

    private sealed record Lease(string Owner, TimeSpan Length, TimeSpan Margin);

    /// <summary>The dispatcher rows may be leased to as they are written, and for how long; null when none runs or it is behind.</summary>
    public (string Owner, TimeSpan Length)? LeaseFor => _lease is { } lease && _waiting.Count < MaxWaiting ? (lease.Owner, lease.Length) : null;

    /// <summary>The dispatcher takes deliveries from now on: leases last <paramref name="length"/>, and one with less than <paramref name="margin"/> left is not sent from here.</summary>
    public void Open(string owner, TimeSpan length, TimeSpan margin) => _lease = new Lease(owner, length, margin);

    /// <summary>The dispatcher stops: no more rows are leased to it (those waiting are claimed by any dispatcher once their lease runs out).</summary>
    public void Close() => _lease = null;

    /// <summary>Rows written leased to <paramref name="owner"/> until <paramref name="leaseUntil"/>, committed: the dispatcher may send them.</summary>
    public void Add(string owner, IReadOnlyList<ClaimedDelivery> deliveries, DateTimeOffset leaseUntil)
    {
        if (_lease?.Owner != owner) return; // a dispatcher that stopped meanwhile: the lease runs out and a claim takes them
        foreach (var d in deliveries) _waiting.Enqueue((d, leaseUntil));
    }

    /// <summary>
    /// Up to <paramref name="max"/> waiting deliveries whose lease still has time for a delivery. One that does not is
    /// dropped here: its lease runs out and a claim takes it, so it is never sent on a lease another sender may hold.
    /// </summary>
    public List<ClaimedDelivery> Take(int max, DateTimeOffset now)
    {
        var taken = new List<ClaimedDelivery>();
        var margin = _lease?.Margin ?? TimeSpan.Zero;
        while (taken.Count < max && _waiting.TryDequeue(out var waiting))
            if (waiting.LeaseUntil - now > margin) taken.Add(waiting.Delivery);
        return taken;
    }

    public int Waiting => _waiting.Count;
}
