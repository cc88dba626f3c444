namespace Collections.Domain;

/// <summary>
/// Where a reader of an append-only ledger stopped: the list it read, how far, and the last entry it read. The next
/// read starts there, or from the start when the list is another one or was cut back since (it is shorter, or another
/// entry stands where the last one read stood). For work asked at every command of a long-lived account that only
/// needs the entries added since.
/// </summary>
public struct LedgerReadMark
{
    private IReadOnlyList<LedgerEntry>? _ledger;
    private int _read;
    private LedgerEntry? _last;

    /// <summary>How many of <paramref name="ledger"/>'s entries were read already (0: read it from the start).</summary>
    public readonly int ReadOf(IReadOnlyList<LedgerEntry> ledger) =>
        ReferenceEquals(ledger, _ledger) && ledger.Count >= _read && (_read == 0 || ReferenceEquals(ledger[_read - 1], _last)) ? _read : 0;

    /// <summary>Marks <paramref name="ledger"/> read to its end.</summary>
    public void Read(IReadOnlyList<LedgerEntry> ledger)
    {
        _ledger = ledger;
        _read = ledger.Count;
        _last = ledger.Count > 0 ? ledger[^1] : null;
    }
}
