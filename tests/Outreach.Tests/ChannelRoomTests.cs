using Collections.Domain;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Outreach.Tests;

/// <summary>
/// A channel whose transport takes few messages at once (an SMTP relay that allows a few connections) gets no more of
/// the sender's places than that: its backlog does not hold up the other channels' messages due after it.
/// </summary>
public sealed class ChannelRoomTests
{
    [Fact] public Task A_claim_takes_no_more_of_a_channel_than_its_room_and_the_other_channels_due_after_it_on_sqlite() => ClaimWithRooms(Db.Sqlite);
    [PostgresFact] public Task A_claim_takes_no_more_of_a_channel_than_its_room_and_the_other_channels_due_after_it_on_postgres() => ClaimWithRooms(Db.Postgres);
    [Fact] public Task Texts_due_behind_a_backlog_of_emails_go_while_the_emails_wait_for_the_relays_few_connections_on_sqlite() => TextsPassEmails(Db.Sqlite);
    [PostgresFact] public Task Texts_due_behind_a_backlog_of_emails_go_while_the_emails_wait_for_the_relays_few_connections_on_postgres() => TextsPassEmails(Db.Postgres);

    [Fact] public Task A_claim_held_to_channel_rooms_reads_each_channel_from_its_own_index_range_on_sqlite() => ChannelClaimPlan(Db.Sqlite);
    [PostgresFact] public Task A_claim_held_to_channel_rooms_reads_each_channel_from_its_own_index_range_on_postgres() => ChannelClaimPlan(Db.Postgres);

    private static async Task ChannelClaimPlan(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        await EnqueueAsync(h, service, ContactChannel.Email, OutreachAction.EmailReminder, 100);
        await EnqueueAsync(h, service, ContactChannel.Sms, OutreachAction.SmsReminder, 5);
        await using var connection = await h.Database.OpenAsync();
        // 4,200 messages, a backlog of emails ahead of a few texts, half of them sent long ago; statistics as a server keeps them.
        const string columns = "channel, action, facility, account_number, guarantor_id, recipient_name, recipient, amount_due, due_date, statement_lines, " +
                               "policy_reference, subject, body, template_id, template_version, status, attempts, next_attempt_at, created_at, updated_at";
        await using (var copies = connection.Command(
                         $"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 40) " +
                         $"INSERT INTO outreach_outbox (message_id, {columns}) SELECT message_id || '-' || g.n, {columns} FROM outreach_outbox, g"))
            await copies.ExecuteNonQueryAsync();
        await using (var sent = connection.Command("UPDATE outreach_outbox SET status = 'sent', next_attempt_at = NULL WHERE id % 2 = 0"))
            await sent.ExecuteNonQueryAsync();
        await using (var analyze = connection.Command("ANALYZE")) await analyze.ExecuteNonQueryAsync();

        var postgres = db == Db.Postgres;
        var sql = SqlOutboxStore.ClaimSql(postgres, SqlOutboxStore.ChannelIds(postgres, TransportRouter.SentChannels));
        await using var explain = connection.Command((postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql);
        explain.WithParameter("owner", "a").WithParameter("lease_until", h.Database.Timestamp(h.Clock.GetUtcNow().AddMinutes(1)))
            .WithParameter("now", h.Database.Timestamp(h.Clock.GetUtcNow())).WithParameter("max_attempts", 5).WithParameter("batch", 32);
        for (var i = 0; i < TransportRouter.SentChannels.Count; i++) explain.WithParameter($"room{i}", i == 1 ? 2 : 32);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(postgres ? 0 : 3));

        // The channels behind the backlog are read from their own range; the backlog's own channel may be read from either
        // index (its first rows are the earliest due).
        var text = string.Join("\n", plan);
        if (postgres)
        {
            Assert.Contains("Index Cond: ((channel = 'Sms'::text)", text, StringComparison.Ordinal);
            Assert.Contains("Index Cond: ((channel = 'Mail'::text)", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(plan.Count(line => line.Contains("USING INDEX ix_outreach_outbox_pending_channel", StringComparison.Ordinal)) >= 2, text);
        }
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan on outreach_outbox", StringComparison.Ordinal) || line.StartsWith("SCAN outreach_outbox", StringComparison.Ordinal));
    }

    private static async Task ClaimWithRooms(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var emails = await EnqueueAsync(h, service, ContactChannel.Email, OutreachAction.EmailReminder, 6, oneSecondApart: true);
        var texts = await EnqueueAsync(h, service, ContactChannel.Sms, OutreachAction.SmsReminder, 2);
        var letter = (await service.EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement))).MessageId;
        var lease = TimeSpan.FromSeconds(60);

