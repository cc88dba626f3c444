using System.Globalization;

namespace Collections.Remittance;

/// <summary>One X12 segment: its id, its elements (element 0 is the id), and where it stood in the file.</summary>
public sealed record X12Segment(string Id, IReadOnlyList<string> Elements, int Number, char ComponentSeparator)
{
    /// <summary>Element <paramref name="index"/> (1-based, as the X12 guides number them), or "" when absent.</summary>
    public string this[int index] => index < Elements.Count ? Elements[index] : "";

    public IReadOnlyList<string> Components(int index)
    {
        var value = this[index];
        // Some senders declare ':' in ISA16 but use '>' inside composites (and vice versa): accept either when the
        // declared one does not occur.
        var separator = value.Contains(ComponentSeparator, StringComparison.Ordinal) ? ComponentSeparator
            : value.Contains('>', StringComparison.Ordinal) ? '>'
            : value.Contains(':', StringComparison.Ordinal) ? ':'
            : ComponentSeparator;
        return value.Split(separator);
    }
}

/// <summary>A malformed file, with the segment number (1-based, counted from the start of the file) and a plain reason.</summary>
public sealed class X12FormatException(int segmentNumber, string reason)
    : FormatException($"Segment {segmentNumber}: {reason}")
{
    public int SegmentNumber { get; } = segmentNumber;
    public string Reason { get; } = reason;
}

/// <summary>
/// Splits X12 text into segments. The delimiters come from each interchange's ISA header (element separator at
/// position 3, component separator at 104, segment terminator at 105), so files with or without line breaks, with
/// CRLF or LF, and with several interchanges of different delimiters all read the same.
/// </summary>
public static class X12Reader
{
    public static IReadOnlyList<X12Segment> Read(string text)
    {
        var segments = new List<X12Segment>();
        var position = 0;
        var number = 0;
        while (true)
        {
            position = SkipWhitespace(text, position);
            if (position >= text.Length) break;
            if (string.Compare(text, position, "ISA", 0, 3, StringComparison.OrdinalIgnoreCase) != 0)
                throw new X12FormatException(number + 1, "Expected an ISA interchange header here.");
            if (text.Length - position < 106)
                throw new X12FormatException(number + 1, "The ISA header is shorter than its fixed 106 characters.");
            var element = text[position + 3];
            var component = text[position + 104];
            var terminator = text[position + 105];
            if (char.IsLetterOrDigit(element) || char.IsLetterOrDigit(terminator) || element == terminator)
                throw new X12FormatException(number + 1, "The ISA header does not declare usable delimiters.");

            // Read segments up to and including this interchange's IEA.
            var closed = false;
            while (!closed)
            {
                position = SkipWhitespace(text, position);
                if (position >= text.Length) throw new X12FormatException(number, "The file ends without an IEA trailer.");
                var end = text.IndexOf(terminator, position);
                if (end < 0) end = text.Length;
                var raw = text[position..end].Trim('\r', '\n');
                position = end + 1;
                if (raw.Length == 0) continue;
                number++;
                var elements = raw.Split(element);
                // Segment ids are upper case in X12; a sender that wrote one in lower case still means that segment.
                var id = elements[0].Trim().ToUpperInvariant();
                if (id.Length is < 2 or > 3 || !id.All(char.IsAsciiLetterOrDigit))
                    throw new X12FormatException(number, $"'{Truncate(id)}' is not a segment id.");
                elements[0] = id;
                segments.Add(new X12Segment(id, elements, number, component));
                closed = id == "IEA";
            }
        }
        return segments;
    }

    /// <summary>Skips line breaks and spaces between segments, and the NUL or SUB (Ctrl-Z) padding VANs and mainframe transfers leave after the last IEA.</summary>
    private static int SkipWhitespace(string text, int position)
    {
        while (position < text.Length && (char.IsWhiteSpace(text[position]) || text[position] is '\0' or '\x1A')) position++;
        return position;
    }

    private static string Truncate(string value) => value.Length > 10 ? value[..10] + "…" : value;

    public static decimal Amount(X12Segment segment, int index, string what)
    {
        var value = segment[index];
        if (!decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            throw new X12FormatException(segment.Number, $"{segment.Id}{index:00} ({what}) is not an amount: '{value}'.");
        // Dollars and cents: a fraction of a cent is no amount a payer pays (70.005 would post rounded, and the file's
        // balance would be checked on amounts that never post). Zeros past the cents (70.000) are the same amount.
        if (decimal.Round(amount, 2) != amount)
            throw new X12FormatException(segment.Number, $"{segment.Id}{index:00} ({what}) is {value}: amounts are dollars and cents, at most two decimal places.");
        return amount;
    }

    public static decimal? OptionalAmount(X12Segment segment, int index, string what) =>
        string.IsNullOrEmpty(segment[index]) ? null : Amount(segment, index, what);

    public static DateOnly? Date(X12Segment segment, int index) =>
        DateOnly.TryParseExact(segment[index], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}
