using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Collections.Cli.Synthea;

/// <summary>
/// A throwaway SQLite file that sorts a Synthea export on disk, so the import needs the same memory for a thousand
/// rows as for millions, whatever order the files are in: encounters by Id, claims by Id, transactions by claim and
/// CHARGEID; and what happened to each patient and claim (imported or not, the balances its transactions come to).
/// The file is deleted when the import ends. One connection reads (a long query), another writes, under a lock
/// (SQLite in WAL mode lets a reader and a writer work at once). The per-claim bookkeeping writes made while a long read
/// is open go in transactions of <see cref="WritesPerCommit"/>: committed one by one, every write appended its own pages to
/// a write-ahead log the open read stops SQLite from resetting, and each write got slower as the log grew (recording
/// 45,000 claims took 108 s; in transactions, 1.5 s). Pending writes are committed before every read on the reading
/// connection.
/// </summary>
public sealed class SyntheaStaging : IAsyncDisposable
{
    private const int CacheKib = 16 * 1024;
    private const int WritesPerCommit = 10_000;
    private readonly string _path;
    private readonly SqliteConnection _write;
    private readonly SqliteConnection _read;
    private readonly Lock _writeLock = new();
    private bool _inTransaction;
    private int _pendingWrites;

    private SyntheaStaging(string path, SqliteConnection write, SqliteConnection read)
    {
        _path = path;
        _write = write;
        _read = read;
    }

    public string Path => _path;

    public static async Task<SyntheaStaging> CreateAsync(string workFolder, CancellationToken cancellationToken)
    {
        Persistence.OwnerOnlyFiles.EnsureFolder(workFolder); // it holds the export's patients while the import runs
        var path = System.IO.Path.Combine(workFolder, $"synthea-import-{Guid.NewGuid():N}.db");
        Persistence.OwnerOnlyFiles.EnsureDatabaseFile(path); // the export's patients, sorted: owner-only like the engine's own database
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        var write = new SqliteConnection(connectionString);
        await write.OpenAsync(cancellationToken);
        await Execute(write, $"""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -{CacheKib};
            PRAGMA temp_store = FILE;
            CREATE TABLE encounter (id TEXT PRIMARY KEY, start TEXT, stop TEXT, organization TEXT) WITHOUT ROWID;
            CREATE TABLE claim (row INTEGER PRIMARY KEY, id TEXT, patient TEXT, primary_ins TEXT, secondary_ins TEXT, appointment TEXT,
                service_date TEXT, outstanding1 TEXT, outstanding2 TEXT, outstandingp TEXT);
            CREATE TABLE txn (row INTEGER PRIMARY KEY, claim TEXT, charge_order INTEGER, id TEXT, charge_id TEXT, patient TEXT, type TEXT,
                amount TEXT, method TEXT, from_date TEXT, procedure_code TEXT, notes TEXT, transfer_out_id TEXT, transfer_type TEXT,
                payments TEXT, adjustments TEXT, transfers TEXT);
            CREATE TABLE patient (id TEXT PRIMARY KEY, row INTEGER, imported INTEGER) WITHOUT ROWID;
            CREATE TABLE account (claim_id TEXT PRIMARY KEY, claim_row INTEGER, patient TEXT, facility TEXT, primary_payer TEXT,
                secondary_payer TEXT, outstanding_insurance TEXT, outstanding_patient TEXT, opened INTEGER,
                expected_insurance TEXT, expected_patient TEXT, failed_rows INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            """, cancellationToken);
        var read = new SqliteConnection(connectionString);
        await read.OpenAsync(cancellationToken);
        await Execute(read, $"PRAGMA cache_size = -{CacheKib};", cancellationToken);
        return new SyntheaStaging(path, write, read);
    }

