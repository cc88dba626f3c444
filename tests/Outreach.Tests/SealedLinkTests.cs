using System.Security.Cryptography;
using System.Text;
using Collections.Persistence;
using Microsoft.Extensions.Time.Testing;

namespace Collections.Outreach.Tests;

public sealed class SealedLinkTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static SignedLinks Links() =>
        new(DatabaseOptions.SqliteFile(Path.Combine(Directory.CreateTempSubdirectory("links-").FullName, "links.db")), new FakeTimeProvider(), Key);

    [Fact]
    public async Task A_link_opens_only_its_purpose_and_shows_nobody_whose_it_is()
    {
        var links = Links();

        var token = await links.TokenAsync("optout-email", "G-MARIA-1001");

        Assert.DoesNotContain('.', token);
        Assert.DoesNotContain("G-MARIA-1001", Encoding.UTF8.GetString(FromBase64Url(token)), StringComparison.Ordinal); // sealed, not encoded
        Assert.Equal(token, await links.TokenAsync("optout-email", "G-MARIA-1001")); // an email's link and its header agree
        Assert.NotEqual(token, await links.TokenAsync("optout-email", "G-MARIA-1002"));
        Assert.Equal("G-MARIA-1001", await links.VerifyAsync("optout-email", token));
        Assert.Null(await links.VerifyAsync("portal-session", token)); // another purpose
        var altered = FromBase64Url(token);
        altered[^1] ^= 1;
        Assert.Null(await links.VerifyAsync("optout-email", Base64Url(altered)));
        Assert.Null(await links.VerifyAsync("optout-email", token[..20]));
    }

    [Fact]
    public async Task A_link_made_before_links_were_sealed_still_opens_what_it_was_made_for()
    {
        // The earlier form, as emails already sent carry it: the subject in base64url, then an HMAC-SHA256 over the
        // purpose and the subject with the link key (its first 18 bytes).
        var mac = HMACSHA256.HashData(Convert.FromBase64String(Key), Encoding.UTF8.GetBytes("optout-email\nG-OLD-7"))[..18];
        var earlier = $"{Base64Url(Encoding.UTF8.GetBytes("G-OLD-7"))}.{Base64Url(mac)}";

        Assert.Equal("G-OLD-7", await Links().VerifyAsync("optout-email", earlier));
        Assert.Null(await Links().VerifyAsync("portal-session", earlier));
        Assert.Null(await Links().VerifyAsync("optout-email", $"{Base64Url(Encoding.UTF8.GetBytes("G-OTHER"))}.{Base64Url(mac)}"));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
