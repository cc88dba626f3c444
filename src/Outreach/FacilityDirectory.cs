using Microsoft.Extensions.Configuration;

namespace Collections.Outreach;

/// <summary>What a message says about the facility: its name, how to pay, how to ask for financial assistance.</summary>
public sealed record FacilityInfo
{
    public required string Code { get; init; }
    public required string Name { get; init; }
    public required string PayUrl { get; init; }
    public required string PayPhone { get; init; }
    public required string AssistanceUrl { get; init; }
    public required string AssistancePhone { get; init; }
    /// <summary>Lines joined by '\n'.</summary>
    public required string ReturnAddress { get; init; }
}

/// <summary>
/// Facility details from <c>Collections:Facilities:&lt;code&gt;:{Name,PayUrl,PayPhone,AssistanceUrl,AssistancePhone,ReturnAddress}</c>.
/// A facility that is not configured (or a missing field) falls back to <c>Collections:Facilities:Default</c>, then to
/// wording that points the patient to their bill, with the facility code as its name.
/// </summary>
public sealed class FacilityDirectory
{
    public const string Section = "Collections:Facilities";
    public const string DefaultKey = "Default";

    private readonly Dictionary<string, Settings> _facilities;

    public FacilityDirectory(IConfiguration configuration)
        : this(configuration.GetSection(Section).Get<Dictionary<string, Settings>>() ?? [])
    {
    }

    public FacilityDirectory(IReadOnlyDictionary<string, Settings> facilities) =>
        _facilities = new Dictionary<string, Settings>(facilities, StringComparer.OrdinalIgnoreCase);

    public FacilityInfo Get(string code)
    {
        _facilities.TryGetValue(code, out var f);
        _facilities.TryGetValue(DefaultKey, out var d);
        string Pick(Func<Settings, string?> field, string fallback) =>
            (f is null ? null : Clean(field(f))) ?? (d is null ? null : Clean(field(d))) ?? fallback;
        return new FacilityInfo
        {
            Code = code,
            Name = (f is null ? null : Clean(f.Name)) ?? code,
            PayUrl = Pick(s => s.PayUrl, "the website on your bill"),
            PayPhone = Pick(s => s.PayPhone, "the phone number on your bill"),
            AssistanceUrl = Pick(s => s.AssistanceUrl, "the website on your bill"),
            AssistancePhone = Pick(s => s.AssistancePhone, "the phone number on your bill"),
            ReturnAddress = (f is null ? null : Clean(f.ReturnAddress)) ?? (f is null ? null : Clean(f.Name)) ?? code,
        };
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public sealed class Settings
    {
        public string? Name { get; set; }
        public string? PayUrl { get; set; }
        public string? PayPhone { get; set; }
        public string? AssistanceUrl { get; set; }
        public string? AssistancePhone { get; set; }
        public string? ReturnAddress { get; set; }
    }
}
