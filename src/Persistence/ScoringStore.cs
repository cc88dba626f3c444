using System.Data.Common;
using System.Security.Cryptography;

namespace Collections.Persistence;

/// <summary>A registered model version as listed (the model file and chart are read separately).</summary>
public sealed record ScoringModelRecord(
    string Version, string Kind, DateTimeOffset RegisteredAt, string RegisteredBy, string? Notes, string ReportJson, string ModelSha256);

/// <summary>
/// The model versions the data team registered (and the engine's bootstrap model): the model file, its evaluation
/// report and chart. Rows are never changed or deleted: what a score says was produced by version X stays checkable.
/// </summary>
public sealed class ScoringModelCatalog(DatabaseOptions database)
{
    /// <summary>Stores a version. False if the version exists already (with the same file: a harmless retry; otherwise a conflict the caller reports).</summary>
    public async Task<(bool Added, bool SameFile)> AddAsync(ScoringModelRecord record, byte[] model, byte[]? chart, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var existing = await ShaOfAsync(connection, record.Version, cancellationToken);
        if (existing is not null) return (false, existing == record.ModelSha256);
        var inserted = await connection.Command(
                """
                INSERT INTO scoring_model (version, kind, registered_at, registered_by, notes, report, chart, model, model_sha256)
                VALUES (@version, @kind, @registered_at, @registered_by, @notes, @report, @chart, @model, @sha)
                ON CONFLICT (version) DO NOTHING
                """)
            .WithParameter("version", record.Version).WithParameter("kind", record.Kind)
            .WithParameter("registered_at", database.Timestamp(record.RegisteredAt)).WithParameter("registered_by", record.RegisteredBy)
            .WithParameter("notes", record.Notes).WithParameter("report", record.ReportJson).WithParameter("chart", chart)
            .WithParameter("model", model).WithParameter("sha", record.ModelSha256)
            .ExecuteNonQueryAsync(cancellationToken);
        if (inserted == 1) return (true, true);
        return (false, await ShaOfAsync(connection, record.Version, cancellationToken) == record.ModelSha256);
    }

    public static string Sha256Of(byte[] model) => Convert.ToHexStringLower(SHA256.HashData(model));

    private static async Task<string?> ShaOfAsync(DbConnection connection, string version, CancellationToken cancellationToken) =>
        await connection.Command("SELECT model_sha256 FROM scoring_model WHERE version = @version")
            .WithParameter("version", version).ExecuteScalarAsync(cancellationToken) as string;

    public async Task<byte[]?> LoadModelAsync(string version, CancellationToken cancellationToken = default) =>
        await ReadBlobAsync("model", version, cancellationToken);

    public async Task<byte[]?> LoadChartAsync(string version, CancellationToken cancellationToken = default) =>
        await ReadBlobAsync("chart", version, cancellationToken);

    private async Task<byte[]?> ReadBlobAsync(string column, string version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var value = await connection.Command($"SELECT {column} FROM scoring_model WHERE version = @version")
            .WithParameter("version", version).ExecuteScalarAsync(cancellationToken);
        return value as byte[];
    }

    public async Task<ScoringModelRecord?> GetAsync(string version, CancellationToken cancellationToken = default) =>
        await ListAsync(version, cancellationToken) is [var record, ..] ? record : null;

    public Task<IReadOnlyList<ScoringModelRecord>> ListAsync(CancellationToken cancellationToken = default) => ListAsync(null, cancellationToken);

