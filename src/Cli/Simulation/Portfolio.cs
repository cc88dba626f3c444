using Collections.Domain;

namespace Collections.Cli.Simulation;

/// <summary>One synthetic account and its guarantor (one guarantor per account), as a compact struct.</summary>
public readonly record struct AccountSpec(
    long BalanceCents,
    float DailyPropensity,
    ContactChannel Preferred,
    bool HasEmail,
    bool HasMobile,
    bool HasLandline,
    bool SmsConsent,
    byte Zone);

/// <summary>The knobs of the synthetic portfolio (see docs/simulation.md). Defaults are plausible, not measured.</summary>
public sealed record PortfolioModel
{
    /// <summary>Patient balances are log-normal: median and spread of ln(dollars), clamped to [min, max].</summary>
    public double MedianBalance { get; init; } = 180.0;
    public double BalanceSigma { get; init; } = 1.25;
    public double MinBalance { get; init; } = 5.00;
    public double MaxBalance { get; init; } = 50_000.00;
    /// <summary>Share of guarantors who will (almost) never pay whatever we do.</summary>
    public double NonPayerShare { get; init; } = 0.25;
    public double NonPayerPropensity { get; init; } = 0.0002;
    /// <summary>Everyone else: a daily probability of paying unprompted, log-normal around this median.</summary>
    public double MedianPropensity { get; init; } = 0.004;
    public double PropensitySigma { get; init; } = 0.8;
    public double EmailShare { get; init; } = 0.60;
    public double MobileShare { get; init; } = 0.72;
    public double LandlineShare { get; init; } = 0.25;
    /// <summary>Of guarantors with a mobile number, the share who gave prior express consent to texts.</summary>
    public double SmsConsentShare { get; init; } = 0.45;
}

public static class Portfolio
{
    /// <summary>US time zones weighted roughly by population. The simulator's clock (19:00 UTC) is inside 08:00-21:00 in all of them.</summary>
    public static readonly string[] Zones =
        ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"];

    private static readonly double[] ZoneWeights = [0.47, 0.29, 0.05, 0.02, 0.155, 0.005, 0.01];

    private const int PortfolioDay = -1; // draws that define the portfolio are keyed on a day no simulation uses

    /// <summary>The portfolio for a seed: account i is a pure function of (seed, i), so it is the same however it is generated.</summary>
    public static AccountSpec[] Generate(int accounts, ulong seed, PortfolioModel model, int maxDegreeOfParallelism = -1)
    {
        var specs = new AccountSpec[accounts];
        Parallel.For(0, (accounts + 4095) / 4096, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, chunk =>
        {
            var end = Math.Min(accounts, (chunk + 1) * 4096);
            for (var i = chunk * 4096; i < end; i++) specs[i] = Account(i, seed, model);
        });
        return specs;
    }

    public static AccountSpec Account(int i, ulong seed, PortfolioModel model)
    {
        double U(int purpose) => Randomness.Uniform(seed, i, PortfolioDay, purpose);
        var dollars = Math.Exp(Math.Log(model.MedianBalance) + model.BalanceSigma * Randomness.Normal(seed, i, PortfolioDay, 1));
        dollars = Math.Clamp(dollars, model.MinBalance, model.MaxBalance);
        var cents = (long)Math.Round(dollars * 100);

        var propensity = U(3) < model.NonPayerShare
            ? model.NonPayerPropensity
            : Math.Clamp(Math.Exp(Math.Log(model.MedianPropensity) + model.PropensitySigma * Randomness.Normal(seed, i, PortfolioDay, 4)), 0.0005, 0.05);

        var hasEmail = U(6) < model.EmailShare;
        var hasMobile = U(7) < model.MobileShare;
        var hasLandline = !hasMobile ? U(8) < 0.6 : U(8) < model.LandlineShare;
        var consent = hasMobile && U(9) < model.SmsConsentShare;
        var p = U(10);
        var preferred =
            p < 0.40 ? ContactChannel.Mail
            : p < 0.80 ? (hasEmail ? ContactChannel.Email : ContactChannel.Mail)
            : p < 0.95 ? (consent ? ContactChannel.Sms : hasEmail ? ContactChannel.Email : ContactChannel.Mail)
            : (hasMobile || hasLandline ? ContactChannel.Voice : ContactChannel.Mail);

        var z = U(11);
        byte zone = 0;
        for (var acc = 0.0; zone < ZoneWeights.Length - 1; zone++)
        {
            acc += ZoneWeights[zone];
            if (z < acc) break;
        }
        return new AccountSpec(cents, (float)propensity, preferred, hasEmail, hasMobile, hasLandline, consent, zone);
    }
}
