namespace Collections.Payments;

/// <summary>
/// Where a processor's webhooks land inside the engine: the same path whether they came over HTTP (Stripe) or from the
/// sandbox processor in this process. Implementations verify the signature (<see cref="IPaymentProcessor.ReadEventAsync"/>)
/// and apply the event; they throw when it could not be applied, and the processor delivers it again later.
/// </summary>
public interface IProcessorEventSink
{
    Task AcceptAsync(string body, Func<string, string?> header, CancellationToken cancellationToken = default);
}

/// <summary>A request the processor refused (an amount over what can be refunded, an unknown payment): not worth retrying.</summary>
[GenerateSerializer, Alias("collections.ProcessorRefusedException")]
public sealed class ProcessorRefusedException(string code, string message) : Exception(message)
{
    [Id(0)] public string Code { get; private set; } = code;
    public ProcessorRefusedException() : this("processor.refused", "The payment processor refused the request.") { }
    public ProcessorRefusedException(string message) : this("processor.refused", message) { }
    public ProcessorRefusedException(string message, Exception inner) : this("processor.refused", message + " " + inner.Message) { }
}
