namespace Collections.Hosting;

/// <summary>Builds the stand-alone gateway (cluster profile): an Orleans client serving the HTTP API.</summary>
public static class GatewayHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = builder.AddCollectionsSettings(args, defaultProfile: "cluster");
        builder.AddCollectionsLogging(settings, "gateway");
        builder.AddCollectionsDatabase();
        builder.AddCollectionsClusterClient(settings);
        builder.AddCollectionsGateway(settings);

        var app = builder.Build();
        app.MapCollectionsGateway();
        return app;
    }
}
