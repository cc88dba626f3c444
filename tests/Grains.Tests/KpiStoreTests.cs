using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Grains.Tests;

/// <summary>
/// The KPI store on PostgreSQL writes only what changed: an account's rows end as the last rows given for it (charges
/// and days gone are deleted, changed ones updated), and a row given again unchanged is not written (its xmin stays).
/// </summary>
public sealed class KpiStoreTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day1 = new(2026, 10, 1), Day2 = new(2026, 10, 2), Day3 = new(2026, 10, 3);

    private static AccountKpiRow Row(string account, (DateOnly, long)[] charges, KpiMeasureRow[]? days = null, long balance = 100,
        AccountTreatmentRow? treatment = null, AccountFairnessRow? fairness = null) =>
        new("KPI", account, balance, 0, 0, Day1, balance, 0, 0, 0, false, charges, At)
        {
            Days = days ?? [], Treatment = treatment, Fairness = fairness,
        };

    [PostgresFact]
    public Task An_accounts_rows_end_as_last_given_and_unchanged_rows_are_not_written_again() => LastGivenAsync(postgres: true);

    /// <summary>SQLite: the same end rows (it keeps no row versions to compare).</summary>
    [Fact]
    public Task An_accounts_rows_end_as_last_given_on_sqlite() => LastGivenAsync(postgres: false);

    private static async Task LastGivenAsync(bool postgres)
    {
        var database = postgres ? await TestDatabases.PostgresAsync() : await TestDatabases.NewSqliteAsync();
        await using var store = new KpiStore(database, NullLogger<KpiStore>.Instance);
        var cash = new KpiMeasureRow("cash", Day1, "card", 5_000, 1);
        var cashLater = new KpiMeasureRow("cash", Day2, "card", 2_000, 1);
        var treatment = new AccountTreatmentRow("standard", false, 0.1m, Day1, "high", 10_000, 0, ["statement"]);
        await store.SaveAllAsync(
        [
            Row("A", [(Day1, 10_000), (Day2, 20_000)], [cash, cashLater]),
            Row("B", [(Day1, 5_000)], treatment: treatment, fairness: new AccountFairnessRow("en", "middle", 0.4, 1, 0)),
        ]);
        var first = await VersionsAsync(database);

        await store.SaveAllAsync([Row("A", [(Day1, 10_000), (Day2, 20_000)], [cash, cashLater])]); // the same again

        Assert.Equal(first, await VersionsAsync(database)); // no row written (on SQLite: the same rows)

        await store.SaveAllAsync(
        [
            Row("A", [(Day1, 1), (Day3, 3)], balance: 7),                               // given twice in one group: the last counts
            Row("A", [(Day1, 15_000), (Day3, 300)], [cash, new KpiMeasureRow("cash", Day1, "", 700, 1)], balance: 100), // Day1 changed, Day2 gone, Day3 new; one day kept, one gone, one new
            Row("B", [], fairness: new AccountFairnessRow("en", "middle", 0.4, 1, 0)), // no charges, no treatment now
        ]);

        var after = await VersionsAsync(database);
        Assert.Equal(["charge|A|2026-10-01|15000", "charge|A|2026-10-03|300", "day|A|cash|2026-10-01|", "day|A|cash|2026-10-01|card", "fairness|B", "kpi|A|100", "kpi|B|100"],
            after.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(first["day|A|cash|2026-10-01|card"], after["day|A|cash|2026-10-01|card"]); // kept as it was
        Assert.Equal(first["kpi|A|100"], after["kpi|A|100"]);   // its values came back to what they were: not written
        Assert.Equal(first["fairness|B"], after["fairness|B"]); // unchanged
        Assert.Equal(first["kpi|B|100"], after["kpi|B|100"]);
    }

    /// <summary>Each KPI row by what it holds, with its row version (xmin).</summary>
    private static async Task<Dictionary<string, string>> VersionsAsync(DatabaseOptions database)
    {
        await using var connection = await database.OpenAsync();
        var rows = new Dictionary<string, string>();
        foreach (var sql in new[]
        {
            "SELECT 'kpi|' || account_number || '|' || patient_balance_cents, {0} FROM account_kpi WHERE facility = 'KPI'",
            "SELECT 'charge|' || account_number || '|' || {1} || '|' || amount_cents, {0} FROM account_kpi_charge WHERE facility = 'KPI'",
            "SELECT 'day|' || account_number || '|' || measure || '|' || {2} || '|' || subject, {0} FROM account_kpi_day WHERE facility = 'KPI'",
            "SELECT 'treatment|' || account_number, {0} FROM account_treatment WHERE facility = 'KPI'",
            "SELECT 'fairness|' || account_number, {0} FROM account_fairness WHERE facility = 'KPI'",
        })
        {
            var postgres = database.Provider == DatabaseProvider.PostgreSql;
            await using var command = connection.Command(string.Format(System.Globalization.CultureInfo.InvariantCulture, sql,
                postgres ? "xmin::text" : "''", postgres ? "to_char(effective_date, 'YYYY-MM-DD')" : "effective_date", postgres ? "to_char(day, 'YYYY-MM-DD')" : "day"));
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0), reader.GetString(1));
        }
        return rows;
    }
}
