using Collections.Persistence;
using Collections.Domain;
using Collections.TestSupport;

namespace Collections.Outreach.Tests;

/// <summary>The outbox and its sender on real databases: every behaviour on SQLite and on PostgreSQL.</summary>
public sealed class OutboxTests
{
    [Fact] public Task Enqueueing_the_same_message_id_twice_stores_one_message_on_sqlite() => EnqueueTwice(Db.Sqlite);
    [PostgresFact] public Task Enqueueing_the_same_message_id_twice_stores_one_message_on_postgres() => EnqueueTwice(Db.Postgres);
    [Fact] public Task A_message_and_its_payment_link_are_stored_together_and_repeats_keep_the_first_link_on_sqlite() => PayLinkWithMessage(Db.Sqlite);
    [PostgresFact] public Task A_message_and_its_payment_link_are_stored_together_and_repeats_keep_the_first_link_on_postgres() => PayLinkWithMessage(Db.Postgres);
    [Fact] public Task A_payment_link_left_without_its_message_gives_way_to_the_link_the_message_carries_on_sqlite() => OrphanPayLinkReplaced(Db.Sqlite);
    [PostgresFact] public Task A_payment_link_left_without_its_message_gives_way_to_the_link_the_message_carries_on_postgres() => OrphanPayLinkReplaced(Db.Postgres);
    [Fact] public Task A_message_the_database_refuses_leaves_no_payment_link_on_sqlite() => RefusedMessageLeavesNoLink(Db.Sqlite);
    [PostgresFact] public Task A_message_the_database_refuses_leaves_no_payment_link_on_postgres() => RefusedMessageLeavesNoLink(Db.Postgres);
    [Fact] public Task Prepared_messages_are_stored_with_their_links_only_when_the_callers_transaction_commits_on_sqlite() => PreparedInCallersTransaction(Db.Sqlite);
    [PostgresFact] public Task Prepared_messages_are_stored_with_their_links_only_when_the_callers_transaction_commits_on_postgres() => PreparedInCallersTransaction(Db.Postgres);
    [Fact] public Task Concurrent_enqueues_of_one_message_id_store_and_send_one_message_on_sqlite() => EnqueueConcurrently(Db.Sqlite);
    [PostgresFact] public Task Concurrent_enqueues_of_one_message_id_store_and_send_one_message_on_postgres() => EnqueueConcurrently(Db.Postgres);
    [Fact] public Task The_sender_delivers_pending_messages_through_the_sandbox_and_records_them_sent_on_sqlite() => SenderDelivers(Db.Sqlite);
    [PostgresFact] public Task The_sender_delivers_pending_messages_through_the_sandbox_and_records_them_sent_on_postgres() => SenderDelivers(Db.Postgres);
    [Fact] public Task A_collection_message_whose_account_stopped_being_collected_is_cancelled_not_sent_on_sqlite() => SenderRechecks(Db.Sqlite);
    [PostgresFact] public Task A_collection_message_whose_account_stopped_being_collected_is_cancelled_not_sent_on_postgres() => SenderRechecks(Db.Postgres);
    [Fact] public Task A_message_outside_the_persons_hours_waits_for_them_and_one_after_an_opt_out_is_cancelled_on_sqlite() => SenderAsksThePerson(Db.Sqlite);
    [PostgresFact] public Task A_message_outside_the_persons_hours_waits_for_them_and_one_after_an_opt_out_is_cancelled_on_postgres() => SenderAsksThePerson(Db.Postgres);
    [Fact] public Task A_message_whose_last_look_cannot_be_made_is_not_sent_and_is_asked_again_later_on_sqlite() => SenderCannotAsk(Db.Sqlite);
    [Fact] public Task What_became_of_an_accounts_messages_is_read_without_their_texts_on_sqlite() => Fates(Db.Sqlite);
    [PostgresFact] public Task What_became_of_an_accounts_messages_is_read_without_their_texts_on_postgres() => Fates(Db.Postgres);
    [Fact] public Task A_failing_transport_is_retried_with_exponential_back_off_then_succeeds_on_sqlite() => RetriesWithBackoff(Db.Sqlite);
    [PostgresFact] public Task A_failing_transport_is_retried_with_exponential_back_off_then_succeeds_on_postgres() => RetriesWithBackoff(Db.Postgres);
    [Fact] public Task A_message_that_keeps_failing_is_marked_failed_after_max_attempts_on_sqlite() => FailsAfterMaxAttempts(Db.Sqlite);
    [PostgresFact] public Task A_message_that_keeps_failing_is_marked_failed_after_max_attempts_on_postgres() => FailsAfterMaxAttempts(Db.Postgres);
    [Fact] public Task A_permanent_refusal_fails_the_message_without_retrying_on_sqlite() => PermanentRefusal(Db.Sqlite);
    [PostgresFact] public Task A_permanent_refusal_fails_the_message_without_retrying_on_postgres() => PermanentRefusal(Db.Postgres);
    [Fact] public Task A_message_claimed_by_a_dead_sender_is_reclaimed_after_its_lease_and_delivered_once_on_sqlite() => ReclaimAfterLease(Db.Sqlite);
    [PostgresFact] public Task A_message_claimed_by_a_dead_sender_is_reclaimed_after_its_lease_and_delivered_once_on_postgres() => ReclaimAfterLease(Db.Postgres);
    [Fact] public Task A_claim_takes_the_earliest_due_a_batch_at_most_with_an_expired_lease_among_them_on_sqlite() => ClaimsEarliestFirst(Db.Sqlite);
    [PostgresFact] public Task A_claim_takes_the_earliest_due_a_batch_at_most_with_an_expired_lease_among_them_on_postgres() => ClaimsEarliestFirst(Db.Postgres);
    [Fact] public Task A_crash_between_sandbox_delivery_and_recording_leaves_exactly_one_copy_on_sqlite() => CrashAfterDelivery(Db.Sqlite);
    [PostgresFact] public Task A_crash_between_sandbox_delivery_and_recording_leaves_exactly_one_copy_on_postgres() => CrashAfterDelivery(Db.Postgres);
    [Fact] public Task Senders_claiming_at_the_same_time_never_get_the_same_message_on_sqlite() => ConcurrentClaims(Db.Sqlite);
    [PostgresFact] public Task Senders_claiming_at_the_same_time_never_get_the_same_message_on_postgres() => ConcurrentClaims(Db.Postgres);
    [Fact] public Task Attempts_recorded_at_the_same_moment_each_settle_their_own_message_and_one_taken_over_by_another_sender_is_left_alone_on_sqlite() => ConcurrentAttemptRecords(Db.Sqlite);
    [PostgresFact] public Task Attempts_recorded_at_the_same_moment_each_settle_their_own_message_and_one_taken_over_by_another_sender_is_left_alone_on_postgres() => ConcurrentAttemptRecords(Db.Postgres);
    [Fact] public Task A_delivery_record_the_database_refuses_fails_alone_and_those_recorded_with_it_are_stored_once_on_sqlite() => RefusedRecordFailsAlone(Db.Sqlite);
    [PostgresFact] public Task A_delivery_record_the_database_refuses_fails_alone_and_those_recorded_with_it_are_stored_once_on_postgres() => RefusedRecordFailsAlone(Db.Postgres);
    [Fact] public Task A_delivery_whose_record_cannot_be_written_stays_leased_and_the_rest_of_the_batch_is_sent_and_recorded() => UnrecordedDelivery();
    [Fact] public Task Delivery_receipts_update_the_message_status_and_are_kept_on_sqlite() => Receipts(Db.Sqlite);
    [PostgresFact] public Task Delivery_receipts_update_the_message_status_and_are_kept_on_postgres() => Receipts(Db.Postgres);
    [Fact] public Task Saved_templates_are_versioned_and_the_latest_is_used_on_sqlite() => TemplateVersions(Db.Sqlite);
    [PostgresFact] public Task Saved_templates_are_versioned_and_the_latest_is_used_on_postgres() => TemplateVersions(Db.Postgres);
    [Fact] public Task Outbox_queries_filter_by_account_and_status_on_sqlite() => Queries(Db.Sqlite);
    [PostgresFact] public Task Outbox_queries_filter_by_account_and_status_on_postgres() => Queries(Db.Postgres);