        var claimed = await h.Outbox.ClaimAsync("sender", 5, 5, lease, new Dictionary<ContactChannel, int> { [ContactChannel.Email] = 2 });

        Assert.Equal(emails.Take(2).Concat(texts).Append(letter).Order(), claimed.Select(m => m.MessageId).Order());
        // The channel's room is full: the next claim takes none of it, and nothing else is due.
        Assert.Empty(await h.Outbox.ClaimAsync("sender", 5, 5, lease, new Dictionary<ContactChannel, int> { [ContactChannel.Email] = 0 }));
        // A room larger than the batch takes at most the batch; with no rooms, a claim takes the earliest due as before.
        var more = await h.Outbox.ClaimAsync("sender", 3, 5, lease, new Dictionary<ContactChannel, int> { [ContactChannel.Email] = 50 });
        Assert.Equal(emails.Skip(2).Take(3).Order(), more.Select(m => m.MessageId).Order());
        Assert.Equal([emails[5]], (await h.Outbox.ClaimAsync("sender", 10, 5, lease)).Select(m => m.MessageId));
    }

    private static async Task TextsPassEmails(Db db)
    {
        var h = await Harness.CreateAsync(db);
        h.Options.Sender.MaxInFlight = 8;
        h.Options.Sender.BatchSize = 1;
        var service = h.Service();
        var emails = await EnqueueAsync(h, service, ContactChannel.Email, OutreachAction.EmailReminder, 10, oneSecondApart: true);
        var texts = await EnqueueAsync(h, service, ContactChannel.Sms, OutreachAction.SmsReminder, 3);

        var relay = new Relay(connections: 2);
        var sandbox = h.SandboxTransport();
        h.Options.Transports.Email = relay.Name;
        h.Options.Transports.Sms = h.Options.Transports.Mail = sandbox.Name;
        var options = Microsoft.Extensions.Options.Options.Create(h.Options);
        var sender = new OutboxSender(h.Outbox, new TransportRouter([relay, sandbox], options), options, h.Signal, h.Clock, NullLogger<OutboxSender>.Instance);

        var run = sender.RunOnceAsync();
        // The texts go while the emails at the relay are held: the emails waiting for it took no place of theirs.
        foreach (var text in texts) await SentAsync(h, text, run);
        Assert.Equal(2, relay.AtOnce);
        Assert.Equal(2, relay.MostAtOnce);

        relay.Answer();
        Assert.Equal(13, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        foreach (var email in emails) Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(email))!.Status);
        Assert.Equal(2, relay.MostAtOnce);
        Assert.Equal(10, relay.Delivered);
    }

    /// <summary>Queues <paramref name="count"/> messages of a channel (a second apart on the clock, when asked) and returns their ids.</summary>
    private static async Task<List<string>> EnqueueAsync(Harness h, OutreachService service, ContactChannel channel, OutreachAction action, int count, bool oneSecondApart = false)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await service.EnqueueAsync(Harness.Request(channel, action))).MessageId);
            if (oneSecondApart) h.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        return ids;
    }

    private static async Task SentAsync(Harness h, string messageId, Task run)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await h.Outbox.GetAsync(messageId))!.Status != OutboxStatus.Sent)
        {
            if (run.IsCompleted) await run; // a failure says why
            if (DateTime.UtcNow > deadline) Assert.Fail("The text was not sent while the emails waited for the relay.");
            await Task.Delay(20);
        }
    }

    /// <summary>An SMTP relay that allows <paramref name="connections"/> at once and holds each message until told to answer.</summary>
    private sealed class Relay(int connections) : IMessageTransport
    {
        private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _atOnce, _mostAtOnce, _delivered;

        public string Name => "relay";
        public int? MaxConcurrent => connections;
        public int AtOnce => Volatile.Read(ref _atOnce);
        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);
        public int Delivered => Volatile.Read(ref _delivered);

        public void Answer() => _answer.TrySetResult();

        public async Task<DeliveryResult> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _atOnce);
            for (var most = _mostAtOnce; now > most; most = _mostAtOnce)
                if (Interlocked.CompareExchange(ref _mostAtOnce, now, most) == most) break;
            try
            {
                await _answer.Task.WaitAsync(cancellationToken);
                Interlocked.Increment(ref _delivered);
                return DeliveryResult.Ok("relay:" + message.MessageId);
            }
            finally
            {
                Interlocked.Decrement(ref _atOnce);
            }
        }
    }
}
