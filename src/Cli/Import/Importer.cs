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
    /// <summary>Transactions: the most rows kept waiting for their account's last row (see <see cref="Importer.MaxWaitingRows"/>).</summary>
    public long MaxWaitingRows { get; init; } = Importer.MaxWaitingRows;
    /// <summary>Draw a Spectre.Console progress bar (a terminal); otherwise a plain line every few seconds.</summary>
    public bool Interactive { get; init; }
    public TimeSpan PlainProgressEvery { get; init; } = TimeSpan.FromSeconds(5);
}

public sealed record ImportSummary(long Read, long Loaded, long AlreadyPresent, long Failed, TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Read / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Streams a CSV file row by row, checks each row locally, and posts the good ones to the HTTP API with bounded parallelism
/// (transactions: each account's rows together, read once first to find each account's last row). Memory is bounded by
/// the channel between the reader and the workers, and for transactions by the rows waiting for their account's last
/// one (at most <see cref="ImportOptions.MaxWaitingRows"/>); errors go straight to the errors file.
/// </summary>
public sealed class Importer : IDisposable
{
    private readonly ImportOptions _options;
    private readonly ImportApiClient _api;
    private readonly TextWriter _output;
    private readonly RowOrderedErrorsFile? _errorsFile;
    private readonly Lock _errorsLock = new();
    /// <summary>The <see cref="ShownErrors"/> errors of the earliest rows, in row order.</summary>
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
            _errorsFile = new RowOrderedErrorsFile(options.ErrorsFile, "row,column,reason"); // rejected rows: patients' data
        }
    }

    /// <summary>The <see cref="ShownErrors"/> errors of the file's earliest rows, in row order (all of them go to the errors file).</summary>
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
        var queues = Enumerable.Range(0, parallel).Select(_ => Channel.CreateBounded<IReadOnlyList<PreparedRow>>(new BoundedChannelOptions(4) { SingleWriter = true, SingleReader = true })).ToArray();
        var workers = queues.Select(q => Task.Run(() => WorkAsync(q.Reader, stop), CancellationToken.None)).ToArray();
        long next = 0;
        int WorkerFor(PreparedRow row) => _options.Kind == ImportKind.Transactions
            ? (int)((uint)StringComparer.Ordinal.GetHashCode(row.Path) % (uint)parallel)
            : (int)(next++ % parallel);
        // Transactions post as row groups: all of an account's rows in the file go in one all-or-none batch (a charge
        // refused never leaves its payments posted, a credit the account does not have), wherever in the file they
        // stand. A first read of the file, posting nothing, finds each account's last row (its rows wait until then)
        // and the accounts with a row refused here (none of their rows is sent).
        var (accountRows, peakWaiting) = _options.Kind == ImportKind.Transactions ? await ReadAccountsAsync(index, cancellationToken) : ([], 0);
        // A file that lists accounts apart (sorted by date, say) would keep most of its rows waiting: above a bound, an
        // account's rows post together where they stand together (each stretch whole or not at all), and it is said.
        var wholeAccounts = peakWaiting <= _options.MaxWaitingRows;
        if (!wholeAccounts)
            lock (_output)
                _output.WriteLine($"import: this file lists accounts' rows apart from each other (up to {peakWaiting:N0} rows would wait for their account's last one), so each account's rows post together where they stand together, not across the file; sorted by account, each account's rows post whole or not at all.");
        var waiting = new Dictionary<string, List<PreparedRow>>(StringComparer.Ordinal);
        string? stretch = null; // the account whose rows are waiting, in stretch mode
        async Task SendAccountAsync(string path)
        {
            if (!waiting.Remove(path, out var rows)) return;
            foreach (var group in rows.Chunk(MaxRowGroup)) await queues[WorkerFor(group[0])].Writer.WriteAsync(group, stop.Token);
        }

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
                    else if (_options.Kind != ImportKind.Transactions)
                    {
                        await queues[WorkerFor(prepared)].Writer.WriteAsync([prepared], stop.Token);
                    }
                    else if (_refused.TryGetValue(prepared.Path, out var refusedRow))
                    {
                        Fail([new RowError(prepared.Row, "", NotPostedWith(refusedRow))]);
                    }
                    else
                    {
                        if (!wholeAccounts && stretch != prepared.Path)
                        {
                            if (stretch is not null) await SendAccountAsync(stretch);
                            stretch = prepared.Path;
                        }
                        (waiting.TryGetValue(prepared.Path, out var rows) ? rows : waiting[prepared.Path] = []).Add(prepared);
                        if (!accountRows.TryGetValue(prepared.Path, out var its) || its.Last <= prepared.Row) await SendAccountAsync(prepared.Path);
                    }
                    if ((_read & 255) == 0) progress?.Invoke(stream.Length == 0 ? 1 : (double)csv.ByteOffset / stream.Length);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                try
                {
                    // Rows still waiting (the file changed between the two reads): sent as they are.
                    foreach (var path in waiting.Keys.ToList())
                        if (!stop.IsCancellationRequested) await SendAccountAsync(path);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
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
        {
            var unsettled = _touched.Where(t => t.Value != 0).Select(t => t.Key).ToList();
            if (unsettled.Count > 0)
            {
                var partly = unsettled.Count(_postedHere.ContainsKey);
                lock (_output)
                    _output.WriteLine($"import: {unsettled.Count:N0} account(s) had a row refused and were not settled: " +
                                      (partly == 0 ? "none of their rows in this file was posted" : $"{partly:N0} of them had rows posted before the refused one (their rows stand apart in the file), the others none") +
                                      "; correct the rows (see the errors) and run the file again (rows already posted are not posted twice); an account left unsettled settles itself a day after it was opened.");
            }
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
        }

        if (_errorsFile is not null && await _errorsFile.FinishAsync(cancellationToken) is { } unsorted)
            lock (_output)
                _output.WriteLine($"import: {unsorted}");
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

    private async Task WorkAsync(ChannelReader<IReadOnlyList<PreparedRow>> reader, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var group in reader.ReadAllAsync(stop.Token))
            {
                if (_options.Kind == ImportKind.Transactions) await PostRowGroupAsync(group, stop);
                else await PostAsync(group[0], stop);
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
        if (AccountPath(cell) is { } path) _touched[path] = 1;
        else Interlocked.Increment(ref _malformed);
    }

    /// <summary>The most rows of one account posted together: the engine's batch limit.</summary>
    public const int MaxRowGroup = 500;

    /// <summary>By default, the most rows kept waiting for their accounts' last rows (tens of megabytes).</summary>
    public const long MaxWaitingRows = 50_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _postedHere = new(StringComparer.Ordinal);

    private static string NotPostedWith(long refusedRow) =>
        $"not posted: row {refusedRow.ToString(CultureInfo.InvariantCulture)} of the same account was refused, and an account's rows post together or not at all; correct that row and run the file again";

    /// <summary>
    /// A first read of the whole file, posting nothing: each account's last row (by its entries' path), and at most how
    /// many rows would wait at once; the accounts with a row refused here go to <see cref="_refused"/> with their first
    /// such row (none of their rows is then posted).
    /// </summary>
    private async Task<(Dictionary<string, (long First, long Last, int Count)> Rows, long PeakWaiting)> ReadAccountsAsync(Dictionary<string, int> index, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, (long First, long Last, int Count)>(StringComparer.Ordinal);
        await using var stream = new FileStream(_options.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await using var csv = CsvReader.Create(stream, CsvRules.Strict(_ => { }), leaveOpen: true);
        await csv.ReadHeaderAsync(cancellationToken);
        while (await csv.ReadAsync(cancellationToken))
        {
            string? Cell(string column) => index.TryGetValue(column, out var i) ? csv.GetString(i) : null;
            var (prepared, _) = ImportSchema.Prepare(ImportKind.Transactions, csv.LineNumber, Cell);
            if (prepared is not null)
                rows[prepared.Path] = rows.TryGetValue(prepared.Path, out var seen) ? (seen.First, csv.LineNumber, seen.Count + 1) : (csv.LineNumber, csv.LineNumber, 1);
            else if (AccountPath(Cell) is { } path) _refused.TryAdd(path, csv.LineNumber);
        }
        // At most how many rows wait at once: every account's rows counted from its first row to its last.
        var changes = new SortedDictionary<long, long>();
        foreach (var (path, (first, last, count)) in rows)
        {
            if (_refused.ContainsKey(path) || count < 2) continue;
            changes[first] = changes.GetValueOrDefault(first) + count;
            changes[last] = changes.GetValueOrDefault(last) - count;
        }
        long waiting = 0, peak = 0;
        foreach (var change in changes.Values) peak = Math.Max(peak, waiting += change);
        return (rows, peak);
    }

    /// <summary>The entries path of the account a transactions row names, or null when it names none.</summary>
    private static string? AccountPath(Func<string, string?> cell)
    {
        var (facility, accountNumber) = (cell("facility")?.Trim(), cell("account_number")?.Trim());
        return string.IsNullOrEmpty(facility) || string.IsNullOrEmpty(accountNumber)
            ? null
            : $"/api/accounts/{Uri.EscapeDataString(facility)}/{Uri.EscapeDataString(accountNumber)}/entries";
    }

    /// <summary>Accounts (their entries' paths) with a refused row, here or by the engine, and the first such row: none of their later rows is sent.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _refused = new(StringComparer.Ordinal);

    /// <summary>
    /// One account's rows, posted in one batch: all of them or none (an account with more than <see cref="MaxRowGroup"/>
    /// rows in a file posts them in batches of that many, in file order). Refused, every row is reported (the refused
    /// one with the engine's reason, the others as not posted with it), and the account's later batches are not posted.
    /// </summary>
    private async Task PostRowGroupAsync(IReadOnlyList<PreparedRow> group, CancellationTokenSource stop)
    {
        var path = group[0].Path;
        _touched.TryAdd(path, 0);
        if (_refused.TryGetValue(path, out var earlier))
        {
            foreach (var row in group) Fail([new RowError(row.Row, "", NotPostedWith(earlier))]);
            return;
        }
        // The same transaction twice (a line repeated, two exports joined): the copy is already present once the
        // account posts; the same transaction id with other values refuses the account, as the engine would.
        var seen = new Dictionary<string, PreparedRow>(StringComparer.Ordinal);
        var distinct = new List<PreparedRow>(group.Count);
        var copies = new List<PreparedRow>();
        foreach (var row in group)
        {
            if (!seen.TryGetValue(row.IdempotencyKey!, out var earlierRow))
            {
                seen[row.IdempotencyKey!] = row;
                distinct.Add(row);
            }
            else if (System.Text.Json.Nodes.JsonNode.DeepEquals(earlierRow.Body, row.Body)) copies.Add(row);
            else
            {
                _refused.TryAdd(path, row.Row);
                _touched[path] = 1;
                foreach (var other in group)
                    Fail([other == row
                        ? new RowError(row.Row, "transaction_id", $"repeats the transaction id of row {earlierRow.Row.ToString(CultureInfo.InvariantCulture)} with other values")
                        : new RowError(other.Row, "", NotPostedWith(row.Row))]);
                return;
            }
        }
        group = distinct;
        ImportAnswer answer;
        try
        {
            answer = await _api.PostBatchAsync(path + "/batch", group.Select(r => (r.Body, r.IdempotencyKey!)).ToList(), settleImport: false, stop.Token);
        }
        catch (EngineUnavailableException e)
        {
            _fatal ??= e.Message;
            await stop.CancelAsync();
            return;
        }
        if (answer.Outcome != ImportOutcome.Failed)
        {
            var replayed = answer.Body.ValueKind == System.Text.Json.JsonValueKind.Object && answer.Body.TryGetProperty("entries", out var entries)
                ? entries.EnumerateArray().Select(e => e.TryGetProperty("replayed", out var x) && x.GetBoolean()).ToList()
                : group.Select(_ => answer.Outcome == ImportOutcome.AlreadyPresent).ToList();
            for (var i = 0; i < group.Count; i++)
                Interlocked.Increment(ref i < replayed.Count && replayed[i] ? ref _already : ref _loaded);
            Interlocked.Add(ref _already, copies.Count);
            _postedHere.TryAdd(path, 0);
            return;
        }
        // Which row the engine refused: a batch names its entry (entries[3].amount); a batch of one, or a refusal of
        // the whole account (not open), names none and stands for every row.
        var byRow = new Dictionary<int, List<RowError>>();
        foreach (var problem in answer.Problems)
        {
            var (at, field) = EntryOf(problem.Field, group.Count);
            foreach (var i in at is { } one ? [one] : Enumerable.Range(0, group.Count))
                (byRow.TryGetValue(i, out var list) ? list : byRow[i] = []).Add(new RowError(group[i].Row, ImportSchema.ColumnFor(field, group[i]), problem.Message));
        }
        var first = group[byRow.Keys.Min()].Row;
        _refused.TryAdd(path, first);
        _touched[path] = 1; // its history is incomplete: not settled (it settles itself a day later)
        for (var i = 0; i < group.Count; i++)
            Fail(byRow.TryGetValue(i, out var errors) ? errors : [new RowError(group[i].Row, "", NotPostedWith(first))]);
        foreach (var copy in copies) Fail([new RowError(copy.Row, "", NotPostedWith(first))]);
    }

    /// <summary>The entry a batch problem's field names (<c>entries[3].amount</c>: 3 and <c>amount</c>), or null for the whole batch.</summary>
    private static (int? Index, string? Field) EntryOf(string? field, int count)
    {
        if (field is not null && field.StartsWith("entries[", StringComparison.Ordinal) && field.IndexOf(']', StringComparison.Ordinal) is var close and > 8
            && int.TryParse(field.AsSpan(8, close - 8), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < count)
            return (i, field.Length > close + 2 ? field[(close + 2)..] : null);
        if (field is not null && field.StartsWith("$.entries[", StringComparison.Ordinal))
            return EntryOf(field[2..], count);
        return (count == 1 ? 0 : null, field);
    }

    private async Task PostAsync(PreparedRow row, CancellationTokenSource stop)
    {
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
                // The earliest rows' errors are shown, whichever account's answer came first.
                var at = _firstErrors.FindLastIndex(e => e.Row <= error.Row) + 1;
                if (at < ShownErrors) _firstErrors.Insert(at, error);
                if (_firstErrors.Count > ShownErrors) _firstErrors.RemoveAt(ShownErrors);
                // Written as it comes, so an import stopped halfway still leaves every error so far in the file.
                _errorsFile?.Write(error.Row, ErrorLine(error));
            }
        }
    }

    private static string ErrorLine(RowError error) => $"{error.Row.ToString(CultureInfo.InvariantCulture)},{RowOrderedErrorsFile.Field(error.Column)},{RowOrderedErrorsFile.Field(error.Reason)}";

    public void Dispose()
    {
        _api.Dispose();
        _errorsFile?.Dispose();
    }
}
