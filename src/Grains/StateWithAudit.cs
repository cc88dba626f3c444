using Collections.Persistence;

namespace Collections.Grains;

/// <summary>
/// A grain's change and its audit record in one transaction: the grain names the record as it writes its state, and
/// <see cref="GroupCommitGrainStorage"/> inserts it in the transaction that stores the state. No change is then kept
/// without its record (a crash between two commits could do that), and the record costs no commit of its own. Under a
/// storage that does not take it, the record is written on its own after the state.
/// </summary>
public static class StateWithAudit
{
    private sealed class Carried(AuditEvent record)
    {
        public AuditEvent Record { get; } = record;
        public bool Taken { get; set; }
    }

    // The storage is called in the grain's own flow, so it finds the record of the write it is asked for here.
    private static readonly AsyncLocal<Carried?> Current = new();

    /// <summary>Writes the state and its audit record; completes once both are durable.</summary>
    public static async Task WriteStateAsync<T>(this IPersistentState<T> state, IAuditTrail audit, AuditEvent record)
    {
        var carried = new Carried(record);
        Current.Value = carried;
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            Current.Value = null;
        }
        if (!carried.Taken) await audit.RecordAsync(record);
    }

    /// <summary>For the storage: the record the write under way carries, taken once (null when it carries none).</summary>
    internal static AuditEvent? Take()
    {
        if (Current.Value is not { Taken: false } carried) return null;
        carried.Taken = true;
        return carried.Record;
    }
}
