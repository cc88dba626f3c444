namespace Collections.Hosting;

/// <summary>Builds the engine's host from command-line arguments; Program.cs and the tests both start it this way.</summary>
public static class EngineHost
{
    /// <param name="configure">What a test adds before the host is built (e.g. an in-memory telemetry exporter).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = builder.AddCollectionsSettings(args, defaultProfile: "local");
        // Before anything listens: a port another silo or engine holds is refused in one line.
        var address = settings.IsCluster ? settings.ResolveAdvertisedAddress() : System.Net.IPAddress.Loopback;
        PortCheck.EnsureFree(address, settings.SiloPort, "--silo-port");
        PortCheck.EnsureFree(address, settings.GatewayPort, "--gateway-port");
        if (settings.CoHostsGateway) PortCheck.EnsureHttpFree(builder.Configuration["urls"]);
        builder.AddCollectionsLogging(settings, "silo");
        builder.AddCollectionsTelemetry("silo");
        builder.AddDeploymentLock(settings);
        builder.AddCollectionsDatabase();
        builder.AddCollectionsSilo(settings);
        if (settings.CoHostsGateway) builder.AddCollectionsGateway(settings);
        configure?.Invoke(builder);

        var app = builder.Build().HoldEngineLock();
        if (settings.CoHostsGateway) app.MapCollectionsGateway();
        else app.MapCollectionsHealth();
        return app;
    }
}
