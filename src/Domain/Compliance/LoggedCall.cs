namespace Collections.Domain.Compliance;

/// <summary>
/// A call logged after it took place (a dialer's file, a call made away from the console): it is judged and recorded at
/// the time it was made, not the time it was typed in, so a call at 21:30 logged the next morning is on the record as a
/// call at 21:30, and counts in the 7-in-7 limit from then.
/// </summary>
public static class LoggedCall
{
    /// <summary>How far back a call may be logged: beyond it, the contact history it would join is no longer kept whole.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(30);

    /// <summary>A caller's clock a little ahead of ours is not a call in the future.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Why the time given for a call cannot be taken, or null (none given, or within the last 30 days).</summary>
    public static DomainError? CalledAtError(DateTimeOffset? calledAt, DateTimeOffset now) => calledAt switch
    {
        null => null,
        { } at when at > now + ClockSkew => DomainError.Invalid("calledAt", "called-at.future", "calledAt is in the future: give the time the call took place, with its offset (2026-03-02T14:05:00-05:00)."),
        { } at when at < now - MaxAge => DomainError.Invalid("calledAt", "called-at.too-old", $"calledAt is more than {MaxAge.TotalDays:0} days ago: a call that old is not logged as a contact (add it to the account's notes)."),
        _ => null,
    };

    /// <summary>
    /// When the call is judged and recorded: the time it took place, or now when none is given or it is within a few
    /// minutes of now (a caller's clock a little behind ours would otherwise leave out the contacts of those minutes).
    /// </summary>
    public static DateTimeOffset At(DateTimeOffset? calledAt, DateTimeOffset now) => calledAt is { } at && at < now - ClockSkew ? at : now;

    /// <summary>The contacts before the call: what the rules saw when it was made (later ones did not exist yet).</summary>
    public static IReadOnlyList<ContactAttempt> HistoryBefore(IReadOnlyList<ContactAttempt> history, DateTimeOffset at, DateTimeOffset now) =>
        at >= now ? history : history.Where(a => a.At <= at).ToList();

    /// <summary>The holds as they stood when the call was made: none placed after it, and one released since still on.</summary>
    public static IReadOnlyList<Hold> HoldsAt(IReadOnlyList<Hold> holds, DateTimeOffset at, DateTimeOffset now) =>
        at >= now ? holds
        : holds.Where(h => h.PlacedAt <= at)
            .Select(h => h.ReleasedAt is { } released && released > at ? h with { ReleasedAt = null, ReleasedBy = null, ReleaseNote = null } : h).ToList();

    /// <summary>The consents recorded by the time the call was made.</summary>
    public static IReadOnlyList<ChannelConsent> ConsentsBefore(IReadOnlyList<ChannelConsent> consents, DateTimeOffset at, DateTimeOffset now) =>
        at >= now ? consents : consents.Where(c => c.RecordedAt <= at).ToList();

    /// <summary>The person as the rules saw them when the call was made.</summary>
    public static PersonFacts AsOf(PersonFacts person, DateTimeOffset at, DateTimeOffset now) => at >= now ? person
        : person with
        {
            ConsentHistory = ConsentsBefore(person.ConsentHistory, at, now),
            Holds = HoldsAt(person.Holds, at, now),
            History = HistoryBefore(person.History, at, now),
            // Recorded after the call: the person spoke for themselves then. (One removed since is not known here.)
            Representative = person.Representative is { } r && r.RecordedAt > at ? null : person.Representative,
        };

    /// <summary>Where the call goes in a history kept in time order: after every contact made at or before it.</summary>
    public static int InsertionIndex(IReadOnlyList<ContactAttempt> history, DateTimeOffset at)
    {
        var index = history.Count;
        while (index > 0 && history[index - 1].At > at) index--;
        return index;
    }
}
