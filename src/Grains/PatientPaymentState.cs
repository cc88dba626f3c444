using Collections.Payments;

namespace Collections.Grains;

/// <summary>A card payment's durable state (see <see cref="PatientPaymentGrain"/>).</summary>
[GenerateSerializer, Alias("collections.PatientPaymentState")]
public sealed class PatientPaymentState
{
    [Id(0)] public CardPaymentStart? Request { get; set; }
    [Id(1)] public CardPaymentStatus Status { get; set; }
    [Id(2)] public string? CheckoutId { get; set; }
    [Id(3)] public string? CheckoutUrl { get; set; }
    [Id(4)] public string? ProcessorPaymentId { get; set; }
    [Id(5)] public string? FailureCode { get; set; }
    [Id(6)] public SavedCard? Card { get; set; }
    [Id(7)] public List<PostedShare> Shares { get; set; } = [];
    [Id(8)] public List<CardRefund> Refunds { get; set; } = [];
    /// <summary>The processor's event ids already applied (the newest 50).</summary>
    [Id(9)] public List<string> EventsSeen { get; set; } = [];
    [Id(10)] public DateTimeOffset StartedAt { get; set; }
    [Id(11)] public DateTimeOffset? ConfirmedAt { get; set; }
    [Id(12)] public string? NeedsReview { get; set; }
    [Id(13)] public string Processor { get; set; } = "";
    [Id(14)] public decimal Amount { get; set; }
    [Id(15)] public string? CardBrand { get; set; }
    [Id(16)] public string? CardLast4 { get; set; }
}
