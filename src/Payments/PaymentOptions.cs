namespace Collections.Payments;

/// <summary>The <c>Collections:Payments</c> configuration section.</summary>
public sealed class PaymentOptions
{
    public const string Section = "Collections:Payments";

    /// <summary><c>sandbox</c> (default: no network, test cards only) or <c>stripe</c>.</summary>
    public string Processor { get; set; } = "sandbox";

    /// <summary>Where patients reach the engine's public pages (links, the processor's return address).</summary>
    public string? PublicBaseUrl { get; set; }

    public StripeSettings Stripe { get; set; } = new();
    public SandboxSettings Sandbox { get; set; } = new();

    public sealed class StripeSettings
    {
        /// <summary>The secret API key (sk_live_… or sk_test_…); keep it in a secret store or environment variable.</summary>
        public string? SecretKey { get; set; }
        /// <summary>The endpoint's signing secret (whsec_…) from the Stripe dashboard's webhook endpoint.</summary>
        public string? WebhookSecret { get; set; }
        /// <summary>The API's address; only tests change it (a local stand-in).</summary>
        public string? ApiBase { get; set; }
        /// <summary>Seconds a webhook's signed timestamp may be old (Stripe's default tolerance).</summary>
        public int WebhookToleranceSeconds { get; set; } = 300;
    }

    public sealed class SandboxSettings
    {
        /// <summary>Every webhook is delivered twice (the engine must post once).</summary>
        public bool DuplicateWebhooks { get; set; } = true;
        /// <summary>Webhooks arrive this late (the patient is back on our page first).</summary>
        public int WebhookDelayMilliseconds { get; set; }
    }
}
