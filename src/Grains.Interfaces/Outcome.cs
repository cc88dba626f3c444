using Collections.Domain;

namespace Collections.Grains;

/// <summary>The answer to a command: a value, or the reasons it was refused (nothing was changed then).</summary>
[GenerateSerializer, Immutable, Alias("collections.Outcome`1")]
public sealed record Outcome<T>
{
    [Id(0)] public T? Value { get; init; }
    [Id(1)] public IReadOnlyList<DomainError> Errors { get; init; } = [];

    public bool Succeeded => Errors.Count == 0;

    public static Outcome<T> Success(T value) => new() { Value = value };

    public static Outcome<T> Failure(IReadOnlyList<DomainError> errors) => new() { Errors = errors };

    public static Outcome<T> Failure(DomainError error) => new() { Errors = [error] };
}
