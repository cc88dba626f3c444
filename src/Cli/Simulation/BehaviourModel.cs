using Collections.Domain;

namespace Collections.Cli.Simulation;

/// <summary>How a contact changes the daily chance of paying: a lift of the base propensity for some days after delivery.</summary>
public readonly record struct ContactResponse(double Lift, int DelayDays, int Days);

/// <summary>
/// The patient behaviour model (docs/simulation.md). Simple on purpose: it exists to compare policies on the same
/// portfolio, not to forecast cash. Every number is a default a user can argue with.
/// </summary>
public sealed record BehaviourModel
{
    public ContactResponse MailStatement { get; init; } = new(1.5, 3, 14);
    public ContactResponse EmailStatement { get; init; } = new(1.0, 0, 7);
    public ContactResponse Email { get; init; } = new(0.6, 0, 5);
    public ContactResponse Text { get; init; } = new(1.2, 0, 3);
    public ContactResponse Letter { get; init; } = new(0.8, 3, 10);
    public ContactResponse FinalNotice { get; init; } = new(2.0, 3, 14);
    /// <summary>A voicemail or a missed call still reminds a little.</summary>
    public ContactResponse CallWithoutConversation { get; init; } = new(0.4, 0, 3);

    /// <summary>An agent's call reaches the right party this often (given a phone number).</summary>
    public double RightPartyContactRate { get; init; } = 0.30;
    /// <summary>After a conversation, the patient responds (pays, promises, or asks for a plan) this often, that day.</summary>
    public double ResponseAfterConversation { get; init; } = 0.45;

    /// <summary>Chance of paying in full when responding: high for small balances, lower for large ones.</summary>
    public double FullPaymentAt100 { get; init; } = 0.90;
    public double FullPaymentDropPerE { get; init; } = 0.12;
    /// <summary>When not paying in full: share who start a payment plan (balance of at least <see cref="PlanMinimumBalance"/>), then share who promise.</summary>
    public double PlanShare { get; init; } = 0.35;
    public decimal PlanMinimumBalance { get; init; } = 300.00m;
    public double PromiseShare { get; init; } = 0.35;
    public double PromiseKeptRate { get; init; } = 0.60;
    public double InstallmentPaidRate { get; init; } = 0.90;
    /// <summary>A partial payment is this share of the balance, uniformly.</summary>
    public double PartialMin { get; init; } = 0.20;
    public double PartialMax { get; init; } = 0.60;

    /// <summary>Each written contact (statement, letter, final notice) or conversation leads to a dispute this often; the hold lasts 30-60 days until verification.</summary>
    public double DisputeRate { get; init; } = 0.01;
    /// <summary>Each text delivered is answered STOP this often.</summary>
    public double StopRate { get; init; } = 0.03;

    public double FullPaymentProbability(decimal balance) =>
        Math.Clamp(FullPaymentAt100 - FullPaymentDropPerE * Math.Log((double)balance / 100.0), 0.30, 0.97);

    public ContactResponse ResponseTo(OutreachAction action, ContactChannel? channel) => action switch
    {
        OutreachAction.PatientStatement => channel == ContactChannel.Email ? EmailStatement : MailStatement,
        OutreachAction.FinalNotice => FinalNotice,
        OutreachAction.EmailReminder => Email,
        OutreachAction.SmsReminder => Text,
        OutreachAction.Letter => Letter,
        _ => default,
    };
}
