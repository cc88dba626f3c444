using System.Security.Cryptography;
using System.Text;

namespace Collections.Persistence;

/// <summary>
/// Links a patient follows without signing in (the opt-out link in every email) and the self-service page's session
/// cookie: the subject (a guarantor id, which names a patient's record) travels sealed with AES-256-GCM, the purpose
/// bound in as associated data, so a token opens only what it was made for, cannot be forged or turned to another
/// person, and shows nobody (a mail gateway's log, a proxy, a shared computer's cookies) whose it is. Tokens made before
/// (the subject in base64 with an HMAC-SHA256, in emails already sent) are still read. The key is
/// <c>Collections:Links:SigningKey</c> (base64, at least 32 bytes) when set, else one the engine makes on first use and
/// keeps in the database (table <c>collections_secret</c>), so every process sharing the database agrees.
/// </summary>
public sealed class SignedLinks(DatabaseOptions database, TimeProvider clock, string? configuredKey = null)
{
    private const string SecretName = "link-signing-key";
    private volatile byte[]? _key;
    private Task<byte[]>? _loading;

    private const int NonceSize = 12, TagSize = 16;
    private volatile byte[]? _sealingKey;

    /// <summary>A token carrying <paramref name="subject"/> for <paramref name="purpose"/>, sealed (base64url, no '.').</summary>
    public async Task<string> TokenAsync(string purpose, string subject, CancellationToken cancellationToken = default)
    {
        var key = await SealingKeyAsync(cancellationToken);
        var plain = Encoding.UTF8.GetBytes(subject);
        var token = new byte[NonceSize + plain.Length + TagSize];
        // The nonce is a MAC of what is sealed (synthetic, as in SIV): the same subject for the same purpose gives the
        // same token (an email's link and its List-Unsubscribe header agree), and a nonce never seals two plaintexts.
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"nonce\n{purpose}\n{subject}")).AsSpan(0, NonceSize).CopyTo(token);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(token.AsSpan(0, NonceSize), plain, token.AsSpan(NonceSize, plain.Length), token.AsSpan(NonceSize + plain.Length), Encoding.UTF8.GetBytes(purpose));
        return Base64Url(token);
    }

    /// <summary>The subject a genuine token for this purpose carries, or null.</summary>
    public async Task<string?> VerifyAsync(string purpose, string token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 400) return null;
        var dot = token.IndexOf('.');
        if (dot < 0) return await UnsealAsync(purpose, token, cancellationToken);
        // A token made before links were sealed: the subject in the clear, with its MAC.
        if (dot == 0) return null;
        byte[] subjectBytes, presented;
        try
        {
            subjectBytes = FromBase64Url(token[..dot]);
            presented = FromBase64Url(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
        var subject = Encoding.UTF8.GetString(subjectBytes);
        var expected = Mac(await KeyAsync(cancellationToken), purpose, subject);
        return CryptographicOperations.FixedTimeEquals(expected, presented) ? subject : null;
    }

    private async Task<string?> UnsealAsync(string purpose, string token, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = FromBase64Url(token);
        }
        catch (FormatException)
        {
            return null;
        }
        if (bytes.Length < NonceSize + TagSize) return null;
        var plain = new byte[bytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(await SealingKeyAsync(cancellationToken), TagSize);
            aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize, plain.Length), bytes.AsSpan(NonceSize + plain.Length), plain, Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null; // forged, altered, or made for another purpose
        }
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The sealing key: derived from the link key (HKDF-SHA256), so one configured secret serves both.</summary>
    private async Task<byte[]> SealingKeyAsync(CancellationToken cancellationToken) =>
        _sealingKey ??= HKDF.DeriveKey(HashAlgorithmName.SHA256, await KeyAsync(cancellationToken), 32, info: "collections link sealing"u8.ToArray());

    /// <summary>The link key's MAC over a purpose and a subject (for codes that carry their own check, e.g. payment links).</summary>
    public async Task<byte[]> MacAsync(string purpose, string subject, CancellationToken cancellationToken = default) =>
        Mac(await KeyAsync(cancellationToken), purpose, subject);

    private static byte[] Mac(byte[] key, string purpose, string subject) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{purpose}\n{subject}"))[..18];

    private async Task<byte[]> KeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } key) return key;
        // Two first callers may both load: both read the one stored key (the insert keeps the first). A failed load
        // (the database was down) is tried again by the next caller.
        var loading = _loading;
        if (loading is null || loading.IsFaulted || loading.IsCanceled) _loading = loading = LoadAsync();
        return _key = await loading.WaitAsync(cancellationToken);
    }

    private async Task<byte[]> LoadAsync()
    {
        if (!string.IsNullOrWhiteSpace(configuredKey))
        {
            var given = Convert.FromBase64String(configuredKey.Trim());
            return given.Length >= 32 ? given : throw new InvalidOperationException("Collections:Links:SigningKey must be at least 32 bytes, base64-encoded.");
        }
        await using (await database.WriteTurnAsync())
        {
            await using var connection = await database.OpenAsync();
            var made = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var insert = database.Provider == DatabaseProvider.PostgreSql
                ? "INSERT INTO collections_secret (name, value, created_at) VALUES (@name, @value, @created_at) ON CONFLICT (name) DO NOTHING"
                : "INSERT OR IGNORE INTO collections_secret (name, value, created_at) VALUES (@name, @value, @created_at)";
            await connection.Command(insert).WithParameter("name", SecretName).WithParameter("value", made)
                .WithParameter("created_at", clock.GetUtcNow().ToString("O")).ExecuteNonQueryAsync();
            var stored = (string)(await connection.Command("SELECT value FROM collections_secret WHERE name = @name").WithParameter("name", SecretName).ExecuteScalarAsync())!;
            return Convert.FromBase64String(stored);
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
