namespace Collections.Outreach;

/// <summary>
/// Whether a receiver (a webhook subscription's, or the vendor of an outbox channel) is paused, and until when. After
/// <c>failuresToPause</c> failures in a row that a retry could mend (no answer, a refused connection, 408, 429, 5xx), what
/// is due for it is not sent but put back for its next retry, so a receiver that does not answer cannot take the room
/// every other receiver's rows need (each request would hold a place for the whole timeout). When the pause ends one
/// row goes alone, as a probe: a failure pauses the receiver again for twice as long (at most <c>longest</c>); any
/// answer from a receiver that is up (2xx, or a refusal: another 4xx) ends the pauses. Each request carries a <see cref="ReceiverTicket"/> from when it
/// left: while the receiver is paused or probed only the probe's answer counts, so answers of requests sent before a
/// pause (they may come after it ended) neither lengthen nor end it. Pure: the webhook dispatcher keeps one per
/// subscription, the outbox sender one per channel, and each gives it the time.
/// </summary>
public sealed record ReceiverPause(int Failures = 0, int Pauses = 0, DateTimeOffset? Until = null, DateTimeOffset? ProbeSince = null)
{
    /// <summary>
    /// A ticket if a request may go at <paramref name="now"/> (null: put its delivery back), and the state after
    /// asking. A probe unanswered after <paramref name="probeWait"/> no longer holds the others back: another goes. A
    /// row on its <paramref name="lastAttempt"/> always goes (never failed untried), with a ticket that is not the
    /// probe's, so its answer says nothing of the pause.
    /// </summary>
    public (ReceiverTicket? Ticket, ReceiverPause State) Ask(DateTimeOffset now, TimeSpan probeWait, bool lastAttempt = false)
    {
        if (Waiting(now, probeWait)) return (lastAttempt ? new ReceiverTicket(Pauses, Probe: false) : null, this);
        if (Pauses == 0) return (new ReceiverTicket(Pauses, Probe: false), this);
        return (new ReceiverTicket(Pauses, Probe: true), this with { ProbeSince = now });
    }

    /// <summary>Whether a request would be put back at <paramref name="now"/> (paused, or its probe still on its way), asking nothing.</summary>
    public bool Waiting(DateTimeOffset now, TimeSpan probeWait) =>
        (Until is { } until && now < until) || (Pauses > 0 && ProbeSince is { } probe && now < probe + probeWait);

    /// <summary>
    /// The last error a row put back by a pause keeps: <paramref name="pause"/> ("paused: ..."), with the receiver's own
    /// last error beside it (<c>paused: ... (last error: http 503)</c>), so an operator still sees what the receiver said.
    /// A row paused again keeps the error from before its first pause; our own notes (a deferral to the person's hours)
    /// are not the receiver's error.
    /// </summary>
    public static string PausedError(string pause, string? lastError)
    {
        const string Marker = " (last error: ";
        if (string.IsNullOrEmpty(lastError) || lastError.StartsWith("deferred:", StringComparison.Ordinal)) return pause;
        if (!lastError.StartsWith("paused:", StringComparison.Ordinal)) return $"{pause}{Marker}{lastError})";
        var kept = lastError.IndexOf(Marker, StringComparison.Ordinal);
        return kept < 0 ? pause : pause + lastError[kept..];
    }

    /// <summary>Whether this state, after <paramref name="before"/>, began a pause (or a longer one after a failed probe): worth a warning.</summary>
    public bool PausedSince(ReceiverPause before) => Pauses > before.Pauses;

    /// <summary>Whether this state, after <paramref name="before"/>, ended the pauses: the receiver answers again.</summary>
    public bool ResumedSince(ReceiverPause before) => before.Pauses > 0 && Pauses == 0;

    /// <summary>When a row put back at <paramref name="now"/> with <paramref name="backOff"/> is tried again: its back-off, no sooner than the pause ends.</summary>
    public DateTimeOffset RetryAt(DateTimeOffset now, TimeSpan backOff) => Until is { } until && until > now + backOff ? until : now + backOff;

    /// <summary>
    /// The state after the request that left with <paramref name="ticket"/> ended without reaching the receiver (an
    /// error of ours): if it was the probe, the next request probes at once instead of waiting for it.
    /// </summary>
    public ReceiverPause Unanswered(ReceiverTicket ticket) => ticket.Probe && ticket.Pauses == Pauses && ProbeSince is not null ? this with { ProbeSince = null } : this;

