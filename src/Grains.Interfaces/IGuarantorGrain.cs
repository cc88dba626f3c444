using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>The person responsible for paying one or more patient accounts. Keyed by guarantor id.</summary>
[Alias("collections.IGuarantorGrain")]
public interface IGuarantorGrain : IGrainWithStringKey
{
    /// <summary>Registers the guarantor; refused with a conflict if the id is already taken.</summary>
    [Alias("Register")]
    Task<Outcome<GuarantorView>> Register(GuarantorDetails details);

    /// <summary>The guarantor's record, or null if no guarantor has this id.</summary>
    [Alias("Get")]
    Task<GuarantorView?> Get();

    /// <summary>
    /// What the caller index files the person under: date of birth and last name as the index compares names, or null
    /// if no guarantor has this id. The engine's own read, shown to no one, so it writes no audit record (a person's
    /// record read by a user is <see cref="Get"/>, audited).
    /// </summary>
    [Alias("GetCallerIndexName"), Orleans.Concurrency.ReadOnly]
    Task<CallerIndexName?> GetCallerIndexName();

    /// <summary>Records a consent or opt-out for a channel, with its source.</summary>
    [Alias("RecordConsent")]
    Task<Outcome<GuarantorView>> RecordConsent(ConsentRequest request);

    /// <summary>Adds an account to the guarantor's list; false if the guarantor does not exist.</summary>
    [Alias("LinkAccount")]
    Task<bool> LinkAccount(AccountKey account);

    /// <summary>Runs the compliance gate on a contact over the person's whole history and, if allowed, carries it out (once).</summary>
    [Alias("RequestContact")]
    Task<ContactResult> RequestContact(ContactPermitRequest request);

    /// <summary>
    /// Runs the compliance gate on a contact exactly as <see cref="RequestContact"/> would, now, and records nothing:
    /// no contact history, no message, no task. The worklist asks it before offering a call. Interleaves with other
    /// calls (it only reads), so an account asking it never waits behind a change that is waiting on that account.
    /// </summary>
    [Alias("CheckContact"), Orleans.Concurrency.AlwaysInterleave]
    Task<ContactResult> CheckContact(ContactPermitRequest request);

    /// <summary>
    /// What an account's cadence needs: preferred channel, whether the person is on hold, language. Interleaves (it only
    /// reads): a hold on the person re-evaluates each of their accounts while the hold call is still running, and each
    /// account asks this back.
    /// </summary>
    [Alias("GetContactSummary"), Orleans.Concurrency.AlwaysInterleave]
    Task<GuarantorContactSummary> GetContactSummary();

    /// <summary>
    /// The outbox sender's last look at a message to this person before it goes: a channel closed or a hold placed since
    /// it was queued cancels it, outside the person's hours it waits (<see cref="Domain.Compliance.ComplianceGate.AtSend"/>).
    /// </summary>
    [Alias("CheckSend"), Orleans.Concurrency.ReadOnly, Orleans.Concurrency.AlwaysInterleave]
    Task<Domain.Compliance.GateDecision> CheckSend(Domain.OutreachAction action, Domain.ContactChannel channel, DateTimeOffset queuedAt);

    /// <summary>What the payment-likelihood score of one of the person's accounts needs: contactability, the person's holds and the contacts about that account.</summary>
    [Alias("GetScoringFacts"), Orleans.Concurrency.ReadOnly]
    Task<GuarantorScoringFacts> GetScoringFacts(AccountKey account);

    /// <summary>A hold on the person: covers every one of their accounts.</summary>
    [Alias("PlaceHold")]
    Task<Outcome<GuarantorView>> PlaceHold(HoldRequest request);

    [Alias("ReleaseHold")]
    Task<Outcome<GuarantorView>> ReleaseHold(string holdId, string? note);

    /// <summary>
    /// Records who speaks for the guarantor (an attorney; the estate of a guarantor who died): from now on every contact
    /// about their accounts goes to the representative, never to the guarantor.
    /// </summary>
    [Alias("SetRepresentative")]
    Task<Outcome<GuarantorView>> SetRepresentative(RepresentativeDetails details);

    /// <summary>Ends the representation (with why): contact goes to the guarantor again, as the rules allow.</summary>
    [Alias("RemoveRepresentative")]
    Task<Outcome<GuarantorView>> RemoveRepresentative(string? note);

    /// <summary>An inbound reply: STOP and its synonyms revoke the channel at once (and one confirmation text goes out).</summary>
    [Alias("RecordReply")]
    Task<ReplyHandling> RecordReply(InboundReply reply);

    /// <summary>Records a call (by an agent, asked for by the patient, or inbound) and how it went.</summary>
    [Alias("RecordCall")]
    Task RecordCall(AccountKey account, ContactInitiator initiator, ContactOutcome outcome, string requestId);
}

[GenerateSerializer, Immutable, Alias("collections.ConsentRequest")]
public sealed record ConsentRequest
{
    [Id(0)] public ContactChannel? Channel { get; init; }
    [Id(1)] public ConsentStatus? Status { get; init; }
    [Id(2)] public string? Source { get; init; }
    /// <summary>
    /// The request's Idempotency-Key, if it carried one: a retry under it, however late (after an opt-out recorded
    /// since, say), answers what it recorded and changes nothing.
    /// </summary>
    [Id(3), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.GuarantorView")]
public sealed record GuarantorView
{
    [Id(0)] public required string GuarantorId { get; init; }
    [Id(1)] public required GuarantorProfile Profile { get; init; }
    /// <summary>The latest consent decision per channel.</summary>
    [Id(2)] public required IReadOnlyList<ChannelConsent> Consents { get; init; }
    [Id(3)] public required IReadOnlyList<AccountKey> Accounts { get; init; }
    [Id(4)] public required DateTimeOffset RegisteredAt { get; init; }
    [Id(5)] public IReadOnlyList<Hold> Holds { get; init; } = [];
    /// <summary>The person's recent contact history (newest first), across all their accounts.</summary>
    [Id(6)] public IReadOnlyList<ContactAttempt> RecentContacts { get; init; } = [];
    /// <summary>Who contact goes to instead of the guarantor, if anyone.</summary>
    [Id(7)] public Representative? Representative { get; init; }
}

/// <summary>What the caller index files a person under: date of birth and last name as the index compares names (<see cref="Text.NameKey"/>).</summary>
[GenerateSerializer, Immutable, Alias("collections.CallerIndexName")]
public sealed record CallerIndexName
{
    [Id(0)] public required DateOnly DateOfBirth { get; init; }
    [Id(1)] public required string LastNameKey { get; init; }

    public static CallerIndexName Of(DateOnly dateOfBirth, string lastName) => new() { DateOfBirth = dateOfBirth, LastNameKey = Text.NameKey(lastName) };
}
