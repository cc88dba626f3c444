using Collections.Domain;

namespace Collections.Grains;

/// <summary>The answer to a command: a value, or the reasons it was refused (nothing was changed then).</summary>
[GenerateSerializer, Immutable, Alias("collections.Outcome`1")]
public sealed record Outcome<T>
{
    [Id(0)] public T? Value { get; init; }
    [Id(1)] public IReadOnlyList<DomainError> Errors { get; init; } = [];
    /// <summary>The request repeated one already done (the same Idempotency-Key): nothing changed, and this is its result as it stands.</summary>
    [Id(2)] public bool Replayed { get; init; }

    public bool Succeeded => Errors.Count == 0;

    public static Outcome<T> Success(T value) => new() { Value = value };

    public static Outcome<T> Failure(IReadOnlyList<DomainError> errors) => new() { Errors = errors };

    public static Outcome<T> Failure(DomainError error) => new() { Errors = [error] };
}

/// <summary>An account command failed and the database is known to have stored nothing of it: retrying is safe.</summary>
[GenerateSerializer, Alias("collections.CommandNotStoredException")]
public sealed class CommandNotStoredException : Exception
{
    public CommandNotStoredException() : base("Nothing of the command was stored; retry it with the same idempotency key.") { }
    public CommandNotStoredException(string message) : base(message) { }
    public CommandNotStoredException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A grain could not load its state because the database could not answer (down, unreachable, refusing connections):
/// the call that activated it ran nothing, so nothing was read or changed by it. Retrying once the database is back is safe.
/// </summary>
[GenerateSerializer, Alias("collections.StoreUnavailableException")]
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException() : base("The database could not be reached to load the record; nothing was read or changed.") { }
    public StoreUnavailableException(string message) : base(message) { }
    public StoreUnavailableException(string message, Exception inner) : base(message, inner) { }

    /// <summary>A read of <paramref name="what"/>'s state, failing with this exception when the database does not answer.</summary>
    public static async Task<T> ReadingAsync<T>(string what, Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            throw new StoreUnavailableException($"The database could not be reached to load the {what}; nothing was read or changed.", e);
        }
    }

    /// <summary>Whether a failure to read is the database not answering (rather than, say, a state it cannot decode).</summary>
    public static bool IsDatabaseFailure(Exception exception) =>
        exception is System.Data.Common.DbException or System.Net.Sockets.SocketException or TimeoutException or System.IO.IOException
        || exception.InnerException is { } inner && IsDatabaseFailure(inner);
}

/// <summary>
/// An account command failed at a point where its commit may or may not have happened: a retry with the same
/// idempotency key returns the stored result if it was stored, and makes the change once if it was not.
/// </summary>
[GenerateSerializer, Alias("collections.CommandOutcomeUnknownException")]
public sealed class CommandOutcomeUnknownException : Exception
{
    public CommandOutcomeUnknownException() : base("The command's outcome is unknown; retry it with the same idempotency key.") { }
    public CommandOutcomeUnknownException(string message) : base(message) { }
    public CommandOutcomeUnknownException(string message, Exception inner) : base(message, inner) { }
}