    private async Task<IReadOnlyList<ScoringModelRecord>> ListAsync(string? version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT version, kind, registered_at, registered_by, notes, report, model_sha256 FROM scoring_model"
            + (version is null ? "" : " WHERE version = @version") + " ORDER BY registered_at, version");
        if (version is not null) command.WithParameter("version", version);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<ScoringModelRecord>();
        while (await reader.ReadAsync(cancellationToken))
            records.Add(new ScoringModelRecord(reader.GetString(0), reader.GetString(1), database.ReadTimestamp(reader, 2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        return records;
    }
}

/// <summary>
/// Every open patient account, read from the grain-state table (the key is the grain's string key): how the engine
/// walks the portfolio (rescoring, training exports) without keeping a second index.
/// </summary>
public sealed class AccountDirectory(DatabaseOptions database)
{
    /// <summary>Up to <paramref name="limit"/> account keys after <paramref name="afterKey"/>, in key order (every account the journal holds).</summary>
    public async Task<IReadOnlyList<string>> PageAsync(string? afterKey, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT account_id FROM account_stream WHERE account_id > @after ORDER BY account_id LIMIT @limit");
        command.WithParameter("after", afterKey ?? "").WithParameter("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<string>(limit);
        while (await reader.ReadAsync(cancellationToken)) keys.Add(reader.GetString(0));
        return keys;
    }

    /// <summary>How many accounts the journal holds.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM account_stream");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async IAsyncEnumerable<string> AllAsync(int pageSize = 1000, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        while (true)
        {
            var page = await PageAsync(after, pageSize, cancellationToken);
            foreach (var key in page) yield return key;
            if (page.Count < pageSize) yield break;
            after = page[^1];
        }
    }
}

/// <summary>One model version's record on real accounts: what it predicted and what the accounts then paid.</summary>
public sealed record ScoreOutcomeRow(string AccountId, string ModelVersion, bool Challenger, DateTimeOffset ScoredAt, double Probability,
    long PatientBalanceCents, long CollectedCents, DateTimeOffset WindowEndsAt);

/// <summary>
/// The first score each model version gave each account, and the patient payments posted in the label window after
/// it: champion and challenger compared on outcomes, not on their own reports.
/// </summary>
public sealed class ScoreOutcomeLog(DatabaseOptions database)
{
    /// <summary>The first score a model version gave an account (ignored if recorded already).</summary>
    public sealed record FirstScore(string AccountId, string ModelVersion, bool Challenger, DateTimeOffset ScoredAt, double Probability, long PatientBalanceCents, DateTimeOffset WindowEndsAt)
    {
        /// <summary>The features the score was computed from (the engine's feature order); none recorded when empty.</summary>
        public IReadOnlyList<float> Features { get; init; } = [];
    }

    /// <summary>A feature vector as stored: invariant round-trip numbers, comma-separated (NaN for a missing value).</summary>
    public static string FormatFeatures(IReadOnlyList<float> features) =>
        string.Join(',', features.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    public static float[] ParseFeatures(string text) =>
        [.. text.Split(',').Select(v => float.Parse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// A patient payment, keyed by the position in the event log of the event that posted it; it counts for every score
    /// of the account whose window it falls in.
    /// </summary>
    public sealed record Payment(string EventId, long LogPosition, string AccountId, long Cents, DateTimeOffset PaidAt);

    /// <summary>Records scores and payments in one transaction; each is ignored if already recorded, so a replay changes nothing.</summary>
    public async Task RecordAsync(IReadOnlyList<FirstScore> scores, IReadOnlyList<Payment> payments, CancellationToken cancellationToken = default)
    {
        if (scores.Count == 0 && payments.Count == 0) return;
        var statements = database.Provider == DatabaseProvider.PostgreSql ? PostgresStatements(scores, payments) : SqliteStatements(scores, payments);
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await database.ExecuteAsync(connection, transaction, statements);
        await transaction.CommitAsync(cancellationToken);
    }

    private const string InsertScoreSql = """
        INSERT INTO score_outcome (account_id, model_version, challenger, scored_at, probability, patient_balance_cents, collected_cents, window_ends_at)
        VALUES (@account, @version, @challenger, @scored_at, @probability, @balance, 0, @window_ends_at)
        ON CONFLICT (account_id, model_version) DO NOTHING
        """;

    private const string InsertFeaturesSql = """
        INSERT INTO score_features (account_id, model_version, features) VALUES (@account, @version, @features)
        ON CONFLICT (account_id, model_version) DO NOTHING
        """;

    // Unique on the event's log position, which grows, so each new key goes at the index's right edge (its event id,
    // a hash, put each payment on a random page). No conflict target is named: a PostgreSQL database made before
    // 2026-12-07 keeps its primary key on event_id until a later release (docs/operations.md).
    private const string InsertPaymentSql = """
        INSERT INTO score_outcome_payment (event_id, log_position, account_id, cents, paid_at) VALUES (@event, @position, @account, @amount, @paid_at)
        ON CONFLICT DO NOTHING
        """;

    private List<SqlStatement> SqliteStatements(IReadOnlyList<FirstScore> scores, IReadOnlyList<Payment> payments) =>
    [
        .. scores.Select(s => new SqlStatement(InsertScoreSql,
            [("account", s.AccountId), ("version", s.ModelVersion), ("challenger", s.Challenger ? 1 : 0), ("scored_at", database.Timestamp(s.ScoredAt)),
             ("probability", s.Probability), ("balance", s.PatientBalanceCents), ("window_ends_at", database.Timestamp(s.WindowEndsAt))])),
        .. scores.Where(s => s.Features.Count > 0).Select(s => new SqlStatement(InsertFeaturesSql,
            [("account", s.AccountId), ("version", s.ModelVersion), ("features", FormatFeatures(s.Features))])),
        .. payments.Select(p => new SqlStatement(InsertPaymentSql,
            [("event", p.EventId), ("position", p.LogPosition), ("account", p.AccountId), ("amount", p.Cents), ("paid_at", database.Timestamp(p.PaidAt))])),
    ];

    /// <summary>
    /// PostgreSQL: each table's rows in one statement (each column an array). Every insert keeps what is recorded
    /// already, so a row given twice is kept once, the first, as one by one.
    /// </summary>
    private static List<SqlStatement> PostgresStatements(IReadOnlyList<FirstScore> scores, IReadOnlyList<Payment> payments)
    {
        var statements = new List<SqlStatement>();
        if (scores.Count > 0)
            statements.Add(new(InsertScoreArraysSql,
            [
                SqlStatements.ArrayOf("account", scores, s => s.AccountId), SqlStatements.ArrayOf("version", scores, s => s.ModelVersion),
                SqlStatements.ArrayOf("challenger", scores, s => s.Challenger), SqlStatements.ArrayOf("scored_at", scores, s => s.ScoredAt.ToUniversalTime()),
                SqlStatements.ArrayOf("probability", scores, s => s.Probability), SqlStatements.ArrayOf("balance", scores, s => s.PatientBalanceCents),
                SqlStatements.ArrayOf("window_ends_at", scores, s => s.WindowEndsAt.ToUniversalTime()),
            ]));
        var featured = scores.Where(s => s.Features.Count > 0).ToList();
        if (featured.Count > 0)
            statements.Add(new(InsertFeaturesArraysSql,
            [
                SqlStatements.ArrayOf("account", featured, s => s.AccountId), SqlStatements.ArrayOf("version", featured, s => s.ModelVersion),
                SqlStatements.ArrayOf("features", featured, s => FormatFeatures(s.Features)),
            ]));
        if (payments.Count > 0)
            statements.Add(new(InsertPaymentArraysSql,
            [
                SqlStatements.ArrayOf("event", payments, p => p.EventId), SqlStatements.ArrayOf("position", payments, p => p.LogPosition),
                SqlStatements.ArrayOf("account", payments, p => p.AccountId),
                SqlStatements.ArrayOf("amount", payments, p => p.Cents), SqlStatements.ArrayOf("paid_at", payments, p => p.PaidAt.ToUniversalTime()),
            ]));
        return statements;
    }

    private const string InsertScoreArraysSql = """
        INSERT INTO score_outcome (account_id, model_version, challenger, scored_at, probability, patient_balance_cents, collected_cents, window_ends_at)
        SELECT a.account, a.version, a.challenger, a.scored_at, a.probability, a.balance, 0, a.window_ends_at
        FROM unnest(@account::text[], @version::text[], @challenger::boolean[], @scored_at::timestamptz[], @probability::double precision[],
                    @balance::bigint[], @window_ends_at::timestamptz[]) AS a(account, version, challenger, scored_at, probability, balance, window_ends_at)
        ON CONFLICT (account_id, model_version) DO NOTHING
        """;

    private const string InsertFeaturesArraysSql = """
        INSERT INTO score_features (account_id, model_version, features) SELECT * FROM unnest(@account::text[], @version::text[], @features::text[])
        ON CONFLICT (account_id, model_version) DO NOTHING
        """;

    private const string InsertPaymentArraysSql = """
        INSERT INTO score_outcome_payment (event_id, log_position, account_id, cents, paid_at)
        SELECT * FROM unnest(@event::text[], @position::bigint[], @account::text[], @amount::bigint[], @paid_at::timestamptz[])
        ON CONFLICT DO NOTHING
        """;

    /// <summary>Forgets every recorded score and payment (before a rebuild of the projection from the event log).</summary>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.Command("DELETE FROM score_features; DELETE FROM score_outcome_payment; DELETE FROM score_outcome;").ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The feature vectors of the accounts <paramref name="modelVersion"/> scored: a random sample of at most <paramref name="limit"/> (drift).</summary>
    public async Task<IReadOnlyList<float[]>> ReadFeaturesAsync(string modelVersion, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT features FROM score_features WHERE model_version = @version ORDER BY random() LIMIT @limit")
            .WithParameter("version", modelVersion).WithParameter("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var vectors = new List<float[]>();
        while (await reader.ReadAsync(cancellationToken)) vectors.Add(ParseFeatures(reader.GetString(0)));
        return vectors;
    }

    public async Task<IReadOnlyList<ScoreOutcomeRow>> ReadAsync(string modelVersion, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            """
            SELECT o.account_id, o.model_version, o.challenger, o.scored_at, o.probability, o.patient_balance_cents,
                   CAST(COALESCE((SELECT SUM(p.cents) FROM score_outcome_payment p
                             WHERE p.account_id = o.account_id AND p.paid_at >= o.scored_at AND p.paid_at <= o.window_ends_at), 0) AS BIGINT),
                   o.window_ends_at
            FROM score_outcome o WHERE o.model_version = @version
            """);
        command.WithParameter("version", modelVersion);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ScoreOutcomeRow>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new ScoreOutcomeRow(reader.GetString(0), reader.GetString(1),
                database.Provider == DatabaseProvider.Sqlite ? reader.GetInt64(2) != 0 : reader.GetBoolean(2),
                database.ReadTimestamp(reader, 3), reader.GetDouble(4), reader.GetInt64(5), reader.GetInt64(6), database.ReadTimestamp(reader, 7)));
        return rows;
    }
}
