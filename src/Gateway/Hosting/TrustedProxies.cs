using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Collections.Hosting;

/// <summary>
/// Behind a load balancer or an ingress, every request arrives from the proxy's address: the failed-authentication
/// lockout, the patients' page's per-address limits and the audit trail would all see one client. With the proxies
/// named (<c>Collections:ForwardedHeaders:KnownProxies</c>, addresses; <c>KnownNetworks</c>, CIDR ranges such as the
/// cluster's pod network), the client address and scheme are taken from <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c>, but only from those proxies and only their last hop (<c>ForwardLimit</c>, default 1).
/// Without them the headers are ignored: a client could otherwise name any address it liked.
/// </summary>
public static class TrustedProxies
{
    private const string Section = "Collections:ForwardedHeaders";

    public static void AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = Values(configuration, "KnownProxies").Select(p =>
            IPAddress.TryParse(p, out var address) ? address
                : throw new InvalidOperationException($"{Section}:KnownProxies: '{p}' is not an IP address.")).ToList();
        var networks = Values(configuration, "KnownNetworks").Select(n =>
            System.Net.IPNetwork.TryParse(n, out var network) ? network
                : throw new InvalidOperationException($"{Section}:KnownNetworks: '{n}' is not a CIDR range (such as 10.0.0.0/8).")).ToList();
        if (proxies.Count == 0 && networks.Count == 0) return;
        var limit = configuration.GetValue($"{Section}:ForwardLimit", 1);
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = limit;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in proxies) o.KnownProxies.Add(proxy);
            foreach (var network in networks) o.KnownIPNetworks.Add(network);
        });
    }

    /// <summary>The non-empty values of a list setting (an empty one, as a template leaves it, means none).</summary>
    private static List<string> Values(IConfiguration configuration, string name) =>
        (configuration.GetSection($"{Section}:{name}").Get<string[]>() ?? []).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim()).ToList();
}
