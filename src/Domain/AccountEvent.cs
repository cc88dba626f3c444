using System.Security.Cryptography;
using System.Text;

namespace Collections.Domain;

/// <summary>
/// Something that happened to an account that outside systems may subscribe to (outbound webhooks). Carries the account
/// identifiers and amounts only, never a name, address or other PHI. <see cref="EventId"/> is derived from the account
/// and what caused the event (an entry id, a status change number), so publishing it again is recognised as the same event.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AccountEvent")]
public sealed record AccountEvent
{
    [Id(0)] public required string EventId { get; init; }
    /// <summary>One of <see cref="AccountEventTypes"/>.</summary>
    [Id(1)] public required string Type { get; init; }
    [Id(2)] public required DateTimeOffset OccurredAt { get; init; }
    [Id(3)] public required string Facility { get; init; }
    [Id(4)] public required string AccountNumber { get; init; }
    /// <summary>The balances after the event.</summary>
    [Id(5)] public required AccountEventBalances Balances { get; init; }
    /// <summary>balanceChanged and paidInFull: the balances before it.</summary>
    [Id(6)] public AccountEventBalances? PreviousBalances { get; init; }
    /// <summary>statusChanged: the cadence status before and after (camelCase names).</summary>
    [Id(7)] public string? PreviousStatus { get; init; }
    [Id(8)] public string? Status { get; init; }
    /// <summary>balanceChanged and paidInFull: the ledger entry (the last one of a batch) that caused it.</summary>
    [Id(9)] public string? EntryId { get; init; }

    /// <summary>A GUID-shaped id, the same every time for the same account, type and cause.</summary>
    public static string IdFor(string account, string type, string cause)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{account}|{type}|{cause}"));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}

[GenerateSerializer, Immutable, Alias("collections.AccountEventBalances")]
public sealed record AccountEventBalances
{
    [Id(0)] public decimal Balance { get; init; }
    [Id(1)] public decimal InsuranceBalance { get; init; }
    [Id(2)] public decimal PatientBalance { get; init; }
    [Id(3)] public decimal PatientResponsibility { get; init; }

    public static AccountEventBalances Of(AccountBalances b) => new()
    {
        Balance = b.Balance, InsuranceBalance = b.InsuranceBalance, PatientBalance = b.PatientBalance, PatientResponsibility = b.PatientResponsibility,
    };
}

public static class AccountEventTypes
{
    public const string BalanceChanged = "balanceChanged";
    public const string StatusChanged = "statusChanged";
    public const string Placed = "placed";
    public const string PaidInFull = "paidInFull";
    /// <summary>The cadence's credit-reporting step was taken: the hospital's reporting to the bureaus may go ahead.</summary>
    public const string CreditReported = "creditReported";
    /// <summary>
    /// A credit report that stands must be withdrawn: financial assistance was approved (501(r) reverses extraordinary
    /// actions) or the patient's share was paid (the bureaus do not report paid medical debt). <c>Status</c> says which.
    /// </summary>
    public const string CreditReportWithdrawn = "creditReportWithdrawn";

    public static readonly IReadOnlyList<string> All = [BalanceChanged, StatusChanged, Placed, PaidInFull, CreditReported, CreditReportWithdrawn];
}
