using System.Globalization;
using Collections.Domain.Payments;
using Collections.Persistence;

namespace Collections.Gateway.Portal;

/// <summary>
/// The patient's session on the self-service page after the identity check: an HttpOnly cookie holding a signed,
/// expiring token for one guarantor (renewed while they use the page, <see cref="PortalAccessRules.SessionLifetime"/>),
/// and a per-session token every form posts back (forms from another site are refused).
/// </summary>
public sealed class PortalSession(SignedLinks links, PortalAccessRules rules, TimeProvider clock)
{
    public const string CookieName = "collections_pay";
    public const string LanguageCookie = "collections_pay_lang";
    private const string Purpose = "portal-session";

    public async Task StartAsync(HttpContext http, string guarantorId)
    {
        var expires = clock.GetUtcNow() + rules.SessionLifetime;
        var token = await links.TokenAsync(Purpose, $"{guarantorId}|{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}", http.RequestAborted);
        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true, Secure = http.Request.IsHttps, SameSite = SameSiteMode.Lax, Path = "/", MaxAge = rules.SessionLifetime, IsEssential = true,
        });
    }

    /// <summary>The signed-in guarantor, or null (no cookie, a forged one, or expired); renews the session.</summary>
    public async Task<string?> GuarantorAsync(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(CookieName, out var token) || await links.VerifyAsync(Purpose, token, http.RequestAborted) is not { } subject) return null;
        var bar = subject.LastIndexOf('|');
        if (bar <= 0 || !long.TryParse(subject[(bar + 1)..], CultureInfo.InvariantCulture, out var unix) || unix <= clock.GetUtcNow().ToUnixTimeSeconds()) return null;
        var guarantorId = subject[..bar];
        // Renewed at most once a minute, so each page does not set a cookie.
        if (DateTimeOffset.FromUnixTimeSeconds(unix) - clock.GetUtcNow() < rules.SessionLifetime - TimeSpan.FromMinutes(1)) await StartAsync(http, guarantorId);
        return guarantorId;
    }

    public static void End(HttpContext http) => http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });

    /// <summary>The token this session's forms carry.</summary>
    public async Task<string> FormTokenAsync(HttpContext http) =>
        http.Request.Cookies.TryGetValue(CookieName, out var token)
            ? Convert.ToHexStringLower(await links.MacAsync("portal-form", token, http.RequestAborted))
            : "";

    public async Task<bool> FormTokenValidAsync(HttpContext http, string? presented) =>
        !string.IsNullOrEmpty(presented) && presented == await FormTokenAsync(http);

    /// <summary>"es" or "en": the choice made on the page, else the browser's first language.</summary>
    public static string Language(HttpContext http)
    {
        if (http.Request.Query.TryGetValue("lang", out var asked) && asked.ToString() is "en" or "es")
        {
            http.Response.Cookies.Append(LanguageCookie, asked.ToString(), new CookieOptions { HttpOnly = true, Secure = http.Request.IsHttps, SameSite = SameSiteMode.Lax, Path = "/", MaxAge = TimeSpan.FromDays(365) });
            return asked.ToString();
        }
        if (http.Request.Cookies.TryGetValue(LanguageCookie, out var chosen) && chosen is "en" or "es") return chosen;
        var accept = http.Request.Headers.AcceptLanguage.ToString();
        return accept.StartsWith("es", StringComparison.OrdinalIgnoreCase) ? "es" : "en";
    }
}
