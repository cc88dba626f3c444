using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Collections.Persistence;

/// <summary>What one account contributes to the portfolio KPIs, as stored (amounts in cents, balances signed).</summary>
public sealed record AccountKpiRow(
    string Facility, string AccountNumber, long PatientBalanceCents, long InsuranceBalanceCents, long CreditBalanceCents,
    DateOnly? AgingBasisDate, long PatientResponsibilityCents, long PatientPaidCents, int PromisesKept, int PromisesBroken,
    bool PlacedWithAgency, IReadOnlyList<(DateOnly EffectiveDate, long AmountCents)> ChargesByDate, DateTimeOffset UpdatedAt);

/// <summary>Accounts with a balance above zero that age from the same date.</summary>
public sealed record KpiAgingRow(DateOnly? AgingBasisDate, long PatientBalanceCents, long InsuranceBalanceCents, int Accounts);

/// <summary>The sums the portfolio figures are computed from.</summary>
public sealed record KpiTotalsRow(
    IReadOnlyList<KpiAgingRow> Aging, long PatientPaidCents, long PatientResponsibilityCents, int PromisesKept, int PromisesBroken,
    int CreditAccounts, long CreditCents, int PlacedAccounts, long PlacedPatientCents, long ChargesInWindowCents);

/// <summary>
/// The KPI reporting tables (deploy/sql/*/150-kpi.sql). Every account writes its row at the end of its cadence runs,
/// which follow every posting, so writes use group commit: saves asked for while a transaction is under way go
/// together in the next one, in the order they were asked for; each caller still waits until its own save is durable.
/// </summary>
public sealed class KpiStore : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private readonly DatabaseOptions _database;
    private readonly ILogger<KpiStore> _logger;
    private readonly Channel<(AccountKpiRow Row, TaskCompletionSource Done)> _pending =
        Channel.CreateUnbounded<(AccountKpiRow, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public KpiStore(DatabaseOptions database, ILogger<KpiStore> logger)
    {
        _database = database;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Upserts the account's row and replaces its charge rows, in one transaction; completes once committed.</summary>
    public Task SaveAsync(AccountKpiRow row)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((row, done)))
            throw new InvalidOperationException("The KPI store is shut down.");
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(AccountKpiRow Row, TaskCompletionSource Done)>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await CommitAsync(batch.Select(b => b.Row).ToList());
                foreach (var item in batch) item.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                _logger.LogError("Could not write {Count} accounts' KPI rows ({Error})", batch.Count, ex.GetType().Name);
                foreach (var item in batch) item.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

    private const string UpsertSql = """
        INSERT INTO account_kpi (facility, account_number, patient_balance_cents, insurance_balance_cents, credit_balance_cents, aging_basis_date,
                                 patient_responsibility_cents, patient_paid_cents, promises_kept, promises_broken, placed_with_agency, updated_at)
        VALUES (@facility, @account_number, @patient_balance_cents, @insurance_balance_cents, @credit_balance_cents, @aging_basis_date,
                @patient_responsibility_cents, @patient_paid_cents, @promises_kept, @promises_broken, @placed_with_agency, @updated_at)
        ON CONFLICT (facility, account_number) DO UPDATE SET
            patient_balance_cents = excluded.patient_balance_cents, insurance_balance_cents = excluded.insurance_balance_cents,
            credit_balance_cents = excluded.credit_balance_cents, aging_basis_date = excluded.aging_basis_date,
            patient_responsibility_cents = excluded.patient_responsibility_cents, patient_paid_cents = excluded.patient_paid_cents,
            promises_kept = excluded.promises_kept, promises_broken = excluded.promises_broken,
            placed_with_agency = excluded.placed_with_agency, updated_at = excluded.updated_at
        """;

    private const string DeleteChargesSql = "DELETE FROM account_kpi_charge WHERE facility = @facility AND account_number = @account_number";

    private const string InsertChargeSql = """
        INSERT INTO account_kpi_charge (facility, account_number, effective_date, amount_cents)
        VALUES (@facility, @account_number, @effective_date, @amount_cents)
        """;

    private IEnumerable<(string Sql, (string Name, object? Value)[] Parameters)> Statements(AccountKpiRow r)
    {
        yield return (UpsertSql,
        [
            ("facility", r.Facility), ("account_number", r.AccountNumber), ("patient_balance_cents", r.PatientBalanceCents),
            ("insurance_balance_cents", r.InsuranceBalanceCents), ("credit_balance_cents", r.CreditBalanceCents), ("aging_basis_date", Date(r.AgingBasisDate)),
            ("patient_responsibility_cents", r.PatientResponsibilityCents), ("patient_paid_cents", r.PatientPaidCents),
            ("promises_kept", r.PromisesKept), ("promises_broken", r.PromisesBroken), ("placed_with_agency", r.PlacedWithAgency),
            ("updated_at", _database.Timestamp(r.UpdatedAt)),
        ]);
        yield return (DeleteChargesSql, [("facility", r.Facility), ("account_number", r.AccountNumber)]);
        foreach (var (date, cents) in r.ChargesByDate)
            yield return (InsertChargeSql, [("facility", r.Facility), ("account_number", r.AccountNumber), ("effective_date", Date(date)), ("amount_cents", cents)]);
    }

    private object? Date(DateOnly? value) => value is not { } d ? null
        : _database.Provider == DatabaseProvider.Sqlite ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : d;

    private async Task CommitAsync(IReadOnlyList<AccountKpiRow> rows)
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var statements = rows.SelectMany(Statements).ToList();
        if (connection.CanCreateBatch && _database.Provider == DatabaseProvider.PostgreSql)
        {
            // One round trip per few hundred statements.
            foreach (var chunk in statements.Chunk(500))
            {
                await using var batch = connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var (sql, parameters) in chunk)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = sql;
                    foreach (var (name, value) in parameters)
                    {
                        var p = command.CreateParameter();
                        p.ParameterName = name;
                        p.Value = value ?? DBNull.Value;
                        command.Parameters.Add(p);
                    }
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync();
            }
        }
        else
        {
            // SQLite is in process: one prepared command per statement kind, re-bound for every row.
            var commands = new Dictionary<string, DbCommand>(StringComparer.Ordinal);
            try
            {
                foreach (var (sql, parameters) in statements)
                {
                    if (!commands.TryGetValue(sql, out var command))
                    {
                        command = connection.Command(sql, transaction);
                        foreach (var (name, _) in parameters) command.WithParameter(name, null);
                        await command.PrepareAsync();
                        commands[sql] = command;
                    }
                    for (var i = 0; i < parameters.Length; i++) command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
                    await command.ExecuteNonQueryAsync();
                }
            }
            finally
            {
                foreach (var command in commands.Values) await command.DisposeAsync();
            }
        }
        await transaction.CommitAsync();
    }

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
                aging.Add(new KpiAgingRow(ReadDate(reader, 0), Long(reader, 1), Long(reader, 2), (int)Long(reader, 3)));
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
            """, transaction), facility).WithParameter("from", Date(chargesFrom)).WithParameter("to", Date(chargesTo)))
        {
            charges = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        await transaction.CommitAsync(cancellationToken);

        return new KpiTotalsRow(aging, sums[0], sums[1], (int)sums[2], (int)sums[3], (int)sums[4], sums[5], (int)sums[6], sums[7], charges);
    }

    private static DbCommand WithFacility(DbCommand command, string? facility) =>
        facility is null ? command : command.WithParameter("facility", facility);

    // PostgreSQL sums BIGINT as NUMERIC.
    private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    private DateOnly? ReadDate(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null
        : _database.Provider == DatabaseProvider.Sqlite ? DateOnly.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd", CultureInfo.InvariantCulture)
        : reader.GetFieldValue<DateOnly>(ordinal);

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }
}
