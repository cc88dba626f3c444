using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text.RegularExpressions;
using Collections.Grains;
using Serilog.Parsing;
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

/// <summary>
/// The last guard before a log event is written: grain ids of the engine's own grains (<c>patientaccount/MAIN/5554555444</c>,
/// <c>guarantor/G100</c>) carry account numbers and guarantor ids, and Orleans puts them in its warnings and in the
/// messages of its exceptions (a timeout, a silo gone). Each one in a property, the message template or an exception's
/// message becomes its grain type and an ellipsis (<c>patientaccount/…</c>). An exception keeps its types and stack
/// traces, which is what an operator needs; the request's trace id finds the rest through the audited API.
/// </summary>
public sealed class PhiFreeLogSink(ILogEventSink inner) : ILogEventSink, IDisposable
{
    private static readonly Regex GrainIds = BuildPattern();

    public void Emit(LogEvent logEvent) => inner.Emit(Scrub(logEvent));

    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>Templates seen, with their anonymous form (null: none of ours in it). Templates are few and repeat.</summary>
    private static readonly ConditionalWeakTable<MessageTemplate, MessageTemplate?> Templates = new();

    /// <summary>The event with every grain id of ours made anonymous; the same instance when it held none.</summary>
    public static LogEvent Scrub(LogEvent logEvent)
    {
        // A body the client got wrong (a refusal, logged below Warning) needs no stack trace: the request line says it.
        var refusal = logEvent.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException && logEvent.Level < LogEventLevel.Warning;
        var exception = logEvent.Exception is { } ex && !refusal ? new LoggedException(ex) : null;
        var changed = logEvent.Exception is not null;
        var template = Templates.GetValue(logEvent.MessageTemplate,
            static t => GrainIds.IsMatch(t.Text) ? new MessageTemplateParser().Parse(Anonymous(t.Text)) : null) ?? logEvent.MessageTemplate;
        changed |= !ReferenceEquals(template, logEvent.MessageTemplate);
        List<LogEventProperty>? properties = null; // made only once a property changes
        var index = 0;
        foreach (var (name, value) in logEvent.Properties)
        {
            var clean = Scrub(value);
            if (properties is null && !ReferenceEquals(clean, value))
            {
                properties = new List<LogEventProperty>(logEvent.Properties.Count);
                foreach (var (earlierName, earlier) in logEvent.Properties.Take(index)) properties.Add(new LogEventProperty(earlierName, earlier));
            }
            properties?.Add(new LogEventProperty(name, clean));
            index++;
        }
        if (!changed && properties is null) return logEvent;
        return new LogEvent(logEvent.Timestamp, logEvent.Level, exception, template,
            properties ?? logEvent.Properties.Select(p => new LogEventProperty(p.Key, p.Value)), logEvent.TraceId ?? default, logEvent.SpanId ?? default);
    }

    /// <summary>Text with each grain id of ours as its grain type and an ellipsis.</summary>
    public static string Anonymous(string text) => GrainIds.Replace(text, "${type}/…");

    private static LogEventPropertyValue Scrub(LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: null or bool or int or long or decimal or double or float or DateTime or DateTimeOffset or TimeSpan or Guid or Enum }:
                return value;
            case ScalarValue scalar:
                var text = Convert.ToString(scalar.Value, CultureInfo.InvariantCulture) ?? "";
                return text.Contains('/', StringComparison.Ordinal) && GrainIds.IsMatch(text) ? new ScalarValue(Anonymous(text)) : value;
            case SequenceValue sequence:
                var items = sequence.Elements.Select(Scrub).ToList();
                return items.Where((item, i) => !ReferenceEquals(item, sequence.Elements[i])).Any() ? new SequenceValue(items) : value;
            case StructureValue structure:
                var fields = structure.Properties.Select(p => new LogEventProperty(p.Name, Scrub(p.Value))).ToList();
                return fields.Where((f, i) => !ReferenceEquals(f.Value, structure.Properties[i].Value)).Any() ? new StructureValue(fields, structure.TypeTag) : value;
            case DictionaryValue dictionary:
                var pairs = dictionary.Elements.Select(p => (Before: p, After: new KeyValuePair<ScalarValue, LogEventPropertyValue>((ScalarValue)Scrub(p.Key), Scrub(p.Value)))).ToList();
                return pairs.Any(p => !ReferenceEquals(p.Before.Key, p.After.Key) || !ReferenceEquals(p.Before.Value, p.After.Value))
                    ? new DictionaryValue(pairs.Select(p => p.After)) : value;
            default:
                return value;
        }
    }

    /// <summary>
    /// Orleans names a grain type after its class without "Grain", in lower case (<c>IGuarantorGrain</c> →
    /// <c>guarantor</c>); the contracts list every grain the engine has.
    /// </summary>
    private static Regex BuildPattern()
    {
        var types = typeof(IPatientAccountGrain).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IGrain).IsAssignableFrom(t) && t.Name.StartsWith('I') && t.Name.EndsWith("Grain", StringComparison.Ordinal))
            .Select(t => t.Name[1..^"Grain".Length].ToLowerInvariant())
            .Where(n => n.Length > 0)
            .OrderByDescending(n => n.Length)
            .Select(Regex.Escape);
        return new Regex($@"\b(?<type>{string.Join('|', types)})/[^\s,;'""()\[\]{{}}<>]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }
}

/// <summary>An exception as the logs show it: each type, message (grain ids made anonymous) and stack trace, inner ones included.</summary>
public sealed class LoggedException(Exception original) : Exception(PhiFreeLogSink.Anonymous(original.Message))
{
    public override string? StackTrace => original.StackTrace;

    /// <summary>The exception as thrown, for the engine's own filters only (internal: a sink that reflects over public properties must not reach it).</summary>
    internal Exception Original => original;

    public override string ToString() => PhiFreeLogSink.Anonymous(original.ToString());
}

/// <summary>
/// The operator's <c>Serilog</c> configuration in three parts: the sinks (<c>WriteTo</c>) and the audit sinks
/// (<c>AuditTo</c>), which the engine places behind its privacy guard, and everything else (levels, filters,
/// enrichers, properties), which applies to the whole logger. The assemblies named in <c>Using</c> and the level and
/// filter switches declared (<c>LevelSwitches</c>, <c>FilterSwitches</c>) go with each part, so a sink may name a
/// switch. Read once at start.
/// </summary>
internal static class ConfiguredLogSinks
{
    private const string Section = "Serilog";

    public static (IConfiguration Others, IConfiguration? Sinks, IConfiguration? AuditSinks) Split(IConfiguration configuration)
    {
        var others = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var sinks = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var audit = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var (anySink, anyAudit) = (false, false);
        foreach (var (key, value) in configuration.GetSection(Section).AsEnumerable())
        {
            if (value is null) continue;
            if (Under(key, "WriteTo"))
            {
                sinks[key] = value;
                anySink = true;
            }
            else if (Under(key, "AuditTo"))
            {
                audit[key] = value;
                anyAudit = true;
            }
            else
            {
                others[key] = value;
                if (Under(key, "Using") || Under(key, "LevelSwitches") || Under(key, "FilterSwitches")) sinks[key] = audit[key] = value;
            }
        }
        return (Build(others), anySink ? Build(sinks) : null, anyAudit ? Build(audit) : null);
    }

    private static IConfiguration Build(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static bool Under(string key, string name)
    {
        var prefix = $"{Section}:{name}";
        return key.Equals(prefix, StringComparison.OrdinalIgnoreCase)
               || key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase);
    }
}
