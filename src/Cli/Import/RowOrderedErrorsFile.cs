using System.Text;

namespace Collections.Cli.Import;

/// <summary>
/// An import's errors file (it holds patients' data: owner-only). Each error is written through as it comes, so an
/// import stopped halfway, or killed, leaves every error so far. Accounts post in parallel and the engine's answers come
/// in any order, so at the end, if they came out of order, the lines are copied in order into a new owner-only file
/// beside it that then takes its place (never rewritten in place: a failure midway leaves the file as it was).
/// </summary>
internal sealed class RowOrderedErrorsFile : IDisposable
{
    /// <summary>The most errors the file is put in order for (20 bytes of memory each).</summary>
    public const int MaxSorted = 5_000_000;

    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly string _path;
    private readonly string _header;
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();
    /// <summary>Where each line is, in the order they came; null once there are more than <see cref="MaxSorted"/>.</summary>
    private List<(long Order, long Offset, int Length)>? _lines = [];
    private long _written, _lastOrder = long.MinValue;
    private bool _outOfOrder;

    public RowOrderedErrorsFile(string path, string header)
    {
        _path = path;
        _header = header;
        _writer = new StreamWriter(Persistence.OwnerOnlyFiles.Create(path), Utf8) { AutoFlush = true, NewLine = "\n" };
        _writer.WriteLine(header);
        _written = Utf8.GetByteCount(header) + 1;
    }

    /// <summary>A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, its quotes doubled.</summary>
    public static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    /// <summary>Writes one error's line; <paramref name="order"/> is where it belongs (its row, or its file and row).</summary>
    public void Write(long order, string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
            var length = Utf8.GetByteCount(line) + 1;
            if (order < _lastOrder) _outOfOrder = true;
            _lastOrder = Math.Max(_lastOrder, order);
            if (_lines is not null)
            {
                if (_lines.Count < MaxSorted) _lines.Add((order, _written, length));
                else _lines = null;
            }
            _written += length;
        }
    }

    /// <summary>
    /// Puts the file in order (a line's place among equals kept) if its errors came out of it. Returns what to tell the
    /// user when it could not be (too many, or the copy failed), else null. Cancelled, it stays as the errors came.
    /// </summary>
    public async Task<string?> FinishAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(CancellationToken.None);
        if (!_outOfOrder || cancellationToken.IsCancellationRequested) return null;
        if (_lines is null)
            return $"the errors file lists rows in the order they were answered, not in the file's order (more than {MaxSorted:N0} errors); sort it by its row column.";
        var sorting = _path + ".sorting";
        try
        {
            await using (var to = Persistence.OwnerOnlyFiles.Create(sorting))
            await using (var from = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.RandomAccess))
            {
                var buffer = new byte[1 << 16];
                await to.WriteAsync(Utf8.GetBytes(_header + "\n"), cancellationToken);
                foreach (var (_, offset, length) in _lines.OrderBy(e => e.Order)) // a stable sort
                {
                    if (length > buffer.Length) buffer = new byte[length];
                    from.Position = offset;
                    await from.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
                    await to.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
                }
                await to.FlushAsync(cancellationToken);
                to.Flush(flushToDisk: true);
            }
            File.Move(sorting, _path, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            File.Delete(sorting);
            return $"the errors file could not be put in row order ({e.GetType().Name}); it lists rows in the order they were answered: sort it by its row column.";
        }
    }

    public void Dispose() => _writer.Dispose();
}