    /// <summary>The state after the answer (or its absence) to the request that left with <paramref name="ticket"/>.</summary>
    public ReceiverPause After(ReceiverTicket ticket, ReceiverAnswer answer, DateTimeOffset now, int failuresToPause, TimeSpan first, TimeSpan longest)
    {
        if (failuresToPause < 1) return new ReceiverPause(); // pausing is off
        if (ticket.Pauses != Pauses || (Pauses > 0 && !ticket.Probe)) return this; // left before this pause: says nothing of it
        if (answer != ReceiverAnswer.Unavailable) return Failures == 0 && Pauses == 0 ? this : new ReceiverPause();
        var failures = Failures + 1;
        if (Pauses == 0 && failures < failuresToPause) return this with { Failures = failures };
        var pauses = Pauses + 1; // the limit reached, or the probe after a pause failed
        var seconds = Math.Min(first.TotalSeconds * Math.Pow(2, Math.Min(pauses - 1, 30)), longest.TotalSeconds);
        return new ReceiverPause(failures, pauses, now + TimeSpan.FromSeconds(seconds));
    }
}

/// <summary>What a request to a receiver left with: the receiver's pauses then, and whether it was the probe.</summary>
public readonly record struct ReceiverTicket(int Pauses, bool Probe);

/// <summary>How a request to a receiver ended, as far as its pause is concerned.</summary>
public enum ReceiverAnswer
{
    /// <summary>2xx.</summary>
    Delivered,

    /// <summary>No answer, or one a retry could mend: a timeout, a refused connection, 408, 429, 5xx.</summary>
    Unavailable,

    /// <summary>Any other answer: the receiver is up, and says no (to this row, or to us).</summary>
    Refused,
}

/// <summary>
/// The pauses of a sender's receivers (the webhook dispatcher's subscriptions, the outbox sender's channels), kept in
/// memory and locked while read or changed. <paramref name="rules"/> are read at each use, so settings apply at once.
/// </summary>
public sealed class ReceiverPauses<TKey>(Func<ReceiverPauseRules> rules) where TKey : notnull
{
    private static readonly ReceiverPause NotPaused = new();
    private readonly Dictionary<TKey, ReceiverPause> _pauses = [];

    /// <summary>A ticket if a request may go to <paramref name="key"/>'s receiver now (null: put it back), and the receiver's state.</summary>
    public (ReceiverTicket? Ticket, ReceiverPause State) Ask(TKey key, DateTimeOffset now, bool lastAttempt)
    {
        var probeWait = rules().ProbeWait;
        lock (_pauses)
        {
            var (ticket, state) = _pauses.GetValueOrDefault(key, NotPaused).Ask(now, probeWait, lastAttempt);
            _pauses[key] = state;
            return (ticket, state);
        }
    }

    /// <summary>
    /// Whether a request to <paramref name="key"/>'s receiver would be put back now (its state, to time the retry), taking
    /// no ticket: a sender looks before work a paused receiver would waste, and asks for the ticket just before it sends.
    /// </summary>
    public (bool Waiting, ReceiverPause State) Peek(TKey key, DateTimeOffset now, bool lastAttempt)
    {
        var probeWait = rules().ProbeWait;
        lock (_pauses)
        {
            var state = _pauses.GetValueOrDefault(key, NotPaused);
            return (!lastAttempt && state.Waiting(now, probeWait), state);
        }
    }

    /// <summary>
    /// The receiver's state before and after the request that left with <paramref name="ticket"/> ended: with an
    /// answer, or none (the receiver was not reached: it says nothing, but frees a probe).
    /// </summary>
    public (ReceiverPause Before, ReceiverPause After) Observe(TKey key, ReceiverTicket ticket, ReceiverAnswer? answer, DateTimeOffset now)
    {
        var r = rules();
        lock (_pauses)
        {
            var before = _pauses.GetValueOrDefault(key, NotPaused);
            var after = answer is { } said ? before.After(ticket, said, now, r.FailuresToPause, r.First, r.Longest) : before.Unanswered(ticket);
            _pauses[key] = after;
            return (before, after);
        }
    }
}

/// <summary>When a receiver is paused and for how long (see <see cref="ReceiverPause"/>).</summary>
public readonly record struct ReceiverPauseRules(int FailuresToPause, TimeSpan First, TimeSpan Longest, TimeSpan ProbeWait)
{
    /// <summary>From a sender's settings: the first pause is the retry base (at most the longest pause).</summary>
    public static ReceiverPauseRules From(int failuresToPause, double retryBaseSeconds, double maxPauseSeconds, TimeSpan probeWait) =>
        new(failuresToPause, TimeSpan.FromSeconds(Math.Min(retryBaseSeconds, maxPauseSeconds)), TimeSpan.FromSeconds(maxPauseSeconds), probeWait);
}
