using Collections.Persistence;

namespace Collections.Hosting;

/// <summary>The engine's settings (configuration section <c>Collections</c>): appsettings.json, then environment
/// variables (<c>Collections__Profile=cluster</c>), then the command line (<c>--profile cluster</c>).</summary>
public sealed class EngineSettings
{
    public const string Section = "Collections";

    /// <summary><c>local</c>: one process, SQLite, gateway co-hosted. <c>cluster</c>: PostgreSQL, separate silos and gateways.</summary>
    public string Profile { get; set; } = "local";

    /// <summary>Where the local profile keeps its database, the bootstrap admin key and log files.</summary>
    public string DataFolder { get; set; } = "./data";

    /// <summary>PostgreSQL connection string (cluster profile). When set in the local profile, it replaces SQLite.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Orleans cluster id: silos and gateways with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "collections";

    /// <summary>Orleans service id: stays the same across deployments, it keys grain state and reminders.</summary>
    public string ServiceId { get; set; } = "collections";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port on which cluster clients (gateways) reach the silo.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos and gateways use to reach this silo: an IP address, or a host name resolved at start
    /// (a container's own name in compose). In Kubernetes, the pod's IP from the downward API.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The silo's name in the membership table and the dashboard (default: the host name; in Kubernetes, the pod's name).</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// How long a stopping process may take to hand its grains over and finish requests in flight. Kubernetes'
    /// <c>terminationGracePeriodSeconds</c> must be longer.
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = 60;

    /// <summary>The advertised address as an IP address, resolving a host name (IPv4 first) when it is one.</summary>
    public System.Net.IPAddress ResolveAdvertisedAddress()
    {
        if (System.Net.IPAddress.TryParse(AdvertisedAddress, out var address)) return address;
        var found = System.Net.Dns.GetHostAddresses(AdvertisedAddress);
        return found.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? found.FirstOrDefault()
            ?? throw new InvalidOperationException($"Collections:AdvertisedAddress {AdvertisedAddress}: the name resolves to no address.");
    }

    /// <summary>Whether this silo also serves the HTTP API (default: yes in the local profile, no in the cluster profile).</summary>
    public bool? HostGateway { get; set; }

    /// <summary>Seconds a verified API key is remembered before it is checked against the database again.</summary>
    public int ApiKeyCacheSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds between two reads of the revoked keys' ids: a remembered key revoked through another gateway stops
    /// within this (one revoked through this gateway stops at once).
    /// </summary>
    public int ApiKeyRevocationCheckSeconds { get; set; } = 2;

    /// <summary>
    /// The longest an API key created from now on may live, in days (null: keys need not expire). Set, it is also the
    /// lifetime of a key created without one, the first admin key's included (a new one is made at start once none
    /// works). Keys made before it was set keep their own expiry.
    /// </summary>
    public int? ApiKeyMaxLifetimeDays { get; set; }

    /// <summary>Ten years: the longest lifetime a key may be given.</summary>
    public const int LongestKeyDays = 3650;

    /// <summary>When a key created at <paramref name="now"/> expires: after the days asked for, else the longest allowed, else never.</summary>
    public DateTimeOffset? NewKeyExpiry(DateTimeOffset now, int? days) => (days ?? ApiKeyMaxLifetimeDays) is { } d ? now.AddDays(d) : null;

    /// <summary>
    /// Whether a key still working at <paramref name="now"/> lives longer than <see cref="ApiKeyMaxLifetimeDays"/> allows:
    /// one made before the setting, with no expiry or a later one. It keeps working; IT revokes it and issues a new one.
    /// </summary>
    public bool OutlivesMaxLifetime(ApiKeyRecord key, DateTimeOffset now) =>
        ApiKeyMaxLifetimeDays is { } days && key.RevokedAt is null && !key.HasExpired(now)
        && (key.ExpiresAt is not { } end || end > key.CreatedAt.AddDays(days));

    /// <summary>Failed authentications one client address may make within a minute before it is locked out.</summary>
    public int FailedAuthenticationsPerMinute { get; set; } = 10;

    /// <summary>Seconds a client address that made too many failed authentications is refused (429 with Retry-After).</summary>
    public int AuthenticationLockoutSeconds { get; set; } = 300;

    public bool IsCluster => string.Equals(Profile, "cluster", StringComparison.OrdinalIgnoreCase);

    public bool CoHostsGateway => HostGateway ?? !IsCluster;

    public string FullDataFolder => Path.GetFullPath(DataFolder);

    public string AdminKeyFile => Path.Combine(FullDataFolder, "admin-api-key");

    public DatabaseOptions Database()
    {
        if (!string.IsNullOrWhiteSpace(PostgresConnectionString))
            return DatabaseOptions.Postgres(PostgresConnectionString);
        if (IsCluster)
            throw new EngineStartException("The cluster profile needs a PostgreSQL connection string: set Collections:PostgresConnectionString (or --postgres \"Host=...;Username=...;Password=...;Database=...\").");
        return DatabaseOptions.SqliteFile(Path.Combine(FullDataFolder, DatabaseOptions.SqliteFileName));
    }

    /// <summary>Short command-line switches for the settings people change most.</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--profile"] = $"{Section}:Profile",
        ["--data"] = $"{Section}:DataFolder",
        ["--postgres"] = $"{Section}:PostgresConnectionString",
        ["--silo-port"] = $"{Section}:SiloPort",
        ["--gateway-port"] = $"{Section}:GatewayPort",
        ["--cluster-id"] = $"{Section}:ClusterId",
        ["--host-gateway"] = $"{Section}:HostGateway",
    };
}
