using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Collections.Cli.Import;
using Spectre.Console;

namespace Collections.Cli.Synthea;

public sealed record SyntheaImportOptions
{
    public required string Folder { get; init; }
    public required Uri BaseAddress { get; init; }
    public required string ApiKey { get; init; }
    /// <summary>Every account at this facility; null: the facility is derived from each encounter's ORGANIZATION.</summary>
    public string? Facility { get; init; }
    public string? ErrorsFile { get; init; }
    public int Parallel { get; init; } = 8;
    /// <summary>Where the temporary SQLite file that sorts the export goes (deleted at the end).</summary>
    public string? WorkFolder { get; init; }
    public bool Interactive { get; init; }
    public TimeSpan PlainProgressEvery { get; init; } = TimeSpan.FromSeconds(5);
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

public sealed record SyntheaImportSummary
{
    public long Patients { get; init; }
    public long GuarantorsLoaded { get; init; }
    public long GuarantorsPresent { get; init; }
    public long PatientsFailed { get; init; }
    public long DeceasedHoldsPlaced { get; init; }
    public long Claims { get; init; }
    public long AccountsOpened { get; init; }
    public long AccountsPresent { get; init; }
    public long ClaimsFailed { get; init; }
    public long TransactionRows { get; init; }
    public long EntriesPosted { get; init; }
    public long EntriesPresent { get; init; }
    public long RowsWithoutEntry { get; init; }
    public long TransactionRowsFailed { get; init; }
    /// <summary>Rows whose entries posted now (a row may make two entries: a copay and its transfer).</summary>
    public long TransactionRowsPosted { get; init; }
    /// <summary>Rows whose entries were all there already (a re-run).</summary>
    public long TransactionRowsPresent { get; init; }
    public long AccountsVerified { get; init; }
    public long AccountsDiffering { get; init; }
    /// <summary>Accounts with nothing posted to them: not compared with claims.csv.</summary>
    public long AccountsNotChecked { get; init; }
    /// <summary>Patients registered with an incomplete address (no usable ZIP), flagged for review.</summary>
    public long AddressesForReview { get; init; }
    public long PayerRows { get; init; }
    public long EncounterRows { get; init; }
    public TimeSpan Elapsed { get; init; }
    public TimeSpan VerifyElapsed { get; init; }

    /// <summary>Rows of the five files.</summary>
    public long Rows => Patients + PayerRows + EncounterRows + Claims + TransactionRows;

    /// <summary>Rows of the five files per second of the whole run (verification included).</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;

    public bool Clean => PatientsFailed == 0 && ClaimsFailed == 0 && TransactionRowsFailed == 0 && AccountsDiffering == 0;
}

/// <summary>
/// <c>collections import synthea</c>: loads a Synthea CSV export through the HTTP API (docs/import.md, "Synthea").
/// 1. checks that the five files are there with the columns needed; 2. reads payers.csv (a few dozen rows) into
/// memory; 3. registers patients as guarantors (deceased ones get a Deceased hold); 4. sorts encounters, claims and
/// transactions into a temporary SQLite file; 5. opens an account per claim; 6. posts each claim's transactions in
/// CHARGEID order (claims in parallel, one claim's entries in sequence); 7. reads every account back and compares its
/// balances with claims.csv's outstanding amounts. Bad rows are reported (file, row, column, reason) and skipped.
/// </summary>
public sealed class SyntheaImporter : IDisposable
{
    private readonly SyntheaImportOptions _options;
    private readonly ImportApiClient _api;
    private readonly TextWriter _output;
    private readonly Import.RowOrderedErrorsFile? _errorsFile;
    private readonly Lock _errorsLock = new();
    private readonly List<SyntheaError> _firstErrors = [];
    private long _errorCount;
    private long _patients, _guarantorsLoaded, _guarantorsPresent, _patientsFailed, _holds;
    private long _claims, _accountsOpened, _accountsPresent, _claimsFailed;
    private long _txRows, _entriesPosted, _entriesPresent, _withoutEntry, _txFailed, _rowsPosted, _rowsPresent;
    private long _verified, _differing, _notChecked, _addressesForReview;
    private long _payerRows, _encounterRows;

