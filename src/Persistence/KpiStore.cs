using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>What one account contributes to the portfolio KPIs, as stored (amounts in cents, balances signed).</summary>
public sealed record AccountKpiRow(
    string Facility, string AccountNumber, long PatientBalanceCents, long InsuranceBalanceCents, long CreditBalanceCents,
    DateOnly? AgingBasisDate, long PatientResponsibilityCents, long PatientPaidCents, int PromisesKept, int PromisesBroken,
    bool PlacedWithAgency, IReadOnlyList<(DateOnly EffectiveDate, long AmountCents)> ChargesByDate, DateTimeOffset UpdatedAt)
{
    /// <summary>What the account adds to each day's figures (deploy/sql/*/157-kpi-days.sql).</summary>
    public IReadOnlyList<KpiMeasureRow> Days { get; init; } = [];
    /// <summary>The account's control-group outcome (deploy/sql/*/159-account-treatment.sql); null: no row.</summary>
    public AccountTreatmentRow? Treatment { get; init; }
    /// <summary>The account's fairness figures (deploy/sql/*/159-account-fairness.sql); null: no row.</summary>
    public AccountFairnessRow? Fairness { get; init; }
}

/// <summary>One account's language, ZIP income band, score and outreach as stored for the fairness report.</summary>
public sealed record AccountFairnessRow(string Language, string IncomeBand, double? Score, int OutreachContacts, int Calls);

/// <summary>One account's control-group outcome as stored for the uplift report (no person: the account key and group figures).</summary>
public sealed record AccountTreatmentRow(string PolicyId, bool Control, decimal ControlShare, DateOnly AssignedOn, string? ScoreBand, long OwedCents, long CollectedCents, IReadOnlyList<string> Steps);

/// <summary>One measure on one day for one subject (a payment channel, an agent's key id, or empty): summed hundredths and quantity.</summary>
public sealed record KpiMeasureRow(string Measure, DateOnly Day, string Subject, long AmountCents, long Quantity);

/// <summary>Accounts with a balance above zero that age from the same date.</summary>
public sealed record KpiAgingRow(DateOnly? AgingBasisDate, long PatientBalanceCents, long InsuranceBalanceCents, int Accounts);

/// <summary>The sums the portfolio figures are computed from.</summary>
public sealed record KpiTotalsRow(
    IReadOnlyList<KpiAgingRow> Aging, long PatientPaidCents, long PatientResponsibilityCents, int PromisesKept, int PromisesBroken,
    int CreditAccounts, long CreditCents, int PlacedAccounts, long PlacedPatientCents, long ChargesInWindowCents)
{
    /// <summary>Accounts paid in full in the charge window, and their days from first statement summed.</summary>
    public int PaidInFullAccounts { get; init; }
    public long PaidInFullDays { get; init; }
    /// <summary>Credit balances past their refund deadline.</summary>
    public int RefundsOverdueAccounts { get; init; }
    public long RefundsOverdueCents { get; init; }
    /// <summary>Revenue deductions (adjustments) with an effective date in the charge window.</summary>
    public long RevenueDeductionsInWindowCents { get; init; }
}

/// <summary>
/// The KPI reporting tables (deploy/sql/*/150-kpi.sql). The KPI projection writes the rows from the accounts' committed
/// facts, in batches, with group commit (<see cref="GroupCommit{T}"/>).
/// </summary>
public sealed class KpiStore : IAsyncDisposable
{
    private readonly DatabaseOptions _database;
    private readonly GroupCommit<AccountKpiRow> _writes;

    public KpiStore(DatabaseOptions database, ILogger<KpiStore> logger)
    {
        _database = database;
        _writes = new GroupCommit<AccountKpiRow>(CommitAsync, maxItems: 1024, logger, "accounts' KPI rows");
    }

    /// <summary>Upserts the account's row and replaces its charge rows, in one transaction; completes once committed.</summary>
    public Task SaveAsync(AccountKpiRow row) => _writes.WriteAsync([row]);

    /// <summary>Upserts several accounts' rows in one transaction (the KPI projection's batches).</summary>
    public Task SaveAllAsync(IReadOnlyList<AccountKpiRow> rows) => _writes.WriteAsync(rows);

