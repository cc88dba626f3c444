namespace Collections.Cli.Tests;

/// <summary>`collections import synthea` and `collections synthea-sample` on the command line, without an engine.</summary>
public sealed class SyntheaCommandTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "synthea");
    private readonly string _folder = Directory.CreateTempSubdirectory("synthea-cli-").FullName;

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private string CopyFixture()
    {
        var copy = Path.Combine(_folder, "export");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Fixture, "*.csv")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    // Port 9 (discard) on loopback: nothing answers, which proves the checks come before any call to the engine.
    private static Task<(int Exit, string Out, string Err)> Import(string folder) =>
        Run("import", "synthea", folder, "--url", "http://127.0.0.1:9", "--key", "ck_test_key");

    [Fact]
    public async Task A_missing_file_is_one_line_naming_it_and_exit_code_2_before_the_engine_is_contacted()
    {
        var folder = CopyFixture();
        File.Delete(Path.Combine(folder, "claims.csv"));

        var (exit, output, error) = await Import(folder);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"collections: claims.csv: not found in {folder} (a Synthea CSV export needs patients.csv, payers.csv, encounters.csv, claims.csv, claims_transactions.csv)", error.TrimEnd());
    }

    [Fact]
    public async Task A_missing_required_column_is_one_line_naming_file_and_column_and_exit_code_2()
    {
        var folder = CopyFixture();
        var path = Path.Combine(folder, "claims_transactions.csv");
        var lines = await File.ReadAllLinesAsync(path);
        lines[0] = lines[0].Replace(",TRANSFERTYPE,", ",TRANSFER_TYPE,", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(path, lines);

        var (exit, _, error) = await Import(folder);

        Assert.Equal(2, exit);
        Assert.Equal("collections: claims_transactions.csv: missing required column TRANSFERTYPE (see docs/import.md, \"Synthea\")", error.TrimEnd());
    }

    [Fact]
    public async Task A_folder_that_does_not_exist_or_a_bad_facility_is_exit_code_2()
    {
        var missing = await Import(Path.Combine(_folder, "nope"));
        var facility = await Run("import", "synthea", Fixture, "--facility", "St. Mary's", "--key", "k");

        Assert.Equal((2, 2), (missing.Exit, facility.Exit));
        Assert.Contains("no such folder", missing.Err, StringComparison.Ordinal);
        Assert.Contains("--facility St. Mary's", facility.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_engine_that_cannot_be_reached_is_exit_code_2_with_the_address()
    {
        var (exit, _, error) = await Import(CopyFixture());

        Assert.Equal(2, exit);
        Assert.StartsWith("collections: --url http://127.0.0.1:9/", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Synthea_sample_writes_the_five_files_and_says_what_it_wrote()
    {
        var output = Path.Combine(_folder, "sample");

        var (exit, stdout, error) = await Run("synthea-sample", "--patients", "25", "--out", output, "--seed", "3");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.StartsWith("synthea-sample: 25 patients", stdout, StringComparison.Ordinal);
        Assert.All(new[] { "patients.csv", "payers.csv", "encounters.csv", "claims.csv", "claims_transactions.csv" }, f => Assert.True(File.Exists(Path.Combine(output, f)), f));
        Assert.Equal(26, File.ReadAllLines(Path.Combine(output, "patients.csv")).Length);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
