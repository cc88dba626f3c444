using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Collections.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Collections.Gateway.Tests;

/// <summary>
/// An OpenID Connect provider started by the tests (OpenIddict 7.9 in degraded mode: no database, ephemeral keys):
/// discovery, keys, an authorization endpoint that signs in <see cref="Person"/> at once (a real provider would show
/// its login page here), and a token endpoint that redeems codes only with the right PKCE verifier. Access tokens are
/// signed JWTs for the audience <c>collections-api</c>, carrying the person's groups in a <c>groups</c> claim.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "collections-console";
    public const string Audience = "collections-api";

    private readonly WebApplication _app;

    /// <summary>Who the authorization endpoint signs in: subject, display name and groups.</summary>
    public (string Subject, string Name, string[] Groups) Person { get; set; } = ("u-0001", "Test Person", []);

    public Uri Issuer { get; }

    private TestIdentityProvider(Uri issuer, WebApplication app) => (Issuer, _app) = (issuer, app);

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var issuer = new Uri($"http://127.0.0.1:{Ports.Free()}/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(issuer.ToString());
        builder.Logging.ClearProviders();
        builder.Services.AddCors();
        builder.Services.AddAuthentication();
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.EnableDegradedMode();
            o.SetIssuer(issuer);
            o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            o.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
            o.RegisterScopes(Scopes.OpenId, Scopes.Profile);
            o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            // Degraded mode keeps no client registry: the one client and its redirect URIs are checked here.
            o.AddEventHandler<ValidateAuthorizationRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId) context.Reject(Errors.InvalidClient, "Unknown client.");
                else if (context.RedirectUri is not { } uri || !uri.StartsWith("http://127.0.0.1:", StringComparison.Ordinal) || !uri.EndsWith("/console", StringComparison.Ordinal))
                    context.Reject(Errors.InvalidRequest, "That redirect URI is not registered.");
                return default;
            }));
            o.AddEventHandler<ValidateTokenRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId) context.Reject(Errors.InvalidClient, "Unknown client.");
                return default;
            }));
        });
        var app = builder.Build();
        var provider = new TestIdentityProvider(issuer, app);
        app.UseCors(p => p.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET", "POST"));
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", ["GET", "POST"], (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest()!;
            var (subject, name, groups) = provider.Person;
            var identity = new ClaimsIdentity("test-idp", Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, name);
            identity.SetClaims("groups", [.. groups]);
            identity.SetScopes(request.GetScopes());
            identity.SetResources(Audience);
            identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync();
        return provider;
    }

    /// <summary>
    /// Signs <see cref="Person"/> in as the console would (authorization code with PKCE, S256) and returns the access
    /// token. <paramref name="verifierOverride"/> redeems the code with another verifier (which must fail).
    /// </summary>
    public async Task<(HttpStatusCode Status, string? AccessToken, string Body)> SignInAsync(Uri redirectUri, string? verifierOverride = null)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Issuer };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url(RandomNumberGenerator.GetBytes(16));
        var query = string.Join('&', new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = ClientId, ["redirect_uri"] = redirectUri.ToString(),
            ["scope"] = "openid profile", ["state"] = state, ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        }.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
        var authorize = await http.GetAsync($"connect/authorize?{query}");
        if (authorize.StatusCode != HttpStatusCode.Redirect && authorize.StatusCode != HttpStatusCode.Found)
            throw new InvalidOperationException($"authorize answered {authorize.StatusCode}: {await authorize.Content.ReadAsStringAsync()}");
        var answer = System.Web.HttpUtility.ParseQueryString(authorize.Headers.Location!.Query);
        if (answer["state"] != state) throw new InvalidOperationException("authorize returned another state");
        var code = answer["code"] ?? throw new InvalidOperationException($"authorize returned no code: {authorize.Headers.Location}");

        var token = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri.ToString(),
            ["client_id"] = ClientId, ["code_verifier"] = verifierOverride ?? verifier,
        }));
        var body = await token.Content.ReadAsStringAsync();
        string? accessToken = null;
        if (token.IsSuccessStatusCode)
            accessToken = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString();
        return (token.StatusCode, accessToken, body);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
