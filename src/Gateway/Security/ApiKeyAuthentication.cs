using System.Security.Claims;
using System.Text.Encodings.Web;
using Collections.Hosting;
using Collections.Persistence;
using Collections.Gateway.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Collections.Gateway.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer ck_...</c> API keys against the key store. A verified key is remembered for
/// a short while (<see cref="EngineSettings.ApiKeyCacheSeconds"/>) so most requests do not touch the database; a
/// remembered key is checked against <see cref="RevokedApiKeys"/> on every request, so a revoked key stops at once on
/// the gateway that revoked it and within seconds on the others; an expired one stops at its expiry.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    IMemoryCache cache,
    EngineSettings settings,
    RevokedApiKeys revoked,
    TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return await FailedAsync("", "Use an API key: Authorization: Bearer followed by the key (ck_...).");
        var token = header["Bearer ".Length..].Trim();
        var cacheKey = "apikey:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        // A remembered key is used as remembered only while this gateway's list of revoked keys is current and does not
        // name it; otherwise it is verified again.
        if (!cache.TryGetValue(cacheKey, out ApiKeyRecord? record) || record is null || !revoked.MayTrust(record.KeyId))
        {
            try
            {
                record = await keys.VerifyAsync(token, Context.RequestAborted);
            }
            catch (Exception e) when (RequestExceptionHandler.DatabaseUnreachable(e))
            {
                // Nothing of the request ran: it is answered 503 (any method), not as a change of unknown outcome.
                throw new KeyCheckUnavailableException(e);
            }
            if (record is null) cache.Remove(cacheKey);
            else if (settings.ApiKeyCacheSeconds > 0) cache.Set(cacheKey, record, TimeSpan.FromSeconds(settings.ApiKeyCacheSeconds));
        }
        if (record is null) return await FailedAsync(token, "The API key is not valid or has been revoked.");
        // Checked on every request, the remembered key's too: an expired key stops at its time, not up to a cache period later.
        // Genuine but expired: audited, not counted toward the address's lockout (an integration retrying with it would
        // lock out every key behind the hospital's shared address).
        if (record.HasExpired(clock.GetUtcNow()))
            return await FailedAsync(token, $"The API key expired at {ApiKeyRecord.Utc(record.ExpiresAt!.Value)}: ask an administrator for a new one.", countTowardLockout: false);

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, record.KeyId),
            new Claim(ClaimTypes.Name, record.Name),
            new Claim(ClaimTypes.Role, record.Role),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>A failed authentication, counted, audited with the key id it named (never the secret) and logged.</summary>
    private async Task<AuthenticateResult> FailedAsync(string token, string reason, bool countTowardLockout = true)
    {
        var keyId = token.StartsWith("ck_", StringComparison.Ordinal) && token.Length > 15 && token[15] == '_' ? token[3..15] : "(not a key)";
        if (!keyId.All(char.IsAsciiHexDigitLower)) keyId = "(not a key)";
        await FailedAuthentication.RecordAsync(Context, "api-key", keyId, countTowardLockout);
        return AuthenticateResult.Fail(reason);
    }

    /// <summary>
    /// 401 with a problem that says what was wrong: no key at all (<c>auth.required</c>), or a key or header that
    /// did not authenticate (<c>auth.invalid</c>; which keys exist is never told).
    /// </summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var (code, detail) = result.Failure is { } failure
            ? ("auth.invalid", failure.Message)
            : ("auth.required", "This needs an API key: send it in the header Authorization: Bearer followed by the key, ck_... (an administrator creates keys; the first one is in the data folder's admin-api-key).");
        await NotSignedIn.WriteAsync(Context, "Bearer", code, detail);
    }
}

/// <summary>The 401 every authentication scheme answers: a problem with its code, and the challenge header.</summary>
internal static class NotSignedIn
{
    public static async Task WriteAsync(HttpContext http, string challenge, string code, string detail)
    {
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = challenge;
        if (http.RequestServices.GetService<IProblemDetailsService>() is not { } problems || http.Response.HasStarted) return;
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = Api.Problems.Details(StatusCodes.Status401Unauthorized, "Not signed in", code, detail),
        });
    }
}

