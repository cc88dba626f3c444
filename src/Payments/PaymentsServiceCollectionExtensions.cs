using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Collections.Payments;

public static class PaymentsServiceCollectionExtensions
{
    /// <summary>The processor chosen by <c>Collections:Payments:Processor</c> (sandbox by default).</summary>
    public static IServiceCollection AddCollectionsPayments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentOptions>().Bind(configuration.GetSection(PaymentOptions.Section)).PostConfigure(o =>
            o.PublicBaseUrl ??= configuration["Collections:Outreach:PublicBaseUrl"] ?? configuration["urls"]?.Split(';')[0].Trim().TrimEnd('/'));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SandboxPaymentProcessor>();
        services.TryAddSingleton<IPaymentProcessor>(sp =>
            sp.GetRequiredService<IOptions<PaymentOptions>>().Value.Processor.Trim().ToLowerInvariant() switch
            {
                "sandbox" => sp.GetRequiredService<SandboxPaymentProcessor>(),
                "stripe" => ActivatorUtilities.CreateInstance<StripePaymentProcessor>(sp),
                var other => throw new InvalidOperationException($"Collections:Payments:Processor is '{other}': use sandbox or stripe."),
            });
        return services;
    }
}
