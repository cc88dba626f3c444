using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Collections.Cli.Import;

/// <summary>How the engine answered one import call.</summary>
public enum ImportOutcome
{
    /// <summary>Created (or posted) now.</summary>
    Loaded,
    /// <summary>Already there: a replayed idempotency key, or a guarantor or account that exists.</summary>
    AlreadyPresent,
    /// <summary>Refused; <see cref="ImportAnswer.Problems"/> says why.</summary>
    Failed,
}

/// <summary>One problem the API reported: the request field it names (may be empty) and the message.</summary>
public sealed record ApiProblem(string? Field, string Message);

public sealed record ImportAnswer(ImportOutcome Outcome, IReadOnlyList<ApiProblem> Problems, JsonElement Body)
{
    public static ImportAnswer Refused(string message) => new(ImportOutcome.Failed, [new ApiProblem(null, message)], default);
}

/// <summary>The engine cannot be reached or refuses the key: every further call would fail the same way.</summary>
public sealed class EngineUnavailableException(string message) : Exception(message);

/// <summary>
/// The importers' HTTP client: every call authenticated with the API key, 5xx / 429 / dropped connections retried three
/// times with back-off (safe: every import call is idempotent), answers classified as loaded, already present or failed.
/// </summary>
public sealed class ImportApiClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json") { CharSet = "utf-8" };
    private readonly HttpClient _http;
    private readonly Uri _baseAddress;

    public ImportApiClient(Uri baseAddress, string apiKey, int parallel, HttpMessageHandler? handler = null)
    {
        _baseAddress = baseAddress;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(parallel, 1), PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(100),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <summary>POSTs a JSON body. Throws <see cref="EngineUnavailableException"/> when the engine is unreachable or refuses the key.</summary>
    public async Task<ImportAnswer> PostAsync(string path, JsonObject body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = JsonType;
            if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
            return request;
        }, cancellationToken);
        return await ClassifyAsync(response, cancellationToken);
    }

    /// <summary>PUTs a JSON body (a value set, idempotent by nature). Throws <see cref="EngineUnavailableException"/> as <see cref="PostAsync"/>.</summary>
    public async Task<ImportAnswer> PutAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = JsonType;
            return request;
        }, cancellationToken);
        return await ClassifyAsync(response, cancellationToken);
    }

    /// <summary>
    /// POSTs entries to an account's batch endpoint (all or none; each entry carries its idempotency key, so a retry
    /// posts nothing twice). Loaded when anything new posted, AlreadyPresent when every entry was a replay.
    /// </summary>
    public async Task<ImportAnswer> PostBatchAsync(string path, IReadOnlyList<(JsonObject Entry, string IdempotencyKey)> entries, bool settleImport, CancellationToken cancellationToken)
    {
        var array = new JsonArray();
        foreach (var (entry, key) in entries)
        {
            var copy = (JsonObject)entry.DeepClone();
            copy["idempotencyKey"] = key;
            array.Add(copy);
        }
        var answer = await PostAsync(path, new JsonObject { ["entries"] = array, ["settleImport"] = settleImport }, null, cancellationToken);
        if (answer.Outcome == ImportOutcome.Loaded && answer.Body.ValueKind == JsonValueKind.Object
            && answer.Body.TryGetProperty("posted", out var posted) && posted.GetInt32() == 0 && entries.Count > 0)
            return answer with { Outcome = ImportOutcome.AlreadyPresent };
        return answer;
    }

    /// <summary>GETs a JSON document; null when the engine answers 404.</summary>
    public async Task<JsonElement?> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
            throw new EngineUnavailableException($"GET {path}: the engine answered {(int)response.StatusCode} {response.ReasonPhrase}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = build();
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                if (attempt >= 4) throw new EngineUnavailableException($"--url {_baseAddress}: {e.Message}");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt * attempt), cancellationToken);
                continue;
            }
            var status = (int)response.StatusCode;
            if ((status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests) && attempt < 4)
            {
                response.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt * attempt), cancellationToken);
                continue;
            }
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var reason = $"the engine refused the API key ({status} {response.ReasonPhrase}); import needs a key with the admin, supervisor or integration role";
                response.Dispose();
                throw new EngineUnavailableException(reason);
            }
            return response;
        }
    }

    private static async Task<ImportAnswer> ClassifyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        JsonElement body = default;
        try
        {
            if (response.Content.Headers.ContentLength != 0)
                body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (JsonException)
        {
        }
        if (response.IsSuccessStatusCode)
        {
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
            return new ImportAnswer(replayed ? ImportOutcome.AlreadyPresent : ImportOutcome.Loaded, [], body);
        }
        var code = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("code", out var c) ? c.GetString() : null;
        if (response.StatusCode == HttpStatusCode.Conflict && code is "guarantor.exists" or "account.exists")
            return new ImportAnswer(ImportOutcome.AlreadyPresent, [], body);
        var problems = new List<ApiProblem>();
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var error in list.EnumerateArray())
            {
                var field = error.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                var message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
                problems.Add(new ApiProblem(field, message ?? code ?? response.ReasonPhrase ?? "refused"));
            }
        }
        if (problems.Count == 0)
        {
            var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() : null;
            problems.Add(new ApiProblem(null, $"{(int)response.StatusCode} {detail ?? response.ReasonPhrase}"));
        }
        return new ImportAnswer(ImportOutcome.Failed, problems, body);
    }

    public void Dispose() => _http.Dispose();
}