    private static async Task Execute(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Copies the rows of one file into its table in large transactions; returns the number of rows.</summary>
    public async Task<long> StageAsync(SyntheaCsv csv, Action<SyntheaCsv>? progress, CancellationToken cancellationToken)
    {
        var (sql, columns) = csv.File switch
        {
            SyntheaSchema.Encounters => ("INSERT OR REPLACE INTO encounter VALUES ($p0, $p1, $p2, $p3)", new[] { "Id", "START", "STOP", "ORGANIZATION" }),
            SyntheaSchema.Claims => ("INSERT INTO claim VALUES ($row, $p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8)",
                ["Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID", "APPOINTMENTID", "SERVICEDATE", "OUTSTANDING1", "OUTSTANDING2", "OUTSTANDINGP"]),
            SyntheaSchema.Transactions => ("INSERT INTO txn VALUES ($row, $p0, $order, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13, $p14)",
                ["CLAIMID", "ID", "CHARGEID", "PATIENTID", "TYPE", "AMOUNT", "METHOD", "FROMDATE", "PROCEDURECODE", "NOTES", "TRANSFEROUTID", "TRANSFERTYPE", "PAYMENTS", "ADJUSTMENTS", "TRANSFERS"]),
            _ => throw new ArgumentException($"{csv.File} is not staged", nameof(csv)),
        };
        long rows = 0;
        lock (_writeLock)
        {
            CommitPending();
            Begin();
        }
        await using var command = _write.CreateCommand();
        command.CommandText = sql;
        var row = command.Parameters.Add("$row", SqliteType.Integer);
        var order = command.Parameters.Add("$order", SqliteType.Integer);
        var cells = columns.Select((_, i) => command.Parameters.Add($"$p{i}", SqliteType.Text)).ToArray();
        command.Prepare();
        while (await csv.ReadAsync(cancellationToken))
        {
            row.Value = csv.Row;
            for (var i = 0; i < columns.Length; i++) cells[i].Value = (object?)csv.Get(columns[i]) ?? DBNull.Value;
            if (csv.File == SyntheaSchema.Transactions)
                order.Value = long.TryParse(csv.Get("CHARGEID"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;
            lock (_writeLock) command.ExecuteNonQuery();
            if (++rows % 50_000 == 0)
            {
                lock (_writeLock) { Commit(); Begin(); }
            }
            if ((rows & 1023) == 0) progress?.Invoke(csv);
        }
        lock (_writeLock) Commit();
        return rows;
    }

    private void Begin()
    {
        using var command = _write.CreateCommand();
        command.CommandText = "BEGIN";
        command.ExecuteNonQuery();
    }

    private void Commit()
    {
        using var command = _write.CreateCommand();
        command.CommandText = "COMMIT";
        command.ExecuteNonQuery();
    }

    /// <summary>Indexes the staged rows for reading them back by claim (after every file is staged).</summary>
    public Task IndexAsync(CancellationToken cancellationToken)
    {
        lock (_writeLock) CommitPending();
        return Execute(_write, """
            CREATE INDEX claim_by_id ON claim (id, row);
            CREATE INDEX txn_by_claim ON txn (claim, charge_order, row);
            """, cancellationToken);
    }

    /// <summary>Opens the bookkeeping transaction if none is open (under the lock).</summary>
    private void BeforeWrite()
    {
        if (_inTransaction) return;
        Begin();
        _inTransaction = true;
    }

    /// <summary>Counts a bookkeeping write; commits once the transaction holds <see cref="WritesPerCommit"/> (under the lock).</summary>
    private void Written()
    {
        if (++_pendingWrites >= WritesPerCommit) CommitPending();
    }

    /// <summary>Commits the pending bookkeeping writes (under the lock), so the reading connection sees them.</summary>
    private void CommitPending()
    {
        if (!_inTransaction) return;
        Commit();
        _inTransaction = false;
        _pendingWrites = 0;
    }

    private void CommitPendingWrites()
    {
        lock (_writeLock) CommitPending();
    }

    public void RecordPatient(string id, long row, bool imported) => Write(
        "INSERT INTO patient VALUES ($id, $row, $imported) ON CONFLICT (id) DO UPDATE SET imported = MAX(imported, excluded.imported)",
        ("$id", id), ("$row", row), ("$imported", imported ? 1 : 0));

    /// <summary>The patients.csv row of a patient and whether it was imported; null when patients.csv has no such Id.</summary>
    public (long Row, bool Imported)? Patient(string id)
    {
        lock (_writeLock)
        {
            using var command = _write.CreateCommand();
            command.CommandText = "SELECT row, imported FROM patient WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1) == 1) : null;
        }
    }

    /// <summary>Claims in file order with their encounters (null when encounters.csv has no APPOINTMENTID).</summary>
    public async IAsyncEnumerable<(SyntheaClaim Claim, SyntheaEncounter? Encounter)> ClaimsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CommitPendingWrites();
        await using var command = _read.CreateCommand();
        command.CommandText = """
            SELECT c.row, c.id, c.patient, c.primary_ins, c.secondary_ins, c.appointment, c.service_date, c.outstanding1, c.outstanding2,
                   c.outstandingp, e.id, e.start, e.stop, e.organization
            FROM claim c LEFT JOIN encounter e ON e.id = c.appointment ORDER BY c.row
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var claim = new SyntheaClaim(reader.GetInt64(0), Text(reader, 1), Text(reader, 2), Text(reader, 3), Text(reader, 4), Text(reader, 5),
                Text(reader, 6), Text(reader, 7), Text(reader, 8), Text(reader, 9));
            var encounter = reader.IsDBNull(10) ? null : new SyntheaEncounter(reader.GetString(10), Text(reader, 11), Text(reader, 12), Text(reader, 13));
            yield return (claim, encounter);
        }
    }

    /// <summary>Records a claim's account before it is opened; false when claims.csv already had a claim with this Id.</summary>
    public bool TryAddAccount(AccountPlan plan)
    {
        lock (_writeLock)
        {
            using var command = _write.CreateCommand();
            command.CommandText = """
                INSERT INTO account (claim_id, claim_row, patient, facility, primary_payer, secondary_payer, outstanding_insurance, outstanding_patient, opened)
                VALUES ($id, $row, $patient, $facility, $primary, $secondary, $oi, $op, 0) ON CONFLICT (claim_id) DO NOTHING
                """;
            command.Parameters.AddWithValue("$id", plan.ClaimId);
            command.Parameters.AddWithValue("$row", plan.Row);
            command.Parameters.AddWithValue("$patient", plan.PatientId);
            command.Parameters.AddWithValue("$facility", plan.Facility);
            command.Parameters.AddWithValue("$primary", (object?)plan.PrimaryPayer ?? DBNull.Value);
            command.Parameters.AddWithValue("$secondary", (object?)plan.SecondaryPayer ?? DBNull.Value);
            command.Parameters.AddWithValue("$oi", SyntheaValues.Format(plan.Outstanding.Insurance));
            command.Parameters.AddWithValue("$op", SyntheaValues.Format(plan.Outstanding.Patient));
            BeforeWrite();
            var added = command.ExecuteNonQuery() == 1;
            Written();
            return added;
        }
    }

    /// <summary>The claims.csv row that first used a claim Id.</summary>
    public long? AccountRow(string claimId)
    {
        lock (_writeLock)
        {
            using var command = _write.CreateCommand();
            command.CommandText = "SELECT claim_row FROM account WHERE claim_id = $id";
            command.Parameters.AddWithValue("$id", claimId);
            return command.ExecuteScalar() is long row ? row : null;
        }
    }

    public void MarkOpened(string claimId) => Write("UPDATE account SET opened = 1 WHERE claim_id = $id", ("$id", claimId));

    public void RecordLedger(string claimId, ClaimBalances expected, int failedRows) => Write(
        "UPDATE account SET expected_insurance = $ei, expected_patient = $ep, failed_rows = $failed WHERE claim_id = $id",
        ("$id", claimId), ("$ei", SyntheaValues.Format(expected.Insurance)), ("$ep", SyntheaValues.Format(expected.Patient)), ("$failed", failedRows));

    /// <summary>
    /// Transactions grouped by claim (CHARGEID order), each with the claim's account as staged, or null when the claim
    /// is not in claims.csv, and whether that account was opened.
    /// </summary>
    public async IAsyncEnumerable<ClaimTransactions> TransactionsByClaimAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CommitPendingWrites();
        await using var command = _read.CreateCommand();
        command.CommandText = """
            SELECT t.row, t.id, t.claim, t.charge_id, t.patient, t.type, t.amount, t.method, t.from_date, t.procedure_code, t.notes,
                   t.transfer_out_id, t.transfer_type, t.payments, t.adjustments, t.transfers,
                   a.claim_row, a.patient, a.facility, a.primary_payer, a.secondary_payer, a.opened
            FROM txn t LEFT JOIN account a ON a.claim_id = t.claim
            ORDER BY t.claim, t.charge_order, t.row
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        ClaimTransactions? group = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new SyntheaTransaction(reader.GetInt64(0), Text(reader, 1), Text(reader, 2), Text(reader, 3), Text(reader, 4), Text(reader, 5),
                Text(reader, 6), Text(reader, 7), Text(reader, 8), Text(reader, 9), Text(reader, 10), Text(reader, 11), Text(reader, 12),
                Text(reader, 13), Text(reader, 14), Text(reader, 15));
            if (group is not null && group.ClaimId == row.ClaimId)
            {
                group.Rows.Add(row);
                continue;
            }
            if (group is not null) yield return group;
            StagedAccount? account = reader.IsDBNull(16) ? null : new StagedAccount(reader.GetInt64(16), row.ClaimId!, reader.GetString(17), reader.GetString(18),
                Text(reader, 19), Text(reader, 20), reader.GetInt64(21) == 1);
            group = new ClaimTransactions(row.ClaimId, account, [row]);
        }
        if (group is not null) yield return group;
    }

    /// <summary>The accounts opened, in claims.csv order, with what claims.csv says and what their transactions came to.</summary>
    public async IAsyncEnumerable<OpenedAccount> OpenedAccountsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CommitPendingWrites();
        await using var command = _read.CreateCommand();
        command.CommandText = """
            SELECT claim_id, claim_row, facility, outstanding_insurance, outstanding_patient, expected_insurance, expected_patient, failed_rows
            FROM account WHERE opened = 1 ORDER BY claim_row
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var expected = reader.IsDBNull(5) ? new ClaimBalances(0m, 0m) : new ClaimBalances(Amount(reader, 5), Amount(reader, 6));
            yield return new OpenedAccount(reader.GetString(0), reader.GetInt64(1), reader.GetString(2),
                new ClaimBalances(Amount(reader, 3), Amount(reader, 4)), expected, reader.GetInt32(7));
        }
    }

    public long Count(string table)
    {
        lock (_writeLock)
        {
            using var command = _write.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {table}";
            return (long)command.ExecuteScalar()!;
        }
    }

    private void Write(string sql, params (string Name, object Value)[] parameters)
    {
        lock (_writeLock)
        {
            using var command = _write.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
            BeforeWrite();
            command.ExecuteNonQuery();
            Written();
        }
    }

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static decimal Amount(SqliteDataReader reader, int i) => decimal.Parse(reader.GetString(i), CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _read.DisposeAsync();
        await _write.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try { File.Delete(_path + suffix); }
            catch (IOException) { }
        }
    }
}

/// <summary>A claim's account as staged: where it is, its payers, whether it was opened.</summary>
public sealed record StagedAccount(long ClaimRow, string ClaimId, string PatientId, string Facility, string? PrimaryPayer, string? SecondaryPayer, bool Opened);

/// <summary>One claim's transaction rows (CHARGEID order) with its account; <see cref="Account"/> is null when claims.csv lacks the claim.</summary>
public sealed record ClaimTransactions(string? ClaimId, StagedAccount? Account, List<SyntheaTransaction> Rows);

/// <summary>An opened account to verify: claims.csv's outstanding amounts and what its imported transactions came to.</summary>
public sealed record OpenedAccount(string ClaimId, long ClaimRow, string Facility, ClaimBalances Outstanding, ClaimBalances FromTransactions, int FailedRows);
