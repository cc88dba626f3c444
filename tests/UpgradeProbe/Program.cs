using System.Net;
using Collections.Grains;
using Collections.Persistence;
using Collections.UpgradeProbe;
using Orleans.Configuration;

// A silo of one release with a small HTTP face: POST /tally/{name}%2F{hop}?amount=&note= adds, GET reads.
// Arguments: DATABASE SILO-PORT GATEWAY-PORT PRIMARY-SILO-PORT HTTP-PORT.
var (file, siloPort, gatewayPort, primaryPort, httpPort) = (args[0], int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]));
var database = DatabaseOptions.SqliteFile(file);

var builder = WebApplication.CreateBuilder();
builder.WebHost.UseUrls($"http://127.0.0.1:{httpPort}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort), "upgrade-probe", "upgrade-probe");
    silo.Configure<SiloOptions>(o => o.SiloName = $"{Program.Release}-{siloPort}");
    silo.Services.AddSingleton<Orleans.Storage.IGrainStorageSerializer, Orleans.Storage.OrleansGrainStorageSerializer>();
    silo.Services.AddKeyedSingleton<Orleans.Storage.IGrainStorage>(StorageNames.Collections, (services, _) => new GroupCommitGrainStorage(database,
        services.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>(), null, services.GetRequiredService<ILogger<GroupCommitGrainStorage>>(),
        new Collections.Outreach.SqlOutboxStore(database, TimeProvider.System)));
});
var app = builder.Build();
await DatabaseSchema.ApplyAsync(database, app.Logger);
app.MapPost("/tally/{**id}", (string id, decimal amount, string note, IGrainFactory grains) => grains.GetGrain<ITallyGrain>(id).Add(amount, note));
app.MapGet("/tally/{**id}", (string id, IGrainFactory grains) => grains.GetGrain<ITallyGrain>(id).Read());
app.MapGet("/ready", () => "ready");
await app.RunAsync();

public static partial class Program
{
#if PREVIOUS_RELEASE
    public const string Release = "previous";
#else
    public const string Release = "current";
#endif
}
