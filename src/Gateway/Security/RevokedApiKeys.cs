using Collections.Hosting;
using Collections.Persistence;

namespace Collections.Gateway.Security;

/// <summary>
/// The revoked keys as this gateway knows them, so that a key remembered by the authentication cache stops when it is
/// revoked, not when the cache forgets it: one revoked through this gateway at once, one revoked through another within
/// <see cref="EngineSettings.ApiKeyRevocationCheckSeconds"/> (the ids are read again at most that often, by the
/// request that finds them older).
/// </summary>
public sealed class RevokedApiKeys(ApiKeyStore keys, EngineSettings settings, TimeProvider clock, ILogger<RevokedApiKeys> logger) : IDisposable
{
    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile IReadOnlySet<string> _revoked = new HashSet<string>();
    private readonly HashSet<string> _revokedHere = new(StringComparer.Ordinal);
    private long _readAt = -1; // the clock's timestamp of the last read; -1: never read

    /// <summary>A key revoked through this gateway: no request after the revocation's answer is let through with it.</summary>
    public void Revoked(string keyId)
    {
        lock (_revokedHere) _revokedHere.Add(keyId);
    }

    /// <summary>Whether the key has been revoked, as of at most <see cref="EngineSettings.ApiKeyRevocationCheckSeconds"/> ago.</summary>
    public async ValueTask<bool> IsRevokedAsync(string keyId, CancellationToken cancellationToken)
    {
        lock (_revokedHere)
            if (_revokedHere.Contains(keyId)) return true;
        if (Stale()) await ReadAsync(cancellationToken);
        return _revoked.Contains(keyId);
    }

    private bool Stale() =>
        Volatile.Read(ref _readAt) is var at && (at < 0 || clock.GetElapsedTime(at) >= TimeSpan.FromSeconds(settings.ApiKeyRevocationCheckSeconds));

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (!Stale()) return; // read while this one waited
            try
            {
                _revoked = await keys.RevokedKeyIdsAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database is unreachable: the request then fails on its own if it needs the database; the ids are
                // tried again at the next period, not on every request.
                logger.LogWarning("Could not read the revoked API keys ({Error}); the last list read is used until the next try", ex.GetType().Name);
            }
            Volatile.Write(ref _readAt, clock.GetTimestamp());
        }
        finally
        {
            _reading.Release();
        }
    }

    public void Dispose() => _reading.Dispose();
}
