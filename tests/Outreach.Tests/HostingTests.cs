using System.Collections.Concurrent;
using Collections.Domain;
using Collections.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Tests;

/// <summary>AddCollectionsOutreach in a real host: the sender runs, wakes on enqueue, logs no PHI; bad settings stop the start.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task A_host_with_AddCollectionsOutreach_sends_an_enqueued_message_at_once_and_logs_no_phi()
    {
        var logs = new LogCollector();
        using var host = await StartAsync(new Dictionary<string, string?>
        {
            ["Collections:Outreach:Sender:PollSeconds"] = "60",      // only the wake-up can make it quick
            ["Collections:Facilities:MAIN:Name"] = "Riverside Hospital",
        }, logs);
        var service = host.Services.GetRequiredService<IOutreachService>();
        var store = host.Services.GetRequiredService<IOutboxStore>();

        var messages = new[]
        {
            await service.EnqueueAsync(Harness.Request()),
            await service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder)),
            await service.EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement)),
        };
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !(await Task.WhenAll(messages.Select(m => store.GetAsync(m.MessageId)))).All(m => m!.Status == OutboxStatus.Sent))
            await Task.Delay(50);
        foreach (var m in messages) Assert.Equal(OutboxStatus.Sent, (await store.GetAsync(m.MessageId))!.Status);
        Assert.True((await host.Services.GetRequiredService<SandboxMailbox>().GetAsync(messages[2].MessageId, false))!.HasPdf);
        Assert.Contains("Riverside Hospital", messages[0].Body, StringComparison.Ordinal);
        await host.StopAsync();

        var text = string.Join("\n", logs.Lines);
        Assert.Contains("was sent by", text, StringComparison.Ordinal); // the sending is logged ...
        Assert.DoesNotContain(messages[0].MessageId, text, StringComparison.Ordinal); // ... without the message id, which names the account
        Assert.DoesNotContain("A1001", text, StringComparison.Ordinal);
        foreach (var phi in new[] { "Maria", "Lopez", "maria@example.org", "5125550100", "512-555-0100", "Elm St", "$210.00" })
            Assert.DoesNotContain(phi, text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Collections:Outreach:Transports:Email", "smtp", "Collections:Outreach:Smtp:Host")]
    [InlineData("Collections:Outreach:Transports:Sms", "carrier-pigeon", "Collections:Outreach:Transports:Sms must be one of")]
    [InlineData("Collections:Outreach:Transports:Mail", "webhook", "Collections:Outreach:Webhooks:Mail:Url")]
    [InlineData("Collections:Outreach:Sender:MaxAttempts", "0", "Collections:Outreach:Sender:MaxAttempts")]
    public async Task Bad_outreach_settings_stop_the_start_with_a_message_naming_the_setting(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new Dictionary<string, string?> { [key] = value }, new LogCollector()));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Facilities_that_are_not_configured_get_their_code_as_name_and_point_to_the_bill()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Collections:Facilities:MAIN:Name"] = "Riverside Hospital",
            ["Collections:Facilities:MAIN:PayUrl"] = "https://pay.riverside.example",
            ["Collections:Facilities:Default:AssistancePhone"] = "800-555-0199",
        }).Build();
        var directory = new FacilityDirectory(configuration);
        Assert.Equal("Riverside Hospital", directory.Get("main").Name);
        Assert.Equal("https://pay.riverside.example", directory.Get("MAIN").PayUrl);
        Assert.Equal("800-555-0199", directory.Get("MAIN").AssistancePhone);
        var unknown = directory.Get("EAST");
        Assert.Equal("EAST", unknown.Name);
        Assert.Equal("the phone number on your bill", unknown.PayPhone);
        Assert.Equal("800-555-0199", unknown.AssistancePhone);
    }

    private static async Task<IHost> StartAsync(Dictionary<string, string?> settings, LogCollector logs)
    {
        var database = await TestDatabases.NewSqliteAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton(database);
        builder.Services.AddCollectionsOutreach(builder.Configuration);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>Every log line, rendered with its arguments (what a sink would write).</summary>
    private sealed class LogCollector : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this);
        public void Dispose() { }

        private sealed class Logger(LogCollector owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }
}
