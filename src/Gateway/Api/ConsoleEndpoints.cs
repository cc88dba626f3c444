using System.Reflection;
using System.Security.Claims;
using Collections.Gateway.Security;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>
/// The agents' console: one static page, its script and its style, embedded in this assembly so that every host of the
/// gateway (the co-hosted silo, the stand-alone gateway) serves the same files. The page holds no patient data: it asks
/// the API for everything with the agent's own key, so the API's authorisation and audit apply as for any client.
/// </summary>
public static class ConsoleEndpoints
{
    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/console", "index.html", "text/html; charset=utf-8"),
        ("/console/console.js", "console.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "console.css", "text/css; charset=utf-8"),
        ("/console/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/console/models.js", "models.js", "text/javascript; charset=utf-8"),
        (Worklist.PhoneCardPayments.ReturnPath, "paid.html", "text/html; charset=utf-8"),
    ];

    public static void MapAgentConsole(this WebApplication app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var bytes = Read(resource);
            app.MapGet(path, async (HttpContext http) =>
            {
                var headers = http.Response.Headers;
                // With single sign-on the page exchanges its authorization code at the identity provider's token
                // endpoint. Only the page's policy governs what its script may connect to, so only the page asks.
                var connect = path == "/console" && (await http.ConsoleSignInAsync()).SignIn is { } sso
                    ? $"'self' {new Uri(sso.TokenEndpoint).GetLeftPart(UriPartial.Authority)}" : "'self'";
                headers.ContentSecurityPolicy = $"default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
                return TypedResults.Bytes(bytes, contentType);
            }).AllowAnonymous().ExcludeFromDescription();
        }
        app.MapGet("/", () => TypedResults.Redirect("/console")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/console/sign-in", (Func<HttpContext, Task<IResult>>)SignInOptions).AllowAnonymous().WithName("ConsoleSignIn").ExcludeFromDescription();
    }

    /// <summary>Who the caller is, for the console to open the right page: the key's or person's id, name and role.</summary>
    public sealed record SessionResponse(string Actor, string? Name, string Role, string Landing);

    public static RouteGroupBuilder MapConsoleSession(this RouteGroupBuilder api)
    {
        api.MapGet("/me", Me).WithTags("Console").WithName("WhoAmI")
            .WithSummary("The signed-in caller: id, name, role, and the console page the role lands on (worklist for agents, dashboard for supervisors and administrators, models for the data team, none for integrations).");
        return api;
    }

    private static Ok<SessionResponse> Me(HttpContext http)
    {
        var caller = http.ToCaller();
        var landing = caller.Role switch
        {
            Roles.Agent => "worklist",
            Roles.Supervisor or Roles.Admin => "dashboard",
            Roles.DataTeam => "models",
            _ => "none",
        };
        return TypedResults.Ok(new SessionResponse(caller.Actor, http.User.FindFirstValue(ClaimTypes.Name), caller.Role, landing));
    }

    /// <summary>How the console signs staff in: single sign-on (the provider's endpoints, client id, scope) or API keys only.</summary>
    private static async Task<IResult> SignInOptions(HttpContext http) => await http.ConsoleSignInAsync() switch
    {
        (false, _) => TypedResults.Ok(new { singleSignOn = false }),
        (true, { } sso) => TypedResults.Ok(new { singleSignOn = true, sso.AuthorizationEndpoint, sso.TokenEndpoint, sso.ClientId, sso.Scope }),
        (true, null) => Problems.Unavailable("sso.unavailable", "The identity provider cannot be reached",
            "Single sign-on is configured but the identity provider's discovery document could not be read; sign in with an API key, or try again."),
    };

    private static byte[] Read(string name) => ReadResource($"Collections.Gateway.Console.{name}");

    /// <summary>A file embedded in the gateway assembly (the console's and the patients' page's).</summary>
    internal static byte[] ReadResource(string resourceName)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resourceName)
                           ?? throw new InvalidOperationException($"{resourceName} is not embedded in the gateway assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
