namespace Collections.Outreach.Webhooks;

/// <summary>
/// Whether a subscription's receiver is paused, and until when. After <c>failuresToPause</c> failures in a row that a
/// retry could mend (timeouts, refused connections, 408, 429, 5xx), its deliveries are put back rather than sent, so a
/// receiver that does not answer cannot take the room every other subscriber's deliveries need (each of its requests
/// would hold a place for the whole timeout). When the pause ends one delivery goes alone, as a probe, and the others
/// wait for its answer: a failure pauses the receiver again for twice as long (at most <c>longest</c>); any answer
/// from a receiver that is up (2xx, or a refusal: another 4xx) ends the pauses. Failures of requests already on their
/// way when a pause began do not lengthen it. Pure: the dispatcher keeps one per subscription and gives it the time.
/// </summary>
public sealed record ReceiverPause(int Failures = 0, int Pauses = 0, DateTimeOffset? Until = null, DateTimeOffset? ProbeSince = null)
{
    /// <summary>
    /// Whether a request may go at <paramref name="now"/>, the state after asking, and, if it may not, until when its
    /// delivery waits. A probe unanswered after <paramref name="probeWait"/> no longer holds the others back.
    /// </summary>
    public (bool Go, ReceiverPause State, DateTimeOffset? WaitUntil) Ask(DateTimeOffset now, TimeSpan probeWait)
    {
        if (Until is { } until && now < until) return (false, this, until);
        if (Pauses == 0) return (true, this, null);
        if (ProbeSince is { } probe && now < probe + probeWait) return (false, this, probe + probeWait);
        return (true, this with { ProbeSince = now }, null);
    }

    /// <summary>The state after a request's answer (or its absence) at <paramref name="now"/>.</summary>
    public ReceiverPause After(ReceiverAnswer answer, DateTimeOffset now, int failuresToPause, TimeSpan first, TimeSpan longest)
    {
        if (failuresToPause < 1) return new ReceiverPause(); // pausing is off
        if (answer != ReceiverAnswer.Unavailable) return Failures == 0 && Pauses == 0 ? this : new ReceiverPause();
        if (Until is { } until && now < until) return this; // a request sent before the pause began
        var failures = Failures + 1;
        if (Pauses == 0 && failures < failuresToPause) return this with { Failures = failures };
        var pauses = Pauses + 1; // the threshold reached, or the probe after a pause failed
        var seconds = Math.Min(first.TotalSeconds * Math.Pow(2, Math.Min(pauses - 1, 30)), longest.TotalSeconds);
        return new ReceiverPause(failures, pauses, now + TimeSpan.FromSeconds(seconds));
    }
}

/// <summary>How a request to a receiver ended, as far as its pause is concerned.</summary>
public enum ReceiverAnswer
{
    /// <summary>2xx.</summary>
    Delivered,

    /// <summary>No answer, or one a retry could mend: a timeout, a refused connection, 408, 429, 5xx.</summary>
    Unavailable,

    /// <summary>Any other answer: the receiver is up, and says no.</summary>
    Refused,
}