    /// <summary>Empties the KPI tables (before the projection rebuilds them from the event log).</summary>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.Command("DELETE FROM account_fairness; DELETE FROM account_treatment; DELETE FROM account_kpi_day; DELETE FROM account_kpi_charge; DELETE FROM account_kpi;").ExecuteNonQueryAsync(cancellationToken);
    }

    private const string KpiConflictSql = """
        ON CONFLICT (facility, account_number) DO UPDATE SET
            patient_balance_cents = excluded.patient_balance_cents, insurance_balance_cents = excluded.insurance_balance_cents,
            credit_balance_cents = excluded.credit_balance_cents, aging_basis_date = excluded.aging_basis_date,
            patient_responsibility_cents = excluded.patient_responsibility_cents, patient_paid_cents = excluded.patient_paid_cents,
            promises_kept = excluded.promises_kept, promises_broken = excluded.promises_broken,
            placed_with_agency = excluded.placed_with_agency, updated_at = excluded.updated_at
        """;

    private const string UpsertSql = """
        INSERT INTO account_kpi (facility, account_number, patient_balance_cents, insurance_balance_cents, credit_balance_cents, aging_basis_date,
                                 patient_responsibility_cents, patient_paid_cents, promises_kept, promises_broken, placed_with_agency, updated_at)
        VALUES (@facility, @account_number, @patient_balance_cents, @insurance_balance_cents, @credit_balance_cents, @aging_basis_date,
                @patient_responsibility_cents, @patient_paid_cents, @promises_kept, @promises_broken, @placed_with_agency, @updated_at)
        """ + "\n" + KpiConflictSql + """

        WHERE account_kpi.patient_balance_cents IS NOT excluded.patient_balance_cents OR account_kpi.insurance_balance_cents IS NOT excluded.insurance_balance_cents
           OR account_kpi.credit_balance_cents IS NOT excluded.credit_balance_cents OR account_kpi.aging_basis_date IS NOT excluded.aging_basis_date
           OR account_kpi.patient_responsibility_cents IS NOT excluded.patient_responsibility_cents OR account_kpi.patient_paid_cents IS NOT excluded.patient_paid_cents
           OR account_kpi.promises_kept IS NOT excluded.promises_kept OR account_kpi.promises_broken IS NOT excluded.promises_broken
           OR account_kpi.placed_with_agency IS NOT excluded.placed_with_agency
        """;

    // SQLite, one account at a time (the statements above and below): as on PostgreSQL, only what changed is written.
    // The kept keys come as one JSON array (SQLite's json_each), so the statement's text is the same for every account.
    private const string DeleteChargesNotKeptSqliteSql = """
        DELETE FROM account_kpi_charge WHERE facility = @facility AND account_number = @account_number
          AND effective_date NOT IN (SELECT value FROM json_each(@kept))
        """;

    private const string InsertChargeSql = """
        INSERT INTO account_kpi_charge (facility, account_number, effective_date, amount_cents)
        VALUES (@facility, @account_number, @effective_date, @amount_cents)
        ON CONFLICT (facility, account_number, effective_date) DO UPDATE SET amount_cents = excluded.amount_cents
        WHERE account_kpi_charge.amount_cents <> excluded.amount_cents
        """;

    private const string DeleteDaysNotKeptSqliteSql = """
        DELETE FROM account_kpi_day WHERE facility = @facility AND account_number = @account_number
          AND (measure, day, subject) NOT IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(@kept))
        """;

    private const string InsertDaySql = """
        INSERT INTO account_kpi_day (facility, account_number, measure, day, subject, amount_cents, quantity)
        VALUES (@facility, @account_number, @measure, @day, @subject, @amount_cents, @quantity)
        ON CONFLICT (facility, account_number, measure, day, subject) DO UPDATE SET amount_cents = excluded.amount_cents, quantity = excluded.quantity
        WHERE account_kpi_day.amount_cents IS NOT excluded.amount_cents OR account_kpi_day.quantity IS NOT excluded.quantity
        """;

    private const string DeleteTreatmentSql = "DELETE FROM account_treatment WHERE facility = @facility AND account_number = @account_number";

    private const string TreatmentConflictSql = """
        ON CONFLICT (facility, account_number) DO UPDATE SET
            policy_id = excluded.policy_id, control = excluded.control, control_share = excluded.control_share, assigned_on = excluded.assigned_on,
            score_band = excluded.score_band, owed_cents = excluded.owed_cents, collected_cents = excluded.collected_cents, steps = excluded.steps
        """;

    private const string UpsertTreatmentSql = """
        INSERT INTO account_treatment (facility, account_number, policy_id, control, control_share, assigned_on, score_band, owed_cents, collected_cents, steps)
        VALUES (@facility, @account_number, @policy_id, @control, @control_share, @assigned_on, @score_band, @owed_cents, @collected_cents, @steps)
        """ + "\n" + TreatmentConflictSql + """

        WHERE account_treatment.policy_id IS NOT excluded.policy_id OR account_treatment.control IS NOT excluded.control
           OR account_treatment.control_share IS NOT excluded.control_share OR account_treatment.assigned_on IS NOT excluded.assigned_on
           OR account_treatment.score_band IS NOT excluded.score_band OR account_treatment.owed_cents IS NOT excluded.owed_cents
           OR account_treatment.collected_cents IS NOT excluded.collected_cents OR account_treatment.steps IS NOT excluded.steps
        """;

    private const string DeleteFairnessSql = "DELETE FROM account_fairness WHERE facility = @facility AND account_number = @account_number";

    private const string FairnessConflictSql = """
        ON CONFLICT (facility, account_number) DO UPDATE SET
            language = excluded.language, income_band = excluded.income_band, score = excluded.score,
            outreach_contacts = excluded.outreach_contacts, calls = excluded.calls
        """;

    private const string UpsertFairnessSql = """
        INSERT INTO account_fairness (facility, account_number, language, income_band, score, outreach_contacts, calls)
        VALUES (@facility, @account_number, @language, @income_band, @score, @outreach_contacts, @calls)
        """ + "\n" + FairnessConflictSql + """

        WHERE account_fairness.language IS NOT excluded.language OR account_fairness.income_band IS NOT excluded.income_band
           OR account_fairness.score IS NOT excluded.score OR account_fairness.outreach_contacts IS NOT excluded.outreach_contacts
           OR account_fairness.calls IS NOT excluded.calls
        """;

    private IEnumerable<SqlStatement> SqliteStatements(AccountKpiRow r)
    {
        yield return new(UpsertSql,
        [
            ("facility", r.Facility), ("account_number", r.AccountNumber), ("patient_balance_cents", r.PatientBalanceCents),
            ("insurance_balance_cents", r.InsuranceBalanceCents), ("credit_balance_cents", r.CreditBalanceCents), ("aging_basis_date", _database.Date(r.AgingBasisDate)),
            ("patient_responsibility_cents", r.PatientResponsibilityCents), ("patient_paid_cents", r.PatientPaidCents),
            ("promises_kept", r.PromisesKept), ("promises_broken", r.PromisesBroken), ("placed_with_agency", r.PlacedWithAgency),
            ("updated_at", _database.Timestamp(r.UpdatedAt)),
        ]);
        yield return new(DeleteChargesNotKeptSqliteSql, [("facility", r.Facility), ("account_number", r.AccountNumber),
            ("kept", System.Text.Json.JsonSerializer.Serialize(r.ChargesByDate.Select(c => _database.Date(c.EffectiveDate))))]);
        foreach (var (date, cents) in r.ChargesByDate)
            yield return new(InsertChargeSql, [("facility", r.Facility), ("account_number", r.AccountNumber), ("effective_date", _database.Date(date)), ("amount_cents", cents)]);
        yield return new(DeleteDaysNotKeptSqliteSql, [("facility", r.Facility), ("account_number", r.AccountNumber),
            ("kept", System.Text.Json.JsonSerializer.Serialize(r.Days.Select(d => new[] { d.Measure, d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), d.Subject })))]);
        foreach (var d in r.Days)
            yield return new(InsertDaySql,
            [
                ("facility", r.Facility), ("account_number", r.AccountNumber), ("measure", d.Measure), ("day", _database.Date(d.Day)),
                ("subject", d.Subject), ("amount_cents", d.AmountCents), ("quantity", d.Quantity),
            ]);
        // One row per account: replaced in place when the account has one, removed when it no longer does.
        if (r.Treatment is not { } t)
            yield return new(DeleteTreatmentSql, [("facility", r.Facility), ("account_number", r.AccountNumber)]);
        else
            yield return new(UpsertTreatmentSql,
            [
                ("facility", r.Facility), ("account_number", r.AccountNumber), ("policy_id", t.PolicyId), ("control", t.Control), ("control_share", (double)t.ControlShare),
                ("assigned_on", _database.Date(t.AssignedOn)), ("score_band", t.ScoreBand), ("owed_cents", t.OwedCents), ("collected_cents", t.CollectedCents),
                ("steps", System.Text.Json.JsonSerializer.Serialize(t.Steps)),
            ]);
        if (r.Fairness is not { } f)
            yield return new(DeleteFairnessSql, [("facility", r.Facility), ("account_number", r.AccountNumber)]);
        else
            yield return new(UpsertFairnessSql,
            [
                ("facility", r.Facility), ("account_number", r.AccountNumber), ("language", f.Language), ("income_band", f.IncomeBand),
                ("score", f.Score), ("outreach_contacts", f.OutreachContacts), ("calls", f.Calls),
            ]);
    }

    /// <summary>Every account's fairness figures (of one facility, or all when <paramref name="facility"/> is null), streamed.</summary>
    public async IAsyncEnumerable<AccountFairnessRow> FairnessAsync(string? facility, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = WithFacility(connection.Command(
            "SELECT language, income_band, score, outreach_contacts, calls FROM account_fairness" + (facility is null ? "" : " WHERE facility = @facility")), facility);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            yield return new AccountFairnessRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.GetInt32(3), reader.GetInt32(4));
    }

    /// <summary>
    /// Every assigned account's control-group outcome (of one facility, or all when <paramref name="facility"/> is null),
    /// streamed for the uplift report, which sums them as they come.
    /// </summary>
    public async IAsyncEnumerable<AccountTreatmentRow> TreatmentsAsync(string? facility, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = WithFacility(connection.Command(
            "SELECT policy_id, control, control_share, assigned_on, score_band, owed_cents, collected_cents, steps FROM account_treatment"
            + (facility is null ? "" : " WHERE facility = @facility")), facility);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            yield return new AccountTreatmentRow(reader.GetString(0), reader.GetBoolean(1), decimal.Round((decimal)reader.GetDouble(2), 6), _database.ReadDate(reader, 3)!.Value,
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5), reader.GetInt64(6),
                System.Text.Json.JsonSerializer.Deserialize<string[]>(reader.GetString(7)) ?? []);
    }

    private async Task CommitAsync(IReadOnlyList<AccountKpiRow> rows)
    {
        await using var turn = await _database.WriteTurnAsync();
        await using var connection = await _database.OpenRederivableAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await _database.ExecuteAsync(connection, transaction,
            _database.Provider == DatabaseProvider.PostgreSql ? PostgresStatements(rows) : rows.SelectMany(SqliteStatements));
        await transaction.CommitAsync();
    }

    /// <summary>
    /// PostgreSQL: the same rows as <see cref="SqliteStatements"/> for a whole group, one statement per table and kind (each
    /// column an array) instead of several per account. An account given twice keeps its last rows, as one by one would
    /// (for rows the database accepts: one by one, a refused earlier row of that account failed the group; here it is dropped).
    /// </summary>
    private static List<SqlStatement> PostgresStatements(IReadOnlyList<AccountKpiRow> given)
    {
        var rows = SqlStatements.LastPerKey(given, r => (r.Facility, r.AccountNumber));
        (string, object?) Column<T>(string name, Func<AccountKpiRow, T> value, IEnumerable<AccountKpiRow>? of = null) => SqlStatements.ArrayOf(name, of ?? rows, value);
        (string, object?)[] KeysOf(IEnumerable<AccountKpiRow> of) => [Column("facility", r => r.Facility, of), Column("account_number", r => r.AccountNumber, of)];
        var keys = KeysOf(rows);
        var statements = new List<SqlStatement>
        {
            new(UpsertArraysSql,
            [
                .. keys, Column("patient_balance_cents", r => r.PatientBalanceCents), Column("insurance_balance_cents", r => r.InsuranceBalanceCents),
                Column("credit_balance_cents", r => r.CreditBalanceCents), Column("aging_basis_date", r => r.AgingBasisDate),
                Column("patient_responsibility_cents", r => r.PatientResponsibilityCents), Column("patient_paid_cents", r => r.PatientPaidCents),
                Column("promises_kept", r => r.PromisesKept), Column("promises_broken", r => r.PromisesBroken),
                Column("placed_with_agency", r => r.PlacedWithAgency), Column("updated_at", r => r.UpdatedAt.ToUniversalTime()),
            ]),
        };
        // An account's charges and days are replaced by what it sends now, writing only what changed: the rows it no
        // longer has are deleted, new or changed ones upserted, and the same ones left as they are (a follow-up step or a
        // payment does not rewrite every charge and day the account ever had; each rewrite was a dead row and new index
        // entries). The ones kept are passed as (account, key) pairs: a row of an account is deleted unless its key is among them.
        var charges = rows.SelectMany(r => r.ChargesByDate.Select(c => (r.Facility, r.AccountNumber, c.EffectiveDate, c.AmountCents))).ToList();
        statements.Add(new(DeleteChargesNotKeptSql,
        [
            .. keys, SqlStatements.ArrayOf("kept_facility", charges, c => c.Facility), SqlStatements.ArrayOf("kept_account_number", charges, c => c.AccountNumber),
            SqlStatements.ArrayOf("kept_effective_date", charges, c => c.EffectiveDate),
        ]));
        if (charges.Count > 0)
            statements.Add(new(UpsertChargesArraysSql,
            [
                SqlStatements.ArrayOf("facility", charges, c => c.Facility), SqlStatements.ArrayOf("account_number", charges, c => c.AccountNumber),
                SqlStatements.ArrayOf("effective_date", charges, c => c.EffectiveDate), SqlStatements.ArrayOf("amount_cents", charges, c => c.AmountCents),
            ]));
        var days = rows.SelectMany(r => r.Days.Select(d => (r.Facility, r.AccountNumber, Day: d))).ToList();
        statements.Add(new(DeleteDaysNotKeptSql,
        [
            .. keys, SqlStatements.ArrayOf("kept_facility", days, d => d.Facility), SqlStatements.ArrayOf("kept_account_number", days, d => d.AccountNumber),
            SqlStatements.ArrayOf("kept_measure", days, d => d.Day.Measure), SqlStatements.ArrayOf("kept_day", days, d => d.Day.Day),
            SqlStatements.ArrayOf("kept_subject", days, d => d.Day.Subject),
        ]));
        if (days.Count > 0)
            statements.Add(new(UpsertDaysArraysSql,
            [
                SqlStatements.ArrayOf("facility", days, d => d.Facility), SqlStatements.ArrayOf("account_number", days, d => d.AccountNumber),
                SqlStatements.ArrayOf("measure", days, d => d.Day.Measure), SqlStatements.ArrayOf("day", days, d => d.Day.Day),
                SqlStatements.ArrayOf("subject", days, d => d.Day.Subject), SqlStatements.ArrayOf("amount_cents", days, d => d.Day.AmountCents),
                SqlStatements.ArrayOf("quantity", days, d => d.Day.Quantity),
            ]));
        // One row per account in each of these: replaced in place when the account has one, removed when it no longer does.
        void OneRowPerAccount(Func<AccountKpiRow, bool> has, string deleteSql, string upsertSql, Func<List<AccountKpiRow>, (string, object?)[]> columns)
        {
            var without = rows.Where(r => !has(r)).ToList();
            if (without.Count > 0) statements.Add(new(deleteSql, KeysOf(without)));
            var with = rows.Where(has).ToList();
            if (with.Count > 0) statements.Add(new(upsertSql, [.. KeysOf(with), .. columns(with)]));
        }
        OneRowPerAccount(r => r.Treatment is not null, DeleteTreatmentsForKeysSql, UpsertTreatmentArraysSql, treated =>
        [
            Column("policy_id", r => r.Treatment!.PolicyId, treated), Column("control", r => r.Treatment!.Control, treated),
            Column("control_share", r => (double)r.Treatment!.ControlShare, treated), Column("assigned_on", r => r.Treatment!.AssignedOn, treated),
            Column("score_band", r => r.Treatment!.ScoreBand, treated), Column("owed_cents", r => r.Treatment!.OwedCents, treated),
            Column("collected_cents", r => r.Treatment!.CollectedCents, treated),
            Column("steps", r => System.Text.Json.JsonSerializer.Serialize(r.Treatment!.Steps), treated),
        ]);
        OneRowPerAccount(r => r.Fairness is not null, DeleteFairnessForKeysSql, UpsertFairnessArraysSql, measured =>
        [
            Column("language", r => r.Fairness!.Language, measured), Column("income_band", r => r.Fairness!.IncomeBand, measured),
            Column("score", r => r.Fairness!.Score, measured), Column("outreach_contacts", r => r.Fairness!.OutreachContacts, measured),
            Column("calls", r => r.Fairness!.Calls, measured),
        ]);
        return statements;
    }

    private const string ForKeysSql = " t USING unnest(@facility::text[], @account_number::text[]) AS k(facility, account_number) WHERE t.facility = k.facility AND t.account_number = k.account_number";
    // NOT IN over the kept keys (none is NULL: every key column is NOT NULL) plans as a hashed subplan whatever the
    // planner guesses of the arrays' length; a NOT EXISTS could become a nested loop, quadratic for a rebuild's group.
    private const string DeleteChargesNotKeptSql = "DELETE FROM account_kpi_charge" + ForKeysSql + """

         AND (t.facility, t.account_number, t.effective_date) NOT IN
             (SELECT * FROM unnest(@kept_facility::text[], @kept_account_number::text[], @kept_effective_date::date[]))
        """;
    private const string DeleteDaysNotKeptSql = "DELETE FROM account_kpi_day" + ForKeysSql + """

         AND (t.facility, t.account_number, t.measure, t.day, t.subject) NOT IN
             (SELECT * FROM unnest(@kept_facility::text[], @kept_account_number::text[], @kept_measure::text[], @kept_day::date[], @kept_subject::text[]))
        """;
    private const string DeleteTreatmentsForKeysSql = "DELETE FROM account_treatment" + ForKeysSql;
    private const string DeleteFairnessForKeysSql = "DELETE FROM account_fairness" + ForKeysSql;

    // On PostgreSQL a row whose values did not change is not written again (no new row version, no index entries);
    // updated_at then says when the account's KPI row last changed.
    private const string UpsertArraysSql = """
        INSERT INTO account_kpi (facility, account_number, patient_balance_cents, insurance_balance_cents, credit_balance_cents, aging_basis_date,
                                 patient_responsibility_cents, patient_paid_cents, promises_kept, promises_broken, placed_with_agency, updated_at)
        SELECT * FROM unnest(@facility::text[], @account_number::text[], @patient_balance_cents::bigint[], @insurance_balance_cents::bigint[],
                             @credit_balance_cents::bigint[], @aging_basis_date::date[], @patient_responsibility_cents::bigint[], @patient_paid_cents::bigint[],
                             @promises_kept::int[], @promises_broken::int[], @placed_with_agency::boolean[], @updated_at::timestamptz[])
        """ + "\n" + KpiConflictSql + """

        WHERE (account_kpi.patient_balance_cents, account_kpi.insurance_balance_cents, account_kpi.credit_balance_cents, account_kpi.aging_basis_date,
               account_kpi.patient_responsibility_cents, account_kpi.patient_paid_cents, account_kpi.promises_kept, account_kpi.promises_broken,
               account_kpi.placed_with_agency)
          IS DISTINCT FROM (excluded.patient_balance_cents, excluded.insurance_balance_cents, excluded.credit_balance_cents, excluded.aging_basis_date,
               excluded.patient_responsibility_cents, excluded.patient_paid_cents, excluded.promises_kept, excluded.promises_broken, excluded.placed_with_agency)
        """;

    private const string UpsertChargesArraysSql = """
        INSERT INTO account_kpi_charge (facility, account_number, effective_date, amount_cents)
        SELECT * FROM unnest(@facility::text[], @account_number::text[], @effective_date::date[], @amount_cents::bigint[])
        ON CONFLICT (facility, account_number, effective_date) DO UPDATE SET amount_cents = excluded.amount_cents
        WHERE account_kpi_charge.amount_cents <> excluded.amount_cents
        """;

    private const string UpsertDaysArraysSql = """
        INSERT INTO account_kpi_day (facility, account_number, measure, day, subject, amount_cents, quantity)
        SELECT * FROM unnest(@facility::text[], @account_number::text[], @measure::text[], @day::date[], @subject::text[], @amount_cents::bigint[], @quantity::int[])
        ON CONFLICT (facility, account_number, measure, day, subject) DO UPDATE SET amount_cents = excluded.amount_cents, quantity = excluded.quantity
        WHERE (account_kpi_day.amount_cents, account_kpi_day.quantity) IS DISTINCT FROM (excluded.amount_cents, excluded.quantity)
        """;

    private const string UpsertTreatmentArraysSql = """
        INSERT INTO account_treatment (facility, account_number, policy_id, control, control_share, assigned_on, score_band, owed_cents, collected_cents, steps)
        SELECT * FROM unnest(@facility::text[], @account_number::text[], @policy_id::text[], @control::boolean[], @control_share::double precision[],
                             @assigned_on::date[], @score_band::text[], @owed_cents::bigint[], @collected_cents::bigint[], @steps::text[])
        """ + "\n" + TreatmentConflictSql + """

        WHERE (account_treatment.policy_id, account_treatment.control, account_treatment.control_share, account_treatment.assigned_on,
               account_treatment.score_band, account_treatment.owed_cents, account_treatment.collected_cents, account_treatment.steps)
          IS DISTINCT FROM (excluded.policy_id, excluded.control, excluded.control_share, excluded.assigned_on, excluded.score_band,
               excluded.owed_cents, excluded.collected_cents, excluded.steps)
        """;

    private const string UpsertFairnessArraysSql = """
        INSERT INTO account_fairness (facility, account_number, language, income_band, score, outreach_contacts, calls)
        SELECT * FROM unnest(@facility::text[], @account_number::text[], @language::text[], @income_band::text[], @score::double precision[],
                             @outreach_contacts::int[], @calls::int[])
        """ + "\n" + FairnessConflictSql + """

        WHERE (account_fairness.language, account_fairness.income_band, account_fairness.score, account_fairness.outreach_contacts, account_fairness.calls)
          IS DISTINCT FROM (excluded.language, excluded.income_band, excluded.score, excluded.outreach_contacts, excluded.calls)
        """;

    /// <summary>
    /// The sums over one facility's accounts (or all facilities' when <paramref name="facility"/> is null): accounts
    /// with a balance above zero grouped by aging basis date, payments, responsibility, promises, credit balances,
    /// placements, and gross charges with an effective date from <paramref name="chargesFrom"/> to <paramref name="chargesTo"/>.
    /// </summary>
    public async Task<KpiTotalsRow> QueryAsync(string? facility, DateOnly chargesFrom, DateOnly chargesTo, CancellationToken cancellationToken = default)
    {
        var where = facility is null ? "" : " AND facility = @facility";
        await using var connection = await _database.OpenAsync(cancellationToken);
        // One snapshot, so the three sums see the same rows (a deferred SQLite transaction takes no write lock).
        await using var transaction = connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: true)
            : await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

        var aging = new List<KpiAgingRow>();
        await using (var command = WithFacility(connection.Command($"""
            SELECT aging_basis_date, COALESCE(SUM(patient_balance_cents), 0), COALESCE(SUM(insurance_balance_cents), 0), COUNT(*)
            FROM account_kpi WHERE patient_balance_cents + insurance_balance_cents > 0{where}
            GROUP BY aging_basis_date
            """, transaction), facility))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                aging.Add(new KpiAgingRow(_database.ReadDate(reader, 0), Long(reader, 1), Long(reader, 2), (int)Long(reader, 3)));
        }

        long[] sums;
        await using (var command = WithFacility(connection.Command($"""
            SELECT COALESCE(SUM(patient_paid_cents), 0), COALESCE(SUM(patient_responsibility_cents), 0),
                   COALESCE(SUM(promises_kept), 0), COALESCE(SUM(promises_broken), 0),
                   COALESCE(SUM(CASE WHEN credit_balance_cents > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(credit_balance_cents), 0),
                   COALESCE(SUM(CASE WHEN placed_with_agency THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN placed_with_agency AND patient_balance_cents > 0 THEN patient_balance_cents ELSE 0 END), 0)
            FROM account_kpi WHERE 1 = 1{where}
            """, transaction), facility))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            sums = Enumerable.Range(0, 8).Select(i => Long(reader, i)).ToArray();
        }

        long charges;
        await using (var command = WithFacility(connection.Command($"""
            SELECT COALESCE(SUM(amount_cents), 0) FROM account_kpi_charge
            WHERE effective_date >= @from AND effective_date <= @to{where}
            """, transaction), facility).WithParameter("from", _database.Date(chargesFrom)).WithParameter("to", _database.Date(chargesTo)))
        {
            charges = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        long[] days;
        await using (var command = WithFacility(connection.Command($"""
            SELECT COALESCE(SUM(CASE WHEN measure = 'paidInFull' AND day >= @from AND day <= @to THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN measure = 'paidInFull' AND day >= @from AND day <= @to THEN quantity ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN measure = 'refundDue' AND day < @to THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN measure = 'refundDue' AND day < @to THEN amount_cents ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN measure = 'revenueDeduction' AND day >= @from AND day <= @to THEN amount_cents ELSE 0 END), 0)
            FROM account_kpi_day WHERE measure IN ('paidInFull', 'refundDue', 'revenueDeduction'){where}
            """, transaction), facility).WithParameter("from", _database.Date(chargesFrom)).WithParameter("to", _database.Date(chargesTo)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            days = Enumerable.Range(0, 5).Select(i => Long(reader, i)).ToArray();
        }
        await transaction.CommitAsync(cancellationToken);

        return new KpiTotalsRow(aging, sums[0], sums[1], (int)sums[2], (int)sums[3], (int)sums[4], sums[5], (int)sums[6], sums[7], charges)
        {
            PaidInFullAccounts = (int)days[0], PaidInFullDays = days[1], RefundsOverdueAccounts = (int)days[2], RefundsOverdueCents = days[3],
            RevenueDeductionsInWindowCents = days[4],
        };
    }

    /// <summary>
    /// One facility's (or every facility's) daily measures from <paramref name="from"/> to <paramref name="to"/>, summed
    /// over accounts per measure, day and subject: cash by channel, placements, recalls, each agent's work.
    /// </summary>
    public async Task<IReadOnlyList<KpiMeasureRow>> DaysAsync(string? facility, IReadOnlyCollection<string> measures, DateOnly from, DateOnly to,
        string? subject = null, CancellationToken cancellationToken = default)
    {
        if (measures.Count == 0) return [];
        await using var connection = await _database.OpenAsync(cancellationToken);
        var names = string.Join(", ", measures.Select((_, i) => $"@m{i}"));
        var command = WithFacility(connection.Command($"""
            SELECT measure, day, subject, COALESCE(SUM(amount_cents), 0), COALESCE(SUM(quantity), 0) FROM account_kpi_day
            WHERE measure IN ({names}) AND day >= @from AND day <= @to{(facility is null ? "" : " AND facility = @facility")}{(subject is null ? "" : " AND subject = @subject")}
            GROUP BY measure, day, subject ORDER BY day, measure, subject
            """), facility).WithParameter("from", _database.Date(from)).WithParameter("to", _database.Date(to));
        if (subject is not null) command.WithParameter("subject", subject);
        var i = 0;
        foreach (var measure in measures) command.WithParameter($"m{i++}", measure);
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<KpiMeasureRow>();
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(new KpiMeasureRow(reader.GetString(0), _database.ReadDate(reader, 1)!.Value, reader.GetString(2), Long(reader, 3), Long(reader, 4)));
            return rows;
        }
    }

    /// <summary>Every facility with an account in the KPI tables.</summary>
    public async Task<IReadOnlyList<string>> FacilitiesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT DISTINCT facility FROM account_kpi ORDER BY facility");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var facilities = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) facilities.Add(reader.GetString(0));
        return facilities;
    }

    private static DbCommand WithFacility(DbCommand command, string? facility) =>
        facility is null ? command : command.WithParameter("facility", facility);

    // PostgreSQL sums BIGINT as NUMERIC.
    private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
