using Collections.Domain;

namespace Collections.Grains;

/// <summary>A provider-level adjustment (PLB) as recorded against a remittance.</summary>
[GenerateSerializer, Immutable, Alias("collections.ProviderAdjustmentRecord")]
public sealed record ProviderAdjustmentRecord(
    [property: Id(0)] string ReasonCode, [property: Id(1)] string? Reference, [property: Id(2)] decimal Amount);

public enum ClaimPostingStatus
{
    Posted,
    /// <summary>Everything in it had been posted before (the same file again).</summary>
    AlreadyPosted,
    /// <summary>Left on the exceptions list for a person.</summary>
    Exception,
    /// <summary>A status that moves no money (a predetermination, a denial with nothing to write off): nothing to post.</summary>
    NoMoneyMoved,
    /// <summary>A dry run: this is what would post.</summary>
    WouldPost,
}

[GenerateSerializer, Immutable, Alias("collections.RemittanceClaimRecord")]
public sealed record RemittanceClaimRecord
{
    [Id(0)] public required string PatientControlNumber { get; init; }
    [Id(1)] public required string PayerClaimControlNumber { get; init; }
    [Id(2)] public required int Status { get; init; }
    [Id(3)] public required decimal ChargeAmount { get; init; }
    [Id(4)] public required decimal PaidAmount { get; init; }
    [Id(5)] public required ClaimPostingStatus Outcome { get; init; }
    [Id(6)] public string? Reason { get; init; }
    [Id(7)] public IReadOnlyList<string> EntryIds { get; init; } = [];
    /// <summary>1-based place of the claim loop among loops with the same patient and payer claim control numbers.</summary>
    [Id(8)] public int Occurrence { get; init; } = 1;
    /// <summary>What posted, or (a dry run, an exception) what would post.</summary>
    [Id(9)] public IReadOnlyList<EntryRequest> Entries { get; init; } = [];
}

/// <summary>One 835 transaction as received and posted.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceRecord")]
public sealed record RemittanceRecord
{
    [Id(0)] public required string RemittanceId { get; init; }
    [Id(1)] public required string Facility { get; init; }
    [Id(2)] public string? PayerName { get; init; }
    [Id(3)] public required decimal PaymentAmount { get; init; }
    [Id(4)] public string? TraceNumber { get; init; }
    [Id(5)] public DateOnly? PaymentDate { get; init; }
    [Id(6)] public required DateTimeOffset ReceivedAt { get; init; }
    [Id(7)] public IReadOnlyList<ProviderAdjustmentRecord> ProviderAdjustments { get; init; } = [];
    [Id(8)] public required IReadOnlyList<RemittanceClaimRecord> Claims { get; init; }
    [Id(9)] public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>ISA13 of the interchange it came in (control numbers repeat across files; the id does not).</summary>
    [Id(10)] public string? InterchangeControlNumber { get; init; }
}

/// <summary>What the log knows about a remittance about to post.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceLookup")]
public sealed record RemittanceLookup
{
    /// <summary>A remittance recorded under the id earlier versions gave it (ISA13-ST02).</summary>
    [Id(0)] public RemittanceRecord? Legacy { get; init; }
    /// <summary>Other remittances that came in an interchange with the same control number.</summary>
    [Id(1)] public IReadOnlyList<string> SameInterchangeNumber { get; init; } = [];
    /// <summary>The exceptions already listed for this remittance, by exception id.</summary>
    [Id(2)] public IReadOnlyList<RemittanceException> Exceptions { get; init; } = [];
}

public enum ExceptionStatus
{
    Open,
    Matched,
    Dismissed,
}

/// <summary>A claim payment the engine could not post by itself, waiting for a supervisor: match it to an account, or dismiss it with a reason.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceException")]
public sealed record RemittanceException
{
    /// <summary><c>remittanceId/claimIndex</c>.</summary>
    [Id(0)] public required string ExceptionId { get; init; }
    [Id(1)] public required string RemittanceId { get; init; }
    [Id(2)] public required RemittanceClaimRecord Claim { get; init; }
    [Id(3)] public required string Reason { get; init; }
    /// <summary>What would post for this claim (not for reversals, which depend on the account's ledger).</summary>
    [Id(4)] public IReadOnlyList<EntryRequest> PlannedEntries { get; init; } = [];
    [Id(5)] public ExceptionStatus Status { get; init; }
    [Id(6)] public string? Resolution { get; init; }
    [Id(7)] public string? ResolvedBy { get; init; }
    [Id(8)] public DateTimeOffset? ResolvedAt { get; init; }
    [Id(9)] public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The remittances received for one facility, and the claims left for a person.</summary>
[Alias("collections.IRemittanceLogGrain")]
public interface IRemittanceLogGrain : IGrainWithStringKey
{
    /// <summary>Records a remittance as posted (again) and adds its exceptions not already listed.</summary>
    [Alias("Record")]
    Task<RemittanceLogOutcome> Record(RemittanceRecord remittance, IReadOnlyList<RemittanceException> exceptions);

