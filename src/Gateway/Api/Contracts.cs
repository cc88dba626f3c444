using Collections.Domain;
using Collections.Grains;

namespace Collections.Gateway.Api;

/// <summary>Register a guarantor. <see cref="GuarantorId"/> is the billing system's guarantor number; left out, one is generated.</summary>
public sealed record RegisterGuarantorBody
{
    public string? GuarantorId { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public DateOnly? DateOfBirth { get; init; }
    public PostalAddress? Address { get; init; }
    public IReadOnlyList<PhoneNumber>? Phones { get; init; }
    public string? Email { get; init; }
    public ContactChannel? PreferredChannel { get; init; }
    public string? TimeZone { get; init; }
    /// <summary>ISO 639-1 (e.g. <c>es</c>); <c>en</c> when left out. Routes the person's accounts to a worklist queue.</summary>
    public string? PreferredLanguage { get; init; }

    public GuarantorDetails ToDetails() => new()
    {
        FirstName = FirstName, LastName = LastName, DateOfBirth = DateOfBirth, Address = Address, Phones = Phones,
        Email = Email, PreferredChannel = PreferredChannel, TimeZone = TimeZone, PreferredLanguage = PreferredLanguage,
    };
}

public sealed record OpenAccountBody
{
    public string? Facility { get; init; }
    public string? AccountNumber { get; init; }
    public string? GuarantorId { get; init; }
    public PatientDetails? Patient { get; init; }
    public string? PrimaryPayer { get; init; }
    public DateOnly? AdmitDate { get; init; }
    public DateOnly? DischargeDate { get; init; }
    /// <summary>The account's history is about to be imported: no contact until it is settled (see the batch endpoint).</summary>
    public bool? Importing { get; init; }

    public OpenAccountRequest ToRequest() => new()
    {
        GuarantorId = GuarantorId, Patient = Patient, PrimaryPayer = PrimaryPayer, AdmitDate = AdmitDate, DischargeDate = DischargeDate,
        Importing = Importing == true,
    };
}

/// <summary>The account's discharge date, recorded after it was opened.</summary>
public sealed record DischargeBody
{
    public DateOnly? DischargeDate { get; init; }
}

/// <summary>Several entries for one account, posted together (all or none), each with its own idempotency key.</summary>
public sealed record PostBatchBody
{
    public IReadOnlyList<BatchEntryBody?>? Entries { get; init; }
    /// <summary>These are the last entries of an imported history: the cadence starts from the state they leave.</summary>
    public bool? SettleImport { get; init; }
}

/// <summary>One entry of a batch: the fields of a single posting, and its idempotency key.</summary>
public sealed record BatchEntryBody : PostEntryBody
{
    public string? IdempotencyKey { get; init; }

    public EntryRequest ToRequest() => ToRequest(IdempotencyKey);
}

public sealed record PostBatchResponse(IReadOnlyList<PostingResponse> Entries, int Posted, int Replayed, BalancesResponse Balances);

/// <summary>Post one ledger entry; which fields apply depends on <see cref="Kind"/>. The idempotency key comes in the header.</summary>
public record PostEntryBody
{
    public EntryKind? Kind { get; init; }
    public decimal? Amount { get; init; }
    public DateOnly? EffectiveDate { get; init; }
    public ResponsibleParty? Party { get; init; }
    public DateOnly? ServiceDate { get; init; }
    public string? Code { get; init; }
    public string? Description { get; init; }
    public string? Payer { get; init; }
    public string? ClaimReference { get; init; }
    public PaymentMethod? Method { get; init; }
    public string? Reference { get; init; }
    public AdjustmentCategory? Category { get; init; }
    public string? ReasonCode { get; init; }
    public TransferDirection? Direction { get; init; }
    public string? ReversesEntryId { get; init; }
    public string? Note { get; init; }
    /// <summary>How a payment came in (agent, patientPage, mail, agency, remittance, other); payments only.</summary>
    public PaymentChannel? Channel { get; init; }

