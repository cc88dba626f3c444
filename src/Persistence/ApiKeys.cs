using System.Security.Cryptography;
using System.Text;

namespace Collections.Persistence;

/// <summary>What a caller may do. Enforced per endpoint by the gateway.</summary>
public static class Roles
{
    /// <summary>Manages keys and everything else.</summary>
    public const string Admin = "admin";
    /// <summary>Runs a collections team: policies, holds, reports, corrections.</summary>
    public const string Supervisor = "supervisor";
    /// <summary>Works accounts: reads them, takes payments, records outcomes.</summary>
    public const string Agent = "agent";
    /// <summary>A billing system or import feeding charges, payments and remittances.</summary>
    public const string Integration = "integration";
    /// <summary>The data team: exports training data, registers, promotes and rolls back scoring models.</summary>
    public const string DataTeam = "data-team";

    public static readonly IReadOnlyList<string> All = [Admin, Supervisor, Agent, Integration, DataTeam];
}

/// <param name="ExpiresAt">When the key stops working (null: it does not expire; revoke it to stop it).</param>
public sealed record ApiKeyRecord(string KeyId, string Name, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt = null)
{
    /// <summary>Whether the key has expired at <paramref name="now"/>.</summary>
    public bool HasExpired(DateTimeOffset now) => ExpiresAt is { } end && end <= now;

    /// <summary>A time as the answers and the audit name it: UTC, to the second (2027-01-06T09:00:00Z).</summary>
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// API keys: <c>ck_&lt;id&gt;_&lt;secret&gt;</c>. Only a SHA-256 hash of the secret is stored (the secret is 256 random bits,
/// so a fast hash is enough); the full key is shown once, when it is created.
/// </summary>
public sealed class ApiKeyStore(DatabaseOptions database, TimeProvider clock)
{
    private const string Prefix = "ck_";

    /// <summary>Creates a key for a role, expiring at <paramref name="expiresAt"/> (null: never); its token is returned once.</summary>
    public async Task<(ApiKeyRecord Record, string Token)> CreateAsync(string name, string role, string createdBy, DateTimeOffset? expiresAt = null,
        CancellationToken cancellationToken = default)
    {
        if (!Roles.All.Contains(role)) throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        // The times as the database keeps them (microseconds on PostgreSQL), so the answer and a later list agree.
        var record = new ApiKeyRecord(keyId, name, role, database.AsStored(clock.GetUtcNow()), createdBy, null,
            expiresAt is { } end ? database.AsStored(end) : null);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.Command(
                "INSERT INTO collections_api_key (key_id, secret_hash, name, role, created_at, created_by) VALUES (@key_id, @secret_hash, @name, @role, @created_at, @created_by)",
                transaction)
            .WithParameter("key_id", keyId).WithParameter("secret_hash", Hash(secret)).WithParameter("name", name)
            .WithParameter("role", role).WithParameter("created_at", database.Timestamp(record.CreatedAt)).WithParameter("created_by", createdBy)
            .ExecuteNonQueryAsync(cancellationToken);
        if (record.ExpiresAt is not null)
            await connection.Command("INSERT INTO collections_api_key_expiry (key_id, expires_at) VALUES (@key_id, @expires_at)", transaction)
                .WithParameter("key_id", keyId).WithParameter("expires_at", database.Timestamp(record.ExpiresAt!.Value))
                .ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (record, $"{Prefix}{keyId}_{secret}");
    }

    /// <summary>
    /// The key a bearer token belongs to, if it is genuine and not revoked. An expired key is returned too (see
    /// <see cref="ApiKeyRecord.HasExpired"/>), so that its holder can be told it expired rather than that it is wrong.
    /// </summary>
    public async Task<ApiKeyRecord?> VerifyAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var parts = token[Prefix.Length..].Split('_', 2);
        if (parts.Length != 2 || parts[0].Length != 12 || parts[1].Length < 20) return null;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {Columns}, k.secret_hash FROM collections_api_key k LEFT JOIN collections_api_key_expiry x ON x.key_id = k.key_id WHERE k.key_id = @key_id");
        command.WithParameter("key_id", parts[0]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var record = Read(reader);
        var stored = Convert.FromHexString(reader.GetString(7));
        var presented = Convert.FromHexString(Hash(parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(stored, presented) || record.RevokedAt is not null) return null;
        return record;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {Columns} FROM collections_api_key k LEFT JOIN collections_api_key_expiry x ON x.key_id = k.key_id ORDER BY k.created_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken)) keys.Add(Read(reader));
        return keys;
    }

    /// <summary>The ids of every revoked key (a hospital has tens of keys: the list is small).</summary>
    public async Task<IReadOnlySet<string>> RevokedKeyIdsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT key_id FROM collections_api_key WHERE revoked_at IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var revoked = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) revoked.Add(reader.GetString(0));
        return revoked;
    }

    /// <summary>Revokes a key; false if there is no such key.</summary>
    public async Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.Command("UPDATE collections_api_key SET revoked_at = COALESCE(revoked_at, @now) WHERE key_id = @key_id")
            .WithParameter("now", database.Timestamp(clock.GetUtcNow())).WithParameter("key_id", keyId)
            .ExecuteNonQueryAsync(cancellationToken);
        return rows > 0;
    }

    /// <summary>
    /// On a database with no usable admin key (none, or all revoked or expired), creates one, expiring at
    /// <paramref name="expiresAt"/> (null: never), and writes it to <paramref name="keyFile"/> readable by the owner
    /// only. Returns true if a key was created.
    /// </summary>
    public async Task<bool> EnsureAdminKeyAsync(string keyFile, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        var keys = await ListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        if (keys.Any(k => k.Role == Roles.Admin && k.RevokedAt is null && !k.HasExpired(now))) return false;
        var (_, token) = await CreateAsync("bootstrap admin", Roles.Admin, "system:bootstrap", expiresAt, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(keyFile, options))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteLineAsync(token);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return true;
    }

    private const string Columns = "k.key_id, k.name, k.role, k.created_at, k.created_by, k.revoked_at, x.expires_at";

    private ApiKeyRecord Read(System.Data.Common.DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), database.ReadTimestamp(reader, 3), reader.GetString(4),
        reader.IsDBNull(5) ? null : database.ReadTimestamp(reader, 5), reader.IsDBNull(6) ? null : database.ReadTimestamp(reader, 6));

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
