using Collections.Domain.Arrangements;
using Collections.Domain.Payments;
using Collections.Gateway.Portal;
using Collections.Gateway.Security;
using Collections.Payments;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Collections.Hosting;

public static class PortalExtensions
{
    /// <summary>
    /// The patients' self-service page and card payments: the processor (<c>Collections:Payments</c>), the page's rules
    /// (<c>Collections:Portal</c>: MaxFailures, MaxFailuresPerAddress, WindowMinutes, LockoutMinutes, SessionMinutes,
    /// LinkLifetimeDays), and the webhook intake. Silo and gateway both call it (the grains charge, the gateway verifies).
    /// </summary>
    public static IServiceCollection AddCollectionsPortal(this IServiceCollection services, IConfiguration configuration)
    {
        var portal = configuration.GetSection("Collections:Portal");
        services.TryAddSingleton(new PortalAccessRules
        {
            MaxFailures = portal.GetValue("MaxFailures", 5),
            MaxFailuresPerAddress = portal.GetValue("MaxFailuresPerAddress", 20),
            Window = TimeSpan.FromMinutes(portal.GetValue("WindowMinutes", 30)),
            Lockout = TimeSpan.FromMinutes(portal.GetValue("LockoutMinutes", 30)),
            SessionLifetime = TimeSpan.FromMinutes(portal.GetValue("SessionMinutes", 20)),
            LinkLifetime = TimeSpan.FromDays(portal.GetValue("LinkLifetimeDays", 90)),
        });
        services.TryAddSingleton(portal.GetSection("Autopay").Get<AutopayRules>() ?? new AutopayRules());
        services.TryAddSingleton(configuration.GetSection("Collections:Arrangements").Get<ArrangementRules>() ?? new ArrangementRules());
        services.AddCollectionsPayments(configuration);
        services.TryAddSingleton<IProcessorEventSink, PaymentEventIntake>();
        services.TryAddSingleton<PortalSession>();
        services.TryAddSingleton<PortalAddressThrottle>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ProcessorNotice>()); // once, though silo and gateway both ask
        return services;
    }
}

/// <summary>Says at start which processor takes cards, and what the sandbox is not (no money moves; one process only).</summary>
internal sealed class ProcessorNotice(IPaymentProcessor processor, IConfiguration configuration, ILogger<ProcessorNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (processor.Name == "sandbox")
            logger.LogInformation("Card payments go to the sandbox processor: test cards only, no money moves, open checkouts live in this process's memory{Cluster}. " +
                              "Set Collections:Payments:Processor=stripe to take real cards (docs/payments.md).",
                string.Equals(configuration["Collections:Profile"], "cluster", StringComparison.OrdinalIgnoreCase) ? " (not for several silos and gateways)" : "");
        else
            logger.LogInformation("Card payments go to {Processor}", processor.Name);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
