using Serilog.Configuration;
using Collections.Persistence;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Collections.Hosting;

public static class HostingExtensions
{
    /// <summary>
    /// Reads the engine settings (with the short command-line switches) and registers the database they name.
    /// <paramref name="defaultProfile"/> applies when no configuration names one: a silo starts in the local profile,
    /// a stand-alone gateway in the cluster profile (it is always a cluster client).
    /// </summary>
    public static EngineSettings AddCollectionsSettings(this WebApplicationBuilder builder, string[] args, string defaultProfile)
    {
        builder.Configuration.AddCommandLine(args, EngineSettings.SwitchMappings);
        var settings = new EngineSettings { Profile = defaultProfile };
        builder.Configuration.GetSection(EngineSettings.Section).Bind(settings);
        if (!settings.IsCluster && !string.Equals(settings.Profile, "local", StringComparison.OrdinalIgnoreCase))
            throw new EngineStartException($"--profile {settings.Profile}: use local (one process; SQLite unless --postgres) or cluster (silos on PostgreSQL, see docs/cluster.md).");
        if (settings.ApiKeyMaxLifetimeDays is < 1 or > EngineSettings.LongestKeyDays)
            throw new InvalidOperationException($"Collections:ApiKeyMaxLifetimeDays is {settings.ApiKeyMaxLifetimeDays}: set 1 to {EngineSettings.LongestKeyDays} days, or leave it out (keys need not expire).");
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(settings.Database());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(1, settings.ShutdownTimeoutSeconds)));
        return settings;
    }

    /// <summary>
    /// Serilog for every log: console, and a rolling JSON file under the data folder. Request logs name the route
    /// template, never the path, so account numbers and other identifiers in URLs stay out of the logs.
    /// </summary>
    public static void AddCollectionsLogging(this WebApplicationBuilder builder, EngineSettings settings, string processName)
    {
        // The data folder and its logs are the engine's own: created owner-only (the database in it holds patients' data).
        Persistence.OwnerOnlyFiles.EnsureFolder(settings.FullDataFolder);
        Persistence.OwnerOnlyFiles.EnsureFolder(Path.Combine(settings.FullDataFolder, "logs"));
        // The engine's own logger, not Serilog's static one: two engines in one process (the tests' fixtures, a host
        // embedding it) would otherwise write to whichever started last, and the first to stop would close both.
        builder.Services.AddSerilog((services, logger) => logger.CollectionsLogs(builder.Configuration, settings.FullDataFolder, processName),
            preserveStaticLogger: true);
    }

    /// <summary>
    /// The engine's logger: levels, filters and enrichers from <c>Serilog</c> in the configuration and the engine's own,
    /// and every sink (the console, the JSON files under <paramref name="dataFolder"/>, and any sink an operator adds in
    /// <c>Serilog:WriteTo</c> or <c>Serilog:AuditTo</c>) behind the privacy guard (<see cref="PhiFreeLogSink"/>).
    /// </summary>
    public static LoggerConfiguration CollectionsLogs(this LoggerConfiguration logger, IConfiguration configuration, string dataFolder, string processName)
    {
        var (others, sinks, auditSinks) = ConfiguredLogSinks.Split(configuration);
        // Audit sinks stay audit sinks (a failure to write reaches the caller), behind the guard like every other.
        if (auditSinks is not null)
            logger.AuditTo.Sink(new PhiFreeLogSink(new LoggerConfiguration().MinimumLevel.Verbose().ReadFrom.Configuration(auditSinks).CreateLogger()));
        return logger
            .ReadFrom.Configuration(others)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
            .MinimumLevel.Override("Orleans.Runtime.Silo", LogEventLevel.Information)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            // Every outgoing request (the telemetry exporter's every few seconds, webhooks, vendors) would log four lines.
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            // Keys for cookies and anti-forgery, which the API does not use.
            .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", LogEventLevel.Error)
            // Orleans warns at every start that the silo runs with workstation GC: the engine chooses it (lower memory
            // on small machines), so a normal start prints no warning.
            .Filter.ByExcluding(e => e.Properties.TryGetValue("EventId", out var id) && id is StructureValue s
                                     && s.Properties.Any(p => p.Name == "Id" && p.Value is ScalarValue { Value: 100405 }))
            .Filter.ByExcluding(e => WatchdogStartupRace.IsImpossibleStall(e))
            .Enrich.FromLogContext()
            .Enrich.With<NoRequestPath>()
            .Enrich.WithProperty("Process", processName)
            // Grain ids (account numbers, guarantor ids) in Orleans' messages and exceptions are made anonymous first,
            // for the engine's sinks and the configured ones alike.
            .WriteTo.Sink(LoggerSinkConfiguration.Wrap(sink => new PhiFreeLogSink(sink), to =>
            {
                // A start the operator can act on (PostgreSQL unreachable, a port taken) ends in one line saying what
                // to do (StartFailure): on the console the host's report of it stays one line too, its stack trace
                // kept in the log file.
                const string line = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}";
                to.Logger(console => console.Filter.ByExcluding(StartFailure.IsExplainedReport).WriteTo.Console(outputTemplate: line + "{NewLine}{Exception}"));
                to.Logger(console => console.Filter.ByIncludingOnly(StartFailure.IsExplainedReport).WriteTo.Console(outputTemplate: line + " (details in the log file){NewLine}"));
                to.File(new CompactJsonFormatter(), Path.Combine(dataFolder, "logs", $"{processName}-.json"),
                    rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, fileSizeLimitBytes: 100_000_000, rollOnFileSizeLimit: true,
                    hooks: new OwnerOnlyLogFiles());
                // Every event the levels above let through reaches them; a sink's own restrictedToMinimumLevel still applies.
                if (sinks is not null) to.Logger(configured => configured.MinimumLevel.Verbose().ReadFrom.Configuration(sinks));
            }));
    }

    /// <summary>
    /// One line per request, at Debug for answers that went well (an import makes tens of thousands), Information for
    /// refusals (4xx) and Error for failures (5xx). <c>--Serilog:MinimumLevel:Default Debug</c> shows them all.
    /// </summary>
    /// <remarks>
    /// A body the endpoint cannot read (malformed JSON, a wrong type) reaches this line as an exception, which the
    /// exception handler outside it answers with a 400 problem: it is logged as that refusal, not as a failure, so an
    /// operator's alert on errors does not fire for a client's mistake.
    /// </remarks>
    public static void UseCollectionsRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>(); // the engine's (the static one is silent)
            options.GetLevel = (http, _, error) =>
            {
                if (error is null) return RequestLogLevel(http.Response.StatusCode, null);
                // The line names the status the client got: the exception handler's answer outside it (a refusal's 400,
                // a database outage's 503), the status already sent, or none for a client that went away (499, not an
                // error) - not the 500 the middleware would assume for any exception.
                var answered = AnsweredStatus(http, error);
                http.Items[AnsweredStatusKey] = answered;
                return answered == ClientClosedRequest ? LogEventLevel.Information : RequestLogLevel(answered, error);
            };
            options.MessageTemplate = "HTTP {RequestMethod} {RouteTemplate} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetMessageTemplateProperties = (context, _, elapsed, status) =>
            [
                new LogEventProperty("RequestMethod", new ScalarValue(context.Request.Method)),
                new LogEventProperty("RouteTemplate", new ScalarValue((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)")),
                new LogEventProperty("StatusCode", new ScalarValue(context.Items.TryGetValue(AnsweredStatusKey, out var refused) && refused is int code ? code : status)),
                new LogEventProperty("Elapsed", new ScalarValue(elapsed)),
            ];
        });

    private const string AnsweredStatusKey = "Collections.AnsweredStatus";

    /// <summary>The status logged for a request whose client closed the connection before the answer (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>The status a request that failed with the exception was answered with.</summary>
    public static int AnsweredStatus(HttpContext http, Exception error) =>
        http.RequestAborted.IsCancellationRequested && error is OperationCanceledException or IOException ? ClientClosedRequest
        : http.Response.HasStarted ? http.Response.StatusCode
        : Collections.Gateway.Api.RequestExceptionHandler.StatusFor(http.Request.Method, error);

    /// <summary>A request line's level: Debug when it went well, Information for a refusal (4xx, an unreadable body included), Error for a failure.</summary>
    public static LogEventLevel RequestLogLevel(int statusCode, Exception? error) => error switch
    {
        BadHttpRequestException { StatusCode: < 500 } => LogEventLevel.Information,
        not null => LogEventLevel.Error,
        _ => statusCode >= 500 ? LogEventLevel.Error : statusCode >= 400 ? LogEventLevel.Information : LogEventLevel.Debug,
    };

    /// <summary>
    /// Takes the embedded database's lock at once (before Orleans or anything else is built, so a second engine on the
    /// same folder stops with one line and nothing logged), and applies the database schema before anything else
    /// starts (registered first, so it runs before Orleans). The lock is the app's until it is disposed.
    /// </summary>
    public static void AddCollectionsDatabase(this WebApplicationBuilder builder)
    {
        // The embedded database is one engine's: a second process on it would run its own cadences and senders beside
        // the first, each with its own view of the accounts. It is refused before it writes anything.
        var database = builder.Services.Where(d => d.ServiceType == typeof(DatabaseOptions)).Select(d => d.ImplementationInstance).OfType<DatabaseOptions>().LastOrDefault();
        if (database?.Provider == DatabaseProvider.Sqlite)
        {
            var held = new EngineLockHandle(EngineLock.Take(database.SqliteFilePath));
            builder.Services.AddSingleton(_ => held);
        }
        builder.Services.AddHostedService<DatabaseStartup>();
    }

    /// <summary>
    /// A process that runs grains on PostgreSQL holds its database and schema as its deployment's (<see cref="DeploymentLock"/>):
    /// alone for the local profile, shared with the other silos for the cluster profile. Taken before the schema scripts
    /// run and the silo starts; refused in one line when another deployment holds it.
    /// </summary>
    public static void AddDeploymentLock(this WebApplicationBuilder builder, EngineSettings settings)
    {
        var database = settings.Database();
        if (database.Provider != DatabaseProvider.PostgreSql) return;
        // Registered before the schema's start-up service and the silo: a refused engine changes nothing in the other
        // deployment's database. Made by a factory, so the services dispose it (and give the lock back) whatever happens.
        builder.Services.AddSingleton(services => new DeploymentLockStartup(database, settings.IsCluster ? settings.ClusterId : null,
            services.GetRequiredService<ILogger<DeploymentLockStartup>>(), services.GetRequiredService<IHostApplicationLifetime>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<DeploymentLockStartup>());
    }

    /// <summary>Roots the embedded database's lock in the app's services, so it is released when the app is disposed.</summary>
    public static WebApplication HoldEngineLock(this WebApplication app)
    {
        app.Services.GetService<EngineLockHandle>();
        return app;
    }
}

