namespace Collections.Domain;

/// <summary>
/// A request sent again (a retry after a timeout, a double click) finds what the first one made instead of making it
/// twice: by its <c>Idempotency-Key</c> when it carries one, the same content answered with what was made; a key used
/// for something else is refused, naming the key.
/// </summary>
public static class RepeatedRequests
{
    public static readonly DomainError KeyInvalid = DomainError.Invalid("Idempotency-Key", "idempotency-key.invalid",
        $"The Idempotency-Key must be 1 to {LedgerPosting.MaxIdempotencyKeyLength} printable characters.");

    /// <summary>The key as stored (trimmed; null when none was sent), or an error when it cannot be one.</summary>
    public static (string? Key, DomainError? Error) Key(string? idempotencyKey)
    {
        if (idempotencyKey is null) return (null, null);
        var key = idempotencyKey.Trim();
        return key.Length == 0 || key.Length > LedgerPosting.MaxIdempotencyKeyLength || key.Any(char.IsControl) ? (null, KeyInvalid) : (key, null);
    }

    /// <summary>
    /// What a request with this key made before (null: nothing, make it now), or an error when the key is malformed or
    /// made something else (<paramref name="same"/> false).
    /// </summary>
    public static (T? Earlier, DomainError? Error) Find<T>(string? idempotencyKey, IEnumerable<T> existing, Func<T, string?> keyOf, Func<T, bool> same, string what)
        where T : class
    {
        var (key, error) = Key(idempotencyKey);
        if (error is not null || key is null) return (null, error);
        var earlier = existing.FirstOrDefault(e => keyOf(e) == key);
        if (earlier is null || same(earlier)) return (earlier, null);
        return (null, DomainError.Conflict("idempotency-key.reused", $"This Idempotency-Key was used for another {what}: use a new key for a new one.", "Idempotency-Key"));
    }
}
