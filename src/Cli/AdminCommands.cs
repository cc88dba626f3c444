using System.CommandLine;
using Collections.Persistence;

namespace Collections.Cli;

/// <summary>
/// <c>collections admin backup|restore</c>: the embedded (SQLite) database, copied with SQLite's online backup API while
/// the engine runs, and restored into a new data folder. PostgreSQL is backed up with its own tools (docs/operations.md).
/// </summary>
public static class AdminCommands
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("admin", "Operators' tools for the embedded database: backup and restore.");
        command.Subcommands.Add(BackupCommand(output));
        command.Subcommands.Add(RestoreCommand(output));
        return command;
    }

    private static Command BackupCommand(TextWriter output)
    {
        var data = new Option<string>("--data") { Description = "The engine's data folder (holding collections.db).", DefaultValueFactory = _ => "data" };
        var to = new Option<string>("--to") { Description = "The backup file to write (never overwritten; owner-only). Default: backups/collections-<UTC time>.db", };
        var command = new Command("backup", "Copy the embedded database into one file, safely while the engine runs (SQLite's online backup API), and check the copy.") { data, to };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(data)!;
            var database = File.Exists(folder) ? folder : Path.Combine(folder, SqliteBackup.DatabaseFileName);
            var target = parse.GetValue(to) ?? Path.Combine("backups", $"collections-{DateTime.UtcNow:yyyyMMdd-HHmmss}.db");
            var summary = Run(() => SqliteBackup.Backup(database, target));
            output.WriteLine($"backup: {Describe(summary)}");
            return 0;
        });
        return command;
    }

    private static Command RestoreCommand(TextWriter output)
    {
        var from = new Argument<string>("backup") { Description = "A file written by `collections admin backup`." };
        var data = new Option<string>("--data") { Description = "A new data folder to restore into (it must not hold a database yet).", Required = true };
        var command = new Command("restore", "Restore a backup as the database of a new data folder; start the engine with --data on that folder.") { from, data };
        command.SetAction(parse =>
        {
            var summary = Run(() => SqliteBackup.Restore(parse.GetValue(from)!, parse.GetValue(data)!));
            output.WriteLine($"restore: {Describe(summary)}. To replace the live engine with it, stop that engine, then: dotnet run --project src/Silo -- --data {parse.GetValue(data)} "
                             + "(API keys are in the database: the keys issued before the backup still work). Never start it beside the live engine: both would contact and charge the same patients.");
            return 0;
        });
        return command;
    }

    private static BackupSummary Run(Func<BackupSummary> action)
    {
        try
        {
            return action();
        }
        catch (BackupException e)
        {
            throw new CliInputException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw new CliInputException(e.Message.ReplaceLineEndings(" "));
        }
    }

    private static string Describe(BackupSummary s) =>
        $"{s.Accounts:N0} accounts, {s.LedgerEntries:N0} ledger entries, {s.AuditEvents:N0} audit events, {s.Bytes / 1048576.0:0.0} MiB in {s.File} ({s.Elapsed.TotalSeconds:0.0} s)";
}
