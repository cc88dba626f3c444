using Collections.Hosting;
using Collections.Persistence;

namespace Collections.Gateway.Security;

/// <summary>
/// The revoked keys as this gateway knows them, so that a key remembered by the authentication cache stops when it is
/// revoked, not when the cache forgets it: one revoked through this gateway at once, one revoked through another within
/// <see cref="EngineSettings.ApiKeyRevocationCheckSeconds"/>, read in the background (a request never waits for it).
/// While the list cannot be read (three periods without a successful read, or before the first), remembered keys are
/// not trusted: each request's key is checked against the database, as with no cache at all.
/// </summary>
public sealed class RevokedApiKeys(ApiKeyStore keys, EngineSettings settings, TimeProvider clock, ILogger<RevokedApiKeys> logger) : BackgroundService
{
    private volatile IReadOnlySet<string> _revoked = new HashSet<string>();
    private readonly HashSet<string> _revokedHere = new(StringComparer.Ordinal);
    private long _readAt = -1; // the clock's timestamp of the last successful read; -1: none yet

    private TimeSpan Period => TimeSpan.FromSeconds(Math.Max(1, settings.ApiKeyRevocationCheckSeconds));

    /// <summary>A key revoked through this gateway: no request after the revocation's answer is let through with it.</summary>
    public void Revoked(string keyId)
    {
        lock (_revokedHere) _revokedHere.Add(keyId);
    }

    /// <summary>Whether a remembered key may be used without asking the database: read recently, and not revoked.</summary>
    public bool MayTrust(string keyId)
    {
        lock (_revokedHere)
            if (_revokedHere.Contains(keyId)) return false;
        var at = Volatile.Read(ref _readAt);
        return at >= 0 && clock.GetElapsedTime(at) <= 3 * Period && !_revoked.Contains(keyId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _revoked = await keys.RevokedKeyIdsAsync(stoppingToken);
                Volatile.Write(ref _readAt, clock.GetTimestamp());
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The type only. Until a read succeeds again (three periods on), remembered keys are checked one by one.
                if (failures++ % 30 == 0)
                    logger.LogWarning("Could not read the revoked API keys ({Error}); remembered keys are checked against the database until it can", ex.GetType().Name);
            }
            try
            {
                await Task.Delay(Period, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
