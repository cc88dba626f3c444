using CsvHelper;

namespace Collections.Cli.Import;

/// <summary>What RFC 4180 rule a malformed CSV record broke, in words for the errors file and the command line.</summary>
public static partial class CsvRules
{
    /// <summary>
    /// A value on one line: RFC 4180 lets a quoted field hold line breaks (an address typed on two lines, a note), but
    /// every field the engine takes is one line (it refuses control characters), so each break, with the spaces and tabs
    /// around it, becomes one space.
    /// </summary>
    public static string OneLine(string value) => value.AsSpan().IndexOfAny('\r', '\n') < 0 ? value : LineBreaks().Replace(value, " ");

    [System.Text.RegularExpressions.GeneratedRegex(@"[ \t]*(\r\n|\r|\n)+[ \t]*")]
    private static partial System.Text.RegularExpressions.Regex LineBreaks();

    /// <summary>
    /// How every import reads CSV: comma-separated, values trimmed, line numbers kept, and RFC 4180 strictly: a record
    /// with broken quoting or another field count than the header is not read by position; it goes to
    /// <paramref name="malformed"/> (which reports it and goes on, or throws to stop).
    /// </summary>
    public static CsvReaderOptions Strict(Action<CsvMalformedRecord> malformed) => new()
    {
        Separator = ',', TrimWhitespace = true, TrackLineNumbers = true,
        MalformedData = CsvMalformedDataHandling.Skip, FieldCountMismatch = CsvFieldCountHandling.Skip,
        OnMalformedRecord = malformed,
    };

    public static string Explain(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.StrayQuote => "a quote inside a field that is not quoted (RFC 4180: a field holding a quote is quoted, its quotes doubled)",
        CsvMalformedReason.TextAfterClosingQuote => "text after a field's closing quote (RFC 4180: the separator or the line's end follows it)",
        CsvMalformedReason.UnterminatedQuote => "a quoted field is never closed, so the rest of the file from this line could not be read",
        CsvMalformedReason.LineBreakInQuotes => "a line break inside a quoted field",
        CsvMalformedReason.FieldCountMismatch => "the line has another number of fields than the header (RFC 4180: every record has the same)",
        CsvMalformedReason.TrailingEscape => "the file ends inside an escape",
        _ => $"the line is not valid CSV ({reason})",
    };
}
