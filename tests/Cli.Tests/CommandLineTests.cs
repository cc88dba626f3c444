using System.Text.Json;

namespace Collections.Cli.Tests;

public class CommandLineTests
{
    [Fact]
    public async Task Simulate_compares_the_shipped_policy_with_a_variant_and_prints_the_table()
    {
        var (exit, output, error) = await Cli.Run("simulate", "--accounts", "2000", "--days", "60");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("shipped", output);
        Assert.Contains("texts + early call", output);
        foreach (var row in new[] { "statements", "texts", "call tasks", "final notices", "agency placements", "collected", "days to pay in full, median", "collected per contact" })
            Assert.Contains(row, output);
    }

    [Fact]
    public async Task Simulate_reads_a_policy_file_in_the_api_shape_and_prints_json()
    {
        var (exit, output, error) = await Cli.Run("simulate", "--accounts", "500", "--days", "40", "--policy", Path.Combine("policies", "standard-early-call.json"), "--json");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        var scenarios = json.RootElement.GetProperty("scenarios");
        Assert.Equal(2, scenarios.GetArrayLength());
        Assert.Equal("standard-early-call.json", scenarios[1].GetProperty("name").GetString());
        Assert.Contains("standard v2", scenarios[1].GetProperty("policies").GetString());
    }

    [Theory]
    [InlineData("--accounts", "abc")]
    [InlineData("--days", "0")]
    [InlineData("--bogus", "1")]
    [InlineData("--policy", "does-not-exist.json")]
    public async Task Bad_options_exit_2_with_one_line_naming_the_problem(string option, string value)
    {
        var (exit, output, error) = await Cli.Run(option == "--accounts" ? ["simulate", option, value] : ["simulate", "--accounts", "10", option, value]);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(option == "--bogus" ? "--bogus" : value, error);
    }

    [Theory]
    [InlineData("{ \"name\": \"x\", \"steps\": [ { \"stepId\": \"a\", \"day\": \"zero\" } ] }", "$.steps[0].day")]
    [InlineData("{ \"name\": \"x\", \"stepz\": [] }", "stepz")]
    [InlineData("{ \"name\": \"x\", ", "invalid policy JSON")]
    [InlineData("{ \"name\": \"x\", \"steps\": [ { \"stepId\": \"s\", \"day\": 0, \"action\": \"patientStatement\", \"channel\": \"sms\" } ] }", "steps[0].channel")]
    [InlineData("{ \"name\": \"x\", \"steps\": [ { \"stepId\": \"n\", \"day\": 90, \"action\": \"finalNotice\", \"channel\": \"mail\" }, { \"stepId\": \"a\", \"day\": 100, \"action\": \"agencyPlacement\" } ] }", "steps[1].day")]
    public async Task A_bad_policy_file_exits_2_with_one_line_naming_the_file_and_the_field(string content, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"policy-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, content);
        try
        {
            var (exit, output, error) = await Cli.Run("simulate", "--accounts", "10", "--policy", file);

            Assert.Equal(2, exit);
            Assert.Equal("", output);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains(file, error);
            Assert.Contains(expected, error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public class CommandSuggestionTests
{
    [Fact]
    public async Task A_mistyped_command_is_named_with_the_nearest_one_and_exit_code_2()
    {
        var (exit, output, error) = await Cli.Run("simulat", "--days", "3");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("collections: 'simulat' is not a command; did you mean 'simulate'?", error.TrimEnd(), StringComparison.Ordinal);
    }
}

public class SubcommandSuggestionTests
{
    [Fact]
    public async Task A_mistyped_subcommand_is_named_against_its_own_command()
    {
        var (exit, _, error) = await Cli.Run("remit", "chek", "file.835", "--facility", "MAIN");
        Assert.Equal(2, exit);
        Assert.StartsWith("collections: 'chek' is not a command; did you mean 'check'?", error.TrimEnd(), StringComparison.Ordinal);
    }
}

public sealed class AdminCommandTests
{
    [Fact]
    public async Task Backup_of_a_folder_without_a_database_exits_2_with_one_line_naming_it()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"no-db-{Guid.NewGuid():N}");
        var (exit, _, err) = await Cli.Run("admin", "backup", "--data", folder, "--to", Path.Combine(folder, "b.db"));
        Assert.Equal(2, exit);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains(folder, err);
        Assert.Contains("no database here", err);
    }

    [Fact]
    public async Task Restore_over_an_existing_database_is_refused_and_leaves_it_untouched()
    {
        var folder = Directory.CreateTempSubdirectory("restore-target").FullName;
        var existing = Path.Combine(folder, "collections.db");
        await File.WriteAllTextAsync(existing, "the live database");
        var backup = Path.Combine(folder, "backup.db");
        await File.WriteAllTextAsync(backup, "a backup");

        var (exit, _, err) = await Cli.Run("admin", "restore", backup, "--data", folder);

        Assert.Equal(2, exit);
        Assert.Contains("a database is already there", err);
        Assert.Equal("the live database", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task Restore_into_a_folder_holding_an_old_write_ahead_log_is_refused_so_it_is_never_replayed_onto_the_copy()
    {
        var folder = Directory.CreateTempSubdirectory("restore-wal").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "collections.db-wal"), "an old log");
        var backup = Path.Combine(Path.GetDirectoryName(folder)!, $"{Path.GetFileName(folder)}-backup.db");
        await File.WriteAllTextAsync(backup, "a backup");

        var (exit, _, err) = await Cli.Run("admin", "restore", backup, "--data", folder);

        Assert.Equal(2, exit);
        Assert.Contains("collections.db-wal: a database's log is still there", err);
        Assert.False(File.Exists(Path.Combine(folder, "collections.db")));
    }

    [Fact]
    public async Task Restoring_a_file_that_is_not_a_database_keeps_nothing()
    {
        var folder = Path.Combine(Directory.CreateTempSubdirectory("restore-bad").FullName, "data");
        var backup = Path.Combine(Path.GetDirectoryName(folder)!, "not-a-backup.db");
        await File.WriteAllTextAsync(backup, "this is not SQLite");

        var (exit, _, err) = await Cli.Run("admin", "restore", backup, "--data", folder);

        Assert.Equal(2, exit);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("not an SQLite database", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder)); // the folder made for it is not left behind
    }
}
