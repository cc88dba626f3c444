using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Collections.Gateway.Api;
using Collections.Gateway.Models;
using Collections.Gateway.Portal;
using Collections.Gateway.Reports;
using Collections.Gateway.Security;
using Collections.Gateway.Worklist;
using Collections.Grains;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Configuration;

namespace Collections.Hosting;

public static class GatewayExtensions
{
    /// <summary>Everything the HTTP API needs: JSON rules, API keys and single sign-on, roles, problem details, OpenAPI, health.</summary>
    public static void AddCollectionsGateway(this WebApplicationBuilder builder, EngineSettings settings)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
            builder.WebHost.UseUrls("http://127.0.0.1:5080");

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            // Money and counts are JSON numbers: "1.00" (a string) is a wrong type, not an amount. The web defaults
            // would read numbers from strings; and {"amount":1.00,"amount":900.00} is ambiguous, so refused.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddRejectedRequestProblems());
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            // Every problem carries a code, also those the framework writes (status-code pages, authentication).
            if (!c.ProblemDetails.Extensions.ContainsKey("code"))
                c.ProblemDetails.Extensions["code"] = c.ProblemDetails.Status switch
                {
                    401 => "auth.required",
                    403 => "auth.forbidden",
                    404 => "not-found",
                    405 => "method.not-allowed",
                    406 => "not-acceptable",
                    415 => "media-type.unsupported",
                    429 => "rate-limited",
                    var status => $"http.{status}",
                };
            // The framework's own refusals say what to do, as ours do.
            if (c.ProblemDetails.Detail is null)
                c.ProblemDetails.Detail = c.ProblemDetails.Status switch
                {
                    403 => $"A key or sign-in with the role '{c.HttpContext.User.FindFirstValue(ClaimTypes.Role) ?? "none"}' may not do this; "
                           + "docs/api.md lists what each role may do, and an administrator can issue a key with the role it needs.",
                    415 => AcceptedContentTypes(c.HttpContext) is { Count: > 0 } accepts
                        ? $"This endpoint takes a body of type {string.Join(" or ", accepts)} (the Content-Type header)."
                        : "This endpoint does not take a body of this Content-Type.",
                    _ => null,
                };
        });
        services.AddExceptionHandler<RequestExceptionHandler>();

        services.TryAddSingleton<IAuditTrail, DatabaseAuditTrail>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<FailedAuthenticationThrottle>();
        services.AddSingleton<RevokedApiKeys>();
        services.AddHostedService(sp => sp.GetRequiredService<RevokedApiKeys>());
        services.TryAddSingleton(sp => new ScoringModelCatalog(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton<ModelRegistration>();
        services.TryAddSingleton(sp => new ScoreOutcomeLog(sp.GetRequiredService<DatabaseOptions>()));
        services.TryAddSingleton<AgentWorklist>();
        services.TryAddSingleton<Persistence.CallerIndexStore>();
        services.TryAddSingleton<InboundCallerSearch>();
        services.TryAddSingleton<PhoneCardPayments>();
        services.TryAddSingleton(sp => new AccountDirectory(sp.GetRequiredService<DatabaseOptions>()));
        services.AddCollectionsKpiTrends();
        services.AddMemoryCache();
        services.AddCollectionsAuthentication(builder.Configuration);
        services.AddAuthorizationBuilder().AddCollectionsPolicies();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuditedAuthorizationResultHandler>();
        services.AddHostedService(sp => new AdminKeyBootstrap(sp.GetRequiredService<ApiKeyStore>(), settings, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AdminKeyBootstrap>>()));
        services.AddHostedService<ReadyNotice>();

        services.AddCollectionsPortal(builder.Configuration);
        services.AddTrustedProxies(builder.Configuration);

        services.AddOpenApi();
        services.AddCollectionsHealthChecks();
    }

    public static void AddCollectionsHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"])
            .AddCheck<ProjectionHealthCheck>("projections", tags: ["ready"])
            .AddCheck<WebhookHealthCheck>("webhooks", tags: ["ready"])
            .AddCheck<Collections.Outreach.OutboxHealthCheck>("outbox", tags: ["ready"]);

    /// <summary>The gateway as an Orleans client of a PostgreSQL-clustered silo pool (cluster profile).</summary>
    public static void AddCollectionsClusterClient(this WebApplicationBuilder builder, EngineSettings settings)
    {
        var database = settings.Database();
        builder.Services.AddKnownGrainInterfaceTypes();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
            client.UseAdoNetClustering(o => { o.Invariant = database.OrleansInvariant; o.ConnectionString = database.ConnectionString; });
            if (TelemetryExtensions.TelemetryEnabled(builder.Configuration)) client.AddActivityPropagation();
            client.AddCollectionsDashboard(builder.Configuration);
        });
    }

    public static void MapCollectionsGateway(this WebApplication app)
    {
        app.UseForwardedHeaders(); // does nothing unless Collections:ForwardedHeaders names the proxies (TrustedProxies)
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseResponseSafetyHeaders();
        app.UseRequestTargetLimit();
        app.UseCollectionsRequestLogging();
        app.UseAuthenticationLockout();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi().AllowAnonymous();
        app.MapCollectionsHealth();
        app.MapAgentConsole();
        app.MapEmailOptOut();
        if (app.Configuration.GetValue("Collections:Portal:Enabled", true)) app.MapPatientPortal();
        app.MapPaymentWebhook();
        app.MapTwilioWebhooks();
        if (app.Services.GetRequiredService<Collections.Payments.IPaymentProcessor>().Name == "sandbox") app.MapSandboxCheckout();

        var api = app.MapGroup("/api").RequireAuthorization().WithCallerContext();
        api.MapGuarantors();
        api.MapAccounts();
        api.MapFollowUp();
        api.MapOutreach();
        api.MapRemittances();
        api.MapPlacements();
        api.MapAdministration();
        api.MapWebhooks();
        api.MapModels();
        api.MapWorklist();
        api.MapKpis();
        api.MapPayments();
        api.MapConsoleSession();
        app.MapCollectionsDashboard();
    }

    /// <summary>
    /// No answer is sniffed as another content type, and no API answer (they carry patients' data) is kept by a browser
    /// or a proxy cache.
    /// </summary>
    public static void UseResponseSafetyHeaders(this WebApplication app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if ((context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/optout")
                 || context.Request.Path.StartsWithSegments("/pay") || context.Request.Path.StartsWithSegments("/p")
                 || context.Request.Path.StartsWithSegments(DashboardExtensions.Route)) && !headers.ContainsKey("Cache-Control"))
            {
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
            }
            return Task.CompletedTask;
        });
        return next(context);
    });

    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: the cluster answers a grain call.</summary>
    public static void MapCollectionsHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
    }
    /// <summary>
    /// The body types the endpoint at the request's path and method takes: routing answered 415 itself, with an endpoint
    /// of its own, when the Content-Type matched none of them. The endpoints that name body types are read once.
    /// </summary>
    private static IReadOnlyList<string> AcceptedContentTypes(HttpContext http)
    {
        try
        {
            var accepting = _accepting ??= http.RequestServices.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>()
                .SelectMany(s => s.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
                .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { ContentTypes.Count: > 0 })
                .Select(e => (new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(
                        Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse(e.RoutePattern.RawText ?? ""), new Microsoft.AspNetCore.Routing.RouteValueDictionary()),
                    e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods,
                    e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()!.ContentTypes))
                .ToList();
            foreach (var (matcher, methods, types) in accepting)
                if ((methods is null || methods.Contains(http.Request.Method, StringComparer.OrdinalIgnoreCase))
                    && matcher.TryMatch(http.Request.Path, new Microsoft.AspNetCore.Routing.RouteValueDictionary()))
                    return types;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Only the detail is lost: the 415 still says what it is.
        }
        return [];
    }

    private static List<(Microsoft.AspNetCore.Routing.Template.TemplateMatcher Matcher, IReadOnlyList<string>? Methods, IReadOnlyList<string> Types)>? _accepting;
}

