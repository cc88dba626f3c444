using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Collections.Cli;

using Collections.Gateway.Tests;

namespace Collections.Import.Tests;

[Collection(EngineCollection.Name)]
public sealed class ImportTests(EngineFixture engine)
{
    private readonly string _folder = Directory.CreateTempSubdirectory("import-").FullName;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    private async Task<(int Code, string Output, string Error, List<string[]> Errors)> ImportAsync(string kind, string file, params string[] more)
    {
        var errorsFile = Path.Combine(_folder, $"errors-{Guid.NewGuid():N}.csv");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(
            ["import", kind, "--file", file, "--url", engine.BaseAddress.ToString(), "--key", engine.AdminKey, "--errors", errorsFile, "--parallel", "4", .. more],
            output, error);
        if (File.Exists(errorsFile) && !OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(errorsFile)); // rejected rows hold patients' data
        var rows = File.Exists(errorsFile)
            ? File.ReadAllLines(errorsFile).Skip(1).Select(l => l.Split(',', 3)).ToList()
            : [];
        // The file is in the file's row order, though accounts post in parallel and their answers come in any order.
        Assert.Equal(rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).Order(), rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)));
        return (code, output.ToString(), error.ToString(), rows);
    }

    private async Task SeedGuarantorAndAccountsAsync(int accounts)
    {
        var guarantors = Write("g.csv",
            "guarantor_id,first_name,last_name,date_of_birth,address_line1,city,state,zip,mobile_phone,email,preferred_channel",
            $"G{_run},Ada,Lovelace,1980-02-03,1 Main St,Springfield,IL,62701,2175550100,ada@example.com,email");
        Assert.Equal(0, (await ImportAsync("guarantors", guarantors)).Code);
        var lines = new List<string> { "facility,account_number,guarantor_id,primary_payer,admit_date,discharge_date" };
        for (var i = 0; i < accounts; i++) lines.Add($"F{_run},A{i},G{_run},,2026-09-01,2026-09-03");
        Assert.Equal(0, (await ImportAsync("accounts", Write("a.csv", [.. lines]))).Code);
    }

    [Fact]
    public async Task Rows_of_one_account_post_in_file_order_while_accounts_go_in_parallel()
    {
        var guarantors = Write("og.csv", "guarantor_id,first_name,last_name,date_of_birth,address_line1,city,state,zip",
            $"O{_run},Ada,Lovelace,1980-02-03,1 Main St,Springfield,IL,62701");
        Assert.Equal(0, (await ImportAsync("guarantors", guarantors)).Code);
        var accounts = new List<string> { "facility,account_number,guarantor_id,primary_payer" };
        for (var i = 0; i < 24; i++) accounts.Add($"O{_run},A{i},O{_run},Acme Health");
        Assert.Equal(0, (await ImportAsync("accounts", Write("oa.csv", [.. accounts]))).Code);

        // Each account's charge, then the payer's transfer of the patient's share, then the patient's payment: out of
        // order, the transfer would find no insurance balance to move. An account's rows sit together, so workers would race on them.
        var lines = new List<string> { "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method,direction" };
        for (var i = 0; i < 24; i++)
            foreach (var (kind, rest) in new[] { ("charge", "100.00,2026-10-01,2026-09-02,99213,Visit,,"), ("transfer", "30.00,2026-10-05,,,,,insuranceToPatient"), ("patientPayment", "30.00,2026-10-06,,,,card,") })
                lines.Add($"O{_run},A{i},{kind}-{i},{kind},{rest}");
        var result = await ImportAsync("transactions", Write("ot.csv", [.. lines]));

        Assert.True(result.Code == 0, result.Output + result.Error);
        Assert.Contains("72 rows read, 72 loaded, 0 already present, 0 failed", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_with_a_bad_row_posts_none_of_its_rows_the_others_post_whole_and_the_corrected_file_posts_the_rest_once()
    {
        await SeedGuarantorAndAccountsAsync(3);
        var lines = new List<string> { "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method" };
        for (var i = 0; i < 12; i++)
            lines.Add(i < 6
                ? $"F{_run},A{i % 3},T{i},charge,100.00,2026-10-01,2026-09-02,99213,Visit,"
                : $"F{_run},A{i % 3},T{i},patientPayment,10.00,2026-10-02,,,,card");
        lines.Insert(4, $"F{_run},A0,BAD1,charge,12.5x,2026-10-01,,,,");        // row 5: not a decimal (refused here)
        lines.Insert(8, $"F{_run},A0,BAD2,charge,10.00,2026-13-01,,,,");        // row 9: not a date (refused here)
        lines.Add($"F{_run},A1,BAD3,patientPayment,-5.00,2026-10-01,,,,card");    // row 16: refused by the engine
        var file = Write("t.csv", [.. lines]);

        var first = await ImportAsync("transactions", file);

        // A0 and A1 post nothing (a payment without its refused charge would leave a credit the account does not have);
        // A2's four rows post together.
        Assert.Equal(1, first.Code);
        Assert.True(first.Output.Contains("15 rows read, 4 loaded, 0 already present, 11 failed", StringComparison.Ordinal), first.Output + first.Error);
        var reasons = first.Errors.ToDictionary(e => e[0], e => (Column: e[1], Reason: e[2]));
        Assert.Equal("amount", reasons["5"].Column);
        Assert.Contains("'12.5x' is not a decimal amount", reasons["5"].Reason, StringComparison.Ordinal);
        Assert.Equal("effective_date", reasons["9"].Column);
        Assert.Equal("amount", reasons["16"].Column);
        Assert.Contains("not posted: row 5 of the same account was refused", reasons["2"].Reason, StringComparison.Ordinal); // A0's charge
        Assert.Contains("not posted: row 16 of the same account was refused", reasons["3"].Reason, StringComparison.Ordinal); // A1's charge
        Assert.DoesNotContain(reasons.Keys, row => lines[int.Parse(row, CultureInfo.InvariantCulture) - 1].Contains(",A2,", StringComparison.Ordinal));
        Assert.True(first.Output.Contains("2 account(s) had a row refused and were not settled: none of their rows in this file was posted", StringComparison.Ordinal), first.Output);
        Assert.Equal(["0.00", "0.00", "180.00"], await BalancesAsync("A0", "A1", "A2"));

        // Corrected, the file posts the rest once: A2's rows are already there.
        var corrected = Write("t2.csv", [.. lines.Where(l => !l.Contains(",BAD", StringComparison.Ordinal))]);
        var second = await ImportAsync("transactions", corrected);
        Assert.True(second.Code == 0, second.Output + second.Error);
        Assert.Contains("12 rows read, 8 loaded, 4 already present, 0 failed", second.Output, StringComparison.Ordinal);
        Assert.Equal(["180.00", "180.00", "180.00"], await BalancesAsync("A0", "A1", "A2"));
        var third = await ImportAsync("transactions", corrected);
        Assert.Contains("12 rows read, 0 loaded, 12 already present, 0 failed", third.Output, StringComparison.Ordinal);
        Assert.Equal(["180.00", "180.00", "180.00"], await BalancesAsync("A0", "A1", "A2"));
    }

    [Fact]
    public async Task A_repeated_transaction_is_already_present_and_a_repeated_id_with_other_values_refuses_its_account()
    {
        await SeedGuarantorAndAccountsAsync(2);
        var header = "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method";
        var charge = $"F{_run},A0,D1,charge,100.00,2026-10-01,2026-09-02,99213,Visit,";
        var file = Write("d.csv", header, charge, $"F{_run},A0,D2,patientPayment,10.00,2026-10-02,,,,card", charge,
            $"F{_run},A1,E1,charge,100.00,2026-10-01,2026-09-02,99213,Visit,", $"F{_run},A1,E1,charge,120.00,2026-10-01,2026-09-02,99213,Visit,");

        var result = await ImportAsync("transactions", file);

        Assert.Equal(1, result.Code);
        Assert.Contains("5 rows read, 2 loaded, 1 already present, 2 failed", result.Output, StringComparison.Ordinal);
        var refused = result.Errors.Single(e => e[0] == "6");
        Assert.Equal("transaction_id", refused[1]);
        Assert.Contains("repeats the transaction id of row 5 with other values", refused[2], StringComparison.Ordinal);
        Assert.Contains("not posted: row 6", result.Errors.Single(e => e[0] == "5")[2], StringComparison.Ordinal);
        Assert.Equal(["90.00", "0.00"], await BalancesAsync("A0", "A1"));
    }

    [Fact]
    public async Task A_file_listing_accounts_apart_beyond_the_waiting_bound_posts_each_account_where_its_rows_stand_together_and_says_so()
    {
        await SeedGuarantorAndAccountsAsync(2);
        var file = Write("w.csv",
            "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method",
            $"F{_run},A0,W1,charge,100.00,2026-10-01,2026-09-02,99213,Visit,",
            $"F{_run},A1,W2,charge,100.00,2026-10-01,2026-09-02,99213,Visit,",
            $"F{_run},A0,W3,patientPayment,10.00,2026-10-02,,,,card",
            $"F{_run},A1,W4,patientPayment,10.00,2026-10-02,,,,card",
            $"F{_run},A1,W5,patientPayment,-5.00,2026-10-03,,,,card");            // row 6: refused by the engine

        var result = await ImportAsync("transactions", file, "--max-waiting-rows", "2");

        Assert.True(result.Output.Contains("this file lists accounts' rows apart from each other (up to 5 rows would wait", StringComparison.Ordinal), result.Output);
        // A1's rows 3 and 5 stood apart and posted; rows 5 and 6 stood together: 6 refused, 5 with it.
        Assert.Contains("5 rows read, 3 loaded, 0 already present, 2 failed", result.Output, StringComparison.Ordinal);
        Assert.Contains("1 account(s) had a row refused and were not settled: 1 of them had rows posted before the refused one", result.Output, StringComparison.Ordinal);
        Assert.Equal(["90.00", "100.00"], await BalancesAsync("A0", "A1"));
    }

    [Fact]
    public async Task A_value_on_two_lines_in_quotes_is_read_as_one_line()
    {
        await SeedGuarantorAndAccountsAsync(1);
        var file = Write("nl.csv",
            "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method",
            $"F{_run},A0,NL1,charge,100.00,2026-10-01,2026-09-02,99213,\"Office visit,\r\n  follow-up\",");

        var result = await ImportAsync("transactions", file);

        Assert.True(result.Code == 0, result.Output + result.Error + string.Join(';', result.Errors.Select(e => string.Join('|', e))));
        using var client = engine.Admin();
        var entry = (await client.GetFromJsonAsync<JsonElement>($"/api/accounts/F{_run}/A0")).GetProperty("entries").EnumerateArray().Last();
        Assert.Equal("Office visit, follow-up", entry.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Lines_that_break_csv_quoting_or_field_count_are_reported_and_skipped_never_read_by_position()
    {
        await SeedGuarantorAndAccountsAsync(2);
        var file = Write("q.csv",
            "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method",
            $"F{_run},A0,Q1,charge,100.00,2026-10-01,2026-09-02,99213,Visit,",
            $"F{_run},A0,Q2,charge,50.00,2026-10-01,2026-09-02,99213,Visit \"x\",",        // line 3: a stray quote
            $"F{_run},A0,Q3,charge,25.00,2026-10-01",                                        // line 4: six fields of ten
            $"F{_run},A1,Q4,charge,100.00,2026-10-01,2026-09-02,99213,Visit,",
            $"F{_run},A1,Q5,charge,10.00,2026-10-01,2026-09-02,99213,\"Office visit",      // line 6: a quote never closed ...
            $"F{_run},A1,Q6,patientPayment,40.00,2026-10-05,,,,card");                       // ... swallows this line

        var result = await ImportAsync("transactions", file);

        Assert.Equal(1, result.Code);
        Assert.Contains("2 loaded", result.Output, StringComparison.Ordinal);
        Assert.Equal(["3", "4", "6"], result.Errors.Select(e => e[0]));
        Assert.Contains("quote", result.Errors[0][2], StringComparison.Ordinal);
        Assert.Contains("number of fields", result.Errors[1][2], StringComparison.Ordinal);
        Assert.Contains("never closed", result.Errors[2][2], StringComparison.Ordinal);
        Assert.Contains("no account was settled", result.Output, StringComparison.Ordinal); // the swallowed lines may have been any account's
        var (a0, a1) = (await BalancesAsync()) is [var x, var y] ? (x, y) : default;
        Assert.Equal(("100.00", "100.00"), (a0, a1));
    }

    [Fact]
    public async Task An_account_with_a_row_refused_before_it_was_sent_is_not_settled_and_the_others_are()
    {
        await SeedGuarantorAndAccountsAsync(2);
        var file = Write("s.csv",
            "facility,account_number,transaction_id,kind,amount,effective_date,service_date,code,description,method",
            $"F{_run},A0,S1,charge,100.00,2026-10-01,2026-09-02,99213,Visit,",
            $"F{_run},A0,S2,patientPayment,abc,2026-10-05,,,,card",                 // refused here: its account's history lacks it
            $"F{_run},A1,S3,charge,100.00,2026-10-01,2026-09-02,99213,Visit,");

        var result = await ImportAsync("transactions", file);

        Assert.Equal(1, result.Code);
        using var client = engine.Admin();
        var a0 = await client.GetFromJsonAsync<JsonElement>($"/api/accounts/F{_run}/A0");
        var a1 = await client.GetFromJsonAsync<JsonElement>($"/api/accounts/F{_run}/A1");
        Assert.True(a0.TryGetProperty("importHoldUntil", out _), "A0 is still unsettled");
        Assert.Empty(a0.GetProperty("entries").EnumerateArray()); // its good row waits with its bad one
        Assert.False(a1.TryGetProperty("importHoldUntil", out _), "A1 is settled");
        Assert.Contains("1 account(s) had a row refused and were not settled: none of their rows in this file was posted", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_found_here_and_errors_the_engine_answers_are_reported_in_the_files_row_order()
    {
        // Even rows name a guarantor the engine does not know (its answer comes back later, from a parallel request);
        // odd rows have a date no one could read (refused here at once, before the rows above them are answered).
        var lines = new List<string> { "facility,account_number,guarantor_id,primary_payer,admit_date,discharge_date" };
        for (var i = 0; i < 30; i++)
            lines.Add(i % 2 == 0 ? $"F{_run},E{i},NOBODY{_run},,2026-09-01,2026-09-03" : $"F{_run},E{i},NOBODY{_run},,2026-13-45,2026-09-03");

        var result = await ImportAsync("accounts", Write("e.csv", [.. lines]));

        Assert.Equal(1, result.Code);
        Assert.Equal(Enumerable.Range(2, 30).Select(r => r.ToString(CultureInfo.InvariantCulture)), result.Errors.Select(r => r[0])); // one error each, in row order
        var shown = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("row ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(2, Collections.Cli.Import.Importer.ShownErrors).Select(r => $"row {r}"), shown.Select(l => l[..l.IndexOfAny([',', ':'])]));
    }

    private async Task<string[]> BalancesAsync(params string[] accounts)
    {
        using var client = engine.Admin();
        var result = new List<string>();
        foreach (var account in accounts.Length == 0 ? ["A0", "A1"] : accounts)
        {
            var view = await client.GetFromJsonAsync<JsonElement>($"/api/accounts/F{_run}/{account}");
            result.Add(view.GetProperty("balances").GetProperty("balance").GetRawText());
        }
        return [.. result];
    }

    [Fact]
    public async Task Guarantors_and_accounts_import_and_reimport_as_already_present()
    {
        var guarantors = Write("g.csv",
            "guarantor_id,first_name,last_name,date_of_birth,address_line1,city,state,zip,mobile_phone,home_phone",
            $"H{_run},Ada,Lovelace,1980-02-03,1 Main St,Springfield,IL,62701,2175550100,",
            $"I{_run},Alan,Turing,1912-06-23,2 Oak Ave,Springfield,IL,62702,,2175550101",
            $"J{_run},Bad,Date,1912-02-30,3 Elm St,Springfield,IL,62703,,",
            $"K{_run},Bad,Zip,1950-01-01,4 Pine St,Springfield,IL,ABCDE,,");
        var first = await ImportAsync("guarantors", guarantors);
        Assert.Equal(1, first.Code);
        Assert.True(first.Output.Contains("4 rows read, 2 loaded, 0 already present, 2 failed", StringComparison.Ordinal), first.Output + first.Error);
        Assert.Equal([("4", "date_of_birth"), ("5", "zip")], first.Errors.Select(e => (e[0], e[1])));
        var again = await ImportAsync("guarantors", guarantors);
        Assert.Contains("4 rows read, 0 loaded, 2 already present, 2 failed", again.Output, StringComparison.Ordinal);

        var accounts = Write("a.csv",
            "facility,account_number,guarantor_id,patient_first_name,patient_last_name,patient_date_of_birth",
            $"F{_run},X1,H{_run},Kid,Lovelace,2015-05-05",
            $"F{_run},X2,I{_run},,,");
        Assert.Equal(0, (await ImportAsync("accounts", accounts)).Code);
        var rerun = await ImportAsync("accounts", accounts);
        Assert.Equal(0, rerun.Code);
        Assert.Contains("2 rows read, 0 loaded, 2 already present, 0 failed", rerun.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_later_export_that_carries_the_discharge_date_records_it_on_the_account_already_open()
    {
        var guarantors = Write("g.csv", "guarantor_id,first_name,last_name,date_of_birth,address_line1,city,state,zip,mobile_phone,home_phone",
            $"D{_run},Grace,Hopper,1906-12-09,5 Navy Rd,Arlington,VA,22201,,");
        Assert.Equal(0, (await ImportAsync("guarantors", guarantors)).Code);
        const string header = "facility,account_number,guarantor_id,admit_date,discharge_date";
        Assert.Equal(0, (await ImportAsync("accounts", Write("stay.csv", header, $"F{_run},S1,D{_run},2026-09-20,"))).Code); // during the stay

        var discharged = await ImportAsync("accounts", Write("final.csv", header, $"F{_run},S1,D{_run},2026-09-20,2026-09-27"));
        Assert.Equal(0, discharged.Code);
        Assert.Contains("1 rows read, 0 loaded, 1 already present, 0 failed", discharged.Output, StringComparison.Ordinal);
        using var client = engine.Admin();
        Assert.Equal("2026-09-27", (await client.GetFromJsonAsync<JsonElement>($"/api/accounts/F{_run}/S1")).GetProperty("dischargeDate").GetString());

        var wrong = await ImportAsync("accounts", Write("wrong.csv", header, $"F{_run},S1,D{_run},2026-09-20,2026-09-01"));
        Assert.Equal(1, wrong.Code);
        Assert.Equal([("2", "discharge_date")], wrong.Errors.Select(e => (e[0], e[1])));
    }

    [Fact]
    public async Task A_missing_required_column_is_one_line_and_exit_code_2_before_anything_is_posted()
    {
        var file = Write("t.csv", "facility,account_number,transaction_id,kind,effective_date", $"F{_run},A0,T1,charge,2026-10-01");
        var result = await ImportAsync("transactions", file);
        Assert.Equal(2, result.Code);
        Assert.Equal("collections: --file " + file + ": missing required column 'amount' (see docs/import.md for the transactions header)", result.Error.TrimEnd());
        Assert.Empty(result.Output);
    }
}
