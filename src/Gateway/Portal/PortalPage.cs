using System.Net;
using System.Text;

namespace Collections.Gateway.Portal;

/// <summary>The self-service page's layout: one column, large targets, labelled fields, errors announced (WCAG 2.1 AA).</summary>
internal static class PortalPage
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static IResult Html(HttpContext http, string language, string title, string main, int status = 200, string? formTarget = null, bool signedIn = false, string? formToken = null)
    {
        var other = language == "es" ? "en" : "es";
        var html = new StringBuilder(4096)
            .Append("<!doctype html><html lang=\"").Append(language).Append("\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title == PortalText.T(language, "title") ? title : $"{title} - {PortalText.T(language, "title")}")).Append("</title>")
            .Append("<link rel=\"stylesheet\" href=\"/pay/pay.css\"></head><body>")
            .Append("<a class=\"skip\" href=\"#main\">").Append(E(PortalText.T(language, "skip"))).Append("</a>")
            .Append("<header><p class=\"brand\">").Append(E(PortalText.T(language, "title"))).Append("</p><nav aria-label=\"")
            .Append(language == "es" ? "Opciones" : "Options").Append("\"><a href=\"?lang=").Append(other).Append("\" lang=\"").Append(other).Append("\">")
            .Append(E(PortalText.T(language, "other-language"))).Append("</a>");
        if (signedIn)
            html.Append("<form method=\"post\" action=\"/pay/signout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"").Append(E(formToken))
                .Append("\"><button type=\"submit\" class=\"link\">").Append(E(PortalText.T(language, "signout"))).Append("</button></form>");
        html.Append("</nav></header><main id=\"main\" tabindex=\"-1\">").Append(main).Append("</main></body></html>");
        var headers = http.Response.Headers;
        // Forms may lead to the processor's hosted page (a form's redirect counts for form-action).
        formTarget ??= http.RequestServices.GetService<Collections.Payments.IPaymentProcessor>()?.Name == "stripe" ? "https://checkout.stripe.com" : null;
        headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'{(formTarget is null ? "" : " " + formTarget)}; frame-ancestors 'none'; base-uri 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    public static string Alert(string text) => $"<div class=\"alert\" role=\"alert\">{E(text)}</div>";

    public static string Notice(string text) => $"<div class=\"notice\" role=\"status\">{E(text)}</div>";

    /// <summary>A labelled input with its hint tied to it (aria-describedby).</summary>
    public static string Field(string id, string label, string type, string? value = null, string? hint = null, string extra = "")
    {
        var described = hint is null ? "" : $" aria-describedby=\"{id}-hint\"";
        return $"<div class=\"field\"><label for=\"{id}\">{E(label)}</label>{(hint is null ? "" : $"<p class=\"hint\" id=\"{id}-hint\">{E(hint)}</p>")}" +
               $"<input id=\"{id}\" name=\"{id}\" type=\"{type}\" value=\"{E(value)}\"{described} {extra}></div>";
    }

    public static string DateOfBirth(string language) =>
        $"<fieldset><legend>{E(PortalText.T(language, "verify.dob"))}</legend><p class=\"hint\" id=\"dob-hint\">{E(PortalText.T(language, "verify.dob-hint"))}</p><div class=\"dob\">" +
        $"<div><label for=\"dob-month\">{E(PortalText.T(language, "verify.month"))}</label><input id=\"dob-month\" name=\"month\" inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"2\" autocomplete=\"bday-month\" aria-describedby=\"dob-hint\" required></div>" +
        $"<div><label for=\"dob-day\">{E(PortalText.T(language, "verify.day"))}</label><input id=\"dob-day\" name=\"day\" inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"2\" autocomplete=\"bday-day\" required></div>" +
        $"<div><label for=\"dob-year\">{E(PortalText.T(language, "verify.year"))}</label><input id=\"dob-year\" name=\"year\" inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"4\" autocomplete=\"bday-year\" required></div>" +
        "</div></fieldset>";
}
