using Collections.Outreach;

namespace Collections.Hosting;

/// <summary>Builds the stand-alone gateway (cluster profile): an Orleans client serving the HTTP API.</summary>
public static class GatewayHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = builder.AddCollectionsSettings(args, defaultProfile: "cluster");
        PortCheck.EnsureHttpFree(builder.Configuration["urls"]);
        builder.AddCollectionsLogging(settings, "gateway");
        builder.AddCollectionsTelemetry("gateway");
        builder.AddCollectionsDatabase();
        builder.AddCollectionsClusterClient(settings);
        builder.AddCollectionsGateway(settings);
        // The gateway reads the outbox, sandbox, templates and webhook log; the silos send.
        builder.Services.AddCollectionsOutreach(new ConfigurationBuilder()
            .AddConfiguration(builder.Configuration)
            .AddInMemoryCollection([new("Collections:Outreach:Sender:Enabled", "false"), new("Collections:Webhooks:Enabled", "false")])
            .Build());

        var app = builder.Build().HoldEngineLock();
        app.MapCollectionsGateway();
        return app;
    }
}
