namespace Collections.Domain;

/// <summary>Checks on free-text and code fields: bounded length, printable characters.</summary>
public static class Text
{
    public static void Require(string? value, string field, int maxLength, ErrorList errors)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors.Invalid(field, $"{field}.required", $"{field} is required.");
        else
            Check(value, field, maxLength, errors);
    }

    public static void Check(string? value, string field, int maxLength, ErrorList errors)
    {
        if (value is null) return;
        if (value.Trim().Length > maxLength)
            errors.Invalid(field, "text.too-long", $"{field} must be at most {maxLength} characters.");
        else if (value.Any(char.IsControl))
            errors.Invalid(field, "text.control-characters", $"{field} must not contain control characters.");
    }

    public static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// A name as a caller search compares it: letters and digits only, accents dropped, lower case ("O'Brien-Núñez" and
    /// "obrien nunez" are the same); empty when nothing is left.
    /// </summary>
    public static string NameKey(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "";
        var decomposed = name.Normalize(System.Text.NormalizationForm.FormD);
        var key = new System.Text.StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (char.IsLetterOrDigit(c)) key.Append(char.ToLowerInvariant(c));
        return key.ToString();
    }
}

/// <summary>Date rules shared by the ledger and the guarantor records.</summary>
public static class Calendar
{
    public static readonly DateOnly EarliestBusinessDate = new(1990, 1, 1);

    /// <summary>
    /// The latest calendar date that is "today" anywhere (UTC+14). A service or payment date after it is certainly in
    /// the future, whatever the facility's time zone.
    /// </summary>
    public static DateOnly LatestToday(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime.AddHours(14));
}
