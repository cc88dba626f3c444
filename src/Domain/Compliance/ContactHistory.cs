namespace Collections.Domain.Compliance;

/// <summary>Who started a contact. Calls the patient asked for, and contacts the patient started, do not count against call limits.</summary>
public enum ContactInitiator
{
    /// <summary>The automated cadence.</summary>
    Engine,
    /// <summary>An agent working the account.</summary>
    Agent,
    /// <summary>A call or message the patient asked for.</summary>
    PatientRequested,
    /// <summary>The patient contacted us.</summary>
    Inbound,
}

/// <summary>How a contact ended, as far as the engine knows.</summary>
public enum ContactOutcome
{
    /// <summary>Sent or dialled; no conversation (yet).</summary>
    Attempted,
    NoAnswer,
    LeftMessage,
    /// <summary>A conversation with the patient or guarantor about the debt.</summary>
    RightPartyContact,
    WrongNumber,
}

/// <summary>One contact (or attempt) with a guarantor about one account: the history the compliance gate counts.</summary>
[GenerateSerializer, Immutable, Alias("collections.ContactAttempt")]
public sealed record ContactAttempt
{
    /// <summary>The idempotency key of the request that made it: a repeated request finds it instead of contacting again.</summary>
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required AccountKey Account { get; init; }
    [Id(2)] public required OutreachAction Action { get; init; }
    [Id(3)] public ContactChannel? Channel { get; init; }
    [Id(4)] public required ContactInitiator Initiator { get; init; }
    [Id(5)] public required DateTimeOffset At { get; init; }
    [Id(6)] public required ContactOutcome Outcome { get; init; }
    /// <summary>A call recorded although a contact rule would have refused it (a fact is never refused): that rule's code.</summary>
    [Id(7)] public string? RuleBroken { get; init; }

    public bool IsCall => Channel is ContactChannel.Voice or ContactChannel.AutomatedVoice;

    /// <summary>Whether it counts toward the call-frequency limits (only calls we started).</summary>
    public bool CountsAsCallAttempt => IsCall && Initiator is ContactInitiator.Engine or ContactInitiator.Agent;
}
