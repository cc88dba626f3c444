using System.Net;
using Collections.Domain;
using Collections.Grains;
using Collections.Outreach;
using Collections.Persistence;

namespace Collections.Gateway.Api;

/// <summary>
/// The opt-out link in every email, for the patient, without signing in: GET shows a page with one button (mail
/// scanners that follow links must not opt anyone out); POST, from that button or a mail client's one-click
/// unsubscribe (RFC 8058), stops emails to that person. The signed token names the guarantor and nothing else.
/// </summary>
public static class OptOutEndpoints
{
    public static void MapEmailOptOut(this WebApplication app)
    {
        var group = app.MapGroup("/optout/email").AllowAnonymous().ExcludeFromDescription();
        group.MapGet("/{token}", async (string token, EmailOptOutLinks links, CancellationToken ct) =>
            await links.GuarantorAsync(token, ct) is null
                ? Page(HttpStatusCode.NotFound, "This link is not valid", "<p>The link may be incomplete. Copy the whole link from the email, or call the billing office.</p>")
                : Page(HttpStatusCode.OK, "Stop emails about your bill",
                    $"<p>Press the button to stop receiving emails about your bill. You may still receive letters, as the law requires.</p>" +
                    $"<form method=\"post\" action=\"/optout/email/{WebUtility.HtmlEncode(token)}\"><button type=\"submit\">Stop emails</button></form>"));
        group.MapPost("/{token}", async (string token, EmailOptOutLinks links, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct) =>
        {
            if (await links.GuarantorAsync(token, ct) is not { } guarantorId)
                return Page(HttpStatusCode.NotFound, "This link is not valid", "<p>The link may be incomplete. Copy the whole link from the email, or call the billing office.</p>");
            CallerContext.Set(new Caller { Actor = "patient:email-link", Role = "patient", ClientAddress = http.Connection.RemoteIpAddress?.ToString(), CorrelationId = http.TraceIdentifier });
            var recorded = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(new ConsentRequest
            {
                Channel = ContactChannel.Email, Status = ConsentStatus.OptedOut, Source = "email opt-out link",
            });
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), "patient:email-link", "patient", "guarantor.optout.email", "guarantor", guarantorId,
                recorded.Succeeded ? "ok" : "failed", http.Connection.RemoteIpAddress?.ToString(), http.TraceIdentifier), ct);
            return recorded.Succeeded
                ? Page(HttpStatusCode.OK, "Emails stopped", "<p>You will not receive more emails about your bill. You may still receive letters. To change this, call the billing office.</p>")
                : Page(HttpStatusCode.NotFound, "We could not find you", "<p>Please call the billing office.</p>");
        });
    }

    private static IResult Page(HttpStatusCode status, string title, string body) => Results.Content(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
        $"<title>{WebUtility.HtmlEncode(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}" +
        $"button{{font-size:1.1rem;padding:.6rem 1.4rem}}</style></head><body><h1>{WebUtility.HtmlEncode(title)}</h1>{body}</body></html>",
        "text/html; charset=utf-8", statusCode: (int)status);
}