public static class AuthenticationLockout
{
    /// <summary>
    /// A request with credentials from a client address that is locked out is answered 429 with <c>Retry-After</c>
    /// before its key is looked at.
    /// </summary>
    public static IApplicationBuilder UseAuthenticationLockout(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Headers.ContainsKey("Authorization")
            && context.RequestServices.GetRequiredService<FailedAuthenticationThrottle>().LockedUntil(context.Connection.RemoteIpAddress) is { } until)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling((until - context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()).TotalSeconds));
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many failed authentications",
                    Type = Problems.TypePrefix + "auth.locked-out",
                    Detail = $"This client address made too many failed authentications; try again in {seconds} s.",
                    Extensions = { ["code"] = "auth.locked-out" },
                },
            });
            return;
        }
        await next();
    });
}

/// <summary>Which roles may call which endpoints.</summary>
public static class Policies
{
    /// <summary>Read guarantors and accounts.</summary>
    public const string ReadAccounts = nameof(ReadAccounts);
    /// <summary>Register guarantors, open accounts, post any entry.</summary>
    public const string ManageAccounts = nameof(ManageAccounts);
    /// <summary>Post patient payments and record consents (agents do this on the phone).</summary>
    public const string WorkAccounts = nameof(WorkAccounts);
    /// <summary>Read the audit trail.</summary>
    public const string ReadAudit = nameof(ReadAudit);
    /// <summary>Create and revoke API keys.</summary>
    public const string ManageKeys = nameof(ManageKeys);
    /// <summary>Edit cadence policies and message templates.</summary>
    public const string ManagePolicies = nameof(ManagePolicies);
    /// <summary>Vendors' callbacks: delivery receipts and inbound replies.</summary>
    public const string ReceiveWebhooks = nameof(ReceiveWebhooks);
    /// <summary>Subscribe to outbound webhooks and read their delivery log.</summary>
    public const string ManageWebhooks = nameof(ManageWebhooks);
    /// <summary>Export training data; register, promote and roll back scoring models; run challengers.</summary>
    public const string ManageModels = nameof(ManageModels);
    /// <summary>Read the model registry, reports and champion/challenger outcomes.</summary>
    public const string ReadModels = nameof(ReadModels);
    /// <summary>Define worklist queues and watch them (depth, scores, what each agent worked).</summary>
    public const string SuperviseWorklists = nameof(SuperviseWorklists);
    /// <summary>Take accounts from a worklist and record how the call went.</summary>
    public const string WorkWorklist = nameof(WorkWorklist);
    /// <summary>Read the portfolio KPIs (A/R aging, days in A/R, collection and promise-kept rates).</summary>
    public const string ReadKpis = nameof(ReadKpis);
    /// <summary>Watch the cluster itself: the Orleans dashboard, which shows grains' state (patients' data) and reminders.</summary>
    public const string OperateCluster = nameof(OperateCluster);

    public static void AddCollectionsPolicies(this Microsoft.AspNetCore.Authorization.AuthorizationBuilder builder) => builder
        .AddPolicy(ReadAccounts, p => p.RequireRole(Roles.Admin, Roles.Supervisor, Roles.Agent, Roles.Integration))
        .AddPolicy(ManageAccounts, p => p.RequireRole(Roles.Admin, Roles.Supervisor, Roles.Integration))
        .AddPolicy(WorkAccounts, p => p.RequireRole(Roles.Admin, Roles.Supervisor, Roles.Agent, Roles.Integration))
        .AddPolicy(ReadAudit, p => p.RequireRole(Roles.Admin, Roles.Supervisor))
        .AddPolicy(ManageKeys, p => p.RequireRole(Roles.Admin))
        .AddPolicy(ManagePolicies, p => p.RequireRole(Roles.Admin, Roles.Supervisor))
        .AddPolicy(ReceiveWebhooks, p => p.RequireRole(Roles.Admin, Roles.Integration))
        .AddPolicy(ManageWebhooks, p => p.RequireRole(Roles.Admin))
        .AddPolicy(ManageModels, p => p.RequireRole(Roles.Admin, Roles.DataTeam))
        .AddPolicy(ReadModels, p => p.RequireRole(Roles.Admin, Roles.DataTeam, Roles.Supervisor))
        .AddPolicy(SuperviseWorklists, p => p.RequireRole(Roles.Admin, Roles.Supervisor))
        .AddPolicy(WorkWorklist, p => p.RequireRole(Roles.Admin, Roles.Supervisor, Roles.Agent))
        .AddPolicy(ReadKpis, p => p.RequireRole(Roles.Admin, Roles.Supervisor))
        .AddPolicy(OperateCluster, p => p.RequireRole(Roles.Admin));
}

/// <summary>The API key could not be checked because the database did not answer: the request was not served at all.</summary>
public sealed class KeyCheckUnavailableException(Exception inner)
    : Exception("The database could not be reached to check the API key; the request was not served.", inner);

