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
