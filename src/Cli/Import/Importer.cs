using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CsvHelper;
using Spectre.Console;

namespace Collections.Cli.Import;

public sealed record ImportOptions
{
    public required ImportKind Kind { get; init; }
    public required string File { get; init; }
    public required Uri BaseAddress { get; init; }
    public required string ApiKey { get; init; }
    public string? ErrorsFile { get; init; }
    public int Parallel { get; init; } = 8;
    /// <summary>Draw a Spectre.Console progress bar (a terminal); otherwise a plain line every few seconds.</summary>
    public bool Interactive { get; init; }
    public TimeSpan PlainProgressEvery { get; init; } = TimeSpan.FromSeconds(5);
}

public sealed record ImportSummary(long Read, long Loaded, long AlreadyPresent, long Failed, TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Read / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Streams a CSV file row by row, checks each row locally, and posts the good ones to the HTTP API with bounded parallelism.
/// Memory is bounded by the channel between the reader and the workers; errors go straight to the errors file.
/// </summary>
public sealed class Importer : IDisposable
{
    private readonly ImportOptions _options;
    private readonly ImportApiClient _api;
    private readonly TextWriter _output;
    private readonly TextWriter? _errorsFile;
    private readonly Lock _errorsLock = new();
    private readonly List<RowError> _firstErrors = [];
    private long _read, _loaded, _already, _failed;
    private string? _fatal;
    private long _malformed;

    public const int ShownErrors = 20;

    public Importer(ImportOptions options, TextWriter output, HttpMessageHandler? handler = null)
    {
        _options = options;
        _output = output;
        _api = new ImportApiClient(options.BaseAddress, options.ApiKey, options.Parallel, handler);
        if (options.ErrorsFile is not null)
        {
            _errorsFile = new StreamWriter(Persistence.OwnerOnlyFiles.Create(options.ErrorsFile), new UTF8Encoding(false)); // rejected rows: patients' data
            _errorsFile.WriteLine("row,column,reason");
        }
    }

    /// <summary>The first <see cref="ShownErrors"/> row errors (all of them go to the errors file).</summary>
    public IReadOnlyList<RowError> FirstErrors { get { lock (_errorsLock) return [.. _firstErrors]; } }

    /// <summary>Checks the header (throws <see cref="CliInputException"/> before anything is posted), then imports every row.</summary>
    public async Task<ImportSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        FileStream stream;
        try
        {
            stream = new FileStream(_options.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"--file {_options.File}: {e.Message}");
        }
        await using var _ = stream;
        // CsvHelper 34 reads UTF-8 bytes straight from the stream (byte order marks honored) with a bounded buffer.
        // RFC 4180 strictly: a row whose quoting is broken, or whose field count is not the header's, is not read by
        // position and guessed at; it is reported (errors file) and skipped, and the rows around it go on.
        await using var csv = CsvReader.Create(stream, CsvRules.Strict(malformed =>
        {
            Interlocked.Increment(ref _read);
            Interlocked.Increment(ref _malformed);
            Fail([new RowError(malformed.LineNumber, "", CsvRules.Explain(malformed.Reason))]);
        }), leaveOpen: true);
        await csv.ReadHeaderAsync(cancellationToken);
        if (csv.Headers is not { Count: > 0 } header)
            throw new CliInputException($"--file {_options.File}: the file is empty; the first line must be the {ImportSchema.Name(_options.Kind)} header (see docs/import.md)");
        if (ImportSchema.CheckHeader(_options.Kind, header) is { } problem)
            throw new CliInputException($"--file {_options.File}: {problem}");
        var index = header.Select((h, i) => (h, i)).ToDictionary(p => p.h, p => p.i, StringComparer.Ordinal);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One queue per worker, and every row of one account to the same worker: an account's rows post in file order
        // (a payment never before its charge), accounts in parallel.
        var parallel = Math.Max(_options.Parallel, 1);
        var queues = Enumerable.Range(0, parallel).Select(_ => Channel.CreateBounded<PreparedRow>(new BoundedChannelOptions(4) { SingleWriter = true, SingleReader = true })).ToArray();
        var workers = queues.Select(q => Task.Run(() => WorkAsync(q.Reader, stop), CancellationToken.None)).ToArray();
        long next = 0;
        int WorkerFor(PreparedRow row) => _options.Kind == ImportKind.Transactions
            ? (int)((uint)StringComparer.Ordinal.GetHashCode(row.Path) % (uint)parallel)
            : (int)(next++ % parallel);

        async Task ReadAsync(Action<double>? progress)
        {
            try
            {
                while (!stop.IsCancellationRequested && await csv.ReadAsync(stop.Token))
                {
                    Interlocked.Increment(ref _read);
                    var row = csv.LineNumber;
                    var (prepared, errors) = ImportSchema.Prepare(_options.Kind, row, column => index.TryGetValue(column, out var i) ? csv.GetString(i) : null);
                    if (prepared is null)
                    {
                        Fail(errors);
                        if (_options.Kind == ImportKind.Transactions) KeepUnsettled(column => index.TryGetValue(column, out var i) ? csv.GetString(i) : null);
                    }
                    else
                    {
                        await queues[WorkerFor(prepared)].Writer.WriteAsync(prepared, stop.Token);
                    }
                    if ((_read & 255) == 0) progress?.Invoke(stream.Length == 0 ? 1 : (double)csv.ByteOffset / stream.Length);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                foreach (var q in queues) q.Writer.TryComplete();
            }
            await Task.WhenAll(workers);
        }

        if (_options.Interactive)
            await RunWithProgressBarAsync(ReadAsync, clock);
        else
            await RunWithPlainProgressAsync(ReadAsync, clock);
        // The history of every account the file touched has posted: its cadence starts from the state it left. Not when a
        // line could not be read: it may have held any account's rows, and an account settled without them would be
        // billed on part of its history.
        if (_options.Kind == ImportKind.Transactions && _fatal is null && Interlocked.Read(ref _malformed) > 0)
            lock (_output)
                _output.WriteLine($"import: {Interlocked.Read(ref _malformed):N0} line(s) could not be read or named no account, so no account was settled: correct the file and run it again (rows already posted are not posted twice); an account left unsettled settles itself a day after it was opened.");
        else if (_options.Kind == ImportKind.Transactions && _fatal is null)
            await Parallel.ForEachAsync(_touched.Where(t => t.Value == 0).Select(t => t.Key), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (path, ct) =>
            {
                try
                {
                    await _api.PostAsync(path[..^"/entries".Length] + "/import/settle", new System.Text.Json.Nodes.JsonObject(), null, ct);
                }
                catch (EngineUnavailableException e)
                {
                    _fatal ??= e.Message;
                }
            });

        if (_errorsFile is not null) await _errorsFile.FlushAsync(CancellationToken.None);
        if (_fatal is not null) throw new CliInputException(_fatal);
        return new ImportSummary(_read, _loaded, _already, _failed, clock.Elapsed);
    }

    private async Task RunWithProgressBarAsync(Func<Action<double>?, Task> read, Stopwatch clock)
    {
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Describe(clock), maxValue: 1.0);
                await read(fraction =>
                {
                    task.Value = Math.Min(fraction, 1.0);
                    task.Description = Describe(clock);
                });
                task.Value = 1.0;
                task.Description = Describe(clock);
            });
    }

    private async Task RunWithPlainProgressAsync(Func<Action<double>?, Task> read, Stopwatch clock)
    {
        var last = clock.Elapsed;
        var fraction = 0.0;
        await read(f =>
        {
            fraction = f;
            if (clock.Elapsed - last < _options.PlainProgressEvery) return;
            last = clock.Elapsed;
            lock (_output) _output.WriteLine($"{fraction,6:P0} {Describe(clock)}");
        });
    }

    private string Describe(Stopwatch clock)
    {
        var read = Interlocked.Read(ref _read);
        var rate = clock.Elapsed.TotalSeconds > 0 ? read / clock.Elapsed.TotalSeconds : 0;
        return $"{read:N0} rows read, {Interlocked.Read(ref _loaded):N0} loaded, {Interlocked.Read(ref _already):N0} already present, {Interlocked.Read(ref _failed):N0} failed, {rate:N0} rows/s";
    }

    private async Task WorkAsync(ChannelReader<PreparedRow> reader, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var row in reader.ReadAllAsync(stop.Token))
            {
                await PostAsync(row, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A worker that dies must not leave the reader blocked on its queue: stop everything and say why.
            _fatal ??= $"the import stopped: {e.Message}";
            await stop.CancelAsync();
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _touched = new(StringComparer.Ordinal);

    /// <summary>
    /// A transactions row refused before it was sent: its account, if the row names one, is not settled (its history
    /// lacks the row); a row that names none could be any account's, so none is settled.
    /// </summary>
    private void KeepUnsettled(Func<string, string?> cell)
    {
        var (facility, accountNumber) = (cell("facility")?.Trim(), cell("account_number")?.Trim());
        if (string.IsNullOrEmpty(facility) || string.IsNullOrEmpty(accountNumber)) Interlocked.Increment(ref _malformed);
        else _touched[$"/api/accounts/{Uri.EscapeDataString(facility)}/{Uri.EscapeDataString(accountNumber)}/entries"] = 1;
    }

    private async Task PostAsync(PreparedRow row, CancellationTokenSource stop)
    {
        if (_options.Kind == ImportKind.Transactions) _touched.TryAdd(row.Path, 0);
        ImportAnswer answer;
        try
        {
            answer = await _api.PostAsync(row.Path, row.Body, row.IdempotencyKey, stop.Token);
            // An account already open (opened during the stay, or by an earlier run of the same export) gets the row's
            // discharge date: the export that first carries it is how the engine learns that the stay ended.
            if (_options.Kind == ImportKind.Accounts && answer.Outcome == ImportOutcome.AlreadyPresent && row.Body["dischargeDate"] is { } discharge)
            {
                var recorded = await _api.PutAsync(
                    $"/api/accounts/{Uri.EscapeDataString((string)row.Body["facility"]!)}/{Uri.EscapeDataString((string)row.Body["accountNumber"]!)}/discharge",
                    new JsonObject { ["dischargeDate"] = discharge.DeepClone() }, stop.Token);
                if (recorded.Outcome == ImportOutcome.Failed) answer = recorded;
            }
        }
        catch (EngineUnavailableException e)
        {
            // The engine cannot be reached or refuses the key: every further row would fail the same way.
            _fatal ??= e.Message;
            await stop.CancelAsync();
            return;
        }
        switch (answer.Outcome)
        {
            case ImportOutcome.Loaded:
                Interlocked.Increment(ref _loaded);
                break;
            case ImportOutcome.AlreadyPresent:
                Interlocked.Increment(ref _already);
                break;
            default:
                // An account with a refused row is not settled: its history is incomplete (it settles itself a day later).
                if (_options.Kind == ImportKind.Transactions) _touched[row.Path] = 1;
                Fail([.. answer.Problems.Select(p => new RowError(row.Row, ImportSchema.ColumnFor(p.Field, row), p.Message))]);
                break;
        }
    }

    private void Fail(List<RowError> errors)
    {
        Interlocked.Increment(ref _failed);
        lock (_errorsLock)
        {
            foreach (var error in errors)
            {
                if (_firstErrors.Count < ShownErrors) _firstErrors.Add(error);
                _errorsFile?.WriteLine($"{error.Row.ToString(CultureInfo.InvariantCulture)},{Quote(error.Column)},{Quote(error.Reason)}");
            }
        }
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    public void Dispose()
    {
        _api.Dispose();
        _errorsFile?.Dispose();
    }
}
