using System.Collections.Concurrent;
using System.Net;
using Collections.Hosting;

namespace Collections.Gateway.Security;

/// <summary>
/// Slows down guessing of API keys: a client address that fails authentication
/// <see cref="EngineSettings.FailedAuthenticationsPerMinute"/> times within a minute is refused for
/// <see cref="EngineSettings.AuthenticationLockoutSeconds"/> (429 with <c>Retry-After</c>), with or without a valid
/// key, so a guess that happens to succeed during the lockout is not learned. Kept in this gateway's memory: behind
/// several gateways each counts its own (the limit per address is then at most that many times higher).
/// </summary>
public sealed class FailedAuthenticationThrottle(EngineSettings settings, TimeProvider clock)
    : AddressThrottle(() => settings.FailedAuthenticationsPerMinute, TimeSpan.FromMinutes(1), () => TimeSpan.FromSeconds(Math.Max(1, settings.AuthenticationLockoutSeconds)), clock);

/// <summary>
/// The self-service page's limit per client address on wrong dates of birth (<see cref="Domain.Payments.PortalAccessRules.MaxFailuresPerAddress"/>
/// within its window locks the address out for the lockout), beside the limit per person the portal grain keeps.
/// </summary>
public sealed class PortalAddressThrottle(Domain.Payments.PortalAccessRules rules, TimeProvider clock)
    : AddressThrottle(() => rules.MaxFailuresPerAddress, rules.Window, () => rules.Lockout, clock);

/// <summary>Failures counted per client address in a sliding window; too many start a lockout. In this process's memory.</summary>
public class AddressThrottle(Func<int> limit, TimeSpan window, Func<TimeSpan> lockout, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Tally> _tallies = new();

    private sealed class Tally
    {
        public readonly Queue<DateTimeOffset> Failures = new();
        public DateTimeOffset? LockedUntil;
    }

    /// <summary>When this address may try again, or null when it is not locked out.</summary>
    public DateTimeOffset? LockedUntil(IPAddress? address)
    {
        if (!_tallies.TryGetValue(Key(address), out var tally)) return null;
        lock (tally)
            return tally.LockedUntil is { } until && until > clock.GetUtcNow() ? until : null;
    }

    /// <summary>Counts a failure; returns the end of the lockout it starts, if this failure starts one.</summary>
    public DateTimeOffset? RecordFailure(IPAddress? address)
    {
        var now = clock.GetUtcNow();
        if (_tallies.Count > 100_000) Prune(now);
        var tally = _tallies.GetOrAdd(Key(address), _ => new Tally());
        lock (tally)
        {
            while (tally.Failures.Count > 0 && now - tally.Failures.Peek() >= window) tally.Failures.Dequeue();
            tally.Failures.Enqueue(now);
            if (tally.Failures.Count < Math.Max(1, limit()) || tally.LockedUntil > now) return null;
            tally.Failures.Clear();
            tally.LockedUntil = now + lockout();
            return tally.LockedUntil;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, tally) in _tallies)
            lock (tally)
                if (!(tally.LockedUntil > now) && (tally.Failures.Count == 0 || now - tally.Failures.Last() >= window))
                    _tallies.TryRemove(key, out _);
    }

    /// <summary>An IPv4 address, or an IPv6 address's /64 (one subscriber gets a whole /64: rotating within it is one client).</summary>
    private static string Key(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4().ToString();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
