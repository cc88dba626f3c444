using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Collections.Outreach.Webhooks;

namespace Collections.Outreach;

public static class OutreachServiceCollectionExtensions
{
    /// <summary>
    /// Registers outreach delivery: the outbox store, <see cref="IOutreachService"/>, templates, the facility directory,
    /// the transports and (unless <c>Collections:Outreach:Sender:Enabled</c> is false) the <see cref="OutboxSender"/>.
    /// Needs a <see cref="Collections.Persistence.DatabaseOptions"/> and a <see cref="TimeProvider"/> registered (the hosts
    /// do both). The settings are checked when the host starts; a bad one stops it with a message naming the setting.
    /// </summary>
    public static IServiceCollection AddCollectionsOutreach(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OutreachOptions>().Bind(configuration.GetSection(OutreachOptions.Section)).ValidateOnStart()
            // Not set: the links point at the address the engine itself listens on (the local default).
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(configuration[$"{OutreachOptions.Section}:PublicBaseUrl"]) && configuration["urls"] is { Length: > 0 } urls
                    && urls.Split(';')[0].Trim() is var first && first.StartsWith("http", StringComparison.OrdinalIgnoreCase) && !first.Contains('*', StringComparison.Ordinal) && !first.Contains("+:", StringComparison.Ordinal))
                    o.PublicBaseUrl = first.TrimEnd('/');
            });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutreachOptions>, OutreachOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new FacilityDirectory(configuration));

        services.TryAddSingleton<IOutboxStore, SqlOutboxStore>();
        services.TryAddSingleton<ITemplateStore, SqlTemplateStore>();
        services.TryAddSingleton<SandboxMailbox>();
        services.TryAddSingleton<StatementPdfRenderer>();
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton(sp => new Persistence.SignedLinks(sp.GetRequiredService<Persistence.DatabaseOptions>(), sp.GetRequiredService<TimeProvider>(),
            configuration["Collections:Links:SigningKey"]));
        services.TryAddSingleton<EmailOptOutLinks>();
        // The self-service page's links in every message, unless Collections:Portal:Enabled is false (then the facility's PayUrl).
        services.TryAddSingleton(new PortalLinkLifetime(TimeSpan.FromDays(configuration.GetValue("Collections:Portal:LinkLifetimeDays", 90)),
            configuration.GetValue("Collections:Portal:Enabled", true)));
        services.TryAddSingleton<PayLinks>();
        services.TryAddSingleton<IOutreachService, OutreachService>();

        services.AddHttpClient(WebhookTransport.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMessageTransport, SandboxTransport>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMessageTransport, SmtpTransport>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMessageTransport, WebhookTransport>());
        services.AddHttpClient(TwilioTransport.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMessageTransport, TwilioTransport>());
        services.TryAddSingleton<TransportRouter>();

        if (configuration.GetValue($"{OutreachOptions.Section}:Sender:Enabled", true))
        {
            services.TryAddSingleton<OutboxSender>();
            services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        }
        services.AddCollectionsWebhooks(configuration);
        return services;
    }

    /// <summary>
    /// Outbound webhooks: the subscription and delivery store (also the webhook projection's <see cref="IAccountEventSink"/>)
    /// and, unless <c>Collections:Webhooks:Enabled</c> is false, the <see cref="WebhookDispatcher"/>.
    /// </summary>
    public static IServiceCollection AddCollectionsWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        services.TryAddSingleton<WebhookSignal>();
        services.TryAddSingleton<IWebhookStore, SqlWebhookStore>();
        services.TryAddSingleton<IAccountEventSink>(sp => sp.GetRequiredService<IWebhookStore>());
        services.TryAddSingleton(sp => new WebhookTargets(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowedPrivateTargets));
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<WebhookTargets>().CreateHandler());
        if (configuration.GetValue($"{WebhookOptions.Section}:Enabled", true))
        {
            services.TryAddSingleton<WebhookDispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        }
        return services;
    }
}