    [Alias("Get"), Orleans.Concurrency.ReadOnly]
    Task<RemittanceRecord?> Get(string remittanceId);

    [Alias("Lookup"), Orleans.Concurrency.ReadOnly]
    Task<RemittanceLookup> Lookup(string remittanceId, string legacyId, string interchangeControlNumber);

    [Alias("Exceptions"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<RemittanceException>> Exceptions(ExceptionStatus? status);

    /// <summary>Posts the claim's planned entries to the account a supervisor chose, and closes the exception.</summary>
    [Alias("Match")]
    Task<Outcome<RemittanceException>> Match(string exceptionId, string accountNumber);

    [Alias("Dismiss")]
    Task<Outcome<RemittanceException>> Dismiss(string exceptionId, string reason);
}

/// <summary>What recording a remittance did to the exceptions list.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceLogOutcome")]
public sealed record RemittanceLogOutcome(
    [property: Id(0)] int NewExceptions, [property: Id(1)] int ExceptionsAlreadyListed, [property: Id(2)] int ExceptionsOpen);

/// <summary>What posting one remittance (one 835 transaction) did, or in a dry run would do, claim by claim.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceSummary")]
public sealed record RemittanceSummary
{
    [Id(0)] public required string RemittanceId { get; init; }
    [Id(1)] public required decimal PaymentAmount { get; init; }
    [Id(2)] public int ClaimsPosted { get; init; }
    [Id(3)] public int ClaimsAlreadyPosted { get; init; }
    /// <summary>Claims that could not post: new on the exceptions list (a dry run: would be).</summary>
    [Id(4)] public int Exceptions { get; init; }
    [Id(5)] public decimal ProviderAdjustments { get; init; }
    [Id(6)] public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Claims whose status moves no money.</summary>
    [Id(7)] public int ClaimsWithoutMoney { get; init; }
    /// <summary>Claims that could not post and were already on the exceptions list (a file posted again).</summary>
    [Id(8)] public int ExceptionsAlreadyListed { get; init; }
    /// <summary>This remittance's exceptions still waiting for a person.</summary>
    [Id(9)] public int ExceptionsOpen { get; init; }
    /// <summary>Set when the file holds this same transaction earlier: it was not posted a second time.</summary>
    [Id(10)] public string? DuplicateOf { get; init; }
    [Id(11)] public bool DryRun { get; init; }
    [Id(12)] public string? TraceNumber { get; init; }
    [Id(13)] public string? PayerName { get; init; }
    [Id(14)] public IReadOnlyList<RemittanceClaimRecord> Claims { get; init; } = [];
    /// <summary>Claims that would post (a dry run).</summary>
    [Id(15)] public int ClaimsToPost { get; init; }

    /// <summary>
    /// Every claim the file's transaction held: posted (or, in a dry run, to post) + already posted + new exceptions +
    /// exceptions already listed + claims whose status moves no money.
    /// </summary>
    public int ClaimsRead => Claims.Count;
}

/// <summary>Why a whole 835 file was refused before anything posted: malformed X12, or a transaction that does not balance.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceRefusal")]
public sealed record RemittanceRefusal
{
    /// <summary><c>x12.malformed</c>, <c>x12.test-interchange</c> or <c>remittance.unbalanced</c>.</summary>
    [Id(0)] public required string Code { get; init; }
    [Id(1)] public required string Title { get; init; }
    [Id(2)] public required string Detail { get; init; }
    /// <summary>Malformed: the segment number (1-based) and what is wrong with it.</summary>
    [Id(3)] public int? Segment { get; init; }
    [Id(4)] public string? Reason { get; init; }
    /// <summary>Unbalanced: the transaction's control number and the amount it is off by.</summary>
    [Id(5)] public string? Transaction { get; init; }
    [Id(6)] public decimal? Difference { get; init; }
}

/// <summary>An 835 file posted, or refused whole.</summary>
[GenerateSerializer, Immutable, Alias("collections.RemittanceIntakeResult")]
public sealed record RemittanceIntakeResult
{
    [Id(0)] public IReadOnlyList<RemittanceSummary>? Posted { get; init; }
    [Id(1)] public RemittanceRefusal? Refused { get; init; }
}

/// <summary>
/// Takes an X12 835 file for a facility: reads and checks the whole file first (a malformed or unbalanced file posts
/// nothing), then posts each claim to the account whose number is its patient control number (one command per
/// account) and records the remittance with its exceptions. Posting the same file again posts nothing twice.
/// </summary>
[Alias("collections.IRemittanceIntakeGrain")]
public interface IRemittanceIntakeGrain : IGrainWithIntegerKey
{
    /// <summary>Posts the file; a test interchange (ISA15 = T) only when <paramref name="allowTestData"/> says so (a training system).</summary>
    [Alias("Post")]
    Task<RemittanceIntakeResult> Post(string facility, string text, bool allowTestData = false);

    /// <summary>A dry run: reads and checks the file and plans every claim against its account as it is now, posting nothing.</summary>
    [Alias("Check")]
    Task<RemittanceIntakeResult> Check(string facility, string text);
}
