using System.Text.Json;
using Collections.Domain;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Collections.Gateway.Api;

/// <summary>RFC 7807 problem details for refused commands and bad requests.</summary>
public static class Problems
{
    public const string TypePrefix = "https://collections.example/problems/";

    /// <summary>Turns domain refusals into a problem: 404 or 409 if any refusal is of that kind, else 400 with every field error.</summary>
    public static ProblemHttpResult From(IReadOnlyList<DomainError> errors)
    {
        var lead = errors.FirstOrDefault(e => e.Kind == ErrorKind.NotFound)
                   ?? errors.FirstOrDefault(e => e.Kind == ErrorKind.Conflict)
                   ?? errors[0];
        var (status, title) = lead.Kind switch
        {
            ErrorKind.NotFound => (StatusCodes.Status404NotFound, "Not found"),
            ErrorKind.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
            _ => (StatusCodes.Status400BadRequest, "The request is not valid"),
        };
        var shown = lead.Kind == ErrorKind.Invalid ? errors.Where(e => e.Kind == ErrorKind.Invalid).ToList() : [lead];
        return TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Type = TypePrefix + lead.Code,
            Detail = shown.Count == 1 ? shown[0].Message : string.Join(" ", shown.Select(e => e.Message)),
            Extensions =
            {
                ["code"] = lead.Code,
                ["errors"] = shown.Select(e => new { field = e.Field, code = e.Code, message = e.Message }).ToList(),
            },
        });
    }

    public static ProblemHttpResult Invalid(string field, string code, string message) =>
        From([DomainError.Invalid(field, code, message)]);

    /// <summary>
    /// Reads an optional query value naming one of <typeparamref name="T"/>'s values, by its camelCase name and in any
    /// case; a number or any other text is refused with the values this field takes. Empty or absent: null.
    /// </summary>
    public static ProblemHttpResult? ReadEnum<T>(string field, string? value, out T? parsed) where T : struct, Enum
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(value)) return null;
        // A name only: Enum.TryParse would also read numbers ("1", "+1") and OR a comma list ("open,done").
        var name = value.Trim();
        if (char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit) && Enum.TryParse<T>(name, ignoreCase: true, out var read) && Enum.IsDefined(read))
        {
            parsed = read;
            return null;
        }
        return Invalid(field, $"{field}.invalid", $"{field} must be one of: {string.Join(", ", EnumNames<T>())}.");
    }

    /// <summary>The names a field of type <typeparamref name="T"/> takes on the wire (camelCase, as the API writes them).</summary>
    public static IEnumerable<string> EnumNames<T>() where T : struct, Enum => Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName);

    public static ProblemHttpResult NotFound(string code, string message) =>
        From([DomainError.NotFound(code, message)]);

    /// <summary>A contact the compliance gate refused: 409, with the deciding rule and, for a deferral, when it would be allowed.</summary>
    public static ProblemHttpResult Refused(Domain.Compliance.GateDecision decision) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status409Conflict,
        Title = decision.Verdict == Domain.Compliance.GateVerdict.Defer ? "Not allowed yet" : "Not allowed",
        Type = TypePrefix + decision.Rule,
        Detail = decision.Reason,
        Extensions =
        {
            ["code"] = decision.Rule,
            ["verdict"] = decision.Verdict.ToString().ToLowerInvariant(),
            ["notBefore"] = decision.NotBefore,
        },
    });

    /// <summary>A service this answer depends on cannot be reached: 503 with the code saying which.</summary>
    public static ProblemHttpResult Unavailable(string code, string title, string message) =>
        TypedResults.Problem(Details(StatusCodes.Status503ServiceUnavailable, title, code, message));

    public static ProblemHttpResult Forbidden(string message) =>
        TypedResults.Problem(Details(StatusCodes.Status403Forbidden, "Forbidden", "forbidden", message));

    /// <summary>A problem with its status, title, type and <c>code</c> (the type is the code under <see cref="TypePrefix"/>).</summary>
    internal static ProblemDetails Details(int status, string title, string code, string detail) => new()
    {
        Status = status,
        Title = title,
        Type = TypePrefix + code,
        Detail = detail,
        Extensions = { ["code"] = code },
    };
}

