using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

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
    /// The provider's role or group values mapped to ours (<c>"Collections-Agents": "agent"</c>; <c>"admin": "admin"</c>
    /// where the provider already uses our names). Only whole values listed here grant anything: a group that merely
    /// contains a role's name grants nothing.
    /// </summary>
    public Dictionary<string, string> Roles { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether the provider's metadata must come over HTTPS (leave on outside a test).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>Our roles for the values of <see cref="RoleClaim"/> (each a whole value, as the token carries it), most privileged first.</summary>
    public IReadOnlyList<string> MapRoles(IEnumerable<string> values)
    {
        var mapped = values.Select(v => Roles.TryGetValue(v, out var role) ? role : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
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
                OnTokenValidated = async context =>
                {
                    var token = context.Principal!;
                    var subject = token.FindFirstValue(settings.SubjectClaim);
                    if (string.IsNullOrEmpty(subject))
                    {
                        // Failing here skips OnAuthenticationFailed: counted and audited as any other failure.
                        await FailedAuthentication.RecordAsync(context.HttpContext, "oidc-token", "no-subject");
                        context.Fail($"The token carries no '{settings.SubjectClaim}' claim, so it names nobody.");
                        return;
                    }
                    // One role, the most privileged the person's values map to: endpoints that treat agents
                    // differently must not see an admin who is also in the agents' group as an agent.
                    var roles = settings.MapRoles(token.Claims.Where(c => c.Type == settings.RoleClaim).Select(c => c.Value));
                    var role = roles.Count > 0 ? roles[0] : null;
                    var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, subject), new(ClaimTypes.Name, subject) };
                    if (role is not null) claims.Add(new Claim(ClaimTypes.Role, role));
                    context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, TokenSchemeName));
                },
                // An expired token is what every signed-in person sends once a day: refused and audited, but not
                // counted toward the address's lockout (staff behind one NAT would lock each other out).
                OnAuthenticationFailed = context => FailedAuthentication.RecordAsync(context.HttpContext, "oidc-token",
                    context.Exception.GetType().Name, countTowardLockout: context.Exception is not SecurityTokenExpiredException),
                // A token that did not authenticate says so (auth.invalid), as a bad API key does; no token at all is auth.required.
                OnChallenge = async context =>
                {
                    if (context.AuthenticateFailure is null) return;
                    context.HandleResponse();
                    await NotSignedIn.WriteAsync(context.HttpContext, "Bearer error=\"invalid_token\"", "auth.invalid",
                        context.AuthenticateFailure is SecurityTokenExpiredException ? "The sign-in has expired: sign in again." : "The identity provider's token is not valid here: sign in again.");
                },
            };
        });
    }

    /// <summary>Three base64url parts: an identity provider's token. API keys start <c>ck_</c> and have no dots.</summary>
    public static bool LooksLikeJwt(string authorization)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var token = authorization.AsSpan("Bearer ".Length).Trim();
        return !token.StartsWith("ck_") && token.Count('.') == 2;
    }

    /// <summary>
    /// What the console needs to sign someone in: the provider's authorization and token endpoints (read from its
    /// discovery document by the gateway, so the browser need not fetch it; cached once read), the client id and scope.
    /// <c>Configured</c> is false without single sign-on; <c>SignIn</c> is null when the provider did not answer within
    /// a few seconds (the console then offers API keys only, instead of waiting on it).
    /// </summary>
    public static async Task<(bool Configured, ConsoleSignIn? SignIn)> ConsoleSignInAsync(this HttpContext http)
    {
        var settings = http.RequestServices.GetRequiredService<StaffSignInSettings>();
        if (!settings.Enabled) return (false, null);
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<JwtBearerOptions>>().Get(TokenSchemeName);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        wait.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            OpenIdConnectConfiguration discovery = await options.ConfigurationManager!.GetConfigurationAsync(wait.Token);
            return (true, new ConsoleSignIn(discovery.AuthorizationEndpoint, discovery.TokenEndpoint, settings.ConsoleClientId, settings.ConsoleScope));
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or HttpRequestException)
        {
            return (true, null);
        }
    }
}

public sealed record ConsoleSignIn(string AuthorizationEndpoint, string TokenEndpoint, string ClientId, string Scope);
