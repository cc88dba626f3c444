using System.Net;
using Collections.Gateway.Reports;
using Collections.Grains;
using Collections.Outreach;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace Collections.Hosting;

public static class SiloConfiguration
{
    /// <summary>Hosts an Orleans silo in this process, clustered and stored as the profile says.</summary>
    public static void AddCollectionsSilo(this WebApplicationBuilder builder, EngineSettings settings)
    {
        var database = settings.Database();
        builder.Services.TryAddSingleton<IAuditTrail, DatabaseAuditTrail>();
        builder.Services.AddSingleton(CadenceSettingsFrom(builder.Configuration));
        builder.Services.AddSingleton(RemittanceRulesFrom(builder.Configuration));
        builder.Services.AddSingleton(ZipIncomeBandsFrom(builder.Configuration));
        builder.Services.AddKnownGrainInterfaceTypes();
        builder.UseOrleans(silo =>
        {
            if (settings.IsCluster)
            {
                silo.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
                silo.UseAdoNetClustering(o => { o.Invariant = database.OrleansInvariant; o.ConnectionString = database.ConnectionString; });
                silo.ConfigureEndpoints(settings.ResolveAdvertisedAddress(), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
                if (!string.IsNullOrWhiteSpace(settings.SiloName)) silo.Configure<SiloOptions>(o => o.SiloName = settings.SiloName);
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
            }
            silo.AddCollectionsStorage(database);
            silo.Configure<GrainCollectionOptions>(o => ActivationLimitsFrom(builder.Configuration, o));
            silo.AddIncomingGrainCallFilter<GrainCallCycleGuard>().AddOutgoingGrainCallFilter<GrainCallCycleGuard>();
            if (TelemetryExtensions.TelemetryEnabled(builder.Configuration)) silo.AddActivityPropagation();
            silo.AddCollectionsDashboard(builder.Configuration);
        });
        // After the silo: their background services (outbox sender, webhook dispatcher, model refresher, projections) call
        // grains, so they start once the silo runs and stop before it does (hosted services stop in reverse order).
        builder.Services.AddCollectionsOutreach(builder.Configuration);
        builder.Services.AddCollectionsScoring(builder.Configuration);
        builder.Services.AddCollectionsWorklist();
        builder.Services.AddCollectionsKpis();
        builder.Services.AddCollectionsKpiTrendRecorder();
        builder.Services.AddCollectionsJournal(builder.Configuration);
        builder.Services.AddCollectionsPortal(builder.Configuration);
        if (!settings.CoHostsGateway)
        {
            // A silo without the API still answers /health/live and /health/ready for its supervisor.
            if (string.IsNullOrEmpty(builder.Configuration["urls"]))
                builder.WebHost.UseUrls("http://127.0.0.1:5081");
            builder.Services.AddCollectionsHealthChecks();
        }
    }

    /// <summary>
    /// <c>Collections:Activations</c>: how long an idle account or guarantor stays in memory (<c>CollectionAge</c>, 15
    /// minutes) and, on by default, shedding the longest-idle activations when the process nears its memory limit
    /// (<c>MemoryUsageLimitPercentage</c> 70 and <c>MemoryUsageTargetPercentage</c> 60, of the GC's limit: a container's
    /// or <c>DOTNET_GCHeapHardLimit</c>). A million accounts with armed cadences then live in the database and their
    /// reminders, not all in memory at once; a shed account is read back from its snapshot and journal at its next call.
    /// Orleans' own 80 and 75 left too little room: at a million accounts the heap stood at its limit, full collections
    /// stalled the silo for seconds, and an allocation of the reminder service failed with OutOfMemoryException.
    /// </summary>
    public static void ActivationLimitsFrom(IConfiguration configuration, GrainCollectionOptions options)
    {
        var section = configuration.GetSection("Collections:Activations");
        options.EnableActivationSheddingOnMemoryPressure = section.GetValue("ShedOnMemoryPressure", true);
        options.CollectionAge = section.GetValue("CollectionAge", options.CollectionAge);
        options.MemoryUsageLimitPercentage = section.GetValue("MemoryUsageLimitPercentage", 70.0);
        options.MemoryUsageTargetPercentage = section.GetValue("MemoryUsageTargetPercentage", 60.0);
        if (options.CollectionAge <= options.CollectionQuantum)
            throw new InvalidOperationException($"Collections:Activations:CollectionAge must be more than {options.CollectionQuantum:c}, how often idle activations are looked for (15 minutes by default).");
        if (options.MemoryUsageTargetPercentage <= 0 || options.MemoryUsageTargetPercentage >= options.MemoryUsageLimitPercentage || options.MemoryUsageLimitPercentage > 100)
            throw new InvalidOperationException("Collections:Activations:MemoryUsageTargetPercentage must be above 0 and below MemoryUsageLimitPercentage, which is at most 100 (60 and 70 by default).");
    }

    /// <summary>
    /// <c>Collections:Fairness:ZipIncomeFile</c>: the ZIP-level median incomes the fairness report bands guarantors by
    /// (ACS table B19013 by ZCTA from data.census.gov, or zip,median_income). Without it every band is "unknown"; a file
    /// that cannot be read stops the start with one line naming it.
    /// </summary>
    public static Scoring.ZipIncomeBands ZipIncomeBandsFrom(IConfiguration configuration)
    {
        if (configuration["Collections:Fairness:ZipIncomeFile"] is not { Length: > 0 } path) return Scoring.ZipIncomeBands.Empty;
        try
        {
            return Scoring.ZipIncomeBands.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new InvalidOperationException($"Collections:Fairness:ZipIncomeFile: {e.Message}", e);
        }
    }

    /// <summary><c>Collections:Remittance</c>: e.g. <c>AutoPostDeniedGroups: ["CO"]</c> lets contractual denials post by themselves.</summary>
    public static Remittance.RemittanceRules RemittanceRulesFrom(IConfiguration configuration)
    {
        var groups = configuration.GetSection("Collections:Remittance:AutoPostDeniedGroups").Get<string[]>() ?? [];
        var unknown = groups.Where(g => g is not ("CO" or "PR" or "OA" or "PI" or "CR")).ToList();
        if (unknown.Count > 0)
            throw new InvalidOperationException($"Collections:Remittance:AutoPostDeniedGroups: {string.Join(", ", unknown)} is not an adjustment group (CO, PR, OA, PI, CR).");
        return new Remittance.RemittanceRules { AutoPostDeniedGroups = groups };
    }

    /// <summary>The cadence's numbers from configuration; a bad value stops the start with one line naming it.</summary>
    public static CadenceSettings CadenceSettingsFrom(IConfiguration configuration)
    {
        var dayLength = configuration.GetValue("Collections:Cadence:DayLength", TimeSpan.FromDays(1));
        if (dayLength < TimeSpan.FromSeconds(1))
            throw new InvalidOperationException("Collections:Cadence:DayLength must be at least 00:00:01 (one day by default; e.g. 00:01:00 runs a cadence day per minute).");
        var compliance = configuration.GetSection("Collections:Compliance").Get<Domain.Compliance.ComplianceRules>() ?? new();
        if (compliance.WindowStart >= compliance.WindowEnd)
            throw new InvalidOperationException("Collections:Compliance:WindowStart must be before WindowEnd (defaults 08:00 and 21:00).");
        var reminderPeriod = configuration.GetValue("Collections:Cadence:ReminderPeriod", TimeSpan.FromMinutes(1));
        if (reminderPeriod < TimeSpan.FromMinutes(1))
            throw new InvalidOperationException("Collections:Cadence:ReminderPeriod must be at least 00:01:00, the shortest period Orleans allows (one minute by default).");
        return new CadenceSettings
        {
            DayLength = dayLength,
            ReminderPeriod = reminderPeriod,
            Compliance = compliance,
            Arrangements = configuration.GetSection("Collections:Arrangements").Get<Domain.Arrangements.ArrangementRules>() ?? new(),
            RefundDueDays = configuration.GetValue("Collections:Refunds:DueDays", 60),
        };
    }

    /// <summary>
    /// Grain state (accounts aside, which have their journal) in the engine's database through
    /// <see cref="GroupCommitGrainStorage"/>: many grains' writes in one transaction. State is written with Orleans' own
    /// serializer (every state type has stable [Id]s, so old rows stay readable as types grow). Orleans' ADO.NET provider,
    /// which stored it before, stays registered to read what it holds until each grain's first write. Reminders are kept
    /// in Orleans' ADO.NET reminder table, written through <see cref="GroupCommitReminderTable"/>: many grains' reminders
    /// in one transaction.
    /// </summary>
    public static ISiloBuilder AddCollectionsStorage(this ISiloBuilder silo, DatabaseOptions database)
    {
        silo.Services.AddSingleton<Orleans.Storage.IGrainStorageSerializer, Orleans.Storage.OrleansGrainStorageSerializer>();
        silo.AddAdoNetGrainStorage(StorageNames.StoredBefore, o =>
        {
            o.Invariant = database.OrleansInvariant;
            o.ConnectionString = database.ConnectionString;
        });
        silo.Services.AddKeyedSingleton<Orleans.Storage.IGrainStorage>(StorageNames.Collections, (services, _) => new GroupCommitGrainStorage(database,
            services.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>(), services.GetKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.StoredBefore),
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<GroupCommitGrainStorage>>(), services.GetRequiredService<Collections.Outreach.IOutboxStore>()));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable, GroupCommitReminderTable>();
        return silo;
    }
}
