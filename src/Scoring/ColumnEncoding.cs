using System.Globalization;

namespace Collections.Scoring;

/// <summary>What became of one column of a training CSV, and why (the report lists every column this way).</summary>
public sealed record ColumnFate(string Column, string Fate, string Reason)
{
    public const string Label = "label", Time = "time", Feature = "feature", Category = "category", Excluded = "excluded", Reserved = "reserved", Ignored = "ignored";
}

/// <summary>
/// Turns one CSV column's cells into features: numbers as they are (a missing cell — empty, NA, null, ? and the like —
/// is a missing value, never a reason to drop the column), text as categories one-hot encoded, and says why when a
/// column cannot be a feature (every value missing, dates, identifiers or free text).
/// </summary>
public static class ColumnEncoding
{
    /// <summary>Text with more distinct values than this (and more than half the rows) is an identifier or free text.</summary>
    public const int MaxDistinctLevels = 50;

    /// <summary>The most levels a category gets columns for; rarer ones share <c>(other)</c>.</summary>
    public const int MaxLevels = 30;

    /// <summary>A level needs this many rows (at most 10, at least 2, 1 % of the rows between) to get a column of its own.</summary>
    public static int MinLevelRows(int rows) => Math.Clamp(rows / 100, 2, 10);

    /// <summary>A numeric column may hold this share of stray text (an export's "#VALUE!", "unknown") read as missing.</summary>
    public const double StrayTextShare = 0.1;

    public const string Other = "(other)";

    public static (ColumnFate Fate, IReadOnlyList<(string Name, float[] Values)> Features) Encode(string name, IReadOnlyList<string> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var rows = cells.Count;
        var missing = cells.Count(LabelledData.IsMissing);
        var present = rows - missing;
        if (present == 0) return (new ColumnFate(name, ColumnFate.Ignored, "every value is missing"), []);

        var numbers = new float[rows];
        var numeric = 0;
        string? stray = null;
        for (var i = 0; i < rows; i++)
        {
            var text = cells[i];
            if (LabelledData.IsMissing(text)) numbers[i] = float.NaN;
            else if (Number(text) is { } value)
            {
                numbers[i] = value;
                numeric++;
            }
            else
            {
                numbers[i] = float.NaN;
                stray ??= text;
            }
        }
        var missingWords = missing > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {missing:N0} missing ({missing / (double)rows:P1}) kept as missing values") : "";
        if (numeric == present && present >= 100 && LooksLikeRowNumbers(numbers))
            return (new ColumnFate(name, ColumnFate.Ignored, "whole numbers, every one different and in an unbroken run: a row number or identifier, not a feature"), []);
        if (numeric == present) return (new ColumnFate(name, ColumnFate.Feature, "numbers" + missingWords), [(name, numbers)]);
        if (numeric > 0 && present - numeric <= StrayTextShare * present && present >= 100)
            return (new ColumnFate(name, ColumnFate.Feature, string.Create(CultureInfo.InvariantCulture,
                $"numbers; {present - numeric:N0} cells that are not numbers (such as '{stray}') read as missing{missingWords}")), [(name, numbers)]);
        if (cells.Where(c => !LabelledData.IsMissing(c)).All(c => DateTimeOffset.TryParse(c, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)))
            return (new ColumnFate(name, ColumnFate.Ignored, "dates: a date is not a feature (--time-column orders the split by one)"), []);

        var counts = cells.Where(c => !LabelledData.IsMissing(c)).GroupBy(c => c, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (counts.Count > MaxDistinctLevels && counts.Count > present / 2)
            return (new ColumnFate(name, ColumnFate.Ignored, string.Create(CultureInfo.InvariantCulture,
                $"text with {counts.Count:N0} different values in {present:N0} rows: an identifier or free text, not a category")), []);
        var minimum = MinLevelRows(rows);
        var kept = counts.Where(c => c.Value >= minimum).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(MaxLevels).Select(c => c.Key).ToList();
        if (kept.Count == 0)
            return (new ColumnFate(name, ColumnFate.Ignored, string.Create(CultureInfo.InvariantCulture, $"text whose values each appear in fewer than {minimum} rows")), []);
        var index = kept.Select((level, k) => (level, k)).ToDictionary(x => x.level, x => x.k, StringComparer.Ordinal);
        var rare = counts.Keys.Count(level => !index.ContainsKey(level));
        var columns = kept.Select(_ => new float[rows]).ToList();
        var other = rare > 0 ? new float[rows] : null;
        for (var i = 0; i < rows; i++)
        {
            if (LabelledData.IsMissing(cells[i])) continue;
            if (index.TryGetValue(cells[i], out var k)) columns[k][i] = 1f;
            else other![i] = 1f;
        }
        var features = kept.Select((level, k) => ($"{name}={level}", columns[k])).ToList();
        if (other is not null) features.Add(($"{name}={Other}", other));
        return (new ColumnFate(name, ColumnFate.Category, string.Create(CultureInfo.InvariantCulture,
            $"text as a category: one column per value for {kept.Count} values{(rare > 0 ? $", {rare} rarer values together as {Other}" : "")}{(missing > 0 ? $", {missing:N0} missing as none of them" : "")}")), features);
    }

    /// <summary>Whole numbers, all different, filling the range from the smallest to the largest (1, 2, 3…): row numbers.</summary>
    private static bool LooksLikeRowNumbers(float[] numbers)
    {
        var present = numbers.Where(v => !float.IsNaN(v)).ToArray();
        if (present.Any(v => v != MathF.Floor(v))) return false;
        var distinct = present.Distinct().Count();
        return distinct == present.Length && present.Max() - present.Min() + 1 == distinct;
    }

    private static float? Number(string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
        : bool.TryParse(text, out var flag) ? (flag ? 1f : 0f)
        : null;
}
