using System.Reflection;

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
    ];

    public static void MapAgentConsole(this WebApplication app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var bytes = Read(resource);
            app.MapGet(path, (HttpContext http) =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
                return TypedResults.Bytes(bytes, contentType);
            }).AllowAnonymous().ExcludeFromDescription();
        }
        app.MapGet("/", () => TypedResults.Redirect("/console")).AllowAnonymous().ExcludeFromDescription();
    }

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
