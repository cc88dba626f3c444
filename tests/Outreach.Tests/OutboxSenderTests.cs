using Collections.Domain;

namespace Collections.Outreach.Tests;

/// <summary>
/// The outbox sender keeps its messages on their way continuously, as the webhook dispatcher does (both are a
/// <see cref="LeasedSender{TClaimed, TFinished}"/>): it claims as room frees, so a vendor slow to answer one message
/// holds up only that one, never more are on their way than allowed, and each goes once.
/// </summary>
public sealed class OutboxSenderTests
{
    [Fact]
    public async Task A_vendor_that_has_not_answered_one_message_holds_up_only_that_message()
    {
        var h = await HarnessAsync(batchSize: 2, maxInFlight: 4);
        var ids = await EnqueueAsync(h, 6);
        var answer = new TaskCompletionSource();
        var vendor = new Vendor(h.SandboxTransport(), async (message, ct) =>
        {
            if (message.MessageId == ids[0]) await answer.Task.WaitAsync(ct);
        });
        var run = h.Sender(vendor).RunOnceAsync(GiveUpAfterAMinute());
        await WaitForAsync(h, ids, messages => messages.Count(m => m.Status == OutboxStatus.Sent) == 5);

        Assert.Equal(OutboxStatus.Sending, (await h.Outbox.GetAsync(ids[0]))!.Status); // the rest went on without it
        answer.SetResult();
        Assert.Equal(6, await run);
        foreach (var id in ids) Assert.Equal((OutboxStatus.Sent, 1), ((await h.Outbox.GetAsync(id))!.Status, (await h.Outbox.GetAsync(id))!.Attempts));
    }

    [Fact]
    public async Task Never_more_messages_are_on_their_way_than_allowed_and_each_is_sent_once()
    {
        var h = await HarnessAsync(batchSize: 4, maxInFlight: 8);
        var ids = await EnqueueAsync(h, 40);
        int current = 0, most = 0;
        var answerAll = new TaskCompletionSource();
        var vendor = new Vendor(h.SandboxTransport(), async (_, ct) =>
        {
            var now = Interlocked.Increment(ref current);
            for (var seen = Volatile.Read(ref most); now > seen && Interlocked.CompareExchange(ref most, now, seen) != seen; seen = Volatile.Read(ref most))
            {
            }
            if (now == 8) answerAll.TrySetResult(); // the room is full: let them all through from now on
            await answerAll.Task.WaitAsync(ct);
            Interlocked.Decrement(ref current);
        });

        Assert.Equal(40, await h.Sender(vendor).RunOnceAsync(GiveUpAfterAMinute()));

        Assert.Equal(8, most);
        Assert.Equal(40, vendor.Sent.Count);
        Assert.Equal(40, vendor.Sent.Distinct().Count());
        foreach (var id in ids) Assert.Equal(1, await h.Sandbox.CountAsync(id));
    }

    [Fact]
    public async Task A_message_queued_while_a_vendor_has_not_answered_goes_out_without_waiting_for_it()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        var stuck = (await EnqueueAsync(h, 1))[0];
        var answer = new TaskCompletionSource();
        var vendor = new Vendor(h.SandboxTransport(), async (message, ct) =>
        {
            if (message.MessageId == stuck) await answer.Task.WaitAsync(ct);
        });
        var run = h.Sender(vendor).RunOnceAsync(GiveUpAfterAMinute());
        await WaitForAsync(h, [stuck], messages => messages.Single().Status == OutboxStatus.Sending); // claimed; nothing else due

        var later = (await EnqueueAsync(h, 1))[0]; // wakes the sender, which is waiting on the stuck message
        await WaitForAsync(h, [later], messages => messages.Single().Status == OutboxStatus.Sent);

        Assert.Equal(OutboxStatus.Sending, (await h.Outbox.GetAsync(stuck))!.Status);
        answer.SetResult();
        Assert.Equal(2, await run);
    }

    /// <summary>A poll period longer than any test waits: a message that goes out did so because it was claimed at once or woken.</summary>
    private static async Task<Harness> HarnessAsync(int batchSize, int maxInFlight)
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        h.Options.Sender.BatchSize = batchSize;
        h.Options.Sender.MaxInFlight = maxInFlight;
        h.Options.Sender.PollSeconds = 300;
        return h;
    }

    private static async Task<List<string>> EnqueueAsync(Harness h, int count)
    {
        var service = h.Service();
        var ids = new List<string>();
        for (var i = 0; i < count; i++) ids.Add((await service.EnqueueAsync(Harness.Request())).MessageId);
        return ids;
    }

    /// <summary>A round a test gives up on is stopped, not left running behind the next test.</summary>
    private static CancellationToken GiveUpAfterAMinute() => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    private static async Task WaitForAsync(Harness h, IReadOnlyList<string> ids, Func<IReadOnlyList<OutboxMessage>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var messages = new List<OutboxMessage>();
            foreach (var id in ids) messages.Add((await h.Outbox.GetAsync(id))!);
            if (condition(messages)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"The messages never got there: {string.Join(", ", messages.Select(m => m.Status))}");
            await Task.Delay(20);
        }
    }

    /// <summary>The sandbox, behind a vendor that first does what the test says (waits, counts).</summary>
    private sealed class Vendor(IMessageTransport sandbox, Func<OutboxMessage, CancellationToken, Task> first) : IMessageTransport
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Sent { get; } = new();
        public string Name => sandbox.Name;

        public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            await first(message, cancellationToken);
            Sent.Enqueue(message.MessageId);
            return await sandbox.DeliverAsync(message, cancellationToken);
        }
    }
}