/// <summary>Ready when a grain call round-trips through the cluster within a few seconds.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var silo = await grains.GetGrain<IClusterProbeGrain>(0).Ping().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"answered by {silo}");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("the cluster did not answer", ex);
        }
    }
}

/// <summary>
/// Degraded (still ready: commands are served) when a projection of the event log has fallen behind by more than
/// Collections:Projections:MaxLag; the description names the projections and their lag, never an account.
/// </summary>
internal sealed class ProjectionHealthCheck(IGrainFactory grains, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var maxLag = configuration.GetValue("Collections:Projections:MaxLag", TimeSpan.FromSeconds(30));
        try
        {
            var status = await grains.GetGrain<IProjectionControlGrain>(0).Status().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            var behind = status.Where(s => s.LagSeconds > maxLag.TotalSeconds).ToList();
            var data = status.ToDictionary(s => s.Name, s => (object)s.LagSeconds);
            return behind.Count == 0
                ? HealthCheckResult.Healthy("projections current", data)
                : HealthCheckResult.Degraded($"behind by more than {maxLag.TotalSeconds:0} s: {string.Join(", ", behind.Select(b => $"{b.Name} ({b.LagSeconds:0} s)"))}", data: data);
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Degraded("projection status unavailable", ex);
        }
    }
}

