using Microsoft.Extensions.Options;

namespace Collections.Outreach.Webhooks;

/// <summary>Outbound webhooks (<c>Collections:Webhooks</c>): how the dispatcher polls, retries and gives up.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Collections:Webhooks";

    /// <summary>False: events are still recorded, but this process does not deliver them (the gateway-only host).</summary>
    public bool Enabled { get; set; } = true;
    public int MaxAttempts { get; set; } = 8;
    public double RetryBaseSeconds { get; set; } = 30;
    public double RetryMaxSeconds { get; set; } = 3600;
    public double PollSeconds { get; set; } = 5;
    public int TimeoutSeconds { get; set; } = 10;
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>
    /// The least free room a claim is made for; a claim takes as much as there is room for, up to <see cref="MaxInFlight"/>.
    /// </summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// How many deliveries a dispatcher may have on their way at once, over all subscriptions (at least
    /// <see cref="BatchSize"/>: a smaller value is raised to it). Lower it to spare receivers that cannot take many
    /// requests at once; a receiver that does not answer holds its requests' room until <see cref="TimeoutSeconds"/>.
    /// </summary>
    public int MaxInFlight { get; set; } = 64;

    /// <summary>
    /// After this many failures in a row that a retry could mend (timeouts, refused connections, 408, 429, 5xx), a
    /// subscription's receiver is paused: its deliveries are not sent but wait for their retries (an attempt each, as
    /// a failed request would spend), instead of each holding a place among <see cref="MaxInFlight"/> for the whole
    /// timeout while other subscribers' deliveries wait. The first pause lasts <see cref="RetryBaseSeconds"/>, each next
    /// one twice as long (at most <see cref="MaxPauseSeconds"/>); after it one delivery goes as a probe, and any answer
    /// from a receiver that is up (2xx, or another 4xx) ends the pauses. 0: never paused.
    /// </summary>
    public int PauseAfterFailures { get; set; } = 5;

    /// <summary>The longest pause of a receiver that keeps failing (see <see cref="PauseAfterFailures"/>).</summary>
    public double MaxPauseSeconds { get; set; } = 300;

    /// <summary>How long a due delivery may wait for a dispatcher before <c>/health/ready</c> says degraded.</summary>
    public double MaxWaitSeconds { get; set; } = 60;

    /// <summary>
    /// On-premise receivers an administrator allows although they are not public: host names, addresses or CIDR ranges
    /// (e.g. <c>hooks.billing.internal</c>, <c>10.20.0.0/16</c>). Everything else must be a public https address.
    /// </summary>
    public List<string> AllowedPrivateTargets { get; set; } = [];
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o)
    {
        var errors = new List<string>();
        if (o.MaxAttempts is < 1 or > 100) errors.Add($"{WebhookOptions.Section}:MaxAttempts must be between 1 and 100.");
        if (o.RetryBaseSeconds <= 0) errors.Add($"{WebhookOptions.Section}:RetryBaseSeconds must be above 0.");
        if (o.RetryMaxSeconds < o.RetryBaseSeconds) errors.Add($"{WebhookOptions.Section}:RetryMaxSeconds must be at least RetryBaseSeconds.");
        if (o.PollSeconds is < 0.05 or > 3600) errors.Add($"{WebhookOptions.Section}:PollSeconds must be between 0.05 and 3600.");
        if (o.TimeoutSeconds < 1) errors.Add($"{WebhookOptions.Section}:TimeoutSeconds must be at least 1.");
        if (o.LeaseSeconds < 2 * o.TimeoutSeconds) errors.Add($"{WebhookOptions.Section}:LeaseSeconds must be at least twice TimeoutSeconds.");
        if (o.BatchSize is < 1 or > 100) errors.Add($"{WebhookOptions.Section}:BatchSize must be between 1 and 100.");
        if (o.MaxWaitSeconds <= 0) errors.Add($"{WebhookOptions.Section}:MaxWaitSeconds must be above 0.");
        if (o.MaxInFlight is < 1 or > 1000) errors.Add($"{WebhookOptions.Section}:MaxInFlight must be between 1 and 1000.");
        if (o.PauseAfterFailures is < 0 or > 1000) errors.Add($"{WebhookOptions.Section}:PauseAfterFailures must be between 0 (never) and 1000.");
        if (o.MaxPauseSeconds is < 1 or > 86400) errors.Add($"{WebhookOptions.Section}:MaxPauseSeconds must be between 1 and 86400.");
        foreach (var entry in o.AllowedPrivateTargets.Where(e => e.Contains('/') && !WebhookTargets.TryParseRange(e.Trim(), out _)))
            errors.Add($"{WebhookOptions.Section}:AllowedPrivateTargets: \"{entry}\" is not an address range (write 10.20.0.0/16 or fd00::/8).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