/// <summary>The embedded database's lock, held by the app's services (released when they are disposed).</summary>
public sealed class EngineLockHandle(FileStream held) : IDisposable
{
    public void Dispose() => held.Dispose();
}

/// <summary>
/// Brings the database schema up to date at start-up, before Orleans' providers need it. Orleans starts its silo in
/// the hosts' "starting" phase, so this runs there too, and is registered before Orleans.
/// </summary>
internal sealed class DatabaseStartup(DatabaseOptions database, ILogger<DatabaseStartup> logger, EngineLockHandle? engineLock = null) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => DatabaseSchema.ApplyAsync(database, logger, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        engineLock?.Dispose(); // stopped: another engine may take the folder (the services' disposal releases it too)
        return Task.CompletedTask;
    }
}

/// <summary>
/// Takes the PostgreSQL deployment's lock as the host starts (see <see cref="HostingExtensions.AddDeploymentLock"/>),
/// looks every <see cref="CheckEvery"/> that its connection still holds it, and gives it back when the host stops. A
/// lock lost with its connection (the server restarted, the network broke) is taken again; if another deployment took
/// the database meanwhile, this engine stops rather than run beside it.
/// </summary>
public sealed class DeploymentLockStartup(DatabaseOptions database, string? clusterId, ILogger<DeploymentLockStartup> logger, IHostApplicationLifetime lifetime,
    TimeSpan? checkEvery = null)
    : IHostedLifecycleService, IAsyncDisposable, IDisposable
{
    /// <summary>How often the lock's connection is asked whether it still answers (30 s).</summary>
    public TimeSpan CheckEvery { get; } = checkEvery ?? TimeSpan.FromSeconds(30);

    private DeploymentLock? _held;
    private readonly CancellationTokenSource _stopping = new();
    private Task _watching = Task.CompletedTask;

    private string Named
    {
        get
        {
            var where = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString);
            return $"{where.Host}:{where.Port}/{where.Database}";
        }
    }

    private string Said(DeploymentRefusal refusal) => refusal switch
    {
        DeploymentRefusal.HeldAlone => $"An engine of the local profile is running on the PostgreSQL database {Named} (it holds the database alone): stop it before starting the cluster's silos, or give the cluster its own database. One deployment per database.",
        DeploymentRefusal.AnotherCluster => $"Silos of another cluster (another --cluster-id than {clusterId}) are running on the PostgreSQL database {Named}: start this silo with that cluster's id, or give this cluster its own database. One deployment per database.",
        _ => $"Another engine or a cluster's silos are running on the PostgreSQL database {Named}: an engine of the local profile must have its database to itself. Stop them, start this one with the cluster's settings (--profile cluster), or give it its own database. One deployment per database.",
    };

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        (_held, var refusal) = await DeploymentLock.TryTakeAsync(database, clusterId, cancellationToken);
        if (_held is null) throw new EngineStartException(Said(refusal));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _watching = WatchAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckEvery, stopping);
                if (!await CheckAsync(stopping)) return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private bool _lost;

    /// <summary>
    /// One look: the lock still held, or taken again. False when another deployment took the database meanwhile (the
    /// engine is then stopped); a database that does not answer yet is asked again at the next look.
    /// </summary>
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_held is { } held && await held.StillHeldAsync(cancellationToken)) return true;
            if (Interlocked.Exchange(ref _held, null) is { } gone) await gone.DisposeAsync();
            if (!_lost) logger.LogWarning("The connection holding this deployment's database lock was lost (the database restarted or the network broke); taking it again");
            _lost = true;
            (_held, var refusal) = await DeploymentLock.TryTakeAsync(database, clusterId, cancellationToken);
            if (_held is null)
            {
                logger.LogCritical("Another deployment took this engine's database while its lock was lost: this engine stops. {Refusal}", Said(refusal));
                lifetime.StopApplication();
                return false;
            }
            logger.LogInformation("This deployment's database lock is held again");
            _lost = false;
            return true;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return true; // the database does not answer yet: asked again at the next look (said once, above)
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stopped (the silo has left its cluster): another deployment may take the database.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _watching;
        if (Interlocked.Exchange(ref _held, null) is { } held) await held.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>The embedded database's lock: one engine per SQLite file.</summary>
