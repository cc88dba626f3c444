using System.Collections.Concurrent;
using Collections.Outreach;

namespace Collections.Bench;

/// <summary>
/// A vendor for the benches: answers after <c>latency</c>, a stable share <c>slowShare</c> of the messages (the same
/// ones every time they are sent) after <c>slow</c>, as vendors have tails; counts what it took, the most requests on
/// their way at once, and messages delivered twice. <see cref="Name"/> is the transport name it stands in for.
/// </summary>
internal sealed class BenchVendor(TimeSpan latency, double slowShare, TimeSpan slow, string name = "bench-vendor") : IMessageTransport
{
    private readonly ConcurrentDictionary<string, int> _taken = new();
    private int _current, _peak, _duplicates;

    public string Name => name;
    public int Delivered => _taken.Count;
    public int Peak => Volatile.Read(ref _peak);
    public int Duplicates => Volatile.Read(ref _duplicates);

    public void Reset()
    {
        _taken.Clear();
        _peak = _duplicates = 0;
    }

    public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _current);
        for (var peak = Volatile.Read(ref _peak); now > peak && Interlocked.CompareExchange(ref _peak, now, peak) != peak; peak = Volatile.Read(ref _peak))
        {
        }
        try
        {
            await Task.Delay(IsSlow(message.MessageId) ? slow : latency, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _current);
        }
        if (_taken.AddOrUpdate(message.MessageId, 1, (_, n) => n + 1) > 1) Interlocked.Increment(ref _duplicates);
        return DeliveryResult.Ok("bench:" + message.MessageId);
    }

    /// <summary>The same messages are slow in the engine's run and in the ceiling's (FNV-1a of the message id).</summary>
    private bool IsSlow(string messageId)
    {
        var hash = 2166136261u;
        foreach (var c in messageId) hash = (hash ^ c) * 16777619u;
        return hash % 10_000 < slowShare * 10_000;
    }
}
