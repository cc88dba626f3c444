using Collections.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>Asked before a collection message goes out: a reason not to send it now (the account stopped being collected), or null.</summary>
public interface IOutboxSendCheck
{
    Task<string?> ReasonNotToSendAsync(OutboxMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Asked before any message goes (receipts too): whether the person's channel is still open and it is within their
    /// hours now. Deny cancels the message; Defer puts it back until the time given.
    /// </summary>
    Task<Domain.Compliance.GateDecision> PersonCheckAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        Task.FromResult(Domain.Compliance.GateDecision.Allowed);
}

/// <summary>
/// Delivers the outbox, a <see cref="LeasedSender{TClaimed, TFinished}"/>: it claims due messages with a lease (so no
/// two senders, in this process or another silo, hold the same message), delivers them through the channel's
/// transport, up to <c>Sender:MaxInFlight</c> at once, and records the outcome: sent; a retry after an exponential
/// back-off; or failed after <c>MaxAttempts</c> or a permanent refusal. A message whose sender died mid-delivery is
/// claimed again once its lease runs out; transports are idempotent on the message id, so it is not delivered twice
/// where the medium allows. Logs carry message kinds and outcomes only: message ids name the account.
/// </summary>
public sealed class OutboxSender(
    IOutboxStore outbox, TransportRouter transports, IOptions<OutreachOptions> options, OutboxSignal signal, TimeProvider clock, ILogger<OutboxSender> logger,
    IOutboxSendCheck? sendCheck = null)
    : LeasedSender<OutboxMessage, OutboxSender.Finished>(signal, clock, logger)
{
    /// <summary>Meter <c>Collections.Outreach</c>: every recorded delivery attempt by channel and outcome (sent, retry, failed, cancelled, deferred, paused).</summary>
    public static readonly System.Diagnostics.Metrics.Meter Meter = new("Collections.Outreach");
    private static readonly System.Diagnostics.Metrics.Counter<long> Sends = Meter.CreateCounter<long>("collections.outbox.sends", "{attempt}",
        "Outbox delivery attempts recorded, by channel and outcome");
    private static readonly System.Diagnostics.Metrics.Histogram<double> Wait = Meter.CreateHistogram<double>("collections.outbox.wait", "s",
        "How long a due outbox message waited for a sender to take it, from when it last fell due (queued, or its retry time; one taken again after its lease ran out counts from that same time, so its lease is in it)",
        advice: new System.Diagnostics.Metrics.InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] });

    /// <summary>
    /// How a message's turn ended: sent, a retry, failed, cancelled (not sent after all), or put back to wait, the
    /// claim's attempt given back: for the person's hours, or, not tried, for the reason <paramref name="PutBack"/> says.
    /// </summary>
    public sealed record Finished(OutboxMessage Message, DeliveryAttempt Attempt, OutboxStatus Status, DateTimeOffset? Next, bool GivesAttemptBack = false,
        string? PutBack = null);

    protected override string Name => "Outbox sender";

    protected override SendingPace Pace
    {
        get
        {
            var s = options.Value.Sender;
            return new SendingPace(TimeSpan.FromSeconds(s.PollSeconds), s.BatchSize, s.MaxInFlight, TimeSpan.FromSeconds(s.LeaseSeconds));
        }
    }

    protected override object KeyOf(OutboxMessage claimed) => claimed.MessageId;

    protected override Task<IReadOnlyList<OutboxMessage>> ClaimAsync(int room, CancellationToken cancellationToken)
    {
        var s = options.Value.Sender;
        var lease = TimeSpan.FromSeconds(s.LeaseSeconds);
        var rooms = ChannelRooms(room);
        _heldBack = rooms is not null;
        return rooms is not null
            ? outbox.ClaimAsync(Owner, room, s.MaxAttempts, lease, rooms, cancellationToken)
            : outbox.ClaimAsync(Owner, room, s.MaxAttempts, lease, cancellationToken);
    }

    private bool _heldBack;

    protected override bool LastClaimHeldBack => _heldBack;

    /// <summary>This sender's messages on their way, by channel (from the claim until the send ends).</summary>
    private readonly int[] _sending = new int[Enum.GetValues<ContactChannel>().Max(c => (int)c) + 1];

    /// <summary>
    /// The room each channel whose transport takes few at once has left (<see cref="IMessageTransport.MaxConcurrent"/>:
    /// an SMTP relay's connections), where that is less than the claim's; null when no channel is held below it. Without
    /// it, a backlog of emails behind a relay that allows three connections took every place among MaxInFlight, each
    /// email waiting for a connection, and the texts and letters due after them waited too.
    /// </summary>
    private Dictionary<ContactChannel, int>? ChannelRooms(int room)
    {
        Dictionary<ContactChannel, int>? rooms = null;
        foreach (var channel in TransportRouter.SentChannels)
        {
            IMessageTransport transport;
            try
            {
                transport = transports.For(channel);
            }
            catch (InvalidOperationException)
            {
                continue; // no such transport: its messages' sends say so
            }
            if (transport.MaxConcurrent is not { } max) continue;
            var left = Math.Max(0, max - Volatile.Read(ref _sending[(int)channel]));
            if (left < room) (rooms ??= [])[channel] = left;
        }
        return rooms;
    }

    protected override void Claimed(OutboxMessage claimed, DateTimeOffset claimedAt)
    {
        Interlocked.Increment(ref _sending[(int)claimed.Channel]);
        Wait.Record(Math.Max(0, (claimedAt - (claimed.NextAttemptAt ?? claimed.CreatedAt)).TotalSeconds));
    }

    protected override async Task SweepAbandonedAsync(CancellationToken cancellationToken)
    {
        // Message ids name the account (facility/number/...): logs say how many and what kind, never which.
        if ((await outbox.FailAbandonedAsync(options.Value.Sender.MaxAttempts, cancellationToken)).Count is > 0 and var abandoned)
            Logger.LogWarning("{Count} outreach message(s) failed: their lease ran out on the last allowed attempt (GET /api/outbox?status=failed lists them)", abandoned);
    }

    protected override async Task<Finished> SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await SendOneAsync(message, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _sending[(int)message.Channel]);
        }
    }

    private async Task<Finished> SendOneAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value.Sender;
        var started = Clock.GetUtcNow();
        IMessageTransport? transport = null;
        DeliveryResult result;
        // The vendor first: while the channel's vendor is paused the message cannot go now, so its last look is not made
        // (two grain calls, each perhaps reading an account or a person back into memory, for a backlog that cannot go);
        // it waits for its retry and is looked at when it may go. On its last attempt a message is always looked at and
        // tried. The ticket itself is asked for after the look, so a probe is not held while the look runs.
        var lastAttempt = message.Attempts >= settings.MaxAttempts;
        var (waiting, paused) = _vendors.Peek(message.Channel, started, lastAttempt);
        if (waiting) return Paused(message, started, started, paused);
        var early = await LastLookOutcomeAsync(message, started, settings, cancellationToken);
        if (early is not null) return early;
        var now = Clock.GetUtcNow();
        var (ticket, vendor) = _vendors.Ask(message.Channel, now, lastAttempt);
        if (ticket is not { } sent) return Paused(message, started, now, vendor); // paused (or its probe taken) while the look ran
        ReceiverAnswer? answer;
        try
        {
            transport = transports.For(message.Channel);
            result = await transport.DeliverAsync(message, cancellationToken);
            answer = result.Vendor;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and another round (here or on another silo) delivers it.
            throw;
        }
        catch (Exception ex)
        {
            result = DeliveryResult.Retry(DeliveryErrors.Describe(ex));
            answer = DeliveryErrors.Answer(ex);
        }
        ObserveVendor(message.Channel, sent, answer);

        var finished = Clock.GetUtcNow();
        var (status, outcome, next) = result switch
        {
            { Delivered: true } => (OutboxStatus.Sent, "sent", (DateTimeOffset?)null),
            { Permanent: true } => (OutboxStatus.Failed, "failed", null),
            _ when message.Attempts >= settings.MaxAttempts => (OutboxStatus.Failed, "failed", null),
            _ => (OutboxStatus.Pending, "retry", finished + Backoff(message.Attempts)),
        };
        return new Finished(message, new DeliveryAttempt(message.MessageId, message.Attempts, transport?.Name ?? "none", started, finished, outcome,
            result.ProviderMessageId, result.Error), status, next);
    }

    /// <summary>Each channel's vendor: whether it is paused. A probe may take as long as a transport may (half the lease).</summary>
    private readonly ReceiverPauses<ContactChannel> _vendors = new(() => ReceiverPauseRules.From(options.Value.Sender.PauseAfterFailures,
        options.Value.Sender.RetryBaseSeconds, options.Value.Sender.MaxPauseSeconds, TimeSpan.FromSeconds(options.Value.Sender.LeaseSeconds) / 2));

    private void ObserveVendor(ContactChannel channel, ReceiverTicket ticket, ReceiverAnswer? answer)
    {
        var (before, after) = _vendors.Observe(channel, ticket, answer, Clock.GetUtcNow());
        if (after.PausedSince(before))
            Logger.LogWarning("The {Channel} vendor is paused until {Until:o}: it failed {Failures} times in a row (pause {Pause}); its messages wait for their retries",
                channel, after.Until, after.Failures, after.Pauses);
        else if (after.ResumedSince(before))
            Logger.LogInformation("The {Channel} vendor answers again: its messages go on", channel);
    }

    /// <summary>
    /// The channel's vendor keeps failing: not sent, taking no place among MaxInFlight for a timeout. An attempt, as the
    /// failed send's would be, and its back-off (at least until the pause ends): a vendor that stays down costs a message
    /// no more attempts than one that times out.
    /// </summary>
    private Finished Paused(OutboxMessage message, DateTimeOffset started, DateTimeOffset now, ReceiverPause vendor)
    {
        var paused = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, now, "paused", null,
            ReceiverPause.PausedError($"paused: the {message.Channel} vendor is not answering", message.LastError));
        return new Finished(message, paused, OutboxStatus.Pending, vendor.RetryAt(now, Backoff(message.Attempts)));
    }

    /// <summary>
    /// The message's last look before it goes: how its turn ends if it must not go now (cancelled, deferred for the
    /// person's hours, put back), or null to send it.
    /// </summary>
    private async Task<Finished?> LastLookOutcomeAsync(OutboxMessage message, DateTimeOffset started, OutreachOptions.SenderSettings settings, CancellationToken cancellationToken)
    {
        // A collection message is checked again just before it goes: the account may have been paid, gone into credit
        // or on hold since it was queued (the outbox-reactions projection cancels such messages too, a moment later).
        // Then the person: an opt-out or a hold since it was queued cancels it; outside their hours (a retry after a
        // vendor's error, a backlog) it waits for the window.
        string? stop;
        Domain.Compliance.GateDecision person;
        // The transport's timeout is at most half the lease; the last look gets a quarter, so a message is done (or given
        // back) well within the lease, and no other sender takes it over while it is still on its way.
        var lease = TimeSpan.FromSeconds(settings.LeaseSeconds);
        try
        {
            (stop, person) = await LastLookAsync(message, cancellationToken).WaitAsync(lease / 4, Clock, cancellationToken);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Not asked (the database is down, a silo is being upgraded): not sent unchecked; asked again after the
            // back-off, the attempt given back (nothing was tried).
            var notAsked = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, Clock.GetUtcNow(), "deferred", null, $"deferred: the last look could not be made ({ex.GetType().Name})");
            return new Finished(message, notAsked, OutboxStatus.Pending, Clock.GetUtcNow() + Backoff(message.Attempts), GivesAttemptBack: true, PutBack: $"its last look could not be made: {ex.GetType().Name}");
        }
        if (person.Verdict == Domain.Compliance.GateVerdict.Deny) stop = person.Rule; // the rule's code: its reason may quote what staff typed
        else if (person is { Verdict: Domain.Compliance.GateVerdict.Defer, NotBefore: { } notBefore })
        {
            var deferred = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, Clock.GetUtcNow(), "deferred", null, $"deferred: {person.Rule}");
            return new Finished(message, deferred, OutboxStatus.Pending, notBefore, GivesAttemptBack: true);
        }
        if (stop is null && Clock.GetUtcNow() - message.UpdatedAt > lease / 2)
        {
            // Claimed (UpdatedAt) too long ago to be sent within the lease (a round's start, a slow machine): given back.
            var late = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, Clock.GetUtcNow(), "deferred", null, "deferred: too late in its lease to send");
            return new Finished(message, late, OutboxStatus.Pending, Clock.GetUtcNow() + Backoff(message.Attempts), GivesAttemptBack: true, PutBack: "too late in its lease to send");
        }
        if (stop is not null)
        {
            var cancelled = new DeliveryAttempt(message.MessageId, message.Attempts, "none", started, Clock.GetUtcNow(), "cancelled", null, $"cancelled: {stop}");
            return new Finished(message, cancelled, OutboxStatus.Cancelled, null);
        }
        return null;
    }

    /// <summary>The account (collection messages only), then the person: a reason not to send, and the person's verdict.</summary>
    private async Task<(string? Stop, Domain.Compliance.GateDecision Person)> LastLookAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (sendCheck is null) return (null, Domain.Compliance.GateDecision.Allowed);
        var stop = SqlOutboxStore.CollectionActions.Contains(message.Action) ? await sendCheck.ReasonNotToSendAsync(message, cancellationToken) : null;
        return (stop, stop is null ? await sendCheck.PersonCheckAsync(message, cancellationToken) : Domain.Compliance.GateDecision.Allowed);
    }

    /// <summary>
    /// Records the finished turns: the store commits those that arrive together in one transaction. One that could not
    /// be recorded (the database is down or refused it) stays leased until its lease runs out and goes again, under the
    /// same message id (the vendors' idempotency key).
    /// </summary>
    protected override async Task RecordAsync(IReadOnlyList<Finished> finished) =>
        await Task.WhenAll(finished.Select(RecordOneAsync));

    private async Task RecordOneAsync(Finished turn)
    {
        var (message, attempt, status, next, givesAttemptBack, putBack) = turn;
        bool held;
        try
        {
            held = await outbox.RecordAttemptAsync(Owner, attempt, status, next, givesAttemptBack, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Logger.LogWarning("An outreach message ({Channel} {Action}): attempt {Attempt} ended ({Outcome}) but could not be recorded ({Error}); it goes again after its lease",
                message.Channel, message.Action, attempt.Attempt, attempt.Outcome, ex.GetType().Name);
            return;
        }
        if (putBack is not null)
        {
            Logger.LogWarning("An outreach message ({Channel} {Action}) was not sent now ({Reason}); it is tried again after its back-off",
                message.Channel, message.Action, putBack);
            return;
        }
        if (held) Sends.Add(1, new("collections.channel", message.Channel.ToString()), new("collections.outbox.outcome", attempt.Outcome));
        if (!held)
            Logger.LogWarning("An outreach message ({Channel} {Action}): attempt {Attempt} ended ({Outcome}) after its lease was taken over; not recorded as its status",
                message.Channel, message.Action, message.Attempts, attempt.Outcome);
        else if (attempt.Outcome == "deferred")
            Logger.LogInformation("An outreach message ({Channel} {Action}) waits for the person's hours until {NotBefore:o}", message.Channel, message.Action, next);
        else if (status == OutboxStatus.Cancelled)
            Logger.LogInformation("An outreach message ({Channel} {Action}) was not sent ({Error})", message.Channel, message.Action, attempt.Error);
        else if (status == OutboxStatus.Sent)
            Logger.LogInformation("An outreach message ({Channel} {Action}) was sent by {Transport} on attempt {Attempt}", message.Channel, message.Action, attempt.Transport, message.Attempts);
        else if (attempt.Outcome == "paused") // one line per message would flood the log while a vendor is down: the pause is logged
            Logger.LogDebug("An outreach message ({Channel} {Action}) waits for its vendor until {NextAttemptAt:o}", message.Channel, message.Action, next);
        else if (status == OutboxStatus.Failed)
            Logger.LogWarning("An outreach message ({Channel} {Action}) failed on attempt {Attempt}: {Error}", message.Channel, message.Action, message.Attempts, attempt.Error);
        else
            Logger.LogInformation("An outreach message ({Channel} {Action}) attempt {Attempt} did not go through ({Error}); next try at {NextAttemptAt:o}",
                message.Channel, message.Action, message.Attempts, attempt.Error, next);
    }

    /// <summary>RetryBaseSeconds × 2^(attempt−1), at most RetryMaxSeconds.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var s = options.Value.Sender;
        var seconds = s.RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, s.RetryMaxSeconds));
    }
}