/// <summary>On a database without an admin key, creates one and writes it to the data folder, readable by the owner only.</summary>
internal sealed class AdminKeyBootstrap(ApiKeyStore keys, EngineSettings settings, TimeProvider clock, ILogger<AdminKeyBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await keys.EnsureAdminKeyAsync(settings.AdminKeyFile, settings.NewKeyExpiry(clock.GetUtcNow(), null), cancellationToken))
            logger.LogInformation("Created the first admin API key; it is in {KeyFile} (owner-only). Use it as: Authorization: Bearer $(cat {KeyFile})", settings.AdminKeyFile, settings.AdminKeyFile);
        // Otherwise the ready line names the key file.
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Once the engine serves requests: one line saying where, where the admin key is, and where to start. The key file is
/// named only while it holds a key that still works: a restored data folder has none, and an administrator may have
/// revoked the first key as advised.
/// </summary>
internal sealed class ReadyNotice(EngineSettings settings, ApiKeyStore keys, TimeProvider clock, IHostApplicationLifetime lifetime, Microsoft.AspNetCore.Hosting.Server.IServer server, ILogger<ReadyNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = AnnounceAsync());
        return Task.CompletedTask;
    }

    private async Task AnnounceAsync()
    {
        var address = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/') ?? "(no address)";
        var key = await KeyFileStateAsync();
        logger.LogInformation("Collections is ready at {Address} (health: {Address}/health/ready). Admin API key: {KeyFile}. Agents' console: {Address}/console. " +
                              "Patients' page: {Address}/pay. Start with the README's five-minute tour.", address, address, key, address, address);
        await WarnOfKeysOutlivingMaxLifetimeAsync();
    }

    /// <summary>Keys made before <c>Collections:ApiKeyMaxLifetimeDays</c> was set keep their own expiry: said once at start, by id and name.</summary>
    private async Task WarnOfKeysOutlivingMaxLifetimeAsync()
    {
        if (settings.ApiKeyMaxLifetimeDays is not { } days) return;
        try
        {
            var now = clock.GetUtcNow();
            var outliving = (await keys.ListAsync()).Where(k => settings.OutlivesMaxLifetime(k, now)).ToList();
            if (outliving.Count > 0)
                logger.LogWarning("{Count} API key(s) made before Collections:ApiKeyMaxLifetimeDays ({Days} days) was set live longer than it allows: {Keys}. " +
                                  "They keep working; revoke each (DELETE /api/keys/{{keyId}}) once its replacement is in use. GET /api/keys marks them outlivesMaxLifetime.",
                    outliving.Count, days, string.Join(", ", outliving.Select(k => $"{k.KeyId} ({k.Name})")));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("Could not check the API keys against Collections:ApiKeyMaxLifetimeDays: {Error}", ex.GetType().Name);
        }
    }

    private async Task<string> KeyFileStateAsync()
    {
        const string Elsewhere = "use one an administrator gave you (keys are made with POST /api/keys)";
        try
        {
            if (!File.Exists(settings.AdminKeyFile)) return $"none in {settings.AdminKeyFile}: {Elsewhere}";
            var token = (await File.ReadAllTextAsync(settings.AdminKeyFile)).Trim();
            return await keys.VerifyAsync(token) is { RevokedAt: null } key && !key.HasExpired(clock.GetUtcNow())
                ? settings.AdminKeyFile
                : $"the one in {settings.AdminKeyFile} no longer works (revoked, expired, or made for another database): {Elsewhere}";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"{settings.AdminKeyFile} (not checked: {ex.GetType().Name})";
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
