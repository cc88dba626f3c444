using System.Net;
using System.Net.Sockets;

namespace Collections.Outreach.Webhooks;

/// <summary>
/// Where outbound webhooks may go. A subscriber names a URL; without these rules that URL could aim the engine at the
/// network it runs in (a cloud metadata service at 169.254.169.254, an admin port on localhost, a database on 10.x).
/// Public addresses only: loopback, private (RFC 1918), shared (100.64/10), link-local, unique-local (fc00::/7),
/// site-local, unspecified, multicast, broadcast, documentation and benchmarking ranges are refused, also when they are
/// written as a decimal or hexadecimal number, an IPv4-mapped IPv6 address, NAT64 or 6to4. The check runs when a
/// subscription is made (literal address and DNS answer) and again at every connection (<see cref="ConnectAsync"/>),
/// so a name that later resolves inside the network (DNS rebinding) is refused as well.
/// An administrator allows named on-premise receivers in <c>Collections:Webhooks:AllowedPrivateTargets</c>: a host
/// name (its addresses may then be private, and http is allowed to it), an address, or a CIDR range.
/// </summary>
public sealed class WebhookTargets
{
    private readonly HashSet<string> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(IPAddress Network, int Prefix)> _ranges = [];

    public WebhookTargets(IEnumerable<string>? allowedPrivateTargets)
    {
        foreach (var raw in allowedPrivateTargets ?? [])
        {
            var entry = raw?.Trim() ?? "";
            if (entry.Length == 0) continue;
            if (TryParseRange(entry, out var range)) _ranges.Add(range);
            else _hosts.Add(entry.TrimEnd('.'));
        }
    }

    /// <summary>Parses an allow-list entry: an address or CIDR range (false for a host name).</summary>
    public static bool TryParseRange(string entry, out (IPAddress Network, int Prefix) range)
    {
        range = default;
        var slash = entry.IndexOf('/');
        var addressText = slash < 0 ? entry : entry[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || !LooksLikeAddress(addressText)) return false;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(entry[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > max))
            return false;
        range = (address, prefix);
        return true;
    }

