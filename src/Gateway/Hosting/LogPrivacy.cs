using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Sinks.File;

namespace Collections.Hosting;

/// <summary>
/// Keeps request paths out of every log event. ASP.NET Core's request scope and Serilog's request logging both attach
/// the path, and paths carry account numbers and the patients' payment-link codes (<c>/p/{code}</c>, which with a date
/// of birth opens a patient's bills). Request lines name the route template instead.
/// </summary>
internal sealed class NoRequestPath : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory) => logEvent.RemovePropertyIfPresent("RequestPath");
}

/// <summary>Each log file the rolling sink opens is made owner-only, as the folder it is in (the umask would leave it world-readable).</summary>
internal sealed class OwnerOnlyLogFiles : FileLifecycleHooks
{
    public override Stream OnFileOpened(string path, Stream underlyingStream, Encoding encoding)
    {
        Persistence.OwnerOnlyFiles.Restrict(path);
        return underlyingStream;
    }
}
