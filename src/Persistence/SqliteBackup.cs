using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Collections.Persistence;

/// <summary>What a backup or a restore holds, read back from the copy itself.</summary>
public sealed record BackupSummary(string File, long Bytes, long Accounts, long LedgerEntries, long AuditEvents, TimeSpan Elapsed);

/// <summary>A backup or restore that cannot be made as asked; the message says what and where, in one line.</summary>
public sealed class BackupException(string message) : Exception(message);

/// <summary>
/// Backups of the embedded database through SQLite's online backup API: safe while the engine runs (the copy is one
/// consistent snapshot, taken under a read transaction; in WAL mode the engine's writers are not blocked), checked
/// with <c>PRAGMA quick_check</c>, written owner-only under a temporary name and renamed into place only when whole.
/// A restore goes into a new data folder, never over a database that is there.
/// </summary>
public static class SqliteBackup
{
    public const string DatabaseFileName = DatabaseOptions.SqliteFileName;

    public static BackupSummary Backup(string databaseFile, string destination)
    {
        var started = Stopwatch.GetTimestamp();
        var source = Path.GetFullPath(databaseFile);
        var target = Path.GetFullPath(destination);
        if (!File.Exists(source)) throw new BackupException($"{source}: no database here (give the engine's data folder, or its {DatabaseFileName})");
        if (File.Exists(target)) throw new BackupException($"{target}: already exists; a backup never overwrites a file, choose a new name");
        return WriteWhole(target, started, partial =>
        {
            using var from = Open(source);
            using var to = Open(partial);
            from.BackupDatabase(to);
            // One self-contained file: no WAL beside it.
            using var oneFile = to.Command("PRAGMA journal_mode = DELETE;");
            oneFile.ExecuteNonQuery();
        });
    }

    /// <summary>Restores a backup as the database of <paramref name="dataFolder"/>, which must not hold one yet.</summary>
    public static BackupSummary Restore(string backupFile, string dataFolder)
    {
        var started = Stopwatch.GetTimestamp();
        var source = Path.GetFullPath(backupFile);
        if (!File.Exists(source)) throw new BackupException($"{source}: no such backup file");
        var folder = Path.GetFullPath(dataFolder);
        var target = Path.Combine(folder, DatabaseFileName);
        if (File.Exists(target))
            throw new BackupException($"{target}: a database is already there; restore into a new folder (start the engine with --data on it), never over a live one");
        // A write-ahead log or journal left beside the file would be replayed onto the restored database at its first open.
        if (OwnerOnlyFiles.SqliteCompanionSuffixes.Select(suffix => target + suffix).FirstOrDefault(File.Exists) is { } leftover)
            throw new BackupException($"{leftover}: a database's log is still there; restore into a new, empty folder");
        var folderWasThere = Directory.Exists(folder);
        try
        {
            return WriteWhole(target, started, partial =>
            {
                using var input = File.OpenRead(source);
                using var output = new FileStream(partial, FileMode.Truncate, FileAccess.Write);
                input.CopyTo(output);
            });
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 26 } or BackupException)
        {
            // Nothing restored: a folder made for it is not left behind, empty, to be mistaken for a data folder.
            if (!folderWasThere && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            if (e is Microsoft.Data.Sqlite.SqliteException) throw new BackupException($"{source}: not an SQLite database (or not one this engine can read); nothing was restored");
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="target"/> only whole: <paramref name="write"/> fills an owner-only <c>.partial</c> file
    /// beside it, which is checked, flushed to disk and renamed into place; on any failure nothing is left.
    /// </summary>
    private static BackupSummary WriteWhole(string target, long started, Action<string> write)
    {
        OwnerOnlyFiles.EnsureFolder(Path.GetDirectoryName(target)!);
        var partial = target + ".partial";
        File.Delete(partial);
        OwnerOnlyFiles.EnsureDatabaseFile(partial);
        try
        {
            write(partial);
            var summary = Check(partial, target, started);
            FlushToDisk(partial);
            File.Move(partial, target);
            return summary;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    private static BackupSummary Check(string file, string reportedAs, long started)
    {
        using var connection = Open(file);
        var check = Scalar<string>(connection, "PRAGMA quick_check;");
        if (check != "ok") throw new BackupException($"{reportedAs}: the copy fails SQLite's integrity check ({check}); nothing was kept");
        if (Scalar<long>(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'account_stream';") == 0)
            throw new BackupException($"{reportedAs}: not a Collections database (no account_stream table); nothing was kept");
        var summary = new BackupSummary(reportedAs, new FileInfo(file).Length,
            Scalar<long>(connection, "SELECT count(*) FROM account_stream;"),
            Scalar<long>(connection, "SELECT count(*) FROM account_ledger;"),
            Scalar<long>(connection, "SELECT count(*) FROM collections_audit_event;"),
            Stopwatch.GetElapsedTime(started));
        return summary;
    }

    /// <summary>A connection of its own (no pool, so closing it lets go of the file), waiting out the engine's writers.</summary>
    private static SqliteConnection Open(string file)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 30 }.ToString());
        connection.Open();
        using (var wait = connection.Command($"PRAGMA busy_timeout = {DatabaseOptions.SqliteBusyTimeoutMilliseconds};")) wait.ExecuteNonQuery();
        return connection;
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.Command(sql);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void FlushToDisk(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
    }
}
