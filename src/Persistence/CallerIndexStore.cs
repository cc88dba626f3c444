namespace Collections.Persistence;

/// <summary>
/// The caller index (deploy/sql/*/158-caller-index.sql): each guarantor with an account under a keyed hash of their
/// date of birth and last name, written by the caller-index projection, read by the agents' caller search.
/// </summary>
public sealed class CallerIndexStore(DatabaseOptions database, SignedLinks links)
{
    /// <summary>The most guarantors one search returns ids for.</summary>
    public const int MaxMatches = 50;

    private const string Purpose = "caller-search";

    /// <summary>The search key of a date of birth and a last name as <c>Text.NameKey</c> gives it (the link key's HMAC, hex).</summary>
    public async Task<string> KeyAsync(DateOnly dateOfBirth, string lastNameKey, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(await links.MacAsync(Purpose, $"{dateOfBirth:yyyy-MM-dd}|{lastNameKey}", cancellationToken));

    /// <summary>Which of <paramref name="guarantorIds"/> are indexed already.</summary>
    public async Task<IReadOnlySet<string>> KnownAsync(IReadOnlyCollection<string> guarantorIds, CancellationToken cancellationToken = default)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        if (guarantorIds.Count == 0) return known;
        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in guarantorIds.Chunk(200))
        {
            var names = string.Join(", ", chunk.Select((_, i) => $"@g{i}"));
            await using var command = connection.Command($"SELECT guarantor_id FROM caller_index WHERE guarantor_id IN ({names})");
            for (var i = 0; i < chunk.Length; i++) command.WithParameter($"g{i}", chunk[i]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) known.Add(reader.GetString(0));
        }
        return known;
    }

    public async Task SaveAsync(IReadOnlyList<(string GuarantorId, string SearchKey)> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return;
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.PostgreSql)
        {
            // One statement for the batch; a guarantor given twice keeps the last key, as one by one would.
            var last = SqlStatements.LastPerKey(rows, r => r.GuarantorId);
            await database.ExecuteAsync(connection, transaction,
                [new SqlStatement(InsertArraysSql + ReplaceKeySql, [SqlStatements.ArrayOf("guarantor", last, r => r.GuarantorId), SqlStatements.ArrayOf("key", last, r => r.SearchKey)])]);
        }
        else
        {
            await database.ExecuteAsync(connection, transaction,
                rows.Select(r => new SqlStatement(InsertSql + ReplaceKeySql, [("guarantor", r.GuarantorId), ("key", r.SearchKey)])));
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private const string InsertSql = "INSERT INTO caller_index (guarantor_id, search_key) VALUES (@guarantor, @key)";
    private const string InsertArraysSql = "INSERT INTO caller_index (guarantor_id, search_key) SELECT * FROM unnest(@guarantor::text[], @key::text[])";
    private const string ReplaceKeySql = " ON CONFLICT (guarantor_id) DO UPDATE SET search_key = excluded.search_key";

    /// <summary>The guarantors indexed under <paramref name="searchKey"/> (at most <see cref="MaxMatches"/>).</summary>
    public async Task<IReadOnlyList<string>> FindAsync(string searchKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT guarantor_id FROM caller_index WHERE search_key = @key ORDER BY guarantor_id LIMIT @limit")
            .WithParameter("key", searchKey).WithParameter("limit", MaxMatches);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenRederivableAsync(cancellationToken);
        await connection.Command("DELETE FROM caller_index").ExecuteNonQueryAsync(cancellationToken);
    }
}
