using System.Globalization;

namespace Collections.Scoring;

/// <summary>
/// ZIP-level median household income, banded, for the fairness report: which income band a guarantor's ZIP code sits
/// in. Read from the U.S. Census Bureau's American Community Survey table B19013 by ZIP Code Tabulation Area as
/// data.census.gov exports it (GEO_ID, NAME "ZCTA5 00601", B19013_001E; a label row; "-" for no estimate, "250,000+"
/// top-coded), or from a plain CSV with a zip and a median_income column. A ZIP that is not in the table is "unknown".
/// </summary>
public sealed class ZipIncomeBands
{
    public const string Unknown = "unknown";

    /// <summary>Band upper bounds (exclusive) in dollars, and the band above the last.</summary>
    public static readonly IReadOnlyList<(decimal Below, string Name)> Bands =
        [(40_000m, "under $40k"), (60_000m, "$40k-60k"), (85_000m, "$60k-85k"), (120_000m, "$85k-120k")];
    public const string TopBand = "$120k and over";

    private readonly Dictionary<string, decimal> _medians;

    private ZipIncomeBands(Dictionary<string, decimal> medians, string? source) => (_medians, Source) = (medians, source);

    /// <summary>No table: every ZIP is "unknown" (the fairness report still splits by language).</summary>
    public static ZipIncomeBands Empty { get; } = new([], null);

    /// <summary>Where the table came from (a path), null without one.</summary>
    public string? Source { get; }

    public int Count => _medians.Count;

    public static string Band(decimal medianIncome)
    {
        foreach (var (below, name) in Bands)
            if (medianIncome < below) return name;
        return TopBand;
    }

    /// <summary>The band of a ZIP code's area (its first five digits), or <see cref="Unknown"/>.</summary>
    public string BandOf(string? zip)
    {
        if (zip is null) return Unknown;
        var trimmed = zip.Trim();
        if (trimmed.Length < 5 || !trimmed[..5].All(char.IsAsciiDigit)) return Unknown;
        return _medians.TryGetValue(trimmed[..5], out var median) ? Band(median) : Unknown;
    }

    public static ZipIncomeBands Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Reads either format; bad input: <see cref="FormatException"/> naming the source, line and column.</summary>
    public static ZipIncomeBands Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var csv = new CsvReader(reader);
        var header = csv.ReadRecord() ?? throw new FormatException($"{source}: the file is empty");
        int Find(params string[] names) => header.FindIndex(h => names.Any(n => string.Equals(h.Trim().Trim('\uFEFF'), n, StringComparison.OrdinalIgnoreCase)));
        var zipColumn = Find("zip", "zcta", "zip_code", "zipcode", "zcta5");
        var nameColumn = Find("NAME");
        var incomeColumn = Find("B19013_001E", "median_income", "medianincome", "median_household_income", "income");
        if (incomeColumn < 0)
            throw new FormatException($"{source}, line 1: no income column (B19013_001E from data.census.gov, or median_income)");
        if (zipColumn < 0 && nameColumn < 0)
            throw new FormatException($"{source}, line 1: no ZIP column (NAME as \"ZCTA5 00601\" from data.census.gov, or zip)");
        var medians = new Dictionary<string, decimal>(StringComparer.Ordinal);
        while (csv.ReadRecord() is { } record)
        {
            var line = csv.LineNumber;
            if (record.Count == 1 && record[0].Length == 0) continue;
            string Field(int i) => i < record.Count ? record[i].Trim() : "";
            var place = zipColumn >= 0 ? Field(zipColumn) : Field(nameColumn);
            if (place.StartsWith("ZCTA5 ", StringComparison.OrdinalIgnoreCase)) place = place[6..].Trim();
            else if (zipColumn < 0 && line == 2) continue; // data.census.gov's label row ("Geographic Area Name")
            if (place.Length is 3 or 4 && place.All(char.IsAsciiDigit)) place = place.PadLeft(5, '0'); // a spreadsheet dropped the leading zeros (00601 as 601)
            if (place.Length != 5 || !place.All(char.IsAsciiDigit))
                throw new FormatException($"{source}, line {line}: '{place}' is not a five-digit ZIP code");
            var text = Field(incomeColumn).Replace(",", "", StringComparison.Ordinal).Replace("$", "", StringComparison.Ordinal).TrimEnd('+', '-');
            if (text.Length == 0 || text is "N" or "(X)" or "null" or "NA" || Field(incomeColumn) == "-") continue; // no estimate for the area
            if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var median))
                throw new FormatException($"{source}, line {line}: '{Field(incomeColumn)}' is not an income");
            if (median < 0) continue; // the Census API's annotation values (-666666666 and the like) mean no estimate
            medians[place] = median;
        }
        return new ZipIncomeBands(medians, source);
    }
}
