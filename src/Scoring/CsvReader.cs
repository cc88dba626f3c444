using System.Text;

namespace Collections.Scoring;

/// <summary>A small RFC 4180 reader: comma-separated, double-quoted fields may hold commas, quotes ("") and line breaks.</summary>
internal sealed class CsvReader(TextReader reader)
{
    private readonly StringBuilder _field = new();

    /// <summary>The line the last record started on (1-based).</summary>
    public long LineNumber { get; private set; }

    private long _nextLine = 1;

    public List<string>? ReadRecord()
    {
        var c = reader.Read();
        if (c < 0) return null;
        LineNumber = _nextLine;
        var fields = new List<string>();
        _field.Clear();
        var quoted = false;
        var wasQuoted = false;
        while (true)
        {
            if (c < 0)
            {
                if (quoted) throw new FormatException($"line {LineNumber}: a quoted field is not closed");
                fields.Add(_field.ToString());
                return fields;
            }
            var ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        _field.Append('"');
                    }
                    else quoted = false;
                }
                else
                {
                    if (ch == '\n') _nextLine++;
                    _field.Append(ch);
                }
            }
            else if (ch == '"' && _field.Length == 0 && !wasQuoted)
            {
                quoted = true;
                wasQuoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(_field.ToString());
                _field.Clear();
                wasQuoted = false;
            }
            else if (ch == '\r' && reader.Peek() == '\n')
            {
                // CRLF: the \n ends the record.
            }
            else if (ch == '\n')
            {
                _nextLine++;
                fields.Add(_field.ToString());
                return fields;
            }
            else _field.Append(ch);
            c = reader.Read();
        }
    }
}