    private static async Task EnqueueTwice(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var request = Harness.Request();
        var first = await service.EnqueueAsync(request);
        var second = await service.EnqueueAsync(request with { AmountDue = 999m });

        Assert.Equivalent(first, second, strict: true);
        Assert.Equal(210.00m, second.AmountDue);
        Assert.Equal(OutboxStatus.Pending, first.Status);
        Assert.Single(await h.Outbox.QueryAsync("MAIN", "A1001", null, 100));
    }

    private static async Task PayLinkWithMessage(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var request = Harness.Request();
        // Sixteen at once, then one more: one message, one link, and the link is the one the stored message carries.
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => h.ServiceWithPayLinks().EnqueueAsync(request))));
        var again = await h.ServiceWithPayLinks().EnqueueAsync(request with { AmountDue = 999m });

        var stored = Assert.Single(await h.Outbox.QueryAsync("MAIN", "A1001", null, 100));
        Assert.All(results.Append(again), r => Assert.Equal(stored.Body, r.Body));
        var link = await h.PayLinks.FindByMessageAsync(request.MessageId);
        Assert.NotNull(link);
        Assert.Contains(link.Url, stored.Body, StringComparison.Ordinal);
        Assert.Equal("G100", await h.PayLinks.GuarantorAsync(link.Code));
        Assert.Equal(1L, await LinkCountAsync(h.Database, request.MessageId));
    }

    private static async Task OrphanPayLinkReplaced(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var request = Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder);
        // Before a link and its message shared a transaction, the link went in first: a failure between the two left it alone.
        var orphan = await h.PayLinks.IssueAsync("G100");
        await using (var connection = await h.Database.OpenAsync())
            await connection.Command("INSERT INTO portal_link (code, guarantor_id, message_id, created_at, expires_at) VALUES (@c, 'G100', @m, @at, @until)")
                .WithParameter("c", orphan.Code).WithParameter("m", request.MessageId).WithParameter("at", orphan.IssuedAt.ToUnixTimeSeconds())
                .WithParameter("until", orphan.ExpiresAt.ToUnixTimeSeconds()).ExecuteNonQueryAsync();

        var message = await h.ServiceWithPayLinks().EnqueueAsync(request);

        var link = await h.PayLinks.FindByMessageAsync(request.MessageId);
        Assert.NotNull(link);
        Assert.NotEqual(orphan.Code, link.Code);
        Assert.Contains(link.Url, message.Body, StringComparison.Ordinal);
        Assert.Null(await h.PayLinks.GuarantorAsync(orphan.Code)); // never sent to anyone, and no longer opens anything
        Assert.Equal(1L, await LinkCountAsync(h.Database, request.MessageId));
    }

    private static async Task RefusedMessageLeavesNoLink(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var request = Harness.Request();
        // The database refuses every new outbox row (a trigger), as it would a row it cannot take.
        await using (var connection = await h.Database.OpenAsync())
            await connection.Command(db == Db.Sqlite
                    ? "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outreach_outbox BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    : "CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; "
                      + "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outreach_outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()")
                .ExecuteNonQueryAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => h.ServiceWithPayLinks().EnqueueAsync(request));

        Assert.Null(await h.Outbox.GetAsync(request.MessageId));
        Assert.Equal(0L, await LinkCountAsync(h.Database, request.MessageId)); // no link names a message that was never stored
    }

    private static async Task PreparedInCallersTransaction(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.ServiceWithPayLinks();
        var rolledBack = (await service.PrepareAsync(Harness.Request() with { MessageId = "MAIN/A1001/rolled-back" }))!;
        var committed = (await service.PrepareAsync(Harness.Request() with { MessageId = "MAIN/A1001/committed" }))!;
        var repeat = (await service.PrepareAsync(Harness.Request() with { MessageId = "MAIN/A1001/committed" }))!;
        Assert.NotNull(rolledBack.PayLink);

        // The caller's transaction (a guarantor's contact) fails after the message went in: neither it nor its link stays.
        await using (var connection = await h.Database.OpenAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await h.Outbox.AddInTransactionAsync(connection, transaction, [rolledBack]);
            Assert.True(rolledBack.Created);
            await transaction.RollbackAsync();
        }
        Assert.Null(await h.Outbox.GetAsync(rolledBack.Message.MessageId));
        Assert.Equal(0L, await LinkCountAsync(h.Database, rolledBack.Message.MessageId));

        // Committed: the message and the link its body carries. A repeat in a later transaction adds nothing.
        foreach (var prepared in new[] { committed, repeat })
        {
            await using var connection = await h.Database.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await h.Outbox.AddInTransactionAsync(connection, transaction, [prepared]);
            await transaction.CommitAsync();
        }
        Assert.True(committed.Created);
        Assert.False(repeat.Created);
        var stored = await h.Outbox.GetAsync(committed.Message.MessageId);
        Assert.NotNull(stored);
        var link = await h.PayLinks.FindByMessageAsync(committed.Message.MessageId);
        Assert.Equal(committed.PayLink!.Code, link!.Code);
        Assert.Contains(link.Url, stored.Body, StringComparison.Ordinal);
        Assert.Equal(1L, await LinkCountAsync(h.Database, committed.Message.MessageId));
    }

    private static async Task<long> LinkCountAsync(DatabaseOptions database, string messageId)
    {
        await using var connection = await database.OpenAsync();
        return Convert.ToInt64(await connection.Command("SELECT COUNT(*) FROM portal_link WHERE message_id = @m").WithParameter("m", messageId).ExecuteScalarAsync());
    }

    private static async Task EnqueueConcurrently(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var request = Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => h.Service().EnqueueAsync(request))));

        Assert.All(results, r => Assert.Equal(request.MessageId, r.MessageId));
        Assert.Single(await h.Outbox.QueryAsync("MAIN", "A1001", null, 100));
        await h.Sender().RunOnceAsync();
        Assert.Equal(1, await h.Sandbox.CountAsync(request.MessageId));
    }

    private sealed class PaidAccounts : IOutboxSendCheck
    {
        public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken) => Task.FromResult<string?>("the patient owes nothing");
    }

    private static async Task SenderRechecks(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var reminder = await service.EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        var confirmation = await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.OptOutConfirmation));

        Assert.Equal(2, await h.Sender(check: new PaidAccounts()).RunOnceAsync());

        var stored = (await h.Outbox.GetAsync(reminder.MessageId))!;
        Assert.Equal(OutboxStatus.Cancelled, stored.Status);
        Assert.Contains("owes nothing", stored.LastError, StringComparison.Ordinal);
        Assert.Null(await h.Sandbox.GetAsync(reminder.MessageId, withPdf: false));
        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(confirmation.MessageId))!.Status); // not a collection message
    }

    /// <summary>The person as the guarantor grain would answer: out of hours for email until ten hours from now, opted out of texts.</summary>
    private sealed class PersonChanged(DateTimeOffset hoursStart) : IOutboxSendCheck
    {
        public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

        public Task<Domain.Compliance.GateDecision> PersonCheckAsync(OutboxMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(message.Channel == ContactChannel.Sms
                ? Domain.Compliance.GateDecision.Deny("channel.opted-out", "The guarantor opted out of texts after the message was queued.")
                : message.Channel == ContactChannel.Email && Now < hoursStart
                    ? Domain.Compliance.GateDecision.Defer("window.local-time", "Outside the person's hours now.", hoursStart)
                    : Domain.Compliance.GateDecision.Allowed);

        public DateTimeOffset Now { get; set; }
    }

    private static async Task SenderAsksThePerson(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var email = await service.EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        var sms = await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        var eightAm = h.Clock.GetUtcNow().AddHours(10);
        var person = new PersonChanged(eightAm) { Now = h.Clock.GetUtcNow() };
        var sender = h.Sender(check: person);

        Assert.Equal(2, await sender.RunOnceAsync());
        var waiting = (await h.Outbox.GetAsync(email.MessageId))!;
        Assert.Equal((OutboxStatus.Pending, eightAm, 0), (waiting.Status, waiting.NextAttemptAt, waiting.Attempts)); // nothing tried: the attempt is given back
        Assert.Null(await h.Sandbox.GetAsync(email.MessageId, withPdf: false));
        var cancelled = (await h.Outbox.GetAsync(sms.MessageId))!;
        Assert.Equal(OutboxStatus.Cancelled, cancelled.Status);
        Assert.Contains("channel.opted-out", cancelled.LastError, StringComparison.Ordinal); // the rule's code, not its reason (which may quote what staff typed)
        Assert.Null(await h.Sandbox.GetAsync(sms.MessageId, withPdf: false));

        Assert.Equal(0, await sender.RunOnceAsync()); // not due before the person's hours
        h.Clock.Advance(TimeSpan.FromHours(10));
        person.Now = h.Clock.GetUtcNow();
        Assert.Equal(1, await sender.RunOnceAsync());
        var sent = (await h.Outbox.GetAsync(email.MessageId))!;
        Assert.Equal((OutboxStatus.Sent, 1), (sent.Status, sent.Attempts));
        Assert.Equal(OutboxStatus.Cancelled, (await h.Outbox.GetAsync(sms.MessageId))!.Status);
    }

    private static async Task Fates(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var letter = await service.EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.FinalNotice));
        var email = await service.EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        await h.Sender().RunOnceAsync();
        Assert.True(await h.Outbox.RecordReceiptAsync(new DeliveryReceipt(letter.MessageId, ReceiptStatus.Bounced, null, h.Clock.GetUtcNow())));

        var fates = await h.Outbox.FatesAsync("MAIN", "A1001");
        Assert.Equal(2, fates.Count);
        var notice = fates.Single(f => f.Action == OutreachAction.FinalNotice);
        Assert.Equal((ContactChannel.Mail, OutboxStatus.Bounced), (notice.Channel, notice.Status));
        var reminder = fates.Single(f => f.Action == OutreachAction.EmailReminder);
        Assert.Equal((OutboxStatus.Sent, h.Clock.GetUtcNow()), (reminder.Status, reminder.SentAt));
        Assert.Equal(email.CreatedAt, reminder.CreatedAt);
        Assert.Empty(await h.Outbox.FatesAsync("MAIN", "NOT-THERE"));
    }

    private sealed class Unreachable : IOutboxSendCheck
    {
        public Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken) => throw new TimeoutException("the account did not answer");
    }

    private static async Task SenderCannotAsk(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var email = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        Assert.Equal(1, await h.Sender(check: new Unreachable()).RunOnceAsync());
        var waiting = (await h.Outbox.GetAsync(email.MessageId))!;
        Assert.Equal((OutboxStatus.Pending, 0), (waiting.Status, waiting.Attempts));
        Assert.True(waiting.NextAttemptAt > h.Clock.GetUtcNow());
        Assert.Null(await h.Sandbox.GetAsync(email.MessageId, withPdf: false));
    }

    private static async Task SenderDelivers(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var email = await service.EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        var sms = await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        var letter = await service.EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement));

        Assert.Equal(3, await h.Sender().RunOnceAsync());

        foreach (var m in new[] { email, sms, letter })
        {
            var stored = await h.Outbox.GetAsync(m.MessageId);
            Assert.True(stored!.Status == OutboxStatus.Sent, $"{m.Channel}: {stored.Status} {stored.LastError}");
            Assert.Equal(1, stored.Attempts);
            Assert.Equal("sandbox:" + m.MessageId, stored.ProviderMessageId);
            Assert.Equal(h.Clock.GetUtcNow(), stored.SentAt);
            var delivered = await h.Sandbox.GetAsync(m.MessageId, withPdf: true);
            Assert.Equal(m.Body, delivered!.Body);
            Assert.Equal(m.Channel == ContactChannel.Mail, delivered.Pdf is not null);
            var attempt = Assert.Single(await h.Outbox.AttemptsAsync(m.MessageId));
            Assert.Equal("sent", attempt.Outcome);
        }
        Assert.Equal("5125550100", (await h.Sandbox.GetAsync(sms.MessageId, false))!.Recipient);
        Assert.Equal(0, await h.Sender().RunOnceAsync());
    }

    private static async Task RetriesWithBackoff(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var message = await h.Service().EnqueueAsync(Harness.Request());
        var flaky = new FlakyTransport(h.SandboxTransport(), failures: 2);
        var sender = h.Sender(flaky);

        await sender.RunOnceAsync();
        var afterFirst = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Pending, afterFirst!.Status);
        Assert.Equal("http 503", afterFirst.LastError);
        Assert.Equal(h.Clock.GetUtcNow().AddSeconds(30), afterFirst.NextAttemptAt);

        await sender.RunOnceAsync();                       // not due yet
        Assert.Equal(1, flaky.Calls);
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        await sender.RunOnceAsync();
        var afterSecond = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(h.Clock.GetUtcNow().AddSeconds(60), afterSecond!.NextAttemptAt);   // twice the wait

        h.Clock.Advance(TimeSpan.FromSeconds(60));
        await sender.RunOnceAsync();
        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Sent, sent!.Status);
        Assert.Equal(3, sent.Attempts);
        Assert.Null(sent.LastError);
        Assert.Equal(["retry", "retry", "sent"], (await h.Outbox.AttemptsAsync(message.MessageId)).Select(a => a.Outcome));
        Assert.Equal(1, await h.Sandbox.CountAsync(message.MessageId));
    }

    private static async Task FailsAfterMaxAttempts(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var message = await h.Service().EnqueueAsync(Harness.Request());
        var flaky = new FlakyTransport(h.SandboxTransport(), failures: 100);
        var sender = h.Sender(flaky);
        for (var i = 0; i < 10; i++)
        {
            await sender.RunOnceAsync();
            h.Clock.Advance(TimeSpan.FromMinutes(10));
        }
        var failed = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Failed, failed!.Status);
        Assert.Equal(h.Options.Sender.MaxAttempts, failed.Attempts);
        Assert.Equal(h.Options.Sender.MaxAttempts, flaky.Calls);
        Assert.Equal("http 503", failed.LastError);
        Assert.Equal(0, await h.Sandbox.CountAsync(message.MessageId));
    }

    private static async Task PermanentRefusal(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        var refusing = new FlakyTransport(h.SandboxTransport(), failures: 100, permanent: true);
        await h.Sender(refusing).RunOnceAsync();
        h.Clock.Advance(TimeSpan.FromHours(1));
        await h.Sender(refusing).RunOnceAsync();
        var failed = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Failed, failed!.Status);
        Assert.Equal(1, refusing.Calls);
        Assert.Equal("http 400", failed.LastError);
    }

    private static async Task ReclaimAfterLease(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.Letter));
        // A sender claims it and dies before delivering anything.
        var claimed = await h.Outbox.ClaimAsync("dead-sender", 10, h.Options.Sender.MaxAttempts, TimeSpan.FromSeconds(60));
        Assert.Equal(message.MessageId, Assert.Single(claimed).MessageId);

        var sender = h.Sender();
        Assert.Equal(0, await sender.RunOnceAsync());       // still leased: nobody else touches it
        Assert.Equal(OutboxStatus.Sending, (await h.Outbox.GetAsync(message.MessageId))!.Status);

        h.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(1, await sender.RunOnceAsync());
        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Sent, sent!.Status);
        Assert.Equal(2, sent.Attempts);
        Assert.Equal(1, await h.Sandbox.CountAsync(message.MessageId));

        // The dead sender, coming back, cannot overwrite the outcome.
        Assert.False(await h.Outbox.RecordAttemptAsync("dead-sender",
            new DeliveryAttempt(message.MessageId, 1, "sandbox", h.Clock.GetUtcNow(), h.Clock.GetUtcNow(), "retry", null, "timeout"),
            OutboxStatus.Pending, h.Clock.GetUtcNow()));
        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(message.MessageId))!.Status);
    }

    private static async Task ClaimsEarliestFirst(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var messages = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            messages.Add((await service.EnqueueAsync(Harness.Request())).MessageId);
            h.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        // The earliest is claimed by a sender that dies; its lease runs out.
        Assert.Equal(messages[0], Assert.Single(await h.Outbox.ClaimAsync("dead-sender", 1, 5, TimeSpan.FromSeconds(60))).MessageId);
        h.Clock.Advance(TimeSpan.FromSeconds(61));

        var claimed = await h.Outbox.ClaimAsync("sender", 3, 5, TimeSpan.FromSeconds(60));

        Assert.Equal(messages.Take(3).Order(), claimed.Select(m => m.MessageId).Order());
        Assert.Equal(2, claimed.Single(m => m.MessageId == messages[0]).Attempts);
        Assert.Equal(3, (await h.Outbox.ClaimAsync("sender", 10, 5, TimeSpan.FromSeconds(60))).Count); // the rest, then none
        Assert.Empty(await h.Outbox.ClaimAsync("sender", 10, 5, TimeSpan.FromSeconds(60)));
    }

    private static async Task CrashAfterDelivery(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        // A sender claims it, delivers it to the sandbox, and crashes before recording the outcome.
        var claimed = Assert.Single(await h.Outbox.ClaimAsync("crashed-sender", 10, h.Options.Sender.MaxAttempts, TimeSpan.FromSeconds(60)));
        Assert.True((await h.SandboxTransport().DeliverAsync(claimed, CancellationToken.None)).Delivered);

        h.Clock.Advance(TimeSpan.FromSeconds(61));
        await h.Sender().RunOnceAsync();

        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(message.MessageId))!.Status);
        Assert.Equal(1, await h.Sandbox.CountAsync(message.MessageId));
        Assert.Single(await h.Sandbox.QueryAsync("5125550100", null, null, 100), m => m.MessageId == message.MessageId);
    }

    private static async Task ConcurrentClaims(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        for (var i = 0; i < 30; i++) await service.EnqueueAsync(Harness.Request());
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(n =>
            Task.Run(async () =>
            {
                var mine = new List<string>();
                while (true)
                {
                    var batch = await h.Outbox.ClaimAsync($"sender-{n}", 3, 5, TimeSpan.FromSeconds(60));
                    if (batch.Count == 0) return mine;
                    mine.AddRange(batch.Select(m => m.MessageId));
                }
            })));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(30, all.Count);
        Assert.Equal(30, all.Distinct().Count());
    }

    /// <summary>
    /// A sender records its batch's attempts in parallel, and those that end together share one transaction: each
    /// message still ends as its own attempt says (sent, retry without a vendor id, failed, cancelled), and the record
    /// of a message another sender took over after the lease ran out is logged as lease-lost and moves nothing.
    /// </summary>
    private static async Task ConcurrentAttemptRecords(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        for (var i = 0; i < 40; i++) await service.EnqueueAsync(Harness.Request());
        var outbox = h.Outbox; // one store: its records group
        var mine = await outbox.ClaimAsync("sender", 40, 5, TimeSpan.FromSeconds(60));
        Assert.Equal(40, mine.Count);
        h.Clock.Advance(TimeSpan.FromSeconds(61)); // the sender is slow: its leases run out and another sender takes one over
        var taken = Assert.Single(await outbox.ClaimAsync("other", 1, 5, TimeSpan.FromSeconds(60)));
        var takenAt = mine.ToList().FindIndex(m => m.MessageId == taken.MessageId);
        var now = h.Clock.GetUtcNow();
        var retryAt = now.AddMinutes(10);
        (OutboxStatus Status, string Outcome) Planned(int i) => (i % 4) switch
        {
            0 => (OutboxStatus.Sent, "sent"),
            1 => (OutboxStatus.Pending, "retry"),
            2 => (OutboxStatus.Failed, "failed"),
            _ => (OutboxStatus.Cancelled, "cancelled"),
        };
        var held = await Task.WhenAll(mine.Select((m, i) => Task.Run(() =>
        {
            var (status, outcome) = Planned(i);
            return outbox.RecordAttemptAsync("sender",
                new DeliveryAttempt(m.MessageId, 1, "sandbox", now, now, outcome, status == OutboxStatus.Sent ? $"vendor-{i}" : null, status == OutboxStatus.Sent ? null : $"error {i}"),
                status, status == OutboxStatus.Pending ? retryAt : null);
        })));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => i != takenAt), held);
        for (var i = 0; i < 40; i++)
        {
            var stored = (await outbox.GetAsync(mine[i].MessageId))!;
            var (status, outcome) = Planned(i);
            if (i == takenAt)
            {
                Assert.Equal(OutboxStatus.Sending, stored.Status); // the other sender's now
                Assert.Equal(outcome + ":lease-lost", Assert.Single(await outbox.AttemptsAsync(mine[i].MessageId)).Outcome);
                continue;
            }
            Assert.Equal(status, stored.Status);
            Assert.Equal(status == OutboxStatus.Sent ? $"vendor-{i}" : null, stored.ProviderMessageId);
            Assert.Equal(status == OutboxStatus.Sent ? null : $"error {i}", stored.LastError);
            Assert.Equal(status == OutboxStatus.Pending ? h.Database.AsStored(retryAt) : null, stored.NextAttemptAt);
            Assert.Equal(outcome, Assert.Single(await outbox.AttemptsAsync(mine[i].MessageId)).Outcome);
        }
    }

    /// <summary>
    /// One record of a group the database refuses (here a transport missing, which the attempts' log requires) fails
    /// that sender's call alone: the group is committed again one by one, and every other record is stored once.
    /// </summary>
    private static async Task RefusedRecordFailsAlone(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        for (var i = 0; i < 20; i++) await service.EnqueueAsync(Harness.Request());
        var outbox = h.Outbox;
        var mine = await outbox.ClaimAsync("sender", 20, 5, TimeSpan.FromSeconds(60));
        var now = h.Clock.GetUtcNow();
        var records = mine.Select((m, i) => Task.Run(() => outbox.RecordAttemptAsync("sender",
            new DeliveryAttempt(m.MessageId, 1, i == 7 ? null! : "sandbox", now, now, "sent", $"vendor-{i}", null), OutboxStatus.Sent, null))).ToList();

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => records[7]);
        for (var i = 0; i < 20; i++)
            if (i != 7) Assert.True(await records[i]);
        for (var i = 0; i < 20; i++)
        {
            var stored = (await outbox.GetAsync(mine[i].MessageId))!;
            if (i == 7)
            {
                Assert.Equal(OutboxStatus.Sending, stored.Status); // nothing of it stored: it goes again after its lease
                Assert.Empty(await outbox.AttemptsAsync(mine[i].MessageId));
                continue;
            }
            Assert.Equal(OutboxStatus.Sent, stored.Status);
            Assert.Single(await outbox.AttemptsAsync(mine[i].MessageId));
        }
    }

    /// <summary>
    /// The database fails one delivery's record (its lease is then the only record of it): the sender goes on with the
    /// rest of its batch rather than abandoning the deliveries under way, and that message goes again after its lease.
    /// </summary>
    private static async Task UnrecordedDelivery()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var service = h.Service();
        var ids = new List<string>();
        for (var i = 0; i < 6; i++) ids.Add((await service.EnqueueAsync(Harness.Request())).MessageId);
        var store = new FailingRecords(h.Outbox, ids[2]);
        var transport = h.SandboxTransport();
        var options = Microsoft.Extensions.Options.Options.Create(h.Options);
        h.Options.Transports.Email = h.Options.Transports.Sms = h.Options.Transports.Mail = transport.Name;
        var sender = new OutboxSender(store, new TransportRouter([transport], options), options, h.Signal, h.Clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxSender>.Instance);

        Assert.Equal(6, await sender.RunOnceAsync());

        for (var i = 0; i < 6; i++)
            Assert.Equal(i == 2 ? OutboxStatus.Sending : OutboxStatus.Sent, (await h.Outbox.GetAsync(ids[i]))!.Status);
        h.Clock.Advance(TimeSpan.FromSeconds(h.Options.Sender.LeaseSeconds + 1));
        store.Failing = null;
        Assert.Equal(1, await sender.RunOnceAsync());
        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(ids[2]))!.Status);
        Assert.Equal(1, await h.Sandbox.CountAsync(ids[2])); // the sandbox, like a vendor, keeps one copy per message id
    }

    /// <summary>The outbox, but the record of one message's attempt fails as a database outage would.</summary>
    private sealed class FailingRecords(IOutboxStore inner, string? failing) : DelegatingOutboxStore(inner)
    {
        public string? Failing { get; set; } = failing;
        public override Task<bool> RecordAttemptAsync(string owner, DeliveryAttempt attempt, OutboxStatus status, DateTimeOffset? nextAttemptAt, bool givesAttemptBack = false,
            CancellationToken cancellationToken = default) =>
            attempt.MessageId == Failing ? throw new TimeoutException("the database did not answer")
                : base.RecordAttemptAsync(owner, attempt, status, nextAttemptAt, givesAttemptBack, cancellationToken);
    }

    private static async Task Receipts(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var a = await service.EnqueueAsync(Harness.Request());
        var b = await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await h.Sender().RunOnceAsync();

        Assert.True(await h.Outbox.RecordReceiptAsync(new DeliveryReceipt(a.MessageId, ReceiptStatus.Delivered, "vendor-1", h.Clock.GetUtcNow())));
        Assert.True(await h.Outbox.RecordReceiptAsync(new DeliveryReceipt(b.MessageId, ReceiptStatus.Bounced, null, h.Clock.GetUtcNow())));
        Assert.False(await h.Outbox.RecordReceiptAsync(new DeliveryReceipt("no-such-message", ReceiptStatus.Delivered, null, h.Clock.GetUtcNow())));

        Assert.Equal(OutboxStatus.Delivered, (await h.Outbox.GetAsync(a.MessageId))!.Status);
        var bounced = await h.Outbox.GetAsync(b.MessageId);
        Assert.Equal(OutboxStatus.Bounced, bounced!.Status);
        Assert.Equal("receipt: bounced", bounced.LastError);
        // A late "delivered" does not undo a bounce.
        await h.Outbox.RecordReceiptAsync(new DeliveryReceipt(b.MessageId, ReceiptStatus.Delivered, null, h.Clock.GetUtcNow()));
        Assert.Equal(OutboxStatus.Bounced, (await h.Outbox.GetAsync(b.MessageId))!.Status);
    }

    private static async Task TemplateVersions(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var store = h.Templates;
        Assert.Equal(0, (await store.GetCurrentAsync(ContactChannel.Sms, OutreachAction.SmsReminder))!.Version);

        var (v1, errors1) = await store.SaveAsync(ContactChannel.Sms, OutreachAction.SmsReminder, null,
            "{{facility.name}}: please pay {{amountDue}} at {{payUrl}}. Help: {{assistancePhone}}. Reply STOP to stop texts.", "key-1");
        Assert.Empty(errors1);
        var (v2, _) = await store.SaveAsync(ContactChannel.Sms, OutreachAction.SmsReminder, null,
            "{{facility.name}} bill: {{amountDue}}. Pay {{payUrl}} or {{payPhone}}. Help paying: {{assistancePhone}}. Reply STOP to stop texts.", "key-2");
        Assert.Equal(1, v1!.Version);
        Assert.Equal(2, v2!.Version);

        var (refused, errors) = await store.SaveAsync(ContactChannel.Sms, OutreachAction.SmsReminder, null, "Pay {{amountDue}} now {{balance}}", "key-3");
        Assert.Null(refused);
        Assert.Contains(errors, e => e.Code == "template.placeholder.unknown" && e.Message.Contains("{{balance}}", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Code == "template.opt-out.missing");

        var current = await store.ListCurrentAsync();
        Assert.Equal(DefaultTemplates.All.Count, current.Count);
        Assert.Equal(2, current.Single(t => t.Channel == ContactChannel.Sms && t.Action == OutreachAction.SmsReminder).Version);

        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        Assert.Equal(2, message.TemplateVersion);
        Assert.Equal("sms/smsReminder", message.TemplateId);
        Assert.Equal("Riverside Hospital bill: $210.00. Pay https://pay.riverside.example or 800-555-0100. Help paying: 800-555-0101. Reply STOP to stop texts.", message.Body);
    }

    private static async Task Queries(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var service = h.Service();
        var mine = await service.EnqueueAsync(Harness.Request());
        await service.EnqueueAsync(Harness.Request() with { AccountNumber = "B2002" });
        await h.Sender().RunOnceAsync();
        var pending = await service.EnqueueAsync(Harness.Request());

        var account = await h.Outbox.QueryAsync("MAIN", "A1001", null, 100);
        Assert.Equal([pending.MessageId, mine.MessageId], account.Select(m => m.MessageId));
        Assert.Equal(pending.MessageId, Assert.Single(await h.Outbox.QueryAsync("MAIN", "A1001", OutboxStatus.Pending, 100)).MessageId);
        Assert.Equal(3, (await h.Outbox.QueryAsync(null, null, null, 100)).Count);
        var read = await h.Outbox.GetAsync(mine.MessageId);
        Assert.Equal(mine.StatementLines, read!.StatementLines);
        Assert.Equal(new DateOnly(2026, 12, 23), read.DueDate);
        Assert.Equal("cadence-v3", read.PolicyReference);
    }
}
