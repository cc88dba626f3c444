using Collections.Grains;
using Collections.Payments;

namespace Collections.Gateway.Portal;

/// <summary>
/// Where the processor's webhooks land (over HTTP for Stripe, in-process for the sandbox): the signature checked,
/// then the event applied by the payment's grain. An exception means "not applied": the processor delivers it again.
/// </summary>
public sealed class PaymentEventIntake(IPaymentProcessor processor, IGrainFactory grains, ILogger<PaymentEventIntake> logger) : IProcessorEventSink
{
    public async Task AcceptAsync(string body, Func<string, string?> header, CancellationToken cancellationToken = default)
    {
        var e = await processor.ReadEventAsync(body, header, cancellationToken);
        if (e is null) return; // an event type the engine does not act on
        CallerContext.Set(new Caller { Actor = $"processor:{processor.Name}", Role = "system" });
        var applied = await grains.GetGrain<IPatientPaymentGrain>(e.PaymentId).Apply(e);
        logger.LogInformation("Processor event {EventKind} for payment {PaymentId}: {Status}", e.Kind, e.PaymentId, applied?.Status.ToString() ?? "unknown payment");
    }
}
