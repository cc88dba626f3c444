using Collections.Outreach;
using Collections.Persistence;

namespace Collections.Grains;

/// <summary>
/// A grain's change and its audit record in one transaction: the grain names the record as it writes its state, and
/// <see cref="GroupCommitGrainStorage"/> inserts it in the transaction that stores the state. No change is then kept
/// without its record (a crash between two commits could do that), and the record costs no commit of its own. Under a
/// storage that does not take it, the record is written on its own after the state. A write may carry an outbox
/// message the same way (a guarantor's contact and the message it makes), where the storage takes messages
/// (<see cref="GroupCommitGrainStorage.TakesMessages"/>).
/// </summary>
public static class StateWithAudit
{
    private sealed class Carried(AuditEvent record, PreparedMessage? message)
    {
        public AuditEvent Record { get; } = record;
        public PreparedMessage? Message { get; } = message;
        public bool Taken { get; set; }
        public bool MessageTaken { get; set; }
    }

    // The storage is called in the grain's own flow, so it finds the record of the write it is asked for here.
    private static readonly AsyncLocal<Carried?> Current = new();

    /// <summary>
    /// Writes the state and its audit record, and the message if one is given; completes once they are durable. False
    /// when a message was given and the storage did not take it: the state and record are stored, the message is not,
    /// and the caller must store it (the guarantor checks <see cref="GroupCommitGrainStorage.TakesMessages"/> first, so
    /// this is only a fallback).
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
        if (carried.Taken) return message is null || carried.MessageTaken;
        await audit.RecordAsync(record);
        return message is null;
    }

    /// <summary>
    /// For the storage: the record the write under way carries, and its message if the storage takes messages, taken
    /// once (nulls when it carries none).
    /// </summary>
    internal static (AuditEvent? Record, PreparedMessage? Message) Take(bool takesMessages)
    {
        if (Current.Value is not { Taken: false } carried) return (null, null);
        carried.Taken = true;
        carried.MessageTaken = takesMessages && carried.Message is not null;
        return (carried.Record, carried.MessageTaken ? carried.Message : null);
    }
}
