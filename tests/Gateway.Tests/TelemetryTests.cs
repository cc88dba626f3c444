using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Collections.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Collections.Gateway.Tests;

/// <summary>The engine with telemetry on, exporting to memory instead of an OTLP collector.</summary>
public sealed class TelemetryFixture : EngineFixture
{
    public List<Activity> Spans { get; } = [];
    public List<Metric> Metrics { get; } = [];

    protected override IEnumerable<string> ExtraArguments => ["--Collections:Telemetry:Enabled", "true"];

    protected override void Configure(WebApplicationBuilder builder)
    {
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans));
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(Metrics));
    }

    /// <summary>Everything exported so far, flushed.</summary>
    public (IReadOnlyList<Activity> Spans, IReadOnlyList<Metric> Metrics) Flush()
    {
        Services.GetRequiredService<TracerProvider>().ForceFlush();
        Services.GetRequiredService<MeterProvider>().ForceFlush();
        lock (Spans) lock (Metrics) return (Spans.ToList(), Metrics.ToList());
    }
}

public sealed class TelemetryTests(TelemetryFixture engine) : IClassFixture<TelemetryFixture>
{
    [Fact]
    public async Task Spans_and_metrics_of_a_patients_account_carry_ids_codes_and_amounts_but_never_the_person_or_the_account_number()
    {
        using var admin = engine.Admin();
        const string first = "Quintessa", last = "Vantablack", street = "4417 Zebulon Crescent", email = "quintessa.vantablack@example.org";
        const string phone = "617-555-0199", dob = "1961-07-14", accountNumber = "7731904456";
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = first, lastName = last, dateOfBirth = dob,
            address = new { line1 = street, city = "Boston", state = "MA", zip = "02118" },
            phones = new[] { new { number = phone, type = "mobile" } },
            email, preferredChannel = "email", timeZone = Api.DaytimeZone(),
        })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/accounts", new { facility = "TELE", accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var account = $"/api/accounts/TELE/{accountNumber}";
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Charge(412.37m))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Payment(12.37m))).StatusCode);
        (await admin.GetAsync(account)).EnsureSuccessStatusCode();
        (await admin.GetAsync($"/api/guarantors/{guarantorId}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/accounts/TELE/{accountNumber}9?name={last}")).StatusCode);
        await engine.ProjectionsCaughtUpAsync();

        var (spans, metrics) = engine.Flush();

        // What an operator needs is there: the route, the grain calls, the engine's own counters.
        Assert.Contains(spans, s => s.Kind == ActivityKind.Server && (s.GetTagItem("http.route") as string) == "/api/accounts/{facility}/{accountNumber}/entries");
        Assert.Contains(spans, s => s.Source.Name == "Microsoft.Orleans.Application" && (s.GetTagItem("rpc.method") as string) == "Collections.Grains.IPatientAccountGrain/Post");
        Assert.Contains(metrics, m => m.Name == "collections.postings");
        Assert.Contains(metrics, m => m.Name == "collections.payments.amount");
        Assert.Contains(metrics, m => m.Name == "http.server.request.duration");

        // And nothing of the person, their account number or the client's address.
        var exported = Describe(spans, metrics);
        foreach (var phi in new[] { first, last, street, "Zebulon", email, phone, "6175550199", dob, accountNumber, "client.address", "url.path", "url.query" })
            Assert.False(exported.Contains(phi, StringComparison.OrdinalIgnoreCase), $"telemetry carries '{phi}'");
    }

    [Fact]
    public void The_redaction_keeps_only_attributes_known_to_hold_no_patient_data()
    {
        using var activity = new Activity("GET /api/accounts/{facility}/{number}");
        activity.SetTag("http.route", "/api/accounts/{facility}/{number}");
        activity.SetTag("url.path", "/api/accounts/MAIN/5554555444");
        activity.SetTag("rpc.orleans.target_id", "account/MAIN/5554555444");
        activity.SetTag("collections.entry.kind", "PatientPayment");
        activity.SetTag("some.future.attribute", "Rosa Delgado");
        activity.SetStatus(ActivityStatusCode.Error, "No account MAIN/5554555444 for Rosa Delgado");

        new TelemetryRedaction().OnEnd(activity);

        Assert.Equal(["collections.entry.kind", "http.route"], activity.TagObjects.Select(t => t.Key).Order().ToArray());
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Null(activity.StatusDescription);
    }

    [Fact]
    public void A_span_with_an_exception_event_is_not_exported_but_one_with_a_bare_event_is()
    {
        using var failed = new Activity("postgresql");
        failed.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        failed.AddException(new InvalidOperationException("22P02: invalid input syntax for type date: \"Rosa Delgado\""));
        new TelemetryRedaction().OnEnd(failed);
        Assert.False(failed.Recorded);

        using var answered = new Activity("postgresql");
        answered.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        answered.AddEvent(new ActivityEvent("received-first-response"));
        new TelemetryRedaction().OnEnd(answered);
        Assert.True(answered.Recorded);
    }

    private static string Describe(IEnumerable<Activity> spans, IEnumerable<Metric> metrics)
    {
        var text = new StringBuilder();
        foreach (var span in spans)
        {
            text.AppendLine($"{span.Source.Name} {span.DisplayName} {span.OperationName} {span.StatusDescription}");
            foreach (var tag in span.TagObjects) text.AppendLine($"  {tag.Key}={tag.Value}");
            foreach (var e in span.Events)
            {
                text.AppendLine($"  event {e.Name}");
                foreach (var tag in e.Tags) text.AppendLine($"    {tag.Key}={tag.Value}");
            }
            foreach (var item in span.Baggage) text.AppendLine($"  baggage {item.Key}={item.Value}");
        }
        foreach (var metric in metrics)
        {
            text.AppendLine($"{metric.MeterName} {metric.Name}");
            foreach (ref readonly var point in metric.GetMetricPoints())
                foreach (var tag in point.Tags) text.AppendLine($"  {tag.Key}={tag.Value}");
        }
        return text.ToString();
    }
}

public sealed class TelemetrySwitchTests
{
    [Theory]
    [InlineData(null, null, null, false)]
    [InlineData("http://collector:4317", null, null, true)]
    [InlineData("http://collector:4317", "true", null, false)]
    [InlineData(null, null, "true", true)]
    public void Telemetry_is_on_only_where_an_otlp_endpoint_or_the_setting_asks_for_it(string? endpoint, string? disabled, string? enabled, bool expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint, ["OTEL_SDK_DISABLED"] = disabled, ["Collections:Telemetry:Enabled"] = enabled,
        }).Build();
        Assert.Equal(expected, TelemetryExtensions.TelemetryEnabled(configuration));
    }
}
