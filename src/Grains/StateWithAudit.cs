using Collections.Outreach;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>
/// A grain's change and its audit record in one transaction: the grain names the record as it writes its state, and
/// <see cref="GroupCommitGrainStorage"/> inserts it in the transaction that stores the state. No change is then kept
/// without its record (a crash between two commits could do that), and the record costs no commit of its own. Under a
/// storage that does not take it, the record is written on its own after the state. A write may carry an outbox
/// message the same way (a guarantor's contact and the message it makes).
/// </summary>
public static class StateWithAudit
{
    private sealed class Carried(AuditEvent record, PreparedMessage? message)
    {
        public AuditEvent Record { get; } = record;
        public PreparedMessage? Message { get; } = message;
        public bool Taken { get; set; }
    }

    // The storage is called in the grain's own flow, so it finds the record of the write it is asked for here.
    private static readonly AsyncLocal<Carried?> Current = new();

    /// <summary>
    /// Writes the state and its audit record, and the message if one is given; completes once they are durable. False
    /// when a message was given and the storage did not take it (only a storage other than
    /// <see cref="GroupCommitGrainStorage"/>): the state and record are stored, the message is not, and the caller must
    /// store it.
    /// </summary>
    public static async Task<bool> WriteStateAsync<T>(this IPersistentState<T> state, IAuditTrail audit, AuditEvent record, PreparedMessage? message = null)
    {
        var carried = new Carried(record, message);
        Current.Value = carried;
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            Current.Value = null;
        }
        if (carried.Taken) return true;
        await audit.RecordAsync(record);
        return message is null;
    }

    /// <summary>For the storage: the record and message the write under way carries, taken once (nulls when it carries none).</summary>
    internal static (AuditEvent? Record, PreparedMessage? Message) Take()
    {
        if (Current.Value is not { Taken: false } carried) return (null, null);
        carried.Taken = true;
        return (carried.Record, carried.Message);
    }
}
