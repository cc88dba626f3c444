using System.Security.Claims;
using Collections.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Collections.Gateway.Security;

/// <summary>
/// Single sign-on settings (<c>Collections:Oidc</c>). With an <see cref="Authority"/>, staff may call the API with
/// their identity provider's access tokens (JWT bearer) beside API keys, and the agents' console signs them in with
/// the authorization code flow and PKCE. Without one, only API keys are accepted.
/// </summary>
public sealed class StaffSignInSettings
{
    public const string Section = "Collections:Oidc";

    /// <summary>The identity provider's issuer URL (its discovery document is at <c>/.well-known/openid-configuration</c>).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience our access tokens carry (the API's identifier at the identity provider).</summary>
    public string Audience { get; set; } = "collections-api";

    /// <summary>The console's client id at the identity provider (a public client; redirect URI <c>https://HOST/console</c>).</summary>
    public string ConsoleClientId { get; set; } = "collections-console";

    /// <summary>The scopes the console asks for: whatever makes the provider issue an access token for <see cref="Audience"/>.</summary>
    public string ConsoleScope { get; set; } = "openid profile";

    /// <summary>The claim that names the person (the audit trail's actor).</summary>
    public string SubjectClaim { get; set; } = "sub";

    /// <summary>The claim whose values are the person's roles or groups (<c>roles</c> in Entra ID, <c>groups</c> in Okta).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>
    /// The provider's role or group values mapped to ours (<c>"Collections-Agents": "agent"</c>). Values not listed
    /// that are one of our role names (admin, supervisor, agent, integration, data-team) count as themselves; anything
    /// else grants nothing.
    /// </summary>
    public Dictionary<string, string> Roles { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether the provider's metadata must come over HTTPS (leave on outside a test).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>Our roles for the values of <see cref="RoleClaim"/>, most privileged first.</summary>
    public IReadOnlyList<string> MapRoles(IEnumerable<string> values)
    {
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (Roles.TryGetValue(value, out var role)) mapped.Add(role);
            else if (Persistence.Roles.All.Contains(value)) mapped.Add(value);
        }
        return Persistence.Roles.All.Where(mapped.Contains).ToList();
    }
}

public static class StaffSignIn
{
    /// <summary>The default scheme: picks API keys or the identity provider's tokens by the shape of the bearer token.</summary>
    public const string SchemeName = "Collections";

    public const string TokenSchemeName = "Oidc";

    /// <summary>API keys, and with <c>Collections:Oidc:Authority</c> the identity provider's access tokens as well.</summary>
    public static void AddCollectionsAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection(StaffSignInSettings.Section).Get<StaffSignInSettings>() ?? new StaffSignInSettings();
        foreach (var (value, role) in settings.Roles)
            if (!Persistence.Roles.All.Contains(role))
                throw new InvalidOperationException($"{StaffSignInSettings.Section}:Roles:{value}: '{role}' is not a role; use one of {string.Join(", ", Persistence.Roles.All)}.");
        services.AddSingleton(settings);

        var authentication = services.AddAuthentication(SchemeName)
            .AddPolicyScheme(SchemeName, "API key or identity provider token", o => o.ForwardDefaultSelector = context =>
                settings.Enabled && LooksLikeJwt(context.Request.Headers.Authorization.ToString()) ? TokenSchemeName : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (!settings.Enabled) return;

        authentication.AddJwtBearer(TokenSchemeName, o =>
        {
            o.Authority = settings.Authority;
            o.Audience = settings.Audience;
            o.RequireHttpsMetadata = settings.RequireHttpsMetadata;
            o.MapInboundClaims = false;
            o.TokenValidationParameters.NameClaimType = settings.SubjectClaim;
            o.TokenValidationParameters.ClockSkew = TimeSpan.FromMinutes(1);
            o.Events = new JwtBearerEvents
            {
                OnTokenValidated = context =>
                {
                    var token = context.Principal!;
                    var subject = token.FindFirstValue(settings.SubjectClaim);
                    if (string.IsNullOrEmpty(subject))
                    {
                        context.Fail($"The token carries no '{settings.SubjectClaim}' claim, so it names nobody.");
                        return Task.CompletedTask;
                    }
                    var roles = settings.MapRoles(token.Claims.Where(c => c.Type == settings.RoleClaim).SelectMany(RoleValues));
                    var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, subject), new(ClaimTypes.Name, subject) };
                    claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
                    context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, TokenSchemeName));
                    return Task.CompletedTask;
                },
                OnAuthenticationFailed = async context =>
                {
                    var services = context.HttpContext.RequestServices;
                    var address = context.HttpContext.Connection.RemoteIpAddress;
                    var lockedUntil = services.GetRequiredService<FailedAuthenticationThrottle>().RecordFailure(address);
                    await services.GetRequiredService<IAuditTrail>().RecordAsync(new AuditEvent(
                        services.GetRequiredService<TimeProvider>().GetUtcNow(), "anonymous", "none", "auth.failed", "oidc-token",
                        context.Exception.GetType().Name, "denied", address?.ToString(), context.HttpContext.TraceIdentifier,
                        lockedUntil is null ? null : $"locked-out-until={lockedUntil:o}"));
                    services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StaffSignIn))
                        .LogWarning("Failed token authentication from {ClientAddress}: {Failure}", address, context.Exception.GetType().Name);
                },
            };
        });
    }

    /// <summary>A JSON array claim (<c>"roles": ["a","b"]</c>) arrives as one claim per value; a space-separated one is split.</summary>
    private static IEnumerable<string> RoleValues(Claim claim) =>
        claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Three base64url parts: an identity provider's token. API keys start <c>ck_</c> and have no dots.</summary>
    public static bool LooksLikeJwt(string authorization)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var token = authorization.AsSpan("Bearer ".Length).Trim();
        return !token.StartsWith("ck_") && token.Count('.') == 2;
    }

    /// <summary>
    /// What the console needs to sign someone in: the provider's authorization and token endpoints (read from its
    /// discovery document by the gateway, so the browser need not fetch it), the client id and scope. Null without
    /// single sign-on.
    /// </summary>
    public static async Task<ConsoleSignIn?> ConsoleSignInAsync(this HttpContext http)
    {
        var settings = http.RequestServices.GetRequiredService<StaffSignInSettings>();
        if (!settings.Enabled) return null;
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<JwtBearerOptions>>().Get(TokenSchemeName);
        OpenIdConnectConfiguration discovery = await options.ConfigurationManager!.GetConfigurationAsync(http.RequestAborted);
        return new ConsoleSignIn(discovery.AuthorizationEndpoint, discovery.TokenEndpoint, settings.ConsoleClientId, settings.ConsoleScope);
    }
}

public sealed record ConsoleSignIn(string AuthorizationEndpoint, string TokenEndpoint, string ClientId, string Scope);
