using Collections.Domain;
using Collections.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
        foreach (var id in ids)
        {
            Assert.Equal((OutboxStatus.Sent, 1), ((await h.Outbox.GetAsync(id))!.Status, (await h.Outbox.GetAsync(id))!.Attempts));
            Assert.Equal(1, await h.Sandbox.CountAsync(id));
        }
    }

    [Fact]
    public async Task A_message_whose_lease_ran_out_while_it_was_still_on_its_way_is_not_sent_again_by_its_own_sender()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        var slow = (await EnqueueAsync(h, 1))[0];
        var answer = new TaskCompletionSource();
        var vendor = new Vendor(h.SandboxTransport(), async (message, ct) =>
        {
            if (message.MessageId == slow) await answer.Task.WaitAsync(ct);
        });
        var run = h.Sender(vendor).RunOnceAsync(GiveUpAfterAMinute());
        await WaitForAsync(h, [slow], messages => messages.Single().Status == OutboxStatus.Sending);
        while (vendor.Started.IsEmpty) await Task.Delay(10); // at the vendor, which has not answered

        h.Clock.Advance(TimeSpan.FromSeconds(h.Options.Sender.LeaseSeconds + 1));
        var later = (await EnqueueAsync(h, 1))[0]; // the claim it wakes takes the slow one back too
        await WaitForAsync(h, [later], messages => messages.Single().Status == OutboxStatus.Sent);
        answer.SetResult();

        Assert.Equal(2, await run);
        Assert.Single(vendor.Started, id => id == slow);
        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(slow))!.Status);
        Assert.Equal(1, await h.Sandbox.CountAsync(slow));
    }

    [Fact]
    public async Task A_last_look_that_takes_a_quarter_of_the_lease_puts_the_message_back_unsent_without_spending_an_attempt()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        var id = (await EnqueueAsync(h, 1))[0];
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var check = new StuckCheck(asked);
        var vendor = new Vendor(h.SandboxTransport(), (_, _) => Task.CompletedTask);
        var run = h.Sender(vendor, check).RunOnceAsync(GiveUpAfterAMinute());
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var claimedAt = h.Clock.GetUtcNow();
        // The sender's deadline is a timer on the test's clock, set just after the look began: moved a second at a time.
        while (!run.IsCompleted && h.Clock.GetUtcNow() < claimedAt.AddMinutes(5))
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.Equal(1, await run);
        var message = (await h.Outbox.GetAsync(id))!;
        Assert.Equal((OutboxStatus.Pending, 0), (message.Status, message.Attempts));
        Assert.Equal("deferred: the last look could not be made (TimeoutException)", message.LastError);
        var backOff = TimeSpan.FromSeconds(h.Options.Sender.RetryBaseSeconds);
        Assert.InRange(message.NextAttemptAt!.Value, claimedAt + TimeSpan.FromSeconds(h.Options.Sender.LeaseSeconds / 4) + backOff, h.Clock.GetUtcNow() + backOff);
        Assert.Empty(vendor.Started);
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

    [Fact]
    public async Task A_vendor_that_keeps_failing_is_paused_and_its_channels_messages_wait_for_their_retries_while_the_others_go()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        h.Options.Sender.PauseAfterFailures = 2;
        var (emails, texts) = await EmailsAndTextsAsync(h, 10);
        var vendor = new Vendor(h.SandboxTransport(), async (message, _) =>
        {
            await Task.Yield();
            if (message.Channel == ContactChannel.Email) throw new HttpRequestException("relay down", null, System.Net.HttpStatusCode.ServiceUnavailable);
        });

        var looks = new CountedLooks();

        Assert.Equal(20, await h.Sender(vendor, looks).RunOnceAsync(GiveUpAfterAMinute()));

        foreach (var id in texts) Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(id))!.Status);
        var tried = vendor.Started.Count(emails.Contains);
        // A message whose vendor is paused cannot go, so it makes no last look (no account or person read back for it).
        Assert.Equal(tried, looks.Asked.Count(emails.Contains));
        Assert.InRange(tried, 2, 6); // those on their way when the second failure paused the channel, not all ten
        var notSent = new List<OutboxMessage>();
        foreach (var id in emails)
            if ((await h.Outbox.GetAsync(id))! is { LastError: "paused: the Email vendor is not answering" } message) notSent.Add(message);
        Assert.Equal(10 - tried, notSent.Count);
        foreach (var message in notSent)
        {
            // As a failed send would: an attempt spent, tried again after its back-off, no sooner than the pause ends.
            Assert.Equal((OutboxStatus.Pending, 1), (message.Status, message.Attempts));
            Assert.Equal(h.Clock.GetUtcNow().AddSeconds(h.Options.Sender.RetryBaseSeconds), message.NextAttemptAt);
            Assert.Equal("paused", Assert.Single(await h.Outbox.AttemptsAsync(message.MessageId)).Outcome);
        }
    }

    [Fact]
    public async Task Messages_refused_before_the_vendor_is_reached_do_not_pause_their_channel()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        h.Options.Sender.PauseAfterFailures = 2;
        var (emails, _) = await EmailsAndTextsAsync(h, 10);
        var refuse = new RefusedHere(h.SandboxTransport());

        await h.Sender(refuse).RunOnceAsync(GiveUpAfterAMinute());

        foreach (var id in emails) Assert.Equal(OutboxStatus.Failed, (await h.Outbox.GetAsync(id))!.Status); // each tried, none paused
        Assert.Equal(10, refuse.Refused);
    }

    [Fact]
    public async Task A_message_on_its_last_attempt_is_tried_even_while_its_channel_is_paused()
    {
        var h = await HarnessAsync(batchSize: 1, maxInFlight: 4);
        h.Options.Sender.PauseAfterFailures = 2;
        h.Options.Sender.MaxAttempts = 1;
        var (emails, _) = await EmailsAndTextsAsync(h, 10);
        var vendor = new Vendor(h.SandboxTransport(), async (message, _) =>
        {
            await Task.Yield();
            if (message.Channel == ContactChannel.Email) throw new HttpRequestException("relay down", null, System.Net.HttpStatusCode.ServiceUnavailable);
        });

        await h.Sender(vendor).RunOnceAsync(GiveUpAfterAMinute());

        Assert.Equal(10, vendor.Started.Count(emails.Contains)); // the channel was paused after two, yet each was tried
        foreach (var id in emails)
        {
            Assert.Equal(OutboxStatus.Failed, (await h.Outbox.GetAsync(id))!.Status);
            Assert.Equal("failed", Assert.Single(await h.Outbox.AttemptsAsync(id)).Outcome);
        }
    }

    private static async Task<(List<string> Emails, List<string> Texts)> EmailsAndTextsAsync(Harness h, int each)
    {
        var service = h.Service();
        var (emails, texts) = (new List<string>(), new List<string>());
        for (var i = 0; i < each; i++)
        {
            emails.Add((await service.EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder))).MessageId);
            texts.Add((await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder))).MessageId);
        }
        return (emails, texts);
    }

    /// <summary>Refuses every email before reaching a vendor (as a bad address is); sends the rest through the sandbox.</summary>
    private sealed class RefusedHere(IMessageTransport sandbox) : IMessageTransport
    {
        private int _refused;
        public int Refused => _refused;
        public string Name => sandbox.Name;

        public Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            if (message.Channel != ContactChannel.Email) return sandbox.DeliverAsync(message, cancellationToken);
            Interlocked.Increment(ref _refused);
            return Task.FromResult(DeliveryResult.Fail("invalid recipient address"));
        }
    }

    [Fact] public Task Health_is_degraded_once_a_due_message_has_waited_for_a_sender_longer_than_allowed_on_sqlite() => HealthAsync(Db.Sqlite);
    [PostgresFact] public Task Health_is_degraded_once_a_due_message_has_waited_for_a_sender_longer_than_allowed_on_postgres() => HealthAsync(Db.Postgres);

    /// <summary>
    /// A message queued at 15:00:00 waits for a sender; taken at 15:01:01, it waits for nobody; put back for a retry at
    /// 15:11:01 it waits for nobody until then; its sender dying with it leased, it waits again from the lease's end.
    /// </summary>
    private static async Task HealthAsync(Db db)
    {
        var h = await Harness.CreateAsync(db);
        h.Options.Sender.MaxWaitSeconds = 60;
        var check = new OutboxHealthCheck(h.Outbox, Microsoft.Extensions.Options.Options.Create(h.Options), h.Clock);
        async Task<(HealthStatus, object)> Health()
        {
            var result = await check.CheckHealthAsync(new HealthCheckContext());
            return (result.Status, result.Data["oldestWaitSeconds"]);
        }

        Assert.Equal((HealthStatus.Healthy, 0.0), await Health()); // nothing waits
        var queuedAt = h.Clock.GetUtcNow();
        var id = (await EnqueueAsync(h, 1))[0];
        h.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal((HealthStatus.Healthy, 60.0), await Health());
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        var late = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, late.Status);
        Assert.Contains("a due outbox message has waited 61 s for a sender", late.Description, StringComparison.Ordinal);

        Assert.Single(await h.Outbox.ClaimAsync("a", 10, 4, TimeSpan.FromMinutes(1)));
        Assert.Equal((HealthStatus.Healthy, 0.0), await Health()); // being sent
        var now = h.Clock.GetUtcNow();
        await h.Outbox.RecordAttemptAsync("a", new DeliveryAttempt(id, 1, "sandbox", now, now, "retry", null, "http 503"), OutboxStatus.Pending, now.AddMinutes(10));
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal((HealthStatus.Healthy, 0.0), await Health()); // its retry is not due yet

        h.Clock.Advance(TimeSpan.FromSeconds(6 * 60 + 1));
        Assert.Equal((HealthStatus.Degraded, 61.0), await Health()); // due again at 15:11:01
        Assert.Single(await h.Outbox.ClaimAsync("b", 10, 4, TimeSpan.FromMinutes(1))); // and "b" dies with it
        h.Clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal((HealthStatus.Healthy, 30.0), await Health()); // its lease ran out 30 s ago
        Assert.Equal(queuedAt.AddMinutes(13).AddSeconds(2), await h.Outbox.OldestDueAsync(4)); // 15:13:02
        Assert.Equal(OutboxStatus.Sending, (await h.Outbox.GetAsync(id))!.Status);
        Assert.Null(await h.Outbox.OldestDueAsync(2)); // its two allowed attempts spent: no claim takes it, so nothing waits for one
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
        public System.Collections.Concurrent.ConcurrentQueue<string> Started { get; } = new();
        public System.Collections.Concurrent.ConcurrentQueue<string> Sent { get; } = new();
        public string Name => sandbox.Name;

        public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            Started.Enqueue(message.MessageId);
            await first(message, cancellationToken);
            Sent.Enqueue(message.MessageId);
            return await sandbox.DeliverAsync(message, cancellationToken);
        }
    }

    /// <summary>A last look that lets every message go, and keeps which it was asked about.</summary>
    private sealed class CountedLooks : IOutboxSendCheck
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Asked { get; } = new();

        public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            Asked.Enqueue(message.MessageId);
            return Task.FromResult<string?>(null);
        }
    }

    /// <summary>A last look that never answers (a silo that does not respond): says when it was asked.</summary>
    private sealed class StuckCheck(TaskCompletionSource asked) : IOutboxSendCheck
    {
        public async Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            asked.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken); // past the sender's own deadline for it
            return null;
        }
    }
}
