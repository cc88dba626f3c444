namespace Collections.Persistence;

/// <summary>
/// Files that hold patients' data (the SQLite database with its WAL and shared-memory files, the logs' folder) are
/// readable and writable by the engine's own user only. SQLite creates the WAL and shared-memory files with the
/// database file's mode, so setting the database file is enough for them once it exists.
/// </summary>
public static class OwnerOnlyFiles
{
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Folder700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the folder owner-only if it is missing (an existing folder is the operator's choice and kept).</summary>
    public static void EnsureFolder(string folder)
    {
        if (Directory.Exists(folder)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else Directory.CreateDirectory(folder, Folder700);
    }

    /// <summary>
    /// Creates (or empties) a file that will hold patients' data, readable and writable by its owner only: a file that
    /// existed keeps no wider mode than that. The command line's exports, error files and staging databases use it.
    /// </summary>
    public static FileStream Create(string path)
    {
        if (OperatingSystem.IsWindows()) return File.Create(path);
        if (File.Exists(path) && File.GetUnixFileMode(path) != File600) File.SetUnixFileMode(path, File600);
        return new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read, UnixCreateMode = File600 });
    }

    /// <summary>Narrows an existing file to owner-only (a log file the logger has just created with the process's umask).</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return;
        try
        {
            if (File.GetUnixFileMode(path) != File600) File.SetUnixFileMode(path, File600);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Another user's file (left by an earlier run as root): the logger still writes to it, as before.
        }
    }

    /// <summary>What SQLite keeps beside a database file: its write-ahead log, shared memory and rollback journal.</summary>
    public static readonly IReadOnlyList<string> SqliteCompanionSuffixes = ["-wal", "-shm", "-journal"];

    /// <summary>The SQLite database file (created empty if missing) and its WAL and shared-memory files: owner-only.</summary>
    public static void EnsureDatabaseFile(string file)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(file))
            using (new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = File600 })) { }
        foreach (var path in SqliteCompanionSuffixes.Select(suffix => file + suffix).Prepend(file))
            if (File.Exists(path) && File.GetUnixFileMode(path) != File600) File.SetUnixFileMode(path, File600);
    }
}