    public EntryRequest ToRequest(string? idempotencyKey) => new()
    {
        Kind = Kind, Amount = Amount, EffectiveDate = EffectiveDate, Party = Party, ServiceDate = ServiceDate, Code = Code,
        Description = Description, Payer = Payer, ClaimReference = ClaimReference, Method = Method, Reference = Reference,
        Category = Category, ReasonCode = ReasonCode, Direction = Direction, ReversesEntryId = ReversesEntryId, Note = Note,
        Channel = Channel, IdempotencyKey = idempotencyKey,
    };
}

public sealed record BalancesResponse(
    decimal Balance, decimal InsurancePending, decimal PatientResponsibility, decimal CreditBalance,
    decimal InsuranceBalance, decimal PatientBalance, DateOnly? LastPatientPaymentDate)
{
    public static BalancesResponse From(AccountBalances b) => new(
        Money.Normalize(b.Balance), Money.Normalize(b.InsurancePending), Money.Normalize(b.PatientResponsibility),
        Money.Normalize(b.CreditBalance), Money.Normalize(b.InsuranceBalance), Money.Normalize(b.PatientBalance), b.LastPatientPaymentDate);
}

public sealed record AgingResponse(AgingBasis Basis, DateOnly BasisDate, int Days, string Bucket);

public sealed record AccountResponse(
    string Facility, string AccountNumber, string GuarantorId, PatientDetails? Patient, string? PrimaryPayer,
    DateOnly? AdmitDate, DateOnly? DischargeDate, DateTimeOffset OpenedAt, DateOnly? FirstPatientStatementDate,
    BalancesResponse Balances, AgingResponse Aging, IReadOnlyList<LedgerEntry> Entries,
    CadenceView? Cadence, IReadOnlyList<Domain.Compliance.Hold> Holds, IReadOnlyList<Domain.Arrangements.PromiseToPay> Promises,
    IReadOnlyList<Domain.Arrangements.PaymentPlan> Plans, DateTimeOffset? FinalNoticeAt, DateTimeOffset? PlacedWithAgencyAt,
    DateTimeOffset? CreditBalanceSince, DateOnly? RefundDueBy, DateTimeOffset? RecalledFromAgencyAt, AccountScore? Score, DateTimeOffset? FinancialAssistanceApprovedAt, DateTimeOffset? ImportHoldUntil,
    Domain.Cadence.TreatmentAssignment? Treatment = null, DateTimeOffset? CreditReportedAt = null, DateTimeOffset? CreditReportWithdrawnAt = null)
{
    public static AccountResponse From(AccountView v) => new(
        v.Facility, v.AccountNumber, v.GuarantorId, v.Patient, v.PrimaryPayer, v.AdmitDate, v.DischargeDate, v.OpenedAt,
        v.FirstPatientStatementDate, BalancesResponse.From(v.Balances),
        new AgingResponse(v.Age.Basis, v.Age.BasisDate, v.Age.Days, Domain.Aging.Label(v.Age.Bucket)), v.Entries,
        v.Cadence, v.Holds, v.Promises, v.Plans, v.FinalNoticeAt, v.PlacedWithAgencyAt, v.CreditBalanceSince, v.RefundDueBy, v.RecalledFromAgencyAt, v.Score, v.FinancialAssistanceApprovedAt, v.ImportHoldUntil, v.Treatment,
        v.CreditReportedAt, v.CreditReportWithdrawnAt);
}

public sealed record PostingResponse(LedgerEntry Entry, bool Replayed, BalancesResponse Balances);

/// <param name="ExpiresInDays">Days until the key stops working (1 to 3,650, at most <c>Collections:ApiKeyMaxLifetimeDays</c>); none: that setting, or never.</param>
public sealed record CreateKeyBody(string? Name, string? Role, int? ExpiresInDays = null);

public sealed record CreatedKeyResponse(string KeyId, string Name, string Role, string Token, DateTimeOffset? ExpiresAt);
