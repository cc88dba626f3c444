using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Collections.Domain.Arrangements;

namespace Collections.Domain.Kpi;

/// <summary>Gross charges with one effective date (charges later reversed are left out).</summary>
[GenerateSerializer, Immutable, Alias("collections.ChargeOnDate")]
public sealed record ChargeOnDate([property: Id(0)] DateOnly EffectiveDate, [property: Id(1)] decimal Amount);

/// <summary>
/// What one account contributes to the supervisors' portfolio figures. The account keeps this row current in the
/// reporting tables; <see cref="PortfolioKpis"/> turns the sums of many rows into the figures.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.AccountKpiFacts")]
public sealed record AccountKpiFacts
{
    [Id(0)] public required string Facility { get; init; }
    [Id(1)] public required string AccountNumber { get; init; }
    /// <summary>Signed: negative when the patient paid more than their share.</summary>
    [Id(2)] public required decimal PatientBalance { get; init; }
    /// <summary>Signed, as on the ledger.</summary>
    [Id(3)] public required decimal InsuranceBalance { get; init; }
    /// <summary>Money owed back (the account's whole balance is negative); such an account is not in A/R.</summary>
    [Id(4)] public required decimal CreditBalance { get; init; }
    /// <summary>The date the account ages from (first patient statement, else earliest service date, else opening).</summary>
    [Id(5)] public required DateOnly? AgingBasisDate { get; init; }
    /// <summary>Everything made the patient's to pay: patient charges and transfers to the patient, less transfers back to insurance (reversed entries left out).</summary>
    [Id(6)] public required decimal PatientResponsibilityTotal { get; init; }
    /// <summary>Patient payments less refunds to the patient (reversed entries left out).</summary>
    [Id(7)] public required decimal PatientPaidTotal { get; init; }
    [Id(8)] public required int PromisesKept { get; init; }
    [Id(9)] public required int PromisesBroken { get; init; }
    /// <summary>Placed with a collection agency and not recalled.</summary>
    [Id(10)] public required bool PlacedWithAgency { get; init; }
    /// <summary>Gross charges (either party) by effective date, oldest first; charges later reversed are left out.</summary>
    [Id(11)] public required IReadOnlyList<ChargeOnDate> ChargesByDate { get; init; }
    /// <summary>What the account adds to each day's figures: cash by channel, placements, paid in full, a refund due, agents' work (<see cref="KpiDayFacts"/>).</summary>
    [Id(12)] public IReadOnlyList<KpiDayFact> Days { get; init; } = [];
    /// <summary>The account's control-group outcome for the uplift report; null before the cadence assigned it.</summary>
    [Id(13)] public TreatmentOutcome? Treatment { get; init; }
    /// <summary>The account's language, income band, score and outreach for the fairness report; null before its first cadence run.</summary>
    [Id(14)] public FairnessFacts? Fairness { get; init; }

    /// <summary>What is owed on the account by anyone (negative when in credit).</summary>
    public decimal Balance => PatientBalance + InsuranceBalance;

    public static AccountKpiFacts Of(AccountKey account, IReadOnlyList<LedgerEntry> ledger, AccountBalances balances,
        IEnumerable<PromiseToPay> promises, DateOnly? agingBasisDate, bool placedWithAgency)
    {
        var reversed = Ledger.ReversedIds(ledger);
        decimal responsibility = 0m, paid = 0m;
        var charges = new SortedDictionary<DateOnly, decimal>();
        foreach (var e in ledger)
        {
            if (reversed.Contains(e.EntryId)) continue;
            switch (e.Kind)
            {
                case EntryKind.Charge:
                    charges[e.EffectiveDate] = charges.GetValueOrDefault(e.EffectiveDate) + e.Amount;
                    if (e.Party == ResponsibleParty.Patient) responsibility += e.Amount;
                    break;
                case EntryKind.Transfer:
                    responsibility += e.Direction == TransferDirection.InsuranceToPatient ? e.Amount : -e.Amount;
                    break;
            }
            paid += Ledger.PatientPaid(e);
        }
        var kept = 0;
        var broken = 0;
        foreach (var p in promises)
        {
            if (p.Status == PromiseStatus.Kept) kept++;
            else if (p.Status == PromiseStatus.Broken) broken++;
        }
        return new AccountKpiFacts
        {
            Facility = account.Facility,
            AccountNumber = account.AccountNumber,
            PatientBalance = balances.PatientBalance,
            InsuranceBalance = balances.InsuranceBalance,
            CreditBalance = balances.CreditBalance,
            AgingBasisDate = agingBasisDate,
            PatientResponsibilityTotal = responsibility,
            PatientPaidTotal = paid,
            PromisesKept = kept,
            PromisesBroken = broken,
            PlacedWithAgency = placedWithAgency,
            ChargesByDate = charges.Where(c => c.Value != 0m).Select(c => new ChargeOnDate(c.Key, c.Value)).ToList(),
        };
    }

    /// <summary>An amount as whole cents, as the reporting tables store it.</summary>
    public static long Cents(decimal amount) => (long)decimal.Round(amount * 100m, MidpointRounding.AwayFromZero);

    /// <summary>
    /// A fingerprint of everything stored for the account (SHA-256, hex), the same in every process: equal means the
    /// stored row is already current and need not be written again.
    /// </summary>
    public string Fingerprint()
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder(128);
        // kpi3: the days carry revenue deductions (a row an older release wrote is published again, whatever it held).
        s.Append(inv, $"kpi3|{Facility}|{AccountNumber}|{Cents(PatientBalance)}|{Cents(InsuranceBalance)}|{Cents(CreditBalance)}")
            .Append(inv, $"|{AgingBasisDate:yyyy-MM-dd}|{Cents(PatientResponsibilityTotal)}|{Cents(PatientPaidTotal)}")
            .Append(inv, $"|{PromisesKept}|{PromisesBroken}|{(PlacedWithAgency ? 1 : 0)}");
        foreach (var c in ChargesByDate)
            s.Append(inv, $"|c:{c.EffectiveDate:yyyy-MM-dd}={Cents(c.Amount)}");
        foreach (var d in Days)
            s.Append(inv, $"|d:{d.Measure}:{d.Day:yyyy-MM-dd}:{d.Subject}={Cents(d.Amount)}/{d.Count}");
        if (Treatment is { } t)
            s.Append(inv, $"|t:{t.PolicyId}:{(t.Control ? 1 : 0)}:{t.AssignedOn:yyyy-MM-dd}:{t.ScoreAtAssignment:R}:{Cents(t.Owed)}:{Cents(t.Collected)}:{t.ControlShare}:{string.Join('\u001f', t.Steps)}");
        if (Fairness is { } f)
            s.Append(inv, $"|f:{f.Language}:{f.IncomeBand}:{f.Score:0.00}:{f.OutreachContacts}:{f.Calls}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s.ToString())));
    }
}
