using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Collections.Hosting;

/// <summary>
/// Problem details for the requests Kestrel refuses before the application sees them (a NUL or control character in
/// the URL, a malformed request line, headers too large): Kestrel answers those with an empty body, and no hook
/// changes that. This connection filter recognises such an answer as it is written (a complete 4xx/5xx head with
/// <c>Content-Length: 0</c> and no content type: the application never writes one, as every error it gives carries a
/// problem body) and writes the same status with an RFC 7807 body and a <c>code</c>. It copies nothing else: every other
/// write goes straight to the connection. URLs up to <see cref="MaxRequestLine"/> reach the application, which refuses
/// those over <see cref="MaxRequestTarget"/> itself (414 with a problem body).
/// </summary>
public static class RejectedRequestProblems
{
    public const int MaxRequestTarget = 8 * 1024;
    public const int MaxRequestLine = 64 * 1024;

    public static void AddRejectedRequestProblems(this KestrelServerOptions kestrel)
    {
        kestrel.Limits.MaxRequestLineSize = MaxRequestLine;
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => async connection =>
        {
            var transport = connection.Transport;
            connection.Transport = new Pipe(transport.Input, new ProblemBodyWriter(transport.Output));
            try
            {
                await next(connection);
            }
            finally
            {
                connection.Transport = transport;
            }
        }));
    }

    /// <summary>
    /// 414 with a problem body for a request target over <see cref="MaxRequestTarget"/> (Kestrel lets up to
    /// <see cref="MaxRequestLine"/> through), and 400 for a path that decodes to control characters (%0D%0A, %1B):
    /// no identifier in this API contains one.
    /// </summary>
    public static IApplicationBuilder UseRequestTargetLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        var status = request.Path.Value?.Length + request.QueryString.Value?.Length > MaxRequestTarget ? 414
            : request.Path.Value is { } path && path.Any(char.IsControl) ? 400
            : 0;
        if (status != 0)
        {
            context.Response.StatusCode = status;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = Problem(status, CodeFor(status)),
            });
            return;
        }
        await next();
    });

    /// <summary>
    /// The answer to write instead of <paramref name="written"/>, or null to leave it: only a complete response head
    /// with a 4xx/5xx status, <c>Content-Length: 0</c> and no <c>Content-Type</c>.
    /// </summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (written.Length < 20 || written.Length > 2048 || !written.StartsWith("HTTP/1."u8) || !written.EndsWith("\r\n\r\n"u8)) return null;
        if (written[9] is not ((byte)'4' or (byte)'5') || written.IndexOf("\r\n\r\n"u8) != written.Length - 4) return null;
        var head = Encoding.ASCII.GetString(written[..^4]);
        var lines = head.Split("\r\n");
        if (!lines.Skip(1).Any(l => l.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase))) return null;
        if (lines.Skip(1).Any(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase) || l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase))) return null;
        if (!int.TryParse(lines[0].AsSpan(9, 3), out var status)) return null;

        var body = JsonSerializer.SerializeToUtf8Bytes(Problem(status, CodeFor(status)), ProblemJson);
        var result = new StringBuilder();
        result.Append(lines[0]).Append("\r\n");
        foreach (var line in lines.Skip(1).Where(l => !l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)))
            result.Append(line).Append("\r\n");
        result.Append("Content-Type: application/problem+json\r\n");
        result.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(result.ToString()), .. body];
    }

    private static readonly JsonSerializerOptions ProblemJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static string CodeFor(int status) => status switch
    {
        400 => "request.malformed",
        408 => "request.timeout",
        413 => "request.body-too-large",
        414 => "request.uri-too-long",
        431 => "request.headers-too-large",
        505 => "request.http-version",
        _ => "request.refused",
    };

    private static Microsoft.AspNetCore.Mvc.ProblemDetails Problem(int status, string code) => new()
    {
        Status = status,
        Type = Gateway.Api.Problems.TypePrefix + code,
        Title = code switch
        {
            "request.malformed" => "Malformed request",
            "request.uri-too-long" => "URL too long",
            "request.headers-too-large" => "Headers too large",
            "request.body-too-large" => "Body too large",
            "request.timeout" => "Request timed out",
            _ => "Request refused",
        },
        Detail = code switch
        {
            "request.malformed" => "The request line or its headers are malformed: the URL may carry a NUL or control character (%00, CR, LF), or the HTTP syntax is broken.",
            "request.uri-too-long" => $"The URL (path and query) is longer than {MaxRequestTarget / 1024} KB.",
            "request.headers-too-large" => "The request headers are larger than the server accepts.",
            "request.body-too-large" => "The request body is larger than the server accepts.",
            "request.timeout" => "The request was not received in time.",
            _ => "The server refused the request.",
        },
        Extensions = { ["code"] = code },
    };

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>Passes every write through, except a bodiless error head, which it replaces (see <see cref="Rewrite"/>).</summary>
    private sealed class ProblemBodyWriter(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _lent;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lent = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            if (bytes > 0 && bytes <= _lent.Length && _lent.Span[0] == (byte)'H' && Rewrite(_lent.Span[..bytes]) is { } replacement)
            {
                inner.Advance(0);
                inner.Write(replacement);
            }
            else inner.Advance(bytes);
            _lent = default;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}