/// <summary>
/// Unreadable request bodies (malformed JSON, wrong types, unknown fields) become 400 problem details naming where
/// the body went wrong; anything unexpected becomes a 500 that reveals nothing.
/// </summary>
public sealed class RequestExceptionHandler(IProblemDetailsService problems, ILogger<RequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        if (exception is BadHttpRequestException bad)
        {
            var json = bad.InnerException as JsonException;
            var where = json?.Path is { Length: > 0 } path ? $" at {path}" : "";
            var parameter = json is null ? UnboundParameter.Read(bad.Message) : null;
            var reason = json is null
                ? parameter is not null ? parameter.Message
                : bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) ? "The request body is missing or unreadable." : "The request is not valid."
                : json.Message.Contains("could not be mapped", StringComparison.Ordinal)
                    ? $"The request body has a field this endpoint does not accept{where}."
                    : json.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)
                    ? $"The request body names a field twice{where}; send each field once."
                    : EnumValues(json.Message) is { } values
                    ? $"The request body has a value this field does not take{where}: it must be one of {values}."
                    : ExpectedValue(json.Message) is { } expected
                    ? $"The request body has a value of the wrong form{where}: it must be {expected}."
                    : $"The request body is not valid JSON for this endpoint{where}: a value is missing, malformed or of the wrong type.";
            problem = new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "Unsupported media type" : "The request is not valid",
                Type = Problems.TypePrefix + (json is null ? "request.invalid" : "body.invalid-json"),
                Detail = reason,
                Extensions = { ["code"] = json is null ? "request.invalid" : "body.invalid-json" },
            };
            if (json?.Path is { } p) problem.Extensions["errors"] = new[] { new { field = p, code = "body.invalid-json", message = reason } };
            else if (parameter is not null) problem.Extensions["errors"] = new[] { new { field = parameter.Name, code = $"{parameter.Name}.invalid", message = reason } };
        }
        else
        {
            var route = (httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText;
            if (DatabaseUnreachable(exception))
                logger.LogWarning("The database could not be reached while serving {RequestMethod} {RouteTemplate} ({Error})",
                    httpContext.Request.Method, route, Innermost(exception).GetType().Name);
            else logger.LogError(exception, "Unhandled error while serving {RequestMethod} {RouteTemplate}", httpContext.Request.Method, route);
            problem = Unexpected(httpContext.Request.Method, exception);
        }
        problem.Extensions["traceId"] = httpContext.TraceIdentifier;
        httpContext.Response.StatusCode = problem.Status!.Value;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable) httpContext.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>
    /// The values a field takes when the body gave one an enumeration of ours does not have: System.Text.Json says
    /// "The JSON value could not be converted to Collections.Domain.EntryKind. Path: ...", naming the type.
    /// </summary>
    internal static string? EnumValues(string message)
    {
        if (ConvertedTo(message) is not { } name) return null;
        // "Collections.Domain.EntryKind", or wrapped: "System.Nullable`1[Collections.Domain.EntryKind]".
        var ours = System.Text.RegularExpressions.Regex.Match(name, @"Collections\.[A-Za-z0-9_.+]+");
        if (!ours.Success) return null;
        var type = EnumTypes.Value.GetValueOrDefault(ours.Value.TrimEnd('.'));
        return type is null ? null : string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName));
    }

    /// <summary>The type System.Text.Json could not read a value as: "The JSON value could not be converted to T. Path: ...".</summary>
    private static string? ConvertedTo(string message)
    {
        const string lead = "could not be converted to ";
        var at = message.IndexOf(lead, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = message[(at + lead.Length)..];
        var end = rest.IndexOf(". Path", StringComparison.Ordinal);
        return end < 0 ? null : rest[..end];
    }

    /// <summary>What a field of a framework type takes, from System.Text.Json's "could not be converted to T": a number, a date, ...</summary>
    internal static string? ExpectedValue(string message)
    {
        if (ConvertedTo(message) is not { } name) return null;
        if (name.StartsWith("System.Nullable`1[", StringComparison.Ordinal)) name = name["System.Nullable`1[".Length..].TrimEnd(']');
        return name switch
        {
            "System.Decimal" => "a JSON number with at most two decimals, such as 125.50 (not a string)",
            "System.Int32" or "System.Int64" or "System.Int16" => "a whole JSON number, such as 6 (not a string)",
            "System.Double" or "System.Single" => "a JSON number (not a string)",
            "System.Boolean" => "true or false (not a string)",
            "System.DateOnly" => "a date written yyyy-MM-dd, such as \"2026-12-06\"",
            "System.DateTimeOffset" or "System.DateTime" => "a date and time in ISO 8601 with its offset, such as \"2026-12-06T14:30:00Z\"",
            "System.TimeOnly" => "a time written HH:mm, such as \"08:30\"",
            "System.String" => "a JSON string",
            _ when name.StartsWith("System.Collections.Generic.", StringComparison.Ordinal) || name.EndsWith("[]", StringComparison.Ordinal) => "a JSON array",
            _ => null,
        };
    }

    private static readonly Lazy<Dictionary<string, Type>> EnumTypes = new(() => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => a.GetName().Name?.StartsWith("Collections.", StringComparison.Ordinal) == true)
        .SelectMany(a => { try { return a.GetTypes(); } catch (System.Reflection.ReflectionTypeLoadException e) { return e.Types.OfType<Type>().ToArray(); } })
        .Where(t => t.IsEnum && t.FullName is not null)
        .GroupBy(t => t.FullName!).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));

    /// <summary>
    /// An unexpected failure, told truthfully: a read changed nothing; a change the database is known to have rolled
    /// back stored nothing (503, retry); any other failed change may or may not have been committed before the failure,
    /// so the answer says the outcome is unknown and that a retry with the same Idempotency-Key returns the result.
    /// </summary>
    private static ProblemDetails Unexpected(string method, Exception exception)
    {
        if (exception is Security.KeyCheckUnavailableException)
            return Problem(StatusCodes.Status503ServiceUnavailable, "Database unavailable", "database.unavailable",
                "The database did not answer, so the API key could not be checked and the request was not served: nothing was read or changed. Retry in a few seconds" +
                (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "." : " with the same Idempotency-Key."));
        var reads = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        if (reads && DatabaseUnreachable(exception))
            return Problem(StatusCodes.Status503ServiceUnavailable, "Database unavailable", "database.unavailable",
                "The database did not answer, so this could not be read. Nothing was changed; retry in a few seconds.");
        if (reads)
            return Problem(StatusCodes.Status500InternalServerError, "Something went wrong", "internal",
                "The request could not be completed. It only reads, so nothing was changed; it is safe to retry.");
        if (exception is Grains.CommandNotStoredException || Persistence.CommitOutcome.IsKnownNotStored(exception))
            return Problem(StatusCodes.Status503ServiceUnavailable, "Not stored, try again", "commit.not-stored",
                "The change was not stored (the database rolled it back). Retry with the same Idempotency-Key.");
        return Problem(StatusCodes.Status500InternalServerError, "Outcome unknown", "outcome.unknown",
            "The request failed at a point where the change may already have been stored. Retry with the same Idempotency-Key: " +
            "if it was stored, the retry returns that result and changes nothing more; if not, the retry makes the change once.");
    }

    private static ProblemDetails Problem(int status, string title, string code, string detail) => Problems.Details(status, title, code, detail);

    /// <summary>The status this handler answers a request that failed with the exception (for the request's log line).</summary>
    public static int StatusFor(string method, Exception exception) =>
        exception is BadHttpRequestException bad ? bad.StatusCode : Unexpected(method, exception).Status!.Value;

    /// <summary>
    /// Whether a failure is the database not answering: a grain that could not load its state, a connection refused
    /// or lost, a server shutting down or not yet accepting connections. Only reads are answered 503 by it; a change
    /// that met it keeps its truthful answer (not stored, or outcome unknown), since a call chain may have committed
    /// something before the failure.
    /// </summary>
    internal static bool DatabaseUnreachable(Exception exception) => exception switch
    {
        Grains.StoreUnavailableException or Security.KeyCheckUnavailableException => true,
        // The server refused or dropped the connection (class 08), is shutting down or starting (57P01-57P03), or has
        // no connection left (53300); a serialization failure or a deadlock is not the database being unreachable.
        Npgsql.PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        Npgsql.NpgsqlException { IsTransient: true } => true, // no server answer at all (connecting, reading, timing out)
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 5 or 6 or 10 or 14 } => true, // busy, locked, I/O error, cannot open
        Orleans.Serialization.UnavailableExceptionFallbackException { ExceptionType: { } type } when
            type.StartsWith("Npgsql.NpgsqlException", StringComparison.Ordinal) => true,
        AggregateException a => a.InnerExceptions.Any(DatabaseUnreachable),
        _ => exception.InnerException is { } inner && DatabaseUnreachable(inner),
    };

    private static Exception Innermost(Exception exception) => exception.InnerException is { } inner ? Innermost(inner) : exception;
}

