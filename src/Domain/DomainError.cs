namespace Collections.Domain;

/// <summary>What kind of failure a rejected command is, which decides how a caller reports it.</summary>
public enum ErrorKind
{
    /// <summary>The input itself is wrong (HTTP 400).</summary>
    Invalid,
    /// <summary>Something the input names does not exist (HTTP 404).</summary>
    NotFound,
    /// <summary>The input is well formed but clashes with what is stored (HTTP 409).</summary>
    Conflict,
}

/// <summary>
/// One reason a command was refused. <see cref="Field"/> names the offending input (JSON path style, e.g.
/// <c>amount</c> or <c>address.zip</c>) where there is one. Messages never contain the input's value, so they are
/// safe to log (no PHI).
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.DomainError")]
public sealed record DomainError
{
    [Id(0)] public required ErrorKind Kind { get; init; }
    [Id(1)] public required string Code { get; init; }
    [Id(2)] public required string Message { get; init; }
    [Id(3)] public string? Field { get; init; }

    public static DomainError Invalid(string field, string code, string message) =>
        new() { Kind = ErrorKind.Invalid, Field = field, Code = code, Message = message };

    public static DomainError NotFound(string code, string message, string? field = null) =>
        new() { Kind = ErrorKind.NotFound, Code = code, Message = message, Field = field };

    public static DomainError Conflict(string code, string message, string? field = null) =>
        new() { Kind = ErrorKind.Conflict, Code = code, Message = message, Field = field };
}

/// <summary>The errors collected while validating one command; the first non-<see cref="ErrorKind.Invalid"/> kind wins.</summary>
public sealed class ErrorList
{
    private readonly List<DomainError> _errors = [];

    public IReadOnlyList<DomainError> Errors => _errors;
    public bool Any => _errors.Count > 0;

    public void Add(DomainError error) => _errors.Add(error);

    public void Invalid(string field, string code, string message) => _errors.Add(DomainError.Invalid(field, code, message));
}
