using System.Security.Cryptography;
using Collections.Persistence;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>A payment link issued for a message and not stored yet: the outbox stores it with the message.</summary>
public sealed record IssuedPayLink(string Code, string GuarantorId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, string Url);

/// <summary>A payment link: the code (printed on statements as the statement code) and the address it opens.</summary>
public sealed record PayLink(string Code, string Url)
{
    /// <summary>The code as printed for typing: three groups of five.</summary>
    public string Printed => PayLinks.Printed(Code);
}

/// <summary>
/// The short link every statement, email and text carries to the self-service page (<c>{PublicBaseUrl}/p/{code}</c>),
/// and the statement code printed beside it for patients who type it at <c>/pay</c>. A code is 12 random characters
/// and 3 check characters (an HMAC with the link key, so a made-up code is refused without a database read), in
/// Crockford's base 32 (no I, L, O or U; read case-blind, O as 0, I and L as 1). It names one guarantor, expires
/// (<c>Collections:Portal:LinkLifetimeDays</c>), and opens nothing by itself: the page asks for the date of birth.
/// </summary>
public sealed class PayLinks(DatabaseOptions database, SignedLinks links, IOptions<OutreachOptions> options, TimeProvider clock, PortalLinkLifetime lifetime)
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const string Purpose = "pay-link";

    /// <summary>Whether the self-service page is on (its links go in messages).</summary>
    public bool Enabled => lifetime.Enabled;

    public string UrlFor(string code) => $"{options.Value.PublicBaseUrl.TrimEnd('/')}/p/{code}";

    /// <summary>
    /// A new link for a message to carry, not stored yet: the outbox stores it with the message, in the transaction that
    /// stores the message (<see cref="IOutboxStore.AddAsync(OutboxMessage, IssuedPayLink?, CancellationToken)"/>, or the
    /// guarantor's through <see cref="IOutboxStore.AddInTransactionAsync"/>), so no link is kept for a message that was not.
    /// </summary>
    public async Task<IssuedPayLink> IssueAsync(string guarantorId, CancellationToken cancellationToken = default)
    {
        var random = new char[12];
        for (var i = 0; i < random.Length; i++) random[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        var code = new string(random) + await CheckAsync(new string(random), cancellationToken);
        var now = clock.GetUtcNow();
        return new IssuedPayLink(code, guarantorId, now, now + lifetime.Value, UrlFor(code));
    }

    /// <summary>The link a message carries, or null (sent before links existed, or by a facility without the page).</summary>
    public async Task<PayLink?> FindByMessageAsync(string messageId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var code = await connection.Command("SELECT code FROM portal_link WHERE message_id = @message").WithParameter("message", messageId).ExecuteScalarAsync(cancellationToken) as string;
        return code is null ? null : new PayLink(code, UrlFor(code));
    }

    /// <summary>The guarantor a genuine, unexpired code names, or null (typed or followed: dashes, spaces and case do not matter).</summary>
    public async Task<string?> GuarantorAsync(string? typed, CancellationToken cancellationToken = default)
    {
        if (Normalize(typed) is not { } code) return null;
        if (await CheckAsync(code[..12], cancellationToken) != code[12..]) return null;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command("SELECT guarantor_id, expires_at FROM portal_link WHERE code = @code").WithParameter("code", code).ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return reader.GetInt64(1) > clock.GetUtcNow().ToUnixTimeSeconds() ? reader.GetString(0) : null;
    }

    /// <summary>A code as typed, in its stored form; null when it cannot be one.</summary>
    public static string? Normalize(string? typed)
    {
        if (string.IsNullOrWhiteSpace(typed) || typed.Length > 40) return null;
        var chars = new List<char>(15);
        foreach (var c in typed.ToUpperInvariant())
        {
            if (c is '-' or ' ') continue;
            var mapped = c switch { 'O' => '0', 'I' or 'L' => '1', _ => c };
            if (!Alphabet.Contains(mapped, StringComparison.Ordinal)) return null;
            chars.Add(mapped);
        }
        return chars.Count == 15 ? new string([.. chars]) : null;
    }

    public static string Printed(string code) => code.Length == 15 ? $"{code[..5]}-{code[5..10]}-{code[10..]}" : code;

    private async Task<string> CheckAsync(string random, CancellationToken cancellationToken)
    {
        var mac = await links.MacAsync(Purpose, random, cancellationToken);
        var bits = (mac[0] << 16) | (mac[1] << 8) | mac[2];
        return new string([Alphabet[(bits >> 10) & 31], Alphabet[(bits >> 5) & 31], Alphabet[bits & 31]]);
    }
}

/// <summary>
/// How long a payment link stays good (<c>Collections:Portal:LinkLifetimeDays</c>, default 90), and whether messages
/// carry links at all (<c>Collections:Portal:Enabled</c>; false: the facility's PayUrl, and no self-service page).
/// </summary>
public sealed record PortalLinkLifetime(TimeSpan Value, bool Enabled = true);
