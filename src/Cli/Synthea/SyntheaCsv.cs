using CsvHelper;
using Collections.Cli.Import;

namespace Collections.Cli.Synthea;

/// <summary>
/// One Synthea CSV file read as a stream (CsvHelper's bounded buffer): the header checked first, then rows with their
/// line numbers and cells looked up by column name, ignoring case.
/// </summary>
public sealed class SyntheaCsv : IAsyncDisposable
{
    private readonly FileStream _stream;
    private readonly CsvReader _csv;
    private readonly Dictionary<string, int> _columns;

    private SyntheaCsv(string file, FileStream stream, CsvReader csv, Dictionary<string, int> columns)
    {
        File = file;
        _stream = stream;
        _csv = csv;
        _columns = columns;
    }

    /// <summary>The file name (e.g. claims.csv), used in error reports.</summary>
    public string File { get; }

    /// <summary>The line number of the current row (the header is 1).</summary>
    public long Row => _csv.LineNumber;

    public long Length => _stream.Length;

    public long Position => _csv.ByteOffset;

    /// <summary>Opens <paramref name="folder"/>/<paramref name="file"/> and checks its header; a missing file or column is a <see cref="CliInputException"/>.</summary>
    public static async Task<SyntheaCsv> OpenAsync(string folder, string file, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, file);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException(e is FileNotFoundException or DirectoryNotFoundException
                ? $"{file}: not found in {folder} (a Synthea CSV export needs {string.Join(", ", SyntheaSchema.Files)})"
                : $"{file}: {e.Message}");
        }
        try
        {
            // Synthea writes RFC 4180: broken quoting or a row with another field count is a damaged export, and stops
            // the import at that row (read before any claim posts), rather than being read by position.
            var csv = CsvReader.Create(stream, CsvRules.Strict(malformed =>
                throw new CliInputException($"{file} line {malformed.LineNumber}: {CsvRules.Explain(malformed.Reason)}; the export looks damaged, so nothing more was read")), leaveOpen: true);
            await csv.ReadHeaderAsync(cancellationToken);
            if (csv.Headers is not { Count: > 0 } header)
                throw new CliInputException($"{file}: the file is empty; the first line must be Synthea's header");
            if (SyntheaSchema.CheckHeader(file, header) is { } problem)
                throw new CliInputException(problem);
            var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < header.Count; i++) columns.TryAdd(header[i].Trim(), i);
            return new SyntheaCsv(file, stream, csv, columns);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    public ValueTask<bool> ReadAsync(CancellationToken cancellationToken) => _csv.ReadAsync(cancellationToken);

    /// <summary>The trimmed cell of <paramref name="column"/> in the current row; null when empty or absent.</summary>
    public string? Get(string column)
    {
        if (!_columns.TryGetValue(column, out var i)) return null;
        var value = _csv.GetString(i);
        return string.IsNullOrWhiteSpace(value) ? null : Import.CsvRules.OneLine(value.Trim());
    }

    public SyntheaPatient Patient() => new(Row, Get("Id"), Get("BIRTHDATE"), Get("DEATHDATE"), Get("FIRST"), Get("LAST"),
        Get("ADDRESS"), Get("CITY"), Get("STATE"), Get("ZIP"));

    public SyntheaClaim Claim() => new(Row, Get("Id"), Get("PATIENTID"), Get("PRIMARYPATIENTINSURANCEID"), Get("SECONDARYPATIENTINSURANCEID"),
        Get("APPOINTMENTID"), Get("SERVICEDATE"), Get("OUTSTANDING1"), Get("OUTSTANDING2"), Get("OUTSTANDINGP"));

    public SyntheaTransaction Transaction() => new(Row, Get("ID"), Get("CLAIMID"), Get("CHARGEID"), Get("PATIENTID"), Get("TYPE"), Get("AMOUNT"),
        Get("METHOD"), Get("FROMDATE"), Get("PROCEDURECODE"), Get("NOTES"), Get("TRANSFEROUTID"), Get("TRANSFERTYPE"), Get("PAYMENTS"),
        Get("ADJUSTMENTS"), Get("TRANSFERS"));

    public async ValueTask DisposeAsync()
    {
        await _csv.DisposeAsync();
        await _stream.DisposeAsync();
    }
}
