using System.Globalization;
using Collections.Domain.Payments;
using Collections.Grains;
using Collections.Persistence;

namespace Collections.Gateway.Portal;

/// <summary>
/// The patient's session on the self-service page after the identity check: an HttpOnly cookie holding a signed,
/// expiring token for one guarantor (renewed while they use the page, <see cref="PortalAccessRules.SessionLifetime"/>),
/// and a per-session token every form posts back (forms from another site are refused).
/// </summary>
public sealed class PortalSession(SignedLinks links, PortalAccessRules rules, TimeProvider clock, Microsoft.Extensions.Options.IOptions<Outreach.OutreachOptions> outreach,
    IGrainFactory grains, ILogger<PortalSession> logger)
{
    public const string CookieName = "collections_pay";
    public const string LanguageCookie = "collections_pay_lang";
    private const string Purpose = "portal-session";
    private const string EndedKey = "collections_pay_ended";

    /// <summary>Signs the patient in: a new session (its id kept across renewals) for the guarantor.</summary>
    public Task StartAsync(HttpContext http, string guarantorId) => IssueAsync(http, guarantorId, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)));

    private async Task IssueAsync(HttpContext http, string guarantorId, string sessionId)
    {
        var expires = clock.GetUtcNow() + rules.SessionLifetime;
        var token = await links.TokenAsync(Purpose, $"{guarantorId}|{sessionId}|{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}", http.RequestAborted);
        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            // Behind a TLS-terminating proxy the request is plain http: the public address says whether patients use https.
            HttpOnly = true, Secure = http.Request.IsHttps || outreach.Value.PublicBaseUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase),
            SameSite = SameSiteMode.Lax, Path = "/", MaxAge = rules.SessionLifetime, IsEssential = true,
        });
        http.Items[CookieName] = sessionId;
    }

    /// <summary>The signed-in guarantor, or null (no cookie, a forged one, or expired); renews the session.</summary>
    public async Task<string?> GuarantorAsync(HttpContext http) => (await SessionAsync(http))?.GuarantorId;

    private async Task<(string GuarantorId, string SessionId)?> SessionAsync(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(CookieName, out var token) || await links.VerifyAsync(Purpose, token, http.RequestAborted) is not { } subject) return null;
        var parts = subject.Split('|');
        if (parts.Length != 3 || parts[0].Length == 0 || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var unix) || unix <= clock.GetUtcNow().ToUnixTimeSeconds()) return null;
        // Asked once per request (the page, its form token and its check all read the session).
        if (!http.Items.TryGetValue(EndedKey, out var known)) http.Items[EndedKey] = known = await EndedAsync(parts[0], parts[1]);
        if (known is true) return null;
        // Renewed at most once a minute, so each page does not set a cookie; the session id (and so its form token) stays.
        if (!http.Items.ContainsKey(CookieName) && DateTimeOffset.FromUnixTimeSeconds(unix) - clock.GetUtcNow() < rules.SessionLifetime - TimeSpan.FromMinutes(1))
            await IssueAsync(http, parts[0], parts[1]);
        return (parts[0], parts[1]);
    }

    /// <summary>Signs the patient out: the session ends for whoever holds its cookie (a shared computer, a copied cookie), and this browser forgets it.</summary>
    public async Task EndAsync(HttpContext http)
    {
        if (http.Request.Cookies.TryGetValue(CookieName, out var token) && await links.VerifyAsync(Purpose, token, http.RequestAborted) is { } subject
            && subject.Split('|') is [var guarantorId, var sessionId, var expires] && long.TryParse(expires, CultureInfo.InvariantCulture, out var unix))
        {
            try
            {
                // Kept while any copy of the cookie could still be valid: a copy used since was renewed past this one's expiry.
                var expiresAt = DateTimeOffset.FromUnixTimeSeconds(unix);
                var latest = clock.GetUtcNow() + rules.SessionLifetime;
                await grains.GetGrain<IPatientPortalGrain>(guarantorId).EndSession(sessionId, (expiresAt > latest ? expiresAt : latest) + TimeSpan.FromMinutes(1));
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // This browser forgets the session all the same; a copy lasts until it expires, as before this release.
                logger.LogWarning("Could not end a patient's session at sign-out ({Error}); the browser's cookie is removed", ex.GetType().Name);
            }
        }
        End(http);
    }

    private async Task<bool> EndedAsync(string guarantorId, string sessionId)
    {
        var portal = grains.GetGrain<IPatientPortalGrain>(guarantorId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await portal.SessionEnded(sessionId);
            }
            catch (Exception ex) when (attempt == 1 && ex is not (OperationCanceledException or OutOfMemoryException or TimeoutException))
            {
                // Once more: a silo leaving (a restart, an upgrade) fails a call at once. A timeout is not asked again.
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
            {
                // Not known to be open, so not opened: a signed-out copy of the cookie must not open a person's balances
                // while the engine cannot say (its database down, a timeout). The patient verifies again. Said, without the person.
                logger.LogWarning("Could not ask whether a patient's session was signed out ({Error}); it is taken as ended and the patient is asked to verify again", ex.GetType().Name);
                return true;
            }
        }
    }

    public static void End(HttpContext http) => http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });

    /// <summary>The token this session's forms carry (the same for the whole session, renewals included).</summary>
    public async Task<string> FormTokenAsync(HttpContext http) =>
        await SessionAsync(http) is { } session
            ? Convert.ToHexStringLower(await links.MacAsync("portal-form", $"{session.GuarantorId}|{session.SessionId}", http.RequestAborted))
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
