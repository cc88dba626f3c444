namespace Collections.Domain;

/// <summary>Spoken languages as ISO 639-1 two-letter codes (lower case), e.g. <c>en</c>, <c>es</c>, <c>vi</c>.</summary>
public static class Languages
{
    /// <summary>The language assumed when none is recorded.</summary>
    public const string Default = "en";

    private static readonly HashSet<string> Codes = new(StringComparer.Ordinal)
    {
        "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi", "bm", "bn", "bo", "br", "bs",
        "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa",
        "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
        "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko",
        "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn",
        "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa",
        "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so",
        "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty",
        "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
    };

    /// <summary>The normalised (trimmed, lower-case) code if it is an ISO 639-1 code; otherwise null.</summary>
    public static string? Normalize(string? code)
    {
        var trimmed = code?.Trim().ToLowerInvariant();
        return trimmed is not null && Codes.Contains(trimmed) ? trimmed : null;
    }

    public static void Check(string? code, string field, ErrorList errors)
    {
        if (code is not null && Normalize(code) is null)
            errors.Invalid(field, "language.invalid", "The language must be an ISO 639-1 two-letter code such as en, es or vi.");
    }
}
