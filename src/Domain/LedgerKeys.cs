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
    private LedgerReadMark _indexed;

    /// <summary>The first entry of <paramref name="ledger"/> posted with <paramref name="key"/>, if any.</summary>
    public LedgerEntry? Find(IReadOnlyList<LedgerEntry> ledger, string key)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var from = _indexed.ReadOf(ledger);
        if (from == 0) _byKey.Clear();
        if (ledger.Count < IndexFrom)
        {
            _indexed = default;
            return Scan(ledger, key);
        }
        for (var i = from; i < ledger.Count; i++)
            if (ledger[i].IdempotencyKey is { } k) _byKey.TryAdd(k, ledger[i]); // the first wins, as in a scan
        _indexed.Read(ledger);
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
