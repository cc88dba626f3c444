using System.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Collections.Hosting;

/// <summary>
/// OpenTelemetry traces and metrics: ASP.NET Core, HttpClient, Npgsql, Orleans (grain calls and its meter), the .NET
/// runtime, and the engine's own meters (<c>Collections.*</c>). Exported over OTLP where the standard variables say
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_RESOURCE_ATTRIBUTES</c>...); off when no endpoint is set or <c>OTEL_SDK_DISABLED=true</c>.
/// Spans never carry patients' data: <see cref="TelemetryRedaction"/> keeps only attributes known to hold codes,
/// routes, methods and statuses.
/// </summary>
public static class TelemetryExtensions
{
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Lifecycle", "Microsoft.Orleans.Storage"];

    /// <summary>Whether telemetry is on: an OTLP endpoint is configured (or <c>Collections:Telemetry:Enabled</c>), and the SDK is not disabled.</summary>
    public static bool TelemetryEnabled(IConfiguration configuration) =>
        !string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)
        && (configuration.GetValue("Collections:Telemetry:Enabled", false) || ExportsOtlp(configuration));

    private static bool ExportsOtlp(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);

    public static void AddCollectionsTelemetry(this WebApplicationBuilder builder, string processName)
    {
        if (!TelemetryEnabled(builder.Configuration)) return;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
                    resource.AddService($"collections-{processName}", serviceInstanceId: $"{Environment.MachineName}/{Environment.ProcessId}");
            })
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o =>
                {
                    // Probes are polled every few seconds by orchestrators: not worth a span each.
                    o.Filter = http => !http.Request.Path.StartsWithSegments("/health");
                    o.RecordException = false; // an exception's message may quote what a request carried
                })
                .AddHttpClientInstrumentation(o => o.RecordException = false)
                .AddNpgsql()
                .AddSource(OrleansSources)
                .AddProcessor(new TelemetryRedaction()))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Npgsql")
                .AddMeter("Microsoft.Orleans")
                .AddMeter("Collections.*"));
        if (ExportsOtlp(builder.Configuration)) telemetry.UseOtlpExporter();
    }
}

/// <summary>
/// Keeps patients' data out of every exported span. Span names are route templates, grain interface/method names and
/// SQL operations already; attributes are filtered against an allowlist, so a path with an account number
/// (<c>url.path</c>), a query string, a client's address (an identifier under HIPAA), a grain's key
/// (<c>rpc.orleans.*_id</c>) or anything an instrumentation adds in a later version never leaves the process. Status
/// descriptions (exception messages) are dropped; the status code stays.
/// </summary>
public sealed class TelemetryRedaction : BaseProcessor<Activity>
{
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "http.request.method", "http.request.method_original", "http.response.status_code", "http.route", "url.scheme",
        "server.address", "server.port", "network.protocol.name", "network.protocol.version", "network.transport", "error.type",
        "rpc.system", "rpc.service", "rpc.method",
        "db.system", "db.system.name", "db.namespace", "db.name", "db.operation", "db.operation.name", "db.collection.name",
        "db.response.status_code", "db.statement", "db.query.text",
        "otel.status_code", "otel.library.name", "otel.library.version", "otel.scope.name", "otel.scope.version",
    };

    public override void OnEnd(Activity activity)
    {
        // A span event with attributes (an exception event's message and stack trace, which may quote what a command
        // carried) cannot be removed from the span: the span is not exported at all. Its parent still ends in error,
        // and the metrics count it.
        foreach (var spanEvent in activity.Events)
            foreach (var _ in spanEvent.Tags)
            {
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
                return;
            }
        List<string>? drop = null;
        foreach (var tag in activity.TagObjects)
            if (!IsAllowed(tag.Key)) (drop ??= []).Add(tag.Key);
        if (drop is not null)
            foreach (var key in drop) activity.SetTag(key, null);
        if (activity.StatusDescription is not null) activity.SetStatus(activity.Status);
        if (activity.Kind == ActivityKind.Server && activity.GetTagItem("http.route") is string route)
            activity.DisplayName = $"{activity.GetTagItem("http.request.method")} {route}";
    }

    public static bool IsAllowed(string key) => Allowed.Contains(key) || key.StartsWith("collections.", StringComparison.Ordinal);
}
