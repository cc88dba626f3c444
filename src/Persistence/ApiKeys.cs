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

public sealed record ApiKeyRecord(string KeyId, string Name, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt);

/// <summary>
/// API keys: <c>ck_&lt;id&gt;_&lt;secret&gt;</c>. Only a SHA-256 hash of the secret is stored (the secret is 256 random bits,
/// so a fast hash is enough); the full key is shown once, when it is created.
/// </summary>
public sealed class ApiKeyStore(DatabaseOptions database, TimeProvider clock)
{
    private const string Prefix = "ck_";

    public async Task<(ApiKeyRecord Record, string Token)> CreateAsync(string name, string role, string createdBy, CancellationToken cancellationToken = default)
    {
        if (!Roles.All.Contains(role)) throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var record = new ApiKeyRecord(keyId, name, role, clock.GetUtcNow(), createdBy, null);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.Command(
                "INSERT INTO collections_api_key (key_id, secret_hash, name, role, created_at, created_by) VALUES (@key_id, @secret_hash, @name, @role, @created_at, @created_by)")
            .WithParameter("key_id", keyId).WithParameter("secret_hash", Hash(secret)).WithParameter("name", name)
            .WithParameter("role", role).WithParameter("created_at", database.Timestamp(record.CreatedAt)).WithParameter("created_by", createdBy)
            .ExecuteNonQueryAsync(cancellationToken);
        return (record, $"{Prefix}{keyId}_{secret}");
    }

    /// <summary>The key a bearer token belongs to, if it is genuine and not revoked.</summary>
    public async Task<ApiKeyRecord?> VerifyAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var parts = token[Prefix.Length..].Split('_', 2);
        if (parts.Length != 2 || parts[0].Length != 12 || parts[1].Length < 20) return null;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT key_id, name, role, created_at, created_by, revoked_at, secret_hash FROM collections_api_key WHERE key_id = @key_id");
        command.WithParameter("key_id", parts[0]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var record = Read(reader);
        var stored = Convert.FromHexString(reader.GetString(6));
        var presented = Convert.FromHexString(Hash(parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(stored, presented) || record.RevokedAt is not null) return null;
        return record;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT key_id, name, role, created_at, created_by, revoked_at FROM collections_api_key ORDER BY created_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken)) keys.Add(Read(reader));
        return keys;
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
    /// On a database with no usable admin key, creates one and writes it to <paramref name="keyFile"/> readable by the
    /// owner only. Returns true if a key was created.
    /// </summary>
    public async Task<bool> EnsureAdminKeyAsync(string keyFile, CancellationToken cancellationToken = default)
    {
        var keys = await ListAsync(cancellationToken);
        if (keys.Any(k => k.Role == Roles.Admin && k.RevokedAt is null)) return false;
        var (_, token) = await CreateAsync("bootstrap admin", Roles.Admin, "system:bootstrap", cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(keyFile, options))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteLineAsync(token);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return true;
    }

    private ApiKeyRecord Read(System.Data.Common.DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), database.ReadTimestamp(reader, 3), reader.GetString(4),
        reader.IsDBNull(5) ? null : database.ReadTimestamp(reader, 5));

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
