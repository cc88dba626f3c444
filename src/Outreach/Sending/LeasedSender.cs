using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Collections.Outreach;

/// <summary>How a <see cref="LeasedSender{TClaimed, TFinished}"/> paces itself, read from its settings at each round.</summary>
/// <param name="Poll">How long it waits for due rows when none are (it is woken at once by a new row).</param>
/// <param name="BatchSize">The least free room a claim is made for.</param>
/// <param name="MaxInFlight">How many sends may be on their way at once (raised to <paramref name="BatchSize"/>).</param>
/// <param name="Lease">How long a claim holds its rows.</param>
public readonly record struct SendingPace(TimeSpan Poll, int BatchSize, int MaxInFlight, TimeSpan Lease);

/// <summary>
/// Sends the rows of a table it leases rows of (the outbox's messages, the webhook deliveries), keeping sends in flight
/// continuously: whenever at least a <see cref="SendingPace.BatchSize"/> of room is free, one claim takes as many due
/// rows as there is room for, and finished sends are recorded while the next claims and sends go on (one record at a
/// time: those that finish meanwhile go in the next). A claim holds its rows under a lease, so no two senders, here or
/// on another silo, send the same row at once; a sender that dies leaves its rows to be claimed again when the lease
/// runs out, and one whose send outlives its lease does not send it again if its own next claim takes it back.
/// </summary>
/// <remarks>
/// A round per batch (claim some, send them all, record them, claim again) held every send up behind each claim, each
/// record and the batch's slowest answer: under 64-way posting on PostgreSQL, where each of those statements waited
/// about 10 ms for the busy server, the webhook dispatcher delivered about a third of the events made and its backlog
/// grew without bound; the outbox sender, with a vendor answering in 200 ms and one answer in fifty taking 2 s, sent
/// about a quarter of what the vendor could take (docs/benchmarks.md). A send that does not answer still holds its
/// room until its timeout; the webhook dispatcher pauses a receiver that keeps failing.
/// </remarks>
public abstract class LeasedSender<TClaimed, TFinished>(DueSignal signal, TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>Who holds the leases this sender takes: host, process and a random suffix.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    private DateTimeOffset _sweptAt = DateTimeOffset.MinValue;

    protected TimeProvider Clock => clock;
    protected ILogger Logger => logger;

    /// <summary>What the logs call this sender ("Outbox sender", "Webhook dispatcher").</summary>
    protected abstract string Name { get; }

    protected abstract SendingPace Pace { get; }

    /// <summary>What names a row (its id): a row this sender still has under way is never sent twice.</summary>
    protected abstract object KeyOf(TClaimed claimed);

    /// <summary>Claims up to <paramref name="room"/> due rows under this sender's lease.</summary>
    protected abstract Task<IReadOnlyList<TClaimed>> ClaimAsync(int room, CancellationToken cancellationToken);

    /// <summary>Sends one claimed row and says how it ended; throws only when <paramref name="cancellationToken"/> ends (shutting down).</summary>
    protected abstract Task<TFinished> SendAsync(TClaimed claimed, CancellationToken cancellationToken);

    /// <summary>
    /// Records finished sends, in one transaction where it can. Never throws: a failure is logged, and those rows are
    /// taken again when their leases run out.
    /// </summary>
    protected abstract Task RecordAsync(IReadOnlyList<TFinished> finished);

    /// <summary>Ends the rows whose lease ran out on their last allowed attempt; called once a poll period at most (see <see cref="RunOnceAsync"/>).</summary>
    protected abstract Task SweepAbandonedAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether the last claim was held below its room by a limit of the sender's own (a channel's transport that takes
    /// few at once): rows may still be due, so a claim is made again as soon as one of its sends ends, not only after
    /// the record or a new row.
    /// </summary>
    protected virtual bool LastClaimHeldBack => false;

    /// <summary>Called as each row is claimed, with the time of the claim (a wait metric).</summary>
    protected virtual void Claimed(TClaimed claimed, DateTimeOffset claimedAt)
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("{Sender} {Owner} started (polling every {PollSeconds} s)", Name, Owner, Pace.Poll.TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database may be briefly unreachable: try again at the next poll.
                logger.LogError(ex, "{Sender} round failed; retrying in {PollSeconds} s", Name, Pace.Poll.TotalSeconds);
            }
            try
            {
                await signal.WaitAsync(Pace.Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Sends everything due now, and what falls due while it does. Returns how many rows it took (sent, or put back unsent).</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var pace = Pace;
        var inFlight = Math.Max(pace.MaxInFlight, pace.BatchSize);
        // Claimed here and not yet recorded (being sent, sent and waiting for the record, or being recorded): what a claim
        // must not send again if it takes one of them back because its lease ran out while it was still under way here.
        // Only those being sent take room: counting those waiting for their record too held the
        // dispatcher to about 2,000 deliveries a second under 64-way posting on SQLite (each record waits its turn to
        // write), against the 2,400-2,500 events made, and the backlog grew.
        // More than four rooms' worth waiting for records, or a record under way for a quarter of the lease (the database
        // has all but stopped), stops the claims: sent and unrecorded, a row is sent again once its lease runs out.
        var held = new ConcurrentDictionary<object, byte>();
        var sending = new List<(TClaimed Claimed, Task<TFinished> Send)>();
        var finished = new List<(TClaimed Claimed, TFinished Finished)>();
        Task recording = Task.CompletedTask; // never fails: RecordAsync logs its own failure
        var recordSeen = true;
        var recordStarted = DateTimeOffset.MinValue;
        // Nothing more was due at the last claim (or none the sender's own limits let it take): wait for a send, the
        // record, or a new row (or a poll period) first.
        var drained = false;
        // The last claim took less than its room only because of the sender's own limit: claim again when a send ends.
        var heldBack = false;
        using var roundOver = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<bool>? woken = null;
        var total = 0;
        try
        {
            while (true)
            {
                if (woken is { IsCompleted: true }) // a new row (or a poll period) since the last claim
                {
                    woken = null;
                    drained = false;
                }
                if (!recordSeen && recording.IsCompleted)
                {
                    recordSeen = true;
                    drained = false; // rows may have come due while the record ran (a retry with no back-off)
                }
                var recordsStalled = held.Count - sending.Count > 4 * inFlight || (!recording.IsCompleted && clock.GetUtcNow() - recordStarted > pace.Lease / 4);
                var room = recordsStalled ? 0 : inFlight - sending.Count;
                if (!drained && !cancellationToken.IsCancellationRequested && room >= pace.BatchSize)
                {
                    await SweepIfDueAsync(pace, cancellationToken);
                    var batch = await ClaimAsync(room, cancellationToken);
                    var claimedAt = clock.GetUtcNow();
                    foreach (var claimed in batch)
                    {
                        if (!held.TryAdd(KeyOf(claimed), 0))
                        {
                            // Its lease ran out while it was still under way here (the claim extended it): its own send
                            // records it. Sent again, it would go twice.
                            logger.LogWarning("{Sender}: a row still under way here was claimed again after its lease ran out; it is not sent twice (LeaseSeconds is short for these sends)", Name);
                            continue;
                        }
                        Claimed(claimed, claimedAt);
                        sending.Add((claimed, StartAsync(claimed, cancellationToken)));
                        total++;
                    }
                    drained = batch.Count < room;
                    heldBack = drained && LastClaimHeldBack;
                    continue;
                }
                if (recording.IsCompleted && finished.Count > 0)
                {
                    recording = RecordAndReleaseAsync([.. finished], held);
                    recordStarted = clock.GetUtcNow();
                    recordSeen = false;
                    finished.Clear();
                    continue;
                }
                if (sending.Count == 0 && recording.IsCompleted && (drained || cancellationToken.IsCancellationRequested)) break;

                var waits = new List<Task>(sending.Count + 2);
                waits.AddRange(sending.Select(s => s.Send));
                if (!recording.IsCompleted) waits.Add(recording);
                if (drained && !cancellationToken.IsCancellationRequested && sending.Count > 0)
                    waits.Add(woken ??= signal.WaitAsync(pace.Poll, roundOver.Token));
                await Task.WhenAny(waits);
                for (var i = sending.Count - 1; i >= 0; i--)
                {
                    if (!sending[i].Send.IsCompleted) continue;
                    Finish(sending[i], finished, held);
                    sending.RemoveAt(i);
                    if (heldBack) drained = heldBack = false; // its place may be the one a held-back row waits for
                }
            }
        }
        finally
        {
            // A wait for a new row left over must not keep the next one from the poll loop; one it already took (a row
            // written while the last claim ran) is handed back, so that row does not wait a poll period.
            await roundOver.CancelAsync();
            if (woken is not null)
            {
                try
                {
                    if (await woken) signal.Wake();
                }
                catch (OperationCanceledException)
                {
                    // Not woken before the round ended.
                }
            }
            // Stopping, or a claim failed: what was sent is still recorded, so it is not sent again when its lease runs out.
            try
            {
                await Task.WhenAll(sending.Select(s => s.Send));
            }
            catch (Exception)
            {
                // Each send's own outcome is read below; one cancelled at shutdown is sent again after its lease.
            }
            foreach (var send in sending) Finish(send, finished, held);
            await recording;
            if (finished.Count > 0) await RecordAndReleaseAsync(finished, held);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return total;
    }

    /// <summary>A send that ended: to be recorded; or, if it failed or was cancelled at shutdown, left to be taken again when its lease runs out.</summary>
    private void Finish((TClaimed Claimed, Task<TFinished> Send) send, List<(TClaimed, TFinished)> finished, ConcurrentDictionary<object, byte> held)
    {
        if (send.Send.IsCompletedSuccessfully)
        {
            finished.Add((send.Claimed, send.Send.Result));
            return;
        }
        held.TryRemove(KeyOf(send.Claimed), out _);
        if (send.Send.Exception?.InnerException is { } error) // the type only: a vendor's message may name the person
            logger.LogError("{Sender}: a send failed ({Error}); it is taken again when its lease runs out", Name, error.GetType().Name);
    }

    private async Task RecordAndReleaseAsync(List<(TClaimed Claimed, TFinished Finished)> finished, ConcurrentDictionary<object, byte> held)
    {
        try
        {
            await RecordAsync(finished.Select(f => f.Finished).ToList());
        }
        finally
        {
            foreach (var (claimed, _) in finished) held.TryRemove(KeyOf(claimed), out _);
        }
    }

    /// <summary>Leases run out only after the lease's length: looking once a poll period is enough (and costs no write per claim under load).</summary>
    private async Task SweepIfDueAsync(SendingPace pace, CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() - _sweptAt < (pace.Poll < pace.Lease ? pace.Poll : pace.Lease)) return;
        try
        {
            await SweepAbandonedAsync(cancellationToken);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Best effort: the claims go on, and the next sweep looks again.
            logger.LogWarning(ex, "{Sender}: looking for abandoned rows failed; looking again in {PollSeconds} s", Name, pace.Poll.TotalSeconds);
        }
        _sweptAt = clock.GetUtcNow();
    }

    private async Task<TFinished> StartAsync(TClaimed claimed, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the claim loop goes on while this one connects
        return await SendAsync(claimed, cancellationToken);
    }
}
