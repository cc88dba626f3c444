namespace Collections.Domain.Payments;

/// <summary>How many wrong dates of birth the self-service page takes before it locks (<c>Collections:Portal</c>).</summary>
public sealed record PortalAccessRules
{
    /// <summary>Wrong answers within <see cref="Window"/> that lock the person's links.</summary>
    public int MaxFailures { get; init; } = 5;
    /// <summary>Wrong answers from one client address (for anyone) within <see cref="Window"/> that lock that address.</summary>
    public int MaxFailuresPerAddress { get; init; } = 20;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>How long the lock lasts after the last wrong answer.</summary>
    public TimeSpan Lockout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>How long a payment link in a statement, email or text stays good.</summary>
    public TimeSpan LinkLifetime { get; init; } = TimeSpan.FromDays(90);
    /// <summary>How long a patient stays signed in on the page without doing anything.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromMinutes(20);
}

/// <summary>The identity check of the self-service page. Pure.</summary>
public static class PortalAccess
{
    /// <summary>Until when wrong answers lock the person out, or null.</summary>
    public static DateTimeOffset? LockedUntil(IReadOnlyList<DateTimeOffset> failures, PortalAccessRules rules, DateTimeOffset now)
    {
        var recent = failures.Where(f => f > now - rules.Window - rules.Lockout).Order().ToList();
        // A lock starts when MaxFailures wrong answers fall within one window; it lasts Lockout after the last of them.
        for (var i = recent.Count - 1; i >= rules.MaxFailures - 1; i--)
            if (recent[i] - recent[i - rules.MaxFailures + 1] <= rules.Window && recent[i] + rules.Lockout > now)
                return recent[i] + rules.Lockout;
        return null;
    }

    /// <summary>Wrong answers left before the lock (0 when locked).</summary>
    public static int AttemptsLeft(IReadOnlyList<DateTimeOffset> failures, PortalAccessRules rules, DateTimeOffset now) =>
        LockedUntil(failures, rules, now) is not null ? 0 : Math.Max(0, rules.MaxFailures - failures.Count(f => f > now - rules.Window));

    /// <summary>Whether the date of birth given matches the one on file (the only proof the page asks with a link).</summary>
    public static bool Matches(DateOnly onFile, DateOnly? given) => given == onFile;
}
