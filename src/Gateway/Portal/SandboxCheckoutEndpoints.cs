using System.Globalization;
using Collections.Payments;
using static Collections.Gateway.Portal.PortalPage;

namespace Collections.Gateway.Portal;

/// <summary>
/// The sandbox processor's own hosted checkout page (only when <c>Collections:Payments:Processor</c> is sandbox): it
/// stands where Stripe's page stands in production, takes test card numbers only (4242 4242 4242 4242 pays, 4000 0000
/// 0000 0002 is declined, 4000 0025 0000 3155 asks for the bank's confirmation), keeps none of them, and sends the
/// patient back to the engine's return address, as a real processor's page does.
/// </summary>
public static class SandboxCheckoutEndpoints
{
    public static void MapSandboxCheckout(this WebApplication app)
    {
        var group = app.MapGroup("/sandbox/checkout").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        group.MapGet("/{id}", (string id, HttpContext http, SandboxPaymentProcessor sandbox) =>
            sandbox.Find(id) is { } session ? Page(http, session, null) : Results.NotFound());
        group.MapPost("/{id}", async (string id, HttpContext http, SandboxPaymentProcessor sandbox) =>
        {
            if (sandbox.Find(id) is not { } session) return Results.NotFound();
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            if (form["action"] == "cancel") return Results.Redirect(session.Request.CancelUrl);
            if (session.Status == "requires_action")
            {
                sandbox.Authenticate(session, form["action"] == "approve");
                return Results.Redirect(session.Request.ReturnUrl);
            }
            if (sandbox.SubmitCard(session, form["card"].ToString()) is { } refused) return Page(http, session, refused);
            return session.Status switch
            {
                "requires_action" => Page(http, session, null),
                "failed" => Page(http, session, session.FailureCode == "insufficient_funds" ? "Declined: insufficient funds. Try another card." : "Your card was declined. Try another card."),
                _ => Results.Redirect(session.Request.ReturnUrl),
            };
        });
    }

    private static IResult Page(HttpContext http, SandboxPaymentProcessor.Session session, string? error)
    {
        var amount = session.Request.Amount.ToString("C2", CultureInfo.GetCultureInfo("en-US"));
        var body = session.Status == "requires_action"
            ? $"<h1>Confirm your payment</h1><p>Your bank asks you to confirm the payment of {E(amount)} to {E(session.Request.Description)}.</p>" +
              $"<form method=\"post\"><button type=\"submit\" name=\"action\" value=\"approve\" id=\"approve\">Confirm</button>" +
              "<button type=\"submit\" name=\"action\" value=\"fail\" id=\"fail\" class=\"secondary\">Do not confirm</button></form>"
            : $"<h1>Pay {E(amount)}</h1><p>{E(session.Request.Description)}</p>{(error is null ? "" : Alert(error))}" +
              "<p class=\"hint\">Sandbox processor: no real card is charged. Use a test card such as 4242 4242 4242 4242.</p>" +
              "<form method=\"post\" novalidate>" + Field("card", "Card number", "text", null, null, "inputmode=\"numeric\" autocomplete=\"off\" required") +
              Field("expiry", "Expiry (MM/YY)", "text", "12/34", null, "autocomplete=\"off\"") + Field("cvc", "Security code", "text", "123", null, "inputmode=\"numeric\" autocomplete=\"off\"") +
              "<button type=\"submit\" name=\"action\" value=\"pay\" id=\"submit-card\">Pay</button>" +
              "<button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\">Cancel</button></form>";
        return Html(http, session.Request.Language, "Sandbox checkout", body, error is null ? 200 : 402);
    }
}
