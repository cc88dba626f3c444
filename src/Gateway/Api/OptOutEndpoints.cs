using System.Net;
using Collections.Domain;
using Collections.Gateway.Portal;
using Collections.Grains;
using Collections.Outreach;
using Collections.Persistence;

namespace Collections.Gateway.Api;

/// <summary>
/// The opt-out link in every email, for the patient, without signing in: GET shows a page with one button (mail
/// scanners that follow links must not opt anyone out); POST, from that button or a mail client's one-click
/// unsubscribe (RFC 8058), stops emails to that person. The sealed token names the guarantor and nothing else. The page
/// speaks the patient's language as the payment page does (its choice, the browser's) and leads to that page's setting.
/// </summary>
public static class OptOutEndpoints
{
    public static void MapEmailOptOut(this WebApplication app)
    {
        var portal = app.Configuration.GetValue("Collections:Portal:Enabled", true); // where the patient can turn emails on again
        if (!portal) app.MapPortalStylesheet(); // the page's look, which the payment page serves when it is on
        var group = app.MapGroup("/optout/email").AllowAnonymous().ExcludeFromDescription();
        group.MapGet("/{token}", async (string token, EmailOptOutLinks links, HttpContext http, CancellationToken ct) =>
        {
            var language = PortalSession.Language(http);
            return await links.GuarantorAsync(token, ct) is null
                ? BadLink(http, language)
                : Page(http, language, HttpStatusCode.OK, "optout.title",
                    $"<p>{E(PortalText.T(language, "optout.lead"))}</p>" +
                    $"<form method=\"post\" action=\"/optout/email/{E(token)}\"><button type=\"submit\">{E(PortalText.T(language, "optout.submit"))}</button></form>");
        });
        group.MapPost("/{token}", async (string token, EmailOptOutLinks links, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct) =>
        {
            var language = PortalSession.Language(http);
            if (await links.GuarantorAsync(token, ct) is not { } guarantorId)
                return BadLink(http, language);
            CallerContext.Set(new Caller { Actor = "patient:email-link", Role = "patient", ClientAddress = http.Connection.RemoteIpAddress?.ToString(), CorrelationId = http.TraceIdentifier });
            var recorded = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(new ConsentRequest
            {
                Channel = ContactChannel.Email, Status = ConsentStatus.OptedOut, Source = "email opt-out link",
            });
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), "patient:email-link", "patient", "guarantor.optout.email", "guarantor", guarantorId,
                recorded.Succeeded ? "ok" : "failed", http.Connection.RemoteIpAddress?.ToString(), http.TraceIdentifier), ct);
            return recorded.Succeeded
                ? Page(http, language, HttpStatusCode.OK, "optout.done-title",
                    $"<p>{E(PortalText.T(language, "optout.done"))}</p>" + (portal
                        ? $"<p>{E(PortalText.T(language, "optout.again"))}</p><p><a href=\"/pay\">{E(PortalText.T(language, "optout.portal"))}</a></p>"
                        : $"<p>{E(PortalText.T(language, "optout.again-office"))}</p>"))
                : Page(http, language, HttpStatusCode.NotFound, "optout.unknown-title", $"<p>{E(PortalText.T(language, "optout.unknown"))}</p>");
        });
    }

    /// <summary>A page of the self-service site (its layout, and its English/Spanish choice, kept with the payment page's).</summary>
    private static IResult Page(HttpContext http, string language, HttpStatusCode status, string titleKey, string body) =>
        PortalPage.Html(http, language, PortalText.T(language, titleKey), $"<h1>{E(PortalText.T(language, titleKey))}</h1>{body}", (int)status);

    /// <summary>A link that is not genuine (incomplete, altered, or made for something else).</summary>
    private static IResult BadLink(HttpContext http, string language) =>
        Page(http, language, HttpStatusCode.NotFound, "optout.bad-title", $"<p>{E(PortalText.T(language, "optout.bad"))}</p>");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