    public const int ShownErrors = 20;

    public SyntheaImporter(SyntheaImportOptions options, TextWriter output, HttpMessageHandler? handler = null)
    {
        _options = options;
        _output = output;
        _api = new ImportApiClient(options.BaseAddress, options.ApiKey, options.Parallel, handler);
        if (options.ErrorsFile is not null)
        {
            _errorsFile = new Import.RowOrderedErrorsFile(options.ErrorsFile, "file,row,column,reason"); // rejected rows: patients' data
        }
    }

    /// <summary>The first <see cref="ShownErrors"/> problems (all of them go to the errors file).</summary>
    public IReadOnlyList<SyntheaError> FirstErrors { get { lock (_errorsLock) return [.. _firstErrors]; } }

    public long ErrorCount => Interlocked.Read(ref _errorCount);

    public async Task<SyntheaImportSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(_options.Folder))
            throw new CliInputException($"{_options.Folder}: no such folder (a Synthea CSV export: {string.Join(", ", SyntheaSchema.Files)})");
        // Every file and header is checked before anything is posted.
        var files = new Dictionary<string, SyntheaCsv>();
        try
        {
            foreach (var file in SyntheaSchema.Files) files[file] = await SyntheaCsv.OpenAsync(_options.Folder, file, cancellationToken);
            var payers = await ReadPayersAsync(files[SyntheaSchema.Payers], cancellationToken);
            await using var staging = await SyntheaStaging.CreateAsync(_options.WorkFolder ?? Path.GetTempPath(), cancellationToken);
            var verifyElapsed = TimeSpan.Zero;
            await RunPhasesAsync(async progress =>
            {
                await ImportPatientsAsync(files[SyntheaSchema.Patients], staging, progress, cancellationToken);
                foreach (var file in new[] { SyntheaSchema.Encounters, SyntheaSchema.Claims, SyntheaSchema.Transactions })
                {
                    var csv = files[file];
                    progress.Start($"sorting {file}", csv.Length);
                    var rows = await staging.StageAsync(csv, c => progress.Set(c.Position), cancellationToken);
                    if (file == SyntheaSchema.Encounters) _encounterRows = rows;
                    progress.Set(csv.Length);
                }
                await staging.IndexAsync(cancellationToken);
                await OpenAccountsAsync(staging, payers, progress, cancellationToken);
                await PostTransactionsAsync(staging, progress, cancellationToken);
                var verifyClock = Stopwatch.StartNew();
                await VerifyAsync(staging, progress, cancellationToken);
                verifyElapsed = verifyClock.Elapsed;
            }, clock);
            // In the order the files are read (payers, patients, encounters, claims, transactions), each by row.
            if (_errorsFile is not null && await _errorsFile.FinishAsync(cancellationToken) is { } unsorted)
                lock (_output)
                    _output.WriteLine($"import: {unsorted}");
            return new SyntheaImportSummary
            {
                Patients = _patients, GuarantorsLoaded = _guarantorsLoaded, GuarantorsPresent = _guarantorsPresent, PatientsFailed = _patientsFailed,
                DeceasedHoldsPlaced = _holds, Claims = _claims, AccountsOpened = _accountsOpened, AccountsPresent = _accountsPresent,
                ClaimsFailed = _claimsFailed, TransactionRows = _txRows, EntriesPosted = _entriesPosted, EntriesPresent = _entriesPresent,
                RowsWithoutEntry = _withoutEntry, TransactionRowsFailed = _txFailed, TransactionRowsPosted = _rowsPosted, TransactionRowsPresent = _rowsPresent, AccountsVerified = _verified, AccountsDiffering = _differing, AccountsNotChecked = _notChecked, AddressesForReview = _addressesForReview,
                PayerRows = _payerRows, EncounterRows = _encounterRows, Elapsed = clock.Elapsed, VerifyElapsed = verifyElapsed,
            };
        }
        catch (EngineUnavailableException e)
        {
            throw new CliInputException(e.Message);
        }
        finally
        {
            foreach (var csv in files.Values) await csv.DisposeAsync();
        }
    }

    private async Task<Dictionary<string, string>> ReadPayersAsync(SyntheaCsv csv, CancellationToken cancellationToken)
    {
        // payers.csv is small (one row per insurance company: a few dozen), so it is kept in memory.
        var payers = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await csv.ReadAsync(cancellationToken))
        {
            _payerRows++;
            var id = csv.Get("Id");
            var name = csv.Get("NAME");
            if (id is null) Report(new SyntheaError(csv.File, csv.Row, "Id", "required; the cell is empty"));
            else if (name is null) Report(new SyntheaError(csv.File, csv.Row, "NAME", "required; the cell is empty"));
            else payers.TryAdd(id, name);
        }
        return payers;
    }

    private async Task ImportPatientsAsync(SyntheaCsv csv, SyntheaStaging staging, PhaseProgress progress, CancellationToken cancellationToken)
    {
        progress.Start("patients → guarantors", csv.Length);
        await PumpAsync(ReadAll(), async (plan, ct) =>
        {
            var answer = await _api.PostAsync("/api/guarantors", plan.Body, null, ct);
            if (answer.Outcome == ImportOutcome.Failed)
            {
                Interlocked.Increment(ref _patientsFailed);
                foreach (var p in answer.Problems) Report(new SyntheaError(SyntheaSchema.Patients, plan.Row, PatientColumn(p.Field), p.Message));
                staging.RecordPatient(plan.GuarantorId, plan.Row, imported: false);
                return;
            }
            Interlocked.Increment(ref answer.Outcome == ImportOutcome.Loaded ? ref _guarantorsLoaded : ref _guarantorsPresent);
            if (plan.AddressIncomplete && answer.Outcome == ImportOutcome.Loaded) Interlocked.Increment(ref _addressesForReview); // flagged when registered, not again on a re-run
            staging.RecordPatient(plan.GuarantorId, plan.Row, imported: true);
            if (plan.DeceasedHoldNote is not null) await PlaceDeceasedHoldAsync(plan, ct);
        }, cancellationToken);
        progress.Set(csv.Length);

        async IAsyncEnumerable<GuarantorPlan> ReadAll()
        {
            while (await csv.ReadAsync(cancellationToken))
            {
                Interlocked.Increment(ref _patients);
                var (plan, errors) = SyntheaMapping.MapPatient(csv.Patient());
                if (plan is null)
                {
                    Interlocked.Increment(ref _patientsFailed);
                    foreach (var e in errors) Report(e);
                    if (csv.Get("Id") is { } id) staging.RecordPatient(id, csv.Row, imported: false);
                }
                else yield return plan;
                if ((_patients & 255) == 0) progress.Set(csv.Position);
            }
        }
    }

    /// <summary>Places a Deceased hold on the guarantor unless one is already active (holds have no idempotency key).</summary>
    private async Task PlaceDeceasedHoldAsync(GuarantorPlan plan, CancellationToken cancellationToken)
    {
        var path = $"/api/guarantors/{Uri.EscapeDataString(plan.GuarantorId)}";
        if (await _api.GetAsync(path, cancellationToken) is { } view && view.TryGetProperty("holds", out var holds) && holds.ValueKind == JsonValueKind.Array
            && holds.EnumerateArray().Any(h => string.Equals(h.GetProperty("reason").GetString(), "deceased", StringComparison.OrdinalIgnoreCase)
                                               && (h.TryGetProperty("isActive", out var active) ? active.ValueKind == JsonValueKind.True
                                                   : !h.TryGetProperty("releasedAt", out var released) || released.ValueKind == JsonValueKind.Null)))
            return;
        var answer = await _api.PostAsync(path + "/holds", new JsonObject { ["reason"] = "deceased", ["note"] = plan.DeceasedHoldNote }, null, cancellationToken);
        if (answer.Outcome == ImportOutcome.Failed)
            foreach (var p in answer.Problems) Report(new SyntheaError(SyntheaSchema.Patients, plan.Row, "DEATHDATE", $"the Deceased hold was refused: {p.Message}"));
        else Interlocked.Increment(ref _holds);
    }

    private async Task OpenAccountsAsync(SyntheaStaging staging, IReadOnlyDictionary<string, string> payers, PhaseProgress progress, CancellationToken cancellationToken)
    {
        var total = staging.Count("claim");
        progress.Start("claims → accounts", total);
        await PumpAsync(ReadAll(), async (plan, ct) =>
        {
            // Opened as an import: nobody is contacted until the claim's whole history has posted (it may be paid).
            plan.Body["importing"] = true;
            var answer = await _api.PostAsync("/api/accounts", plan.Body, null, ct);
            if (answer.Outcome == ImportOutcome.Failed)
            {
                Interlocked.Increment(ref _claimsFailed);
                foreach (var p in answer.Problems) Report(new SyntheaError(SyntheaSchema.Claims, plan.Row, ClaimColumn(p.Field), p.Message));
            }
            else
            {
                Interlocked.Increment(ref answer.Outcome == ImportOutcome.Loaded ? ref _accountsOpened : ref _accountsPresent);
                staging.MarkOpened(plan.ClaimId);
            }
            progress.Increment();
        }, cancellationToken);

        async IAsyncEnumerable<AccountPlan> ReadAll()
        {
            await foreach (var (claim, encounter) in staging.ClaimsAsync(cancellationToken))
            {
                Interlocked.Increment(ref _claims);
                var (plan, errors) = SyntheaMapping.MapClaim(claim, encounter, payers, _options.Facility);
                // Staged first, opened or not: its transactions are then reported against the claim's real reason.
                if (plan is not null && !staging.TryAddAccount(plan))
                {
                    errors = [new SyntheaError(SyntheaSchema.Claims, claim.Row, "Id", $"claim '{plan.ClaimId}' appears twice (first at row {staging.AccountRow(plan.ClaimId)?.ToString(CultureInfo.InvariantCulture)})")];
                    plan = null;
                }
                if (plan is not null && staging.Patient(plan.PatientId) is var patient && patient is not { Imported: true })
                {
                    errors = [new SyntheaError(SyntheaSchema.Claims, claim.Row, "PATIENTID", patient is { } p
                        ? $"not opened: its patient was refused (patients.csv row {p.Row.ToString(CultureInfo.InvariantCulture)}, reported above)"
                        : $"not opened: no patient '{plan.PatientId}' in patients.csv")];
                    plan = null;
                }
                if (plan is null)
                {
                    Interlocked.Increment(ref _claimsFailed);
                    foreach (var e in errors) Report(e);
                    progress.Increment();
                    continue;
                }
                yield return plan;
            }
        }
    }

    private async Task PostTransactionsAsync(SyntheaStaging staging, PhaseProgress progress, CancellationToken cancellationToken)
    {
        progress.Start("claims_transactions → ledger entries", staging.Count("txn"));
        var now = _options.Clock.GetUtcNow();
        await PumpAsync(staging.TransactionsByClaimAsync(cancellationToken), async (group, ct) =>
        {
            Interlocked.Add(ref _txRows, group.Rows.Count);
            try
            {
                await PostClaimAsync(group, now, staging, ct);
            }
            finally
            {
                progress.Increment(group.Rows.Count);
            }
        }, cancellationToken);
    }

    private async Task PostClaimAsync(ClaimTransactions group, DateTimeOffset now, SyntheaStaging staging, CancellationToken cancellationToken)
    {
        if (group.Account is not { } account)
        {
            Interlocked.Add(ref _txFailed, group.Rows.Count);
            foreach (var row in group.Rows)
                Report(new SyntheaError(SyntheaSchema.Transactions, row.Row, "CLAIMID", row.ClaimId is null ? "required; the cell is empty" : $"no claim '{row.ClaimId}' in claims.csv"));
            return;
        }
        if (!account.Opened)
        {
            // One line for the claim, not one per row: the reason is on the claims.csv row.
            Interlocked.Add(ref _txFailed, group.Rows.Count);
            Report(new SyntheaError(SyntheaSchema.Transactions, group.Rows.Min(r => r.Row), "CLAIMID",
                $"{group.Rows.Count} row(s) of claim '{account.ClaimId}' not posted: its account was not opened (claims.csv row {account.ClaimRow.ToString(CultureInfo.InvariantCulture)})"));
            return;
        }
        var claim = new AccountPlan(account.ClaimRow, account.ClaimId, account.PatientId, account.Facility, account.ClaimId, new JsonObject(),
            account.PrimaryPayer, account.SecondaryPayer, default);
        var plan = ClaimLedgerPlanner.Plan(claim, group.Rows, now);
        if (plan.Errors.Count > 0)
        {
            // A claim posts whole or not at all: half a claim (a payment without its charge) would be a false balance.
            foreach (var e in plan.Errors) Report(e);
            NotPosted(group, account, $"claim '{account.ClaimId}' not posted: row(s) {string.Join(", ", plan.Errors.Select(e => e.Row).Distinct().Take(5))} of it failed (reported above)");
            staging.RecordLedger(account.ClaimId, plan.Balances, group.Rows.Count);
            await SettleAsync(claim.Path, cancellationToken); // what did post (nothing) is the account's settled state
            return;
        }
        // The claim's entries in one call, in order, all or none, and the import settled in the same commit.
        var answer = await _api.PostBatchAsync($"{claim.Path}/entries/batch", plan.Entries.Select(e => (EntryJson.From(e.Request), e.IdempotencyKey)).ToList(),
            settleImport: true, cancellationToken);
        if (answer.Outcome == ImportOutcome.Failed)
        {
            foreach (var p in answer.Problems)
            {
                var (index, field) = BatchField(p.Field);
                var entry = index is { } i && i < plan.Entries.Count ? plan.Entries[i] : plan.Entries[0];
                Report(new SyntheaError(SyntheaSchema.Transactions, entry.Row, entry.ColumnFor(field), p.Message));
            }
            NotPosted(group, account, $"claim '{account.ClaimId}' not posted: the engine refused one of its entries (reported above)");
            staging.RecordLedger(account.ClaimId, plan.Balances, group.Rows.Count);
            return;
        }
        var replayed = answer.Body.TryGetProperty("replayed", out var r) ? r.GetInt32() : 0;
        Interlocked.Add(ref _entriesPosted, plan.Entries.Count - replayed);
        Interlocked.Add(ref _entriesPresent, replayed);
        // Rows, so the summary adds up: every row of the claim is posted, already present, or has no entry of its own.
        var replays = answer.Body.TryGetProperty("entries", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => e.TryGetProperty("replayed", out var x) && x.GetBoolean()).ToList()
            : plan.Entries.Select(_ => answer.Outcome == ImportOutcome.AlreadyPresent).ToList();
        var rows = plan.Entries.Select((e, i) => (e.Row, Replay: i < replays.Count && replays[i])).GroupBy(x => x.Row).ToList();
        Interlocked.Add(ref _rowsPosted, rows.Count(g => g.Any(x => !x.Replay)));
        Interlocked.Add(ref _rowsPresent, rows.Count(g => g.All(x => x.Replay)));
        Interlocked.Add(ref _withoutEntry, group.Rows.Count - rows.Count);
        staging.RecordLedger(account.ClaimId, plan.Balances, 0);
    }

    private void NotPosted(ClaimTransactions group, StagedAccount account, string reason)
    {
        Interlocked.Add(ref _txFailed, group.Rows.Count);
        Report(new SyntheaError(SyntheaSchema.Transactions, group.Rows.Min(r => r.Row), "CLAIMID", $"{reason}; all {group.Rows.Count} row(s) of the claim are counted as failed"));
    }

    /// <summary>"entries[3].amount" → (3, "amount"); any other field → (null, field).</summary>
    private static (int? Index, string? Field) BatchField(string? field)
    {
        if (field is null || !field.StartsWith("entries[", StringComparison.Ordinal)) return (null, field);
        var close = field.IndexOf(']', StringComparison.Ordinal);
        if (close < 0 || !int.TryParse(field.AsSpan(8, close - 8), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return (null, field);
        return (index, close + 2 <= field.Length ? field[(close + 2)..] : null);
    }

    private async Task SettleAsync(string accountPath, CancellationToken cancellationToken)
    {
        var answer = await _api.PostAsync($"{accountPath}/import/settle", new JsonObject(), null, cancellationToken);
        if (answer.Outcome == ImportOutcome.Failed)
            foreach (var p in answer.Problems) Report(new SyntheaError(SyntheaSchema.Claims, 0, "Id", $"{accountPath}: could not settle the import: {p.Message}"));
    }

    private async Task VerifyAsync(SyntheaStaging staging, PhaseProgress progress, CancellationToken cancellationToken)
    {
        progress.Start("verifying balances", staging.Count("account"));
        await PumpAsync(staging.OpenedAccountsAsync(cancellationToken), async (account, ct) =>
        {
            var path = $"/api/accounts/{Uri.EscapeDataString(account.Facility)}/{Uri.EscapeDataString(account.ClaimId)}";
            var view = await _api.GetAsync(path, ct);
            progress.Increment();
            // A claim with no transactions was never settled by a batch: its history is complete now.
            if (view is { } v && v.TryGetProperty("importHoldUntil", out _)) await SettleAsync(path, ct);
            if (view is { } empty && empty.GetProperty("entries").GetArrayLength() == 0)
            {
                Interlocked.Increment(ref _notChecked); // nothing was posted to it: equal to claims.csv by accident, not checked
                return;
            }
            Interlocked.Increment(ref _verified);
            var balances = view?.GetProperty("balances");
            var held = balances is { } b
                ? new ClaimBalances(b.GetProperty("insuranceBalance").GetDecimal(), b.GetProperty("patientBalance").GetDecimal())
                : new ClaimBalances(0m, 0m);
            if (view is not null && held == account.Outstanding) return;
            Interlocked.Increment(ref _differing);
            var why = account.FailedRows > 0
                ? $"; {account.FailedRows} of its transaction row(s) failed (reported above)"
                : account.FromTransactions != account.Outstanding
                    ? $"; its transactions in claims_transactions.csv come to {account.FromTransactions}, so the export disagrees with itself"
                    : "";
            Report(new SyntheaError(SyntheaSchema.Claims, account.ClaimRow, held.Insurance != account.Outstanding.Insurance ? "OUTSTANDING1+OUTSTANDING2" : "OUTSTANDINGP",
                view is null ? $"account {account.Facility}/{account.ClaimId} not found when read back"
                    : $"account {account.Facility}/{account.ClaimId} holds {held}; claims.csv says {account.Outstanding}{why}"));
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on <see cref="SyntheaImportOptions.Parallel"/> workers fed through a bounded queue.
    /// The first failure (e.g. the engine gone) stops the others and is rethrown.
    /// </summary>
    private async Task PumpAsync<T>(IAsyncEnumerable<T> source, Func<T, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var parallel = Math.Max(_options.Parallel, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? failure = null;
        var queue = Channel.CreateBounded<T>(new BoundedChannelOptions(parallel * 4) { SingleWriter = true });
        var workers = Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            try
            {
                await foreach (var item in queue.Reader.ReadAllAsync(stop.Token)) await work(item, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
                await stop.CancelAsync();
            }
        }, CancellationToken.None)).ToArray();
        try
        {
            await foreach (var item in source.WithCancellation(stop.Token)) await queue.Writer.WriteAsync(item, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
        }
        await Task.WhenAll(workers);
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Report(SyntheaError error)
    {
        Interlocked.Increment(ref _errorCount);
        lock (_errorsLock)
        {
            if (_firstErrors.Count < ShownErrors) _firstErrors.Add(error);
            _errorsFile?.Write(Order(error), $"{error.File},{error.Row.ToString(CultureInfo.InvariantCulture)},{Import.RowOrderedErrorsFile.Field(error.Column)},{Import.RowOrderedErrorsFile.Field(error.Reason)}");
        }
    }

    /// <summary>Where an error belongs in the errors file: its file, in the order the files are read, then its row.</summary>
    private static long Order(SyntheaError error)
    {
        var file = error.File switch
        {
            SyntheaSchema.Payers => 0,
            SyntheaSchema.Patients => 1,
            SyntheaSchema.Encounters => 2,
            SyntheaSchema.Claims => 3,
            SyntheaSchema.Transactions => 4,
            _ => 5,
        };
        return ((long)file << 40) | Math.Clamp(error.Row, 0, (1L << 40) - 1);
    }

    private static string PatientColumn(string? field) => field switch
    {
        "guarantorId" => "Id",
        "firstName" => "FIRST",
        "lastName" => "LAST",
        "dateOfBirth" => "BIRTHDATE",
        "address" or "address.line1" => "ADDRESS",
        "address.city" => "CITY",
        "address.state" => "STATE",
        "address.zip" => "ZIP",
        _ => "",
    };

    private static string ClaimColumn(string? field) => field switch
    {
        "accountNumber" => "Id",
        "guarantorId" => "PATIENTID",
        "primaryPayer" => "PRIMARYPATIENTINSURANCEID",
        "facility" or "admitDate" or "dischargeDate" => "APPOINTMENTID",
        _ => "",
    };

    private async Task RunPhasesAsync(Func<PhaseProgress, Task> run, Stopwatch clock)
    {
        if (_options.Interactive)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context => await run(new SpectreProgress(context)));
        }
        else
        {
            var progress = new PlainProgress(_output, clock, _options.PlainProgressEvery);
            await run(progress);
        }
    }

    public void Dispose()
    {
        _api.Dispose();
        _errorsFile?.Dispose();
    }

    /// <summary>Progress of one phase at a time: a Spectre.Console bar on a terminal, a plain line every few seconds otherwise.</summary>
    private abstract class PhaseProgress
    {
        private long _value;
        protected string Name { get; private set; } = "";
        protected double Max { get; private set; } = 1;
        protected long Value => Interlocked.Read(ref _value);

        public virtual void Start(string name, double max)
        {
            Name = name;
            Max = Math.Max(max, 1);
            Interlocked.Exchange(ref _value, 0);
        }

        public void Set(long value)
        {
            Interlocked.Exchange(ref _value, value);
            Changed();
        }

        public void Increment(long by = 1)
        {
            Interlocked.Add(ref _value, by);
            Changed();
        }

        protected abstract void Changed();
    }

    private sealed class SpectreProgress(ProgressContext context) : PhaseProgress
    {
        private ProgressTask? _task;

        public override void Start(string name, double max)
        {
            if (_task is not null) _task.Value = _task.MaxValue;
            base.Start(name, max);
            _task = context.AddTask(name, maxValue: Max);
        }

        protected override void Changed()
        {
            if (_task is not null) _task.Value = Math.Min(Value, Max);
        }
    }

    private sealed class PlainProgress(TextWriter output, Stopwatch clock, TimeSpan every) : PhaseProgress
    {
        private TimeSpan _last = clock.Elapsed;

        protected override void Changed()
        {
            if (clock.Elapsed - _last < every) return;
            lock (output)
            {
                if (clock.Elapsed - _last < every) return;
                _last = clock.Elapsed;
                output.WriteLine($"{Math.Min(Value / Max, 1),6:P0} {Name} ({clock.Elapsed.TotalSeconds:N0} s)");
            }
        }
    }
}