    /// <summary>
    /// Why this URL may not be subscribed, or null when it may. Checks the form only (scheme, credentials, a literal
    /// address, a local name); <see cref="CheckResolvedAsync"/> checks what a host name resolves to.
    /// </summary>
    public string? CheckUrl(Uri uri)
    {
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "The url must not carry credentials.";
        var host = Host(uri);
        var allowedHost = IsAllowedHost(host);
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && (allowedHost || (LiteralAddress(host) is { } a && IsAllowedAddress(a)))))
            return "The url must be https (http only to a receiver an administrator allowed in Collections:Webhooks:AllowedPrivateTargets).";
        if (LiteralAddress(host) is { } address)
            return MayConnect(host, address) ? null : $"The url points at a {Describe(address)} address; webhooks go to public addresses only (an administrator may allow an on-premise receiver in Collections:Webhooks:AllowedPrivateTargets).";
        if (!allowedHost && (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)))
            return "The url points at this machine (localhost); webhooks go to public addresses only.";
        if (!host.Contains('.') && !allowedHost)
            return "The url needs a fully qualified host name (a single-label name resolves inside the network).";
        return null;
    }

    /// <summary>
    /// Resolves a host name and refuses it when any address it resolves to may not be reached. A name that does not
    /// resolve (yet) passes: every connection is checked again.
    /// </summary>
    public async Task<string?> CheckResolvedAsync(Uri uri, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var host = Host(uri);
        if (LiteralAddress(host) is not null || IsAllowedHost(host)) return null;
        IPAddress[] addresses;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            addresses = await Dns.GetHostAddressesAsync(host, limit.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        var refused = addresses.FirstOrDefault(a => !MayConnect(host, a));
        return refused is null ? null : $"The url's host resolves to a {Describe(refused)} address; webhooks go to public addresses only (an administrator may allow an on-premise receiver in Collections:Webhooks:AllowedPrivateTargets).";
    }

    /// <summary>True when a connection to <paramref name="address"/>, reached through <paramref name="host"/>, is allowed.</summary>
    public bool MayConnect(string host, IPAddress address) => IsPublic(address) || IsAllowedHost(host) || IsAllowedAddress(address);

    /// <summary>
    /// The outbound client's connect step: resolves the host, drops every address that may not be reached, and connects
    /// to the first that answers. No allowed address: <see cref="WebhookTargetRefusedException"/> (a permanent failure).
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => MayConnect(host, a)).ToArray();
        if (allowed.Length == 0)
            throw new WebhookTargetRefusedException(addresses.Length == 0 ? "the host has no address" : $"the host resolves to a {Describe(addresses[0])} address");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The handler for outbound webhooks: every connection checked, no proxy, no redirects (a redirect could point inside).</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        ConnectCallback = ConnectAsync,
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2), // resolve again now and then
    };

    private bool IsAllowedHost(string host) => _hosts.Count > 0 && _hosts.Contains(host.TrimEnd('.'));

    private bool IsAllowedAddress(IPAddress address)
    {
        address = Unmap(address);
        return _ranges.Any(r => InRange(address, Unmap(r.Network), r.Prefix));
    }

    private static string Host(Uri uri) => uri.IdnHost.Trim('[', ']');

    /// <summary>The address a host part names literally, in any form a resolver would take (2852039166, 0xA9FEA9FE, 169.254.169.254).</summary>
    private static IPAddress? LiteralAddress(string host) =>
        IPAddress.TryParse(host, out var address) && LooksLikeAddress(host) ? address : null;

    // IPAddress.TryParse also takes "1" or "0x1" style numbers: those are addresses too (a resolver reads them so),
    // but a host name with letters that happens to parse (it cannot, except hex) is checked the same way.
    private static bool LooksLikeAddress(string text) => text.Length > 0 && (text.Contains(':') || text.All(c => char.IsAsciiHexDigit(c) || c is '.' or 'x' or 'X'));

    /// <summary>True for an address on the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        address = Unmap(address);
        if (address.AddressFamily == AddressFamily.InterNetwork) return !ReservedV4.Any(r => InRange(address, r.Network, r.Prefix));
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || IPAddress.IPv6Loopback.Equals(address) || IPAddress.IPv6None.Equals(address))
            return false;
        var bytes = address.GetAddressBytes();
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
        if (InRange(address, Nat64, 96)) return IsPublic(new IPAddress(bytes[12..16]));
        if (bytes[0] == 0x20 && bytes[1] == 0x02) return IsPublic(new IPAddress(bytes[2..6]));
        return !ReservedV6.Any(r => InRange(address, r.Network, r.Prefix));
    }

    private static string Describe(IPAddress address)
    {
        address = Unmap(address);
        if (IPAddress.IsLoopback(address)) return "loopback";
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return "unspecified";
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal ? "link-local" : address.IsIPv6UniqueLocal ? "unique-local" : address.IsIPv6Multicast ? "multicast" : "non-public";
        var b = address.GetAddressBytes();
        return b[0] switch
        {
            10 => "private",
            172 when b[1] is >= 16 and < 32 => "private",
            192 when b[1] == 168 => "private",
            169 when b[1] == 254 => "link-local",
            >= 224 => "multicast or reserved",
            _ => "non-public",
        };
    }

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool InRange(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily) return false;
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        var full = prefix / 8;
        for (var i = 0; i < full; i++)
            if (a[i] != n[i]) return false;
        var rest = prefix % 8;
        if (rest == 0) return true;
        var mask = (byte)(0xFF << (8 - rest));
        return (a[full] & mask) == (n[full] & mask);
    }

    private static readonly IPAddress Nat64 = IPAddress.Parse("64:ff9b::");

    private static readonly (IPAddress Network, int Prefix)[] ReservedV4 = Ranges(
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4");

    // :: and ::1, IPv4-compatible (::/96), discard-only, Teredo, ORCHIDv2, documentation; the rest is judged above.
    private static readonly (IPAddress Network, int Prefix)[] ReservedV6 = Ranges(
        "::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:20::/28", "2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8");

    private static (IPAddress, int)[] Ranges(params string[] cidrs) => cidrs.Select(c =>
    {
        var parts = c.Split('/');
        return (IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }).ToArray();
}

/// <summary>A webhook connection refused because its target is not a public address (and not allowed by an administrator).</summary>
public sealed class WebhookTargetRefusedException(string reason) : IOException($"webhook target refused: {reason}");
