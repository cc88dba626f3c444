using Collections.Hosting;
using Collections.Persistence;

namespace Collections.Gateway.Security;

/// <summary>
/// A credential that failed (an API key, an identity provider's token): counted against the client address (see
/// <see cref="FailedAuthenticationThrottle"/>) unless it is only out of date, audited with what it named (a key id, a
/// failure kind; never the secret) and logged with the client address.
/// </summary>
public static class FailedAuthentication
{
    public static async Task RecordAsync(HttpContext http, string credentialType, string credentialId, bool countTowardLockout = true)
    {
        var services = http.RequestServices;
        var address = http.Connection.RemoteIpAddress;
        var lockedUntil = countTowardLockout ? services.GetRequiredService<FailedAuthenticationThrottle>().RecordFailure(address) : null;
        await services.GetRequiredService<IAuditTrail>().RecordAsync(new AuditEvent(
            services.GetRequiredService<TimeProvider>().GetUtcNow(), "anonymous", "none", "auth.failed", credentialType, credentialId, "denied",
            address?.ToString(), http.TraceIdentifier, lockedUntil is null ? null : $"locked-out-until={lockedUntil:o}"));
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FailedAuthentication));
        logger.LogWarning("Failed authentication from {ClientAddress} ({CredentialType} {CredentialId})", address, credentialType, credentialId);
        if (lockedUntil is not null)
            logger.LogWarning("Client address {ClientAddress} locked out until {LockedUntil:o} after {Failures} failed authentications within a minute",
                address, lockedUntil, services.GetRequiredService<EngineSettings>().FailedAuthenticationsPerMinute);
    }
}
