using Collections.Domain;
using Collections.TestSupport;

namespace Collections.Remittance.Tests;

internal static class Fixtures
{
    public static string Sample(string name) => TestSupport.SharedSamples.Read835(name);

    /// <summary>A small 835 of our own: two claims, a PLB, standard delimiters.</summary>
    public const string TwoClaims =
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000123*0*P*:~" +
        "GS*HP*PAYER*HOSPITAL*20261101*0900*7*X*005010X221A1~" +
        "ST*835*0001~" +
        "BPR*I*640.00*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261101~" +
        "TRN*1*EFT-778899*1234567890~" +
        "N1*PR*ACME HEALTH PLAN~" +
        "N1*PE*GENERAL HOSPITAL*XX*1999999999~" +
        "LX*1~" +
        "CLP*A1001*1*1000.00*600.00*150.00*12*PCN-1~" +
        "SVC*HC:99214*1000.00*600.00**1~" +
        "DTM*472*20261015~" +
        "CAS*CO*45*250.00~" +
        "CAS*PR*1*100.00*1*2*50.00~" +
        "CLP*A1002*1*100.00*50.00**12*PCN-2~" +
        "CAS*CO*45*50.00~" +
        "PLB*1999999999*20261231*WO:ADJ1*10.00~" +
        "SE*15*0001~" +
        "GE*1*7~" +
        "IEA*1*000000123~";

    /// <summary>An account ledger with one charge to insurance, as the billing system would have posted it.</summary>
    public static List<LedgerEntry> ChargedTo(decimal charge) =>
    [
        new LedgerEntry
        {
            EntryId = "E1", Kind = EntryKind.Charge, Amount = charge, EffectiveDate = new DateOnly(2026, 10, 15), PostedAt = DateTimeOffset.UnixEpoch,
            Party = ResponsibleParty.Insurance, ServiceDate = new DateOnly(2026, 10, 15), Code = "99214", IdempotencyKey = "charge", RequestFingerprint = "x", PostedBy = "test",
        },
    ];

    /// <summary>Posts a plan's entries through the real ledger rules, as the account grain does.</summary>
    public static List<LedgerEntry> Apply(List<LedgerEntry> ledger, IEnumerable<EntryRequest> entries)
    {
        var now = new DateTimeOffset(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
        foreach (var request in entries)
        {
            var decision = LedgerPosting.Prepare(request, ledger, new AccountFacts(HasInsurance: true), "test", now);
            Assert.True(decision.Accepted, string.Join("; ", decision.Errors.Select(e => $"{e.Field}: {e.Message}")));
            if (!decision.IsReplay) ledger.Add(decision.Entry!);
        }
        return ledger;
    }
}