/// <summary>
/// A route or query parameter ASP.NET Core could not read (a word where a number goes, a date in another form), told by
/// its name and what it takes. The framework's message names the parameter as "Failed to bind parameter \"int days\"
/// from \"abc\"." or "Required parameter \"int days\" was not provided from query string."; the value sent is not
/// repeated (it may be anything).
/// </summary>
internal sealed record UnboundParameter(string Name, string Message)
{
    private static readonly System.Text.RegularExpressions.Regex Shape = new(
        "^(?:Failed to bind parameter|Required parameter) \"(?<type>[^\"]+?) (?<name>[A-Za-z_][A-Za-z0-9_]*)\"(?<missing> was not provided)?",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public static UnboundParameter? Read(string message)
    {
        var match = Shape.Match(message);
        if (!match.Success) return null;
        var name = match.Groups["name"].Value;
        var type = match.Groups["type"].Value.TrimEnd('?');
        if (type.StartsWith("Nullable<", StringComparison.Ordinal) && type.EndsWith('>')) type = type["Nullable<".Length..^1];
        var takes = What(type);
        return new UnboundParameter(name, match.Groups["missing"].Success
            ? $"The parameter {name} is required{(takes is null ? "" : $": {takes}")}."
            : $"The parameter {name} could not be read{(takes is null ? "" : $": it must be {takes}")}.");
    }

    private static string? What(string type) => type switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "decimal" or "double" or "float" or "Decimal" or "Double" => "a number, such as 12.50",
        "bool" or "Boolean" => "true or false",
        "DateOnly" => "a date as yyyy-MM-dd",
        "DateTimeOffset" or "DateTime" => "a date and time as ISO 8601, such as 2026-12-05T14:30:00Z",
        "Guid" => "an id such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        _ => null,
    };
}
