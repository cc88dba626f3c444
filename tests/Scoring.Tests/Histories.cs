using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Scoring.Tests;

/// <summary>Hand-built account histories for the tests.</summary>
internal static class Histories
{
    public static readonly DateTimeOffset Opened = new(2026, 1, 5, 10, 0, 0, TimeSpan.Zero);
    private static int _next;

    /// <summary>Noon (or the given hour), UTC, so many days after the day the account was opened.</summary>
    public static DateTimeOffset Day(int day, int hour = 12) => new DateTimeOffset(Opened.Date, TimeSpan.Zero).AddDays(day).AddHours(hour);

    public static LedgerEntry Entry(EntryKind kind, decimal amount, DateTimeOffset postedAt, ResponsibleParty? party = null, AdjustmentCategory? category = null,
        TransferDirection? direction = null, string? reverses = null, DateOnly? effective = null, string? id = null)
    {
        var entryId = id ?? $"T{Interlocked.Increment(ref _next)}";
        return new LedgerEntry
        {
            EntryId = entryId, Kind = kind, Amount = amount, PostedAt = postedAt, EffectiveDate = effective ?? DateOnly.FromDateTime(postedAt.UtcDateTime),
            Party = party, Category = category, Direction = direction, ReversesEntryId = reverses, ServiceDate = kind == EntryKind.Charge ? DateOnly.FromDateTime(Opened.UtcDateTime) : null,
            IdempotencyKey = entryId, PostedBy = "test",
        };
    }

    public static LedgerEntry Payment(decimal amount, DateTimeOffset at, string? id = null) => Entry(EntryKind.PatientPayment, amount, at, id: id);

    public static ContactAttempt Contact(OutreachAction action, ContactChannel? channel, DateTimeOffset at, ContactOutcome outcome = ContactOutcome.Attempted,
        ContactInitiator initiator = ContactInitiator.Engine) => new()
    {
        RequestId = $"C{Interlocked.Increment(ref _next)}", Account = new AccountKey("MAIN", "A1"), Action = action, Channel = channel, Initiator = initiator, At = at, Outcome = outcome,
    };

    public static Hold Hold(HoldReason reason, DateTimeOffset placed, DateTimeOffset? released = null) => new()
    {
        HoldId = $"H{Interlocked.Increment(ref _next)}", Reason = reason, Note = "test", PlacedBy = "test", PlacedAt = placed, ReleasedAt = released,
    };

    public static PromiseToPay Promise(decimal amount, DateTimeOffset created, DateOnly promised, PromiseStatus status = PromiseStatus.Pending, DateTimeOffset? resolved = null) => new()
    {
        PromiseId = $"P{Interlocked.Increment(ref _next)}", Amount = amount, CreatedAt = created, PromisedDate = promised, CreatedBy = "test", Status = status, ResolvedAt = resolved,
    };

    public static PaymentPlan Plan(decimal total, decimal down, DateTimeOffset created, DateOnly firstDue, int count, PlanStatus status = PlanStatus.Active, DateTimeOffset? ended = null)
    {
        var each = (total - down) / count;
        return new PaymentPlan
        {
            PlanId = $"PL{Interlocked.Increment(ref _next)}", Total = total, DownPayment = down, Frequency = InstallmentFrequency.Monthly, CreatedAt = created, CreatedBy = "test",
            Installments = [.. Enumerable.Range(1, count).Select(i => new Installment { Number = i, DueDate = firstDue.AddMonths(i - 1), Amount = each })],
            Status = status, EndedAt = ended,
        };
    }

    /// <summary>An insured account: $1,000 charged, insurance pays $600 and passes $400 to the patient on day 30.</summary>
    public static AccountHistory Insured(params LedgerEntry[] more) => new()
    {
        AccountId = "MAIN/A1", PrimaryPayer = "Aetna", OpenedAt = Opened, GuarantorDateOfBirth = new DateOnly(1980, 6, 15), HasEmail = true, HasMobilePhone = true, HasTextConsent = true,
        Entries =
        [
            Entry(EntryKind.Charge, 1000m, Opened.AddHours(1), party: ResponsibleParty.Insurance),
            Entry(EntryKind.InsurancePayment, 600m, Day(30)),
            Entry(EntryKind.Transfer, 400m, Day(30), direction: TransferDirection.InsuranceToPatient),
            .. more,
        ],
    };
}
