using Collections.Persistence;
using Microsoft.Extensions.Options;

namespace Collections.Outreach;

/// <summary>
/// The opt-out link in every email (and its <c>List-Unsubscribe</c> header, RFC 8058 one-click): a signed link to
/// <c>{PublicBaseUrl}/optout/email/{token}</c> that stops emails to that guarantor, without signing in.
/// </summary>
public sealed class EmailOptOutLinks(SignedLinks links, IOptions<OutreachOptions> options)
{
    public const string Purpose = "optout-email";

    public async Task<string> UrlAsync(string guarantorId, CancellationToken cancellationToken = default) =>
        $"{options.Value.PublicBaseUrl.TrimEnd('/')}/optout/email/{await links.TokenAsync(Purpose, guarantorId, cancellationToken)}";

    /// <summary>The guarantor a genuine opt-out token names, or null.</summary>
    public Task<string?> GuarantorAsync(string token, CancellationToken cancellationToken = default) => links.VerifyAsync(Purpose, token, cancellationToken);
}