public static class EngineLock
{
    /// <summary>An exclusive lock on <c>&lt;database&gt;.lock</c>, held while the engine runs (released by the system if the process dies).</summary>
    public static FileStream Take(string databaseFile)
    {
        var path = databaseFile + ".lock";
        try
        {
            var held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            Persistence.OwnerOnlyFiles.Restrict(path);
            return held;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Most often another engine holding it; a folder the engine may not write is said the same way, with its reason.
            throw new EngineStartException(File.Exists(path) && e is IOException && !e.Message.Contains("denied", StringComparison.OrdinalIgnoreCase)
                ? $"Another engine is already running on {databaseFile} (it holds {path}). Stop it first, or give this one its own database with --data."
                : $"Could not take {path}: {e.Message} The engine needs to write its data folder.");
        }
    }
}

/// <summary>A reason the engine cannot start, said in one line (the process exits with 1).</summary>
public sealed class EngineStartException(string message) : Exception(message);

/// <summary>
/// The ports the engine will listen on, checked free before anything starts: Orleans takes a silo or gateway port that
/// another silo listens on without complaint, and the two then take each other for an older self (one of them, maybe
/// the healthy one, stops); the HTTP port would fail only once the silo had joined its cluster.
/// </summary>
public static class PortCheck
{
    public static void EnsureFree(System.Net.IPAddress address, int port, string option)
    {
        if (port <= 0) return; // 0: any free port
        // Asked by connecting, not by binding: .NET, Orleans and Kestrel bind with address reuse, which on Linux is port
        // sharing too, so a bind would succeed beside another listener; a restarted engine's old connections in
        // TIME_WAIT accept nothing, so they are no reason to refuse.
        var target = address.Equals(System.Net.IPAddress.Any) ? System.Net.IPAddress.Loopback
            : address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.IPAddress.IPv6Loopback : address;
        using var probe = new System.Net.Sockets.Socket(target.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            var connecting = probe.ConnectAsync(new System.Net.IPEndPoint(target, port));
            if (!connecting.Wait(TimeSpan.FromSeconds(1))) return; // nothing answers: not ours to judge
        }
        catch (AggregateException e) when (e.InnerException is System.Net.Sockets.SocketException)
        {
            return; // refused (nothing listens) or unreachable
        }
        throw new EngineStartException($"{option} {port}: the port is already in use on {target} (another engine or silo, most often): give this one its own port.");
    }

