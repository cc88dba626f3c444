using System.Globalization;
using System.Text.RegularExpressions;
using Collections.Domain;

namespace Collections.Outreach;

/// <summary>
/// <c>{{name}}</c> placeholders (spaces inside the braces allowed), filled in one pass: values are plain text and are
/// never scanned for placeholders themselves. Only the names in <see cref="Known"/> exist; anything else is refused
/// when a template is saved.
/// </summary>
public static partial class TemplateEngine
{
    public static IReadOnlyList<string> Known { get; } =
    [
        "facility.name", "recipientName", "accountNumber", "amountDue", "dueDate",
        "payUrl", "payPhone", "assistanceUrl", "assistancePhone", "amountPaid",
    ];

    /// <summary>A text message longer than this is refused (two SMS segments' worth).</summary>
    public const int MaxSmsLength = 320;

    public const string SmsOptOutInstruction = "Reply STOP";
    public const string EmailOptOutWord = "unsubscribe";

    private static readonly CultureInfo UsEnglish = CultureInfo.GetCultureInfo("en-US");

    [GeneratedRegex(@"\{\{\s*([^{}\s]*)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderPattern();

    public static IReadOnlyList<string> Placeholders(string? text) =>
        text is null ? [] : PlaceholderPattern().Matches(text).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();

    public static string Render(string text, IReadOnlyDictionary<string, string> values) =>
        PlaceholderPattern().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);

    /// <summary>The values for one message.</summary>
    public static Dictionary<string, string> Values(FacilityInfo facility, string recipientName, string accountNumber, decimal amountDue, DateOnly? dueDate) => new(StringComparer.Ordinal)
    {
        ["facility.name"] = facility.Name,
        ["recipientName"] = recipientName,
        ["accountNumber"] = accountNumber,
        ["amountDue"] = FormatMoney(amountDue),
        // A receipt's amount travels as the message's amount: what was paid.
        ["amountPaid"] = FormatMoney(amountDue),
        ["dueDate"] = dueDate is { } d ? FormatDate(d) : "as soon as you can",
        ["payUrl"] = facility.PayUrl,
        ["payPhone"] = facility.PayPhone,
        ["assistanceUrl"] = facility.AssistanceUrl,
        ["assistancePhone"] = facility.AssistancePhone,
    };

    public static string FormatMoney(decimal amount) => amount.ToString("C2", UsEnglish);

    public static string FormatDate(DateOnly date) => date.ToString("MMMM d, yyyy", UsEnglish);

    /// <summary>
    /// Why a template may not be saved: unknown or malformed placeholders, no opt-out instruction on an email or text,
    /// a text that can come out longer than <see cref="MaxSmsLength"/>, an email without a subject.
    /// </summary>
    public static IReadOnlyList<TemplateError> Validate(ContactChannel channel, OutreachAction action, string? subject, string? body)
    {
        var errors = new List<TemplateError>();
        if (!DefaultTemplates.IsMessage(channel, action))
        {
            errors.Add(new("channel", "template.not-a-message", $"{channel} / {action} is not a message the outreach service sends."));
            return errors;
        }
        if (string.IsNullOrWhiteSpace(body))
        {
            errors.Add(new("body", "template.body.required", "The template needs a body."));
            return errors;
        }
        if (body.Length > 20_000) errors.Add(new("body", "template.body.too-long", "The body may be at most 20,000 characters."));
        if (channel == ContactChannel.Email && string.IsNullOrWhiteSpace(subject))
            errors.Add(new("subject", "template.subject.required", "An email template needs a subject."));
        if (channel == ContactChannel.Sms && !string.IsNullOrEmpty(subject))
            errors.Add(new("subject", "template.subject.not-allowed", "A text message has no subject."));
        if (subject is { Length: > 200 }) errors.Add(new("subject", "template.subject.too-long", "The subject may be at most 200 characters."));
        if (subject is not null && subject.Contains('\n', StringComparison.Ordinal))
            errors.Add(new("subject", "template.subject.line-break", "The subject must be one line."));

        foreach (var (field, text) in new[] { ("subject", subject), ("body", body) })
        {
            if (text is null) continue;
            var unknown = Placeholders(text).Where(p => !Known.Contains(p, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
                errors.Add(new(field, "template.placeholder.unknown",
                    $"Unknown placeholder{(unknown.Count > 1 ? "s" : "")} in the {field}: {string.Join(", ", unknown.Select(u => "{{" + u + "}}"))}. " +
                    $"Use only: {string.Join(", ", Known.Select(k => "{{" + k + "}}"))}."));
            var rest = PlaceholderPattern().Replace(text, "");
            if (rest.Contains("{{", StringComparison.Ordinal) || rest.Contains("}}", StringComparison.Ordinal))
                errors.Add(new(field, "template.placeholder.malformed", $"The {field} has a '{{{{' or '}}}}' that is not part of a placeholder like {{{{amountDue}}}}."));
        }

        // The one confirmation of a STOP confirms and asks for nothing (47 CFR 64.1200(a)(12)): no payment link, no amount.
        if (action == OutreachAction.OptOutConfirmation && Placeholders(body).FirstOrDefault(p => p is "payUrl" or "amountDue" or "amountPaid" or "dueDate") is { } asking)
            errors.Add(new("body", "template.opt-out-confirmation.asks",
                $"The confirmation of an opt-out may only confirm it: leave out {{{{{asking}}}}} (no payment link, amount or due date)."));
        var needsOptOut = action != OutreachAction.OptOutConfirmation;
        if (channel == ContactChannel.Sms && needsOptOut && !body.Contains(SmsOptOutInstruction, StringComparison.OrdinalIgnoreCase))
            errors.Add(new("body", "template.opt-out.missing", "Every text must tell the patient how to opt out: include \"Reply STOP to stop texts.\""));
        if (channel == ContactChannel.Email && !body.Contains(EmailOptOutWord, StringComparison.OrdinalIgnoreCase))
            errors.Add(new("body", "template.opt-out.missing", "Every email must tell the patient how to opt out: include an unsubscribe line (e.g. \"To unsubscribe, call ...\")."));

        if (channel == ContactChannel.Sms && errors.Count == 0)
        {
            var sample = Render(body, SampleValues);
            if (sample.Length > MaxSmsLength)
                errors.Add(new("body", "template.sms.too-long",
                    $"A text may be at most {MaxSmsLength} characters; with typical values this one is {sample.Length}. Shorten it."));
        }
        return errors;
    }

    /// <summary>Typical values, to measure how long a text will come out.</summary>
    private static readonly Dictionary<string, string> SampleValues = Values(
        new FacilityInfo
        {
            Code = "MAIN", Name = "Riverside Regional Medical Center", PayUrl = "https://pay.riverside.example/bill",
            PayPhone = "800-555-0100", AssistanceUrl = "https://riverside.example/help", AssistancePhone = "800-555-0101", ReturnAddress = "",
        },
        "Alexandra Washington-Smith", "A0000123456", 12_345.67m, new DateOnly(2026, 12, 31));
}
