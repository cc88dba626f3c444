using System.Net.Http.Json;
using System.Text.Json;
using Collections.Cli;
using Collections.Gateway.Tests;

namespace Collections.Import.Tests;

/// <summary>`collections import synthea` end to end: the hand-made fixture (tests/fixtures/synthea) into the real engine, in process.</summary>
[Collection(EngineCollection.Name)]
public sealed class SyntheaImportTests(EngineFixture engine) : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "synthea");
    private readonly string _folder = Directory.CreateTempSubdirectory("synthea-import-").FullName;

    /// <summary>The fixture with its ids made unique to this test (every id carries the group 5e1a), so tests do not share patients or claims.</summary>
    private string CopyFixture(out string run, Func<string, string, string>? edit = null)
    {
        run = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray(), 0, 2);
        var copy = Path.Combine(_folder, run);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Fixture, "*.csv"))
        {
            var text = File.ReadAllText(file).Replace("-5e1a-", $"-{run}-", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(copy, Path.GetFileName(file)), edit?.Invoke(Path.GetFileName(file), text) ?? text);
        }
        return copy;
    }

    private async Task<(int Code, string Output, string Error, List<string[]> Errors)> ImportAsync(string folder, params string[] extra)
    {
        var errorsFile = Path.Combine(_folder, $"errors-{Guid.NewGuid():N}.csv");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(
            ["import", "synthea", folder, "--url", engine.BaseAddress.ToString(), "--key", engine.AdminKey, "--errors", errorsFile, "--parallel", "4", "--work-dir", _folder, .. extra],
            output, error);
        if (File.Exists(errorsFile) && !OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(errorsFile)); // rejected rows hold patients' data
        var rows = File.Exists(errorsFile) ? File.ReadAllLines(errorsFile).Skip(1).Select(l => l.Split(',', 4)).ToList() : [];
        // In the order the files are read, each by row, though claims and their rows post in parallel.
        string[] read = ["payers.csv", "patients.csv", "encounters.csv", "claims.csv", "claims_transactions.csv"];
        var order = rows.Select(r => (File: Array.IndexOf(read, r[0]), Row: long.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(order.Order(), order);
        return (code, output.ToString(), error.ToString(), rows);
    }

    private static string Id(string prefix, string run, int n) => $"{prefix}-{run}-4000-8000-{n:D12}";

    private static string Facility(string run, int n) => $"0a000000{run}40008000{n:D12}";

    private async Task<JsonElement> AccountAsync(string facility, string claimId)
    {
        using var client = engine.Admin();
        return await client.GetFromJsonAsync<JsonElement>($"/api/accounts/{facility}/{claimId}");
    }

    private static (decimal Insurance, decimal Patient) Balances(JsonElement account)
    {
        var b = account.GetProperty("balances");
        return (b.GetProperty("insuranceBalance").GetDecimal(), b.GetProperty("patientBalance").GetDecimal());
    }

    [Fact]
    public async Task The_fixture_imports_with_every_balance_equal_to_claims_csv_and_a_second_run_changes_nothing()
    {
        var folder = CopyFixture(out var run);

        var first = await ImportAsync(folder);

        Assert.True(first.Code == 1, first.Output + first.Error); // the two deliberately bad rows
        Assert.Contains("patients: 5 read, 4 loaded, 0 already present, 1 failed; 1 deceased holds placed", first.Output, StringComparison.Ordinal);
        Assert.Contains("claims: 7 read, 7 accounts opened, 0 already present, 0 failed", first.Output, StringComparison.Ordinal);
        Assert.Contains("claims_transactions: 34 rows read: 28 posted, 0 already present, 5 with no entry of their own (a TRANSFEROUT, a zero amount), 1 failed; 30 ledger entries posted, 0 already present", first.Output, StringComparison.Ordinal);
        Assert.Contains("verified: 7 accounts read back, 7 equal to claims.csv's outstanding amounts, 0 differ", first.Output, StringComparison.Ordinal);
        Assert.Equal([("patients.csv", "6", "BIRTHDATE"), ("claims_transactions.csv", "14", "CLAIMID")], first.Errors.Select(e => (e[0], e[1], e[2])));
        Assert.Contains("claims_transactions.csv row 14, column CLAIMID: no claim", first.Error, StringComparison.Ordinal);

        // Read back independently of the importer's own check: claims.csv's OUTSTANDING1 + OUTSTANDING2 and OUTSTANDINGP.
        var expected = new (int Claim, int Organization, decimal Insurance, decimal Patient)[]
        {
            (1, 10, 0m, 0m), (2, 10, 0m, 35m), (3, 11, 0m, 100m), (4, 11, 0m, 0m), (5, 10, 0m, 0m), (6, 10, 100m, 0m), (7, 11, 0m, 50m),
        };
        var ledgers = new List<int>();
        foreach (var (claim, organization, insurance, patient) in expected)
        {
            var account = await AccountAsync(Facility(run, organization), Id("c1000000", run, claim));
            Assert.Equal((insurance, patient), Balances(account));
            ledgers.Add(account.GetProperty("entries").GetArrayLength());
        }
        Assert.Equal(30, ledgers.Sum());
        var c2 = await AccountAsync(Facility(run, 10), Id("c1000000", run, 2));
        Assert.Equal(("Blue Cross Blue Shield", Id("a1000000", run, 1), "2025-06-02"),
            (c2.GetProperty("primaryPayer").GetString(), c2.GetProperty("guarantorId").GetString(), c2.GetProperty("admitDate").GetString()));
        var selfPay = await AccountAsync(Facility(run, 11), Id("c1000000", run, 4));
        Assert.Equal(JsonValueKind.Null, selfPay.TryGetProperty("primaryPayer", out var payer) ? payer.ValueKind : JsonValueKind.Null);

        using (var client = engine.Admin())
        {
            var cora = await client.GetFromJsonAsync<JsonElement>($"/api/guarantors/{Id("a1000000", run, 3)}");
            var hold = cora.GetProperty("holds").EnumerateArray().Single();
            Assert.Equal(("deceased", "Deceased 2025-09-30 (Synthea patients.csv DEATHDATE)"), (hold.GetProperty("reason").GetString(), hold.GetProperty("note").GetString()));
            Assert.Equal("MA", cora.GetProperty("profile").GetProperty("address").GetProperty("state").GetString());
        }

        var second = await ImportAsync(folder);

        Assert.Equal(1, second.Code);
        Assert.Contains("patients: 5 read, 0 loaded, 4 already present, 1 failed; 0 deceased holds placed", second.Output, StringComparison.Ordinal);
        Assert.Contains("claims: 7 read, 0 accounts opened, 7 already present, 0 failed", second.Output, StringComparison.Ordinal);
        Assert.Contains("claims_transactions: 34 rows read: 0 posted, 28 already present, 5 with no entry of their own (a TRANSFEROUT, a zero amount), 1 failed; 0 ledger entries posted, 30 already present", second.Output, StringComparison.Ordinal);
        Assert.Contains("7 equal to claims.csv's outstanding amounts, 0 differ", second.Output, StringComparison.Ordinal);
        foreach (var ((claim, organization, insurance, patient), entries) in expected.Zip(ledgers))
        {
            var account = await AccountAsync(Facility(run, organization), Id("c1000000", run, claim));
            Assert.Equal((insurance, patient), Balances(account));
            Assert.Equal(entries, account.GetProperty("entries").GetArrayLength());
        }
        using (var client = engine.Admin())
        {
            var cora = await client.GetFromJsonAsync<JsonElement>($"/api/guarantors/{Id("a1000000", run, 3)}");
            Assert.Single(cora.GetProperty("holds").EnumerateArray());
        }
    }

    [Fact]
    public async Task An_account_whose_balance_differs_from_claims_csv_is_reported_with_both_amounts_and_exit_code_1()
    {
        // claims.csv says the patient owes 30.00 on claim 2; its transactions leave 35.00.
        var folder = CopyFixture(out var run, (file, text) => file != "claims.csv" ? text : string.Join('\n', text.Split('\n').Select(line =>
            line.StartsWith("c1000000-", StringComparison.Ordinal) && line.Contains("-8000-000000000002,", StringComparison.Ordinal)
                ? line.Replace(",35.00,", ",30.00,", StringComparison.Ordinal)
                : line)));

        var result = await ImportAsync(folder);

        Assert.Equal(1, result.Code);
        Assert.Contains("7 accounts read back, 6 equal to claims.csv's outstanding amounts, 1 differ", result.Output, StringComparison.Ordinal);
        var mismatch = result.Errors.Single(e => e[0] == "claims.csv");
        Assert.Equal(("3", "OUTSTANDINGP"), (mismatch[1], mismatch[2]));
        Assert.Contains($"account {Facility(run, 10)}/{Id("c1000000", run, 2)} holds insurance 0.00, patient 35.00; claims.csv says insurance 0.00, patient 30.00", mismatch[3], StringComparison.Ordinal);
        Assert.Contains("transactions in claims_transactions.csv come to insurance 0.00, patient 35.00, so the export disagrees with itself", mismatch[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_facility_every_account_opens_there()
    {
        var folder = CopyFixture(out var run);
        var facility = "SYN" + run.ToUpperInvariant();

        var result = await ImportAsync(folder, "--facility", facility);

        Assert.Contains("7 equal to claims.csv's outstanding amounts, 0 differ", result.Output, StringComparison.Ordinal);
        Assert.Equal((0m, 50m), Balances(await AccountAsync(facility, Id("c1000000", run, 7))));
    }

    [Fact]
    public async Task A_generated_sample_imports_clean_with_every_balance_verified()
    {
        var folder = Path.Combine(_folder, "sample");
        Collections.Cli.Synthea.SyntheaSampleGenerator.Write(new Collections.Cli.Synthea.SyntheaSampleOptions
        {
            Patients = 12, Folder = folder, Seed = 11,
        });

        var result = await ImportAsync(folder);

        Assert.True(result.Code == 0, result.Output + result.Error);
        Assert.Empty(result.Errors);
        Assert.Matches(@"verified: (\d+) accounts read back, \1 equal to claims\.csv's outstanding amounts, 0 differ", result.Output);
    }

    private async Task<List<JsonElement>> OutboxAsync(string facility, string claimId)
    {
        using var client = engine.Admin();
        return (await client.GetFromJsonAsync<JsonElement>($"/api/outbox?account={Uri.EscapeDataString($"{facility}/{claimId}")}")).EnumerateArray().ToList();
    }

    [Fact]
    public async Task Importing_history_contacts_nobody_about_paid_claims_and_bills_only_what_is_still_owed()
    {
        var folder = CopyFixture(out var run);
        await ImportAsync(folder);

        // Claim 3: the patient still owes 100.00 once its history has posted: the cadence starts, with its statement.
        var owed = (Facility(run, 11), Id("c1000000", run, 3));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await OutboxAsync(owed.Item1, owed.Item2)).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains(await OutboxAsync(owed.Item1, owed.Item2), m => m.GetProperty("action").GetString() == "patientStatement");
        await engine.ProjectionsCaughtUpAsync();

        // Claims 1, 4 and 5 were paid in full in their history: no message, no cadence, nothing armed.
        foreach (var (claim, organization) in new[] { (1, 10), (4, 11), (5, 10) })
        {
            var account = await AccountAsync(Facility(run, organization), Id("c1000000", run, claim));
            Assert.Empty(await OutboxAsync(Facility(run, organization), Id("c1000000", run, claim)));
            Assert.NotEqual("active", account.GetProperty("cadence").GetProperty("status").GetString());
            Assert.False(account.TryGetProperty("importHoldUntil", out _));
            Assert.False(account.GetProperty("cadence").TryGetProperty("nextActionAt", out _));
        }
    }

    [Fact]
    public async Task A_claim_with_a_bad_row_posts_none_of_its_rows_and_says_why()
    {
        var folder = CopyFixture(out var run, (file, text) => file == "claims_transactions.csv"
            ? text.Replace("Encounter for symptom (procedure),,,,25.00,", "Encounter for symptom (procedure),,,,2x.00,", StringComparison.Ordinal)
            : text);

        var result = await ImportAsync(folder);

        Assert.Equal(1, result.Code);
        var account = await AccountAsync(Facility(run, 10), Id("c1000000", run, 2));
        Assert.Equal(0, account.GetProperty("entries").GetArrayLength()); // not its charge without its payment: none of it
        Assert.Contains(result.Errors, e => e[0] == "claims_transactions.csv" && e[3].Contains("not posted", StringComparison.Ordinal));
        Assert.Contains("1 not checked (nothing posted to them)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_export_stops_at_its_line_with_one_message_before_any_claim_posts()
    {
        // A line cut short in claims_transactions.csv (fewer fields than the header): read by position it would shift
        // amounts into other columns.
        var folder = CopyFixture(out var run, (file, text) => file == "claims_transactions.csv"
            ? text.Replace("Encounter for symptom (procedure),,,,25.00,", "Encounter for symptom (procedure)\n", StringComparison.Ordinal)
            : text);

        var result = await ImportAsync(folder);

        Assert.Equal(2, result.Code);
        Assert.Matches(@"^collections: claims_transactions\.csv line \d+: the line has another number of fields than the header", result.Error.Trim());
        Assert.Single(result.Error.Trim().Split('\n'));
        using var client = engine.Admin();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync($"/api/accounts/{Facility(run, 10)}/{Id("c1000000", run, 2)}")).StatusCode);
    }

    [Fact]
    public async Task A_patient_without_a_zip_is_registered_with_the_address_flagged_and_their_claims_imported()
    {
        var folder = CopyFixture(out var run, (file, text) => file == "patients.csv"
            ? text.Replace(",25025,02118,", ",25025,,", StringComparison.Ordinal).Replace(",25025,01608,", ",25025,1608,", StringComparison.Ordinal)
            : text);

        var result = await ImportAsync(folder);

        Assert.Contains("patients: 5 read, 4 loaded, 0 already present, 1 failed; 1 deceased holds placed; 1 address without a ZIP flagged for review", result.Output, StringComparison.Ordinal);
        Assert.Contains("claims: 7 read, 7 accounts opened", result.Output, StringComparison.Ordinal);
        using var client = engine.Admin();
        var noZip = await client.GetFromJsonAsync<JsonElement>($"/api/guarantors/{Id("a1000000", run, 1)}");
        Assert.Equal("", noZip.GetProperty("profile").GetProperty("address").GetProperty("zip").GetString());
        var padded = await client.GetFromJsonAsync<JsonElement>($"/api/guarantors/{Id("a1000000", run, 2)}");
        Assert.Equal("01608", padded.GetProperty("profile").GetProperty("address").GetProperty("zip").GetString());
        // Run again: the address was flagged when the person was registered, not again.
        Assert.Contains("0 addresses without a ZIP flagged for review", (await ImportAsync(folder)).Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
