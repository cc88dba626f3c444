namespace Collections.Domain;

/// <summary>
/// The entries of an append-only ledger by idempotency key, for a caller that posts to the same ledger again and again
/// (an account's grain): every post asks whether its key was used before, and a scan of a long-lived account's ledger
/// compared every key it holds. The index catches up with the entries appended since the last question; given another
/// list, or one cut back since, it starts again. A short ledger is scanned, and costs no index.
/// </summary>
public sealed class LedgerKeys
{
    /// <summary>Below this many entries a scan is as quick, and the index is not built.</summary>
    public const int IndexFrom = 32;

    private readonly Dictionary<string, LedgerEntry> _byKey = new(StringComparer.Ordinal);
    private IReadOnlyList<LedgerEntry>? _ledger;
    private int _indexed;
    private LedgerEntry? _lastRead;

    /// <summary>The first entry of <paramref name="ledger"/> posted with <paramref name="key"/>, if any.</summary>
    public LedgerEntry? Find(IReadOnlyList<LedgerEntry> ledger, string key)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        // Another list, or this one cut back since (shorter now, or another entry where the last one read was).
        if (!ReferenceEquals(ledger, _ledger) || ledger.Count < _indexed || (_indexed > 0 && !ReferenceEquals(ledger[_indexed - 1], _lastRead)))
        {
            _byKey.Clear();
            _ledger = ledger;
            _indexed = 0;
            _lastRead = null;
        }
        if (ledger.Count < IndexFrom) return Scan(ledger, key);
        for (; _indexed < ledger.Count; _indexed++)
            if (ledger[_indexed].IdempotencyKey is { } k) _byKey.TryAdd(k, ledger[_indexed]); // the first wins, as in a scan
        _lastRead = ledger[_indexed - 1];
        return _byKey.GetValueOrDefault(key);
    }

    /// <summary>The same question answered by reading the ledger from its start.</summary>
    public static LedgerEntry? Scan(IReadOnlyList<LedgerEntry> ledger, string key)
    {
        foreach (var e in ledger)
            if (string.Equals(e.IdempotencyKey, key, StringComparison.Ordinal)) return e;
        return null;
    }
}
