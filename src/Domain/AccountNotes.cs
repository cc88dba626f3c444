namespace Collections.Domain;

/// <summary>A note staff wrote on the account (what was said on a call, what to do next). Never clinical details.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountNote")]
public sealed record AccountNote
{
    [Id(0)] public required string NoteId { get; init; }
    [Id(1)] public required string Text { get; init; }
    [Id(2)] public required string WrittenBy { get; init; }
    [Id(3)] public required DateTimeOffset WrittenAt { get; init; }
    /// <summary>The writer's Idempotency-Key: a retry with it finds this note.</summary>
    [Id(4), System.Text.Json.Serialization.JsonIgnore] public string IdempotencyKey { get; init; } = "";
}

/// <summary>The rules for a note: one line or a paragraph of printable text, once per Idempotency-Key.</summary>
public static class AccountNotes
{
    public const int MaxLength = 1000;
    /// <summary>Notes an account keeps (they travel with its state on every commit): beyond this, staff are told to summarise.</summary>
    public const int MaxNotes = 50;

    /// <summary>
    /// The note to add, or the one this key already added (<c>Replay</c>), or why not: no text, too long, control
    /// characters, no key, or a key that already added another text.
    /// </summary>
    public static (AccountNote? Note, bool Replay, IReadOnlyList<DomainError> Errors) Add(
        string? text, string? idempotencyKey, IReadOnlyList<AccountNote> existing, string writtenBy, DateTimeOffset now)
    {
        var errors = new ErrorList();
        // Line breaks are allowed in a note; every other control character is not.
        var cleaned = Domain.Text.Clean(text?.ReplaceLineEndings("\n"));
        if (cleaned is null) errors.Invalid("text", "text.required", "Write the note's text.");
        else if (cleaned.Length > MaxLength) errors.Invalid("text", "text.too-long", $"A note is at most {MaxLength} characters.");
        else if (cleaned.Any(c => char.IsControl(c) && c != '\n')) errors.Invalid("text", "text.control-characters", "A note must not contain control characters.");
        var key = Domain.Text.Clean(idempotencyKey);
        if (key is null)
            errors.Invalid("Idempotency-Key", "idempotency-key.required", "Adding a note needs an Idempotency-Key, so a retry adds it once.");
        else if (key.Length > LedgerPosting.MaxIdempotencyKeyLength || key.Any(char.IsControl))
            errors.Invalid("Idempotency-Key", "idempotency-key.invalid", $"The Idempotency-Key must be 1 to {LedgerPosting.MaxIdempotencyKeyLength} printable characters.");
        if (errors.Any) return (null, false, errors.Errors);
        if (existing.FirstOrDefault(n => n.IdempotencyKey == key) is { } earlier)
            return earlier.Text == cleaned
                ? (earlier, true, [])
                : (null, false, [DomainError.Conflict("idempotency-key.reused", "This Idempotency-Key already added another note: use a new key for a new note.")]);
        if (existing.Count >= MaxNotes)
            return (null, false, [DomainError.Conflict("notes.too-many", $"The account keeps at most {MaxNotes} notes: summarise in the account's notes elsewhere, or ask a supervisor.")]);
        return (new AccountNote { NoteId = $"N{existing.Count + 1}", Text = cleaned!, WrittenBy = writtenBy, WrittenAt = now, IdempotencyKey = key! }, false, []);
    }

    /// <summary>
    /// The note an agent's call outcome keeps: what they wrote, after the outcome (<c>Call, promiseToPay: …</c>), under
    /// a key of the call's own (an agent's notes and calls may use the same keys without colliding), or why it could
    /// not be kept (the account's notes are full). Null when the outcome carried no note.
    /// </summary>
    public static (AccountNote? Note, IReadOnlyList<DomainError> Errors) ForCall(
        string? said, string outcome, string callKey, IReadOnlyList<AccountNote> existing, string writtenBy, DateTimeOffset now)
    {
        if (Domain.Text.Clean(said) is not { } text) return (null, []);
        var (note, replay, errors) = Add($"Call, {outcome}: {text}", KeyForCall(callKey), existing, writtenBy, now);
        return (replay ? null : note, errors); // already on the account: nothing to add
    }

    /// <summary>
    /// What a retry of a call recorded under <paramref name="callKey"/> is told when what it said is not on the account's
    /// notes; null when it is there or said nothing. A retry cannot tell why: the notes were full then, or the call under
    /// that key was recorded without this note (by a release that kept no call notes, or asked without one).
    /// </summary>
    public static string? NotKeptOnRetry(string? said, string callKey, IReadOnlyList<AccountNote> existing) =>
        Domain.Text.Clean(said) is not null && KeyForCall(callKey) is var key && existing.All(n => n.IdempotencyKey != key)
            ? "This call's note is not on the account's notes: they were full when the call was recorded, or the call under this key was recorded without it."
            : null;

    // The HTTP API keeps keys to 100 characters, so the hash is for other callers of the grain.
    private static string KeyForCall(string callKey) => $"call/{callKey}" is { Length: <= LedgerPosting.MaxIdempotencyKeyLength } key
        ? key
        : "call/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(callKey)));
}