    /// <summary>The HTTP addresses (<c>--urls</c>) on this machine's own addresses.</summary>
    public static void EnsureHttpFree(string? urls)
    {
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) continue;
            var address = uri.Host is "localhost" ? System.Net.IPAddress.Loopback
                : System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
            if (address is not null) EnsureFree(address, uri.Port, "--urls");
        }
    }
}

/// <summary>
/// Orleans' watchdog sometimes warns at start that its "participant check thread has not completed" for as long as the
/// machine has been up: its platform thread starts before the component thread's first timestamp is set, so it measures
/// from zero (Orleans 10.4, <c>Watchdog.Start</c>). A stall longer than this process has existed cannot be real, and
/// is not logged; a real stall (shorter than the process's age) still is.
/// </summary>
public static class WatchdogStartupRace
{
    private static readonly DateTime ProcessStarted = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static bool IsImpossibleStall(LogEvent logEvent) => IsImpossibleStall(logEvent, () => DateTime.UtcNow - ProcessStarted);

    /// <summary>
    /// Whether <paramref name="logEvent"/> is the watchdog reporting a stall longer than the process's age (and a
    /// second); the age is asked for only for the watchdog's events.
    /// </summary>
    public static bool IsImpossibleStall(LogEvent logEvent, Func<TimeSpan> processAge) =>
        logEvent.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: "Orleans.Runtime.Watchdog" }
        && logEvent.Properties.TryGetValue("TimeSinceLastTick", out var stall) && stall is ScalarValue { Value: TimeSpan duration }
        && duration > processAge() + TimeSpan.FromSeconds(1);
}


