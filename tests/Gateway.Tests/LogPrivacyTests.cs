using Microsoft.Extensions.Configuration;
using Collections.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Collections.Gateway.Tests;

/// <summary>What reaches the log files: Orleans names grains by id, and an account's or guarantor's id is PHI.</summary>
public sealed class LogPrivacyTests
{
    private sealed class Collected : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];
        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }

    private static (Serilog.Core.Logger Logger, Collected Sink) Logger()
    {
        var sink = new Collected();
        return (new LoggerConfiguration().WriteTo.Sink(Serilog.Configuration.LoggerSinkConfiguration.Wrap(s => new PhiFreeLogSink(s), to => to.Sink(sink))).CreateLogger(), sink);
    }

    [Fact]
    public void Grain_ids_in_a_warning_and_its_exception_reach_the_log_without_the_account_or_guarantor()
    {
        var (logger, sink) = Logger();
        Exception thrown;
        try
        {
            throw new TimeoutException("Response did not arrive on time for request to patientaccount/MAIN/5554555444",
                new InvalidOperationException("guarantor/G100 is unavailable"));
        }
        catch (TimeoutException ex)
        {
            thrown = ex;
        }
        logger.Warning(thrown, "Call to {Target} from {Source} failed after {Attempts} tries",
            "patientaccount/MAIN/5554555444", new { Grain = "guarantor/G100", Silo = "S127.0.0.1:11111" }, 3);

        var written = Assert.Single(sink.Events);
        var text = written.RenderMessage() + "\n" + written.Exception;
        Assert.DoesNotContain("5554555444", text);
        Assert.DoesNotContain("G100", text);
        Assert.Contains("patientaccount/…", text);
        Assert.Contains("guarantor/…", text);
        Assert.Contains("S127.0.0.1:11111", text); // what is not a grain id of ours stays, as do the types and the stack trace
        Assert.Contains(nameof(TimeoutException), text);
        Assert.Contains(nameof(Grain_ids_in_a_warning_and_its_exception_reach_the_log_without_the_account_or_guarantor), text);
        Assert.Equal(3, ((ScalarValue)written.Properties["Attempts"]).Value);
    }

    [Fact]
    public void A_sink_or_audit_sink_an_operator_adds_in_configuration_gets_the_events_without_the_account_or_guarantor()
    {
        var folder = Directory.CreateTempSubdirectory("collections-logs-");
        try
        {
            var added = Path.Combine(folder.FullName, "added.log");
            var audited = Path.Combine(folder.FullName, "audited.log");
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Serilog:MinimumLevel:Default"] = "Debug",
                ["Serilog:LevelSwitches:$forwarded"] = "Verbose",
                ["Serilog:WriteTo:0:Name"] = "File",
                ["Serilog:WriteTo:0:Args:path"] = added,
                ["Serilog:WriteTo:0:Args:levelSwitch"] = "$forwarded", // a sink may name a switch declared beside it
                ["Serilog:WriteTo:0:Args:outputTemplate"] = "{Level:u3} {Message:lj} {Properties:j}{NewLine}{Exception}",
                ["Serilog:AuditTo:0:Name"] = "File",
                ["Serilog:AuditTo:0:Args:path"] = audited,
            }).Build();
            Directory.CreateDirectory(Path.Combine(folder.FullName, "logs"));
            using (var logger = new LoggerConfiguration().CollectionsLogs(configuration, folder.FullName, "test").CreateLogger())
            {
                logger.Debug(new TimeoutException("Response did not arrive on time for request to patientaccount/MAIN/5554555444"),
                    "Call to {Target} failed", "guarantor/G100");
            }

            var text = File.ReadAllText(added);
            Assert.StartsWith("DBG ", text); // the configured level reaches the added sink too
            Assert.DoesNotContain("5554555444", text);
            Assert.DoesNotContain("G100", text);
            Assert.Contains("patientaccount/…", text);
            Assert.Contains("guarantor/…", text);
            Assert.Contains("\"Process\":\"test\"", text); // the engine's enrichers apply to it as to its own files
            var audit = File.ReadAllText(audited); // an audit sink too, and behind the guard
            Assert.Contains("guarantor/…", audit);
            Assert.DoesNotContain("5554555444", audit);
            var own = Assert.Single(Directory.GetFiles(Path.Combine(folder.FullName, "logs")));
            Assert.DoesNotContain("5554555444", File.ReadAllText(own));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_request_line_for_a_body_the_client_got_wrong_carries_no_stack_trace()
    {
        var (logger, sink) = Logger();
        var refused = new Microsoft.AspNetCore.Http.BadHttpRequestException("Failed to read parameter \"EntryBody body\" from the request body as JSON.", 400);
        logger.Information(refused, "HTTP {RequestMethod} {RouteTemplate} responded {StatusCode}", "POST", "/api/accounts/{facility}/{accountNumber}/entries", 400);
        logger.Error(new InvalidOperationException("broken"), "Unhandled error");
        Assert.Null(sink.Events[0].Exception);
        Assert.Equal("HTTP \"POST\" \"/api/accounts/{facility}/{accountNumber}/entries\" responded 400", sink.Events[0].RenderMessage());
        Assert.NotNull(sink.Events[1].Exception); // a failure keeps its stack trace
    }

    [Fact]
    public void An_event_without_grain_ids_is_written_as_it_came()
    {
        var (logger, sink) = Logger();
        logger.Information("Outbox sender {Owner} started (polling every {PollSeconds} s)", "silo-1", 2.0);
        var written = Assert.Single(sink.Events);
        Assert.Equal("Outbox sender \"silo-1\" started (polling every 2 s)", written.RenderMessage());
    }
}
