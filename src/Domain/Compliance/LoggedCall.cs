namespace Collections.Domain.Compliance;

/// <summary>
/// A call logged after it took place (a dialer's file, a call made away from the console): it is judged and recorded at
/// the time it was made, not the time it was typed in, so a call at 21:30 logged the next morning is on the record as a
/// call at 21:30, and counts in the 7-in-7 limit from then.
/// </summary>
public static class LoggedCall
{
    /// <summary>A call's idempotency key used again for another call (another outcome or agreement).</summary>
    public static readonly DomainError KeyReused = DomainError.Conflict("idempotency-key.reused",
        "This Idempotency-Key already recorded a call with another outcome or agreement; the account shows what was recorded. Use a new key to record another call.");

    /// <summary>
    /// Whether a retry asks what the call recorded under its key asked. The record may keep its request's fingerprint
    /// with amounts as sent, by value, both, or neither (a call logged before fingerprints: taken as the same); either
    /// one matching is enough, since two requests alike as sent are alike by value.
    /// </summary>
    public static bool SameRequest(string? recordedAsSent, string? recordedByValue, string asSent, string? byValue) =>
        (recordedAsSent is null && recordedByValue is null)
        || recordedAsSent == asSent
        || (byValue is not null && recordedByValue == byValue);

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

    /// <summary>When the call is judged and recorded: the time it took place (never later than now), or now.</summary>
    public static DateTimeOffset At(DateTimeOffset? calledAt, DateTimeOffset now) => calledAt is { } at && at < now ? at : now;

    /// <summary>
    /// The contacts before the call: what the rules saw when it was made (later ones did not exist yet). Those stamped
    /// a few minutes after it count too: a caller's clock a little behind ours, or another silo's ahead, would
    /// otherwise leave out contacts that came first.
    /// </summary>
    public static IReadOnlyList<ContactAttempt> HistoryBefore(IReadOnlyList<ContactAttempt> history, DateTimeOffset at, DateTimeOffset now) =>
        at >= now ? history : history.Where(a => a.At <= at + ClockSkew).ToList();

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

    /// <summary>
    /// The call limit a call logged after it took place breaks once the calls made after it (and logged before it) are
    /// counted too: some stretch shorter than the limit's window that holds it would hold more call attempts about the
    /// debt than allowed. Judged against the calls before it alone, a call logged out of order would pass a limit that it
    /// and a later call break together. Null: it breaks none, or it is not a call that counts, or it is not backdated.
    /// </summary>
    public static GateDecision? CallLimitWithLaterCalls(ContactRequest request, PersonFacts person, ComplianceRules rules, DateTimeOffset at, DateTimeOffset now)
    {
        if (at >= now || request.Channel is not (ContactChannel.Voice or ContactChannel.AutomatedVoice)
            || request.Initiator is not (ContactInitiator.Engine or ContactInitiator.Agent)) return null;
        var (local, rule) = rules.ForState(person.Profile.Address.State);
        var times = person.History.Where(a => a.Account == request.Account && a.CountsAsCallAttempt).Select(a => a.At).Append(at).Order().ToList();
        foreach (var start in times)
        {
            if (start > at) break;
            if (start + local.CallWindow <= at) continue; // a stretch that ends before the call
            var count = times.Count(t => t >= start && t < start + local.CallWindow);
            if (count > local.MaxCallAttemptsPerDebt)
                return GateDecision.Defer(rule, $"With the calls made after it, {count} call attempts about this debt within {local.CallWindow.TotalDays:0} days from {start:yyyy-MM-dd HH:mm} UTC; at most {local.MaxCallAttemptsPerDebt} are allowed.",
                    start + local.CallWindow);
        }
        return null;
    }

    /// <summary>Where the call goes in a history kept in time order: after every contact made at or before it.</summary>
    public static int InsertionIndex(IReadOnlyList<ContactAttempt> history, DateTimeOffset at)
    {
        var index = history.Count;
        while (index > 0 && history[index - 1].At > at) index--;
        return index;
    }
}