/// <summary>What stopped the engine from starting, in words an operator acts on; null for anything else (a bug: the stack trace is the report).</summary>
public static class StartFailure
{
    /// <summary>
    /// Builds and runs a host; a start refused for a reason the operator can act on is said in one line on stderr as
    /// "<paramref name="what"/> did not start: ..." (the log holds the details), exit code 1.
    /// </summary>
    public static int Run(string what, Func<WebApplication> build)
    {
        try
        {
            build().Run();
            return 0;
        }
        catch (Exception e) when (Explain(e) is { } reason)
        {
            Console.Error.WriteLine($"{what} did not start: {reason}");
            return 1;
        }
    }

    /// <summary>
    /// The host's "Hosting failed to start" report (event 11; not a background service failing later, whose trace the
    /// console keeps) of an exception <see cref="Explain"/> puts in words.
    /// </summary>
    public static bool IsExplainedReport(LogEvent e) =>
        e.Exception is { } exception && e.Properties.TryGetValue("SourceContext", out var source)
        && source is ScalarValue { Value: "Microsoft.Extensions.Hosting.Internal.Host" }
        && e.Properties.TryGetValue("EventId", out var id) && id is StructureValue s && s.Properties.Any(p => p.Name == "Id" && p.Value is ScalarValue { Value: 11 })
        && Explain(exception is LoggedException logged ? logged.Original : exception) is not null;

    public static string? Explain(Exception e) => e switch
    {
        EngineStartException start => start.Message,
        Npgsql.PostgresException { SqlState: "28P01" or "28000" } login
            => $"PostgreSQL refused the login ({login.MessageText}): check the user and password in --postgres (Collections:PostgresConnectionString).",
        Npgsql.PostgresException { SqlState: "3D000" } missing
            => $"PostgreSQL says {missing.MessageText}: create it, or name an existing database in --postgres (Collections:PostgresConnectionString).",
        Npgsql.NpgsqlException { InnerException: System.Net.Sockets.SocketException socket }
            => $"Could not reach PostgreSQL ({socket.Message}): check the host and port in --postgres (Collections:PostgresConnectionString) and that the server runs.",
        ArgumentException argument when argument.StackTrace?.Contains("Npgsql", StringComparison.Ordinal) == true
            => $"The PostgreSQL connection string is not one Npgsql reads ({argument.Message}): use Host=...;Port=...;Username=...;Password=...;Database=... in --postgres (Collections:PostgresConnectionString).",
        AggregateException { InnerExceptions.Count: 1 } one => Explain(one.InnerExceptions[0]),
        IOException io when io.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
                            || io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
            => $"{io.Message} Another program (or another engine) uses that port: stop it, or pass --urls, --silo-port or --gateway-port with free ports.",
        System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } socket
            => $"{socket.Message}: a port the engine needs is taken (its --silo-port or --gateway-port); stop what uses it, or pass free ports.",
        InvalidOperationException invalid when invalid.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => $"{invalid.Message} Check the command line and the configuration (docs/configuration.md).",
        InvalidOperationException invalid when invalid.Message.StartsWith("Collections:", StringComparison.Ordinal) => invalid.Message,
        Microsoft.Extensions.Options.OptionsValidationException options => string.Join(" ", options.Failures),
        _ when e.InnerException is { } inner => Explain(inner),
        _ => null,
    };
}
