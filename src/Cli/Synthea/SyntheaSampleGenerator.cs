using System.Globalization;
using System.Text;
using Collections.Cli.Simulation;

namespace Collections.Cli.Synthea;

public sealed record SyntheaSampleOptions
{
    public required int Patients { get; init; }
    public required string Folder { get; init; }
    public ulong Seed { get; init; } = 1;
    /// <summary>The last day care can happen; encounters spread over <see cref="Years"/> before it.</summary>
    public DateOnly EndDate { get; init; } = new(2026, 6, 30);
    public int Years { get; init; } = 3;
}

public sealed record SyntheaSampleSummary(int Patients, long Encounters, long Claims, long TransactionRows, int Deceased, decimal OutstandingInsurance, decimal OutstandingPatient);

/// <summary>
/// Writes a folder of seeded, synthetic data in the layout of a Synthea 3.x CSV export (patients, payers, encounters,
/// claims, claims_transactions), for the importer's benchmark and for demonstrations. It is our own generator, not
/// Synthea: no clinical model, just plausible billing. Each claim's transactions follow the sequence Synthea's
/// exporter writes (charge; copay; contractual adjustment; payer payment; secondary payer; transfer of the rest to the
/// patient; the patient's payment), but some claims are left open (insurance not yet paid, the patient not yet paid or
/// paid in part), and claims.csv's OUTSTANDING1/2/P state exactly what their transactions leave. Transactions are
/// written interleaved across claims, as a multi-threaded export may be. Streams: memory does not grow with --patients.
/// </summary>
public static class SyntheaSampleGenerator
{
    public const string PatientsHeader = "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME";
    public const string PayersHeader = "Id,NAME,OWNERSHIP,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS";
    public const string EncountersHeader = "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION";
    public const string ClaimsHeader = "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,DEPARTMENTID,PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,DIAGNOSIS5,DIAGNOSIS6,DIAGNOSIS7,DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,CURRENTILLNESSDATE,SERVICEDATE,SUPERVISINGPROVIDERID,STATUS1,STATUS2,STATUSP,OUTSTANDING1,OUTSTANDING2,OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,HEALTHCARECLAIMTYPEID2";
    public const string TransactionsHeader = "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID";

    private static readonly (string Name, string Ownership, int Weight, int CoveragePercent)[] PayerTable =
    [
        ("Medicare", "GOVERNMENT", 18, 80), ("Medicaid", "GOVERNMENT", 12, 100), ("Blue Cross Blue Shield", "PRIVATE", 16, 75),
        ("Aetna", "PRIVATE", 10, 70), ("UnitedHealthcare", "PRIVATE", 12, 72), ("Cigna Health", "PRIVATE", 8, 70),
        ("Humana", "PRIVATE", 8, 75), ("NO_INSURANCE", "NO_INSURANCE", 16, 0),
    ];

    private static readonly string[] FirstNames = ["Maria", "James", "Linda", "Robert", "Aisha", "Wei", "Sofia", "Daniel", "Grace", "Mateo", "Olivia", "Kwame", "Hannah", "Luis", "Emma", "Noah"];
    private static readonly string[] LastNames = ["Lopez", "Smith", "Nguyen", "Johnson", "Okafor", "Chen", "Garcia", "Brown", "Murphy", "Rossi", "Kowalski", "Davis", "Patel", "Silva"];
    private static readonly string[] Streets = ["Elm St", "Main St", "Oak Ave", "Maple Dr", "Washington St", "Pine Rd", "Cedar Ln", "Park Ave", "Summer St", "Union Sq"];
    private static readonly (string City, string County, string Zip)[] Towns =
    [
        ("Boston", "Suffolk County", "02118"), ("Worcester", "Worcester County", "01608"), ("Springfield", "Hampden County", "01103"),
        ("Cambridge", "Middlesex County", "02139"), ("Lowell", "Middlesex County", "01852"), ("Quincy", "Norfolk County", "02169"),
        ("Pittsfield", "Berkshire County", "01201"), ("Salem", "Essex County", "01970"),
    ];
    private static readonly (string Code, string Description, string Class, int MinCents, int MaxCents)[] EncounterTypes =
    [
        ("185349003", "Encounter for check up (procedure)", "wellness", 9_000, 25_000),
        ("185345009", "Encounter for symptom (procedure)", "ambulatory", 8_000, 20_000),
        ("50849002", "Emergency room admission (procedure)", "emergency", 60_000, 350_000),
        ("183452005", "Emergency hospital admission (procedure)", "inpatient", 300_000, 2_500_000),
        ("702927004", "Urgent care clinic (procedure)", "urgentcare", 10_000, 30_000),
    ];
    private static readonly (string Code, string Description, int MinCents, int MaxCents)[] Items =
    [
        ("430193006", "Medication reconciliation (procedure)", 3_000, 9_000), ("140", "Influenza seasonal injectable preservative free", 1_400, 3_000),
        ("710824005", "Assessment of health and social care needs (procedure)", 2_000, 6_000), ("76601001", "Intramuscular injection", 1_500, 4_000),
        ("314076", "lisinopril 10 MG Oral Tablet", 500, 2_500), ("399208008", "Plain chest X-ray (procedure)", 8_000, 30_000),
        ("85354-9", "Blood pressure panel", 1_000, 3_500), ("252160004", "Standard pregnancy test (procedure)", 2_000, 5_000),
    ];

    public static SyntheaSampleSummary Write(SyntheaSampleOptions options)
    {
        if (options.Patients < 1) throw new ArgumentOutOfRangeException(nameof(options), "at least one patient");
        Directory.CreateDirectory(options.Folder);
        var random = new SampleRandom(options.Seed);
        var payers = PayerTable.Select(p => new PayerTotals(random.Uuid(), p.Name, p.Ownership, p.Weight, p.CoveragePercent)).ToArray();
        var organizations = Enumerable.Range(0, 5).Select(_ => random.Uuid()).ToArray();
        var clinicians = Enumerable.Range(0, 20).Select(_ => random.Uuid()).ToArray();
        using var patients = Writer(options.Folder, SyntheaSchema.Patients, PatientsHeader);
        using var encounters = Writer(options.Folder, SyntheaSchema.Encounters, EncountersHeader);
        using var claims = Writer(options.Folder, SyntheaSchema.Claims, ClaimsHeader);
        using var transactions = Writer(options.Folder, SyntheaSchema.Transactions, TransactionsHeader);
        var context = new Context(random, transactions);
        long encounterCount = 0, claimCount = 0;
        var deceased = 0;
        decimal outstandingInsurance = 0m, outstandingPatient = 0m;
        var start = options.EndDate.AddYears(-options.Years);
        var days = options.EndDate.DayNumber - start.DayNumber;

        for (var p = 0; p < options.Patients; p++)
        {
            var patientId = random.Uuid();
            var birth = options.EndDate.AddDays(-random.Next(365 * 1, 365 * 90));
            var primary = PickPayer(random, payers, birth, options.EndDate);
            var secondary = primary.Name == "Medicare" && random.Chance(0.15) ? payers.Single(x => x.Name == "Medicaid") : null;
            var count = 1 + random.Next(0, 8);
            var dates = Enumerable.Range(0, count).Select(_ => start.AddDays(random.Next(0, days + 1))).Order().ToArray();
            DateOnly? death = random.Chance(0.03) ? dates[^1].AddDays(random.Next(1, 30)) : null;
            if (death > options.EndDate) death = options.EndDate;
            if (death is not null) deceased++;
            primary.Customers++;
            decimal expenses = 0m, coverage = 0m;
            foreach (var date in dates)
            {
                var encounterId = random.Uuid();
                var claimId = random.Uuid();
                var organization = organizations[random.Next(0, organizations.Length)];
                var clinician = clinicians[random.Next(0, clinicians.Length)];
                var type = EncounterTypes[random.Next(0, EncounterTypes.Length)];
                var at = date.ToDateTime(new TimeOnly(8 + random.Next(0, 9), random.Next(0, 4) * 15), DateTimeKind.Utc);
                var stop = type.Class == "inpatient" ? at.AddDays(random.Next(1, 6)) : at.AddMinutes(15 * random.Next(1, 5));
                var lines = new List<(string Code, string Description, decimal Cost)> { (type.Code, type.Description, random.Cents(type.MinCents, type.MaxCents)) };
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    var item = Items[random.Next(0, Items.Length)];
                    lines.Add((item.Code, item.Description, random.Cents(item.MinCents, item.MaxCents)));
                }
                var claim = context.Claim(claimId, patientId, encounterId, organization, clinician, at, primary, secondary, lines,
                    recent: date.DayNumber > options.EndDate.DayNumber - 60);
                expenses += claim.PaidByPatient;
                coverage += claim.PaidByPayers;
                outstandingInsurance += claim.Outstanding1 + claim.Outstanding2;
                outstandingPatient += claim.OutstandingP;
                var total = lines.Sum(l => l.Cost);
                encounters.WriteLine(string.Join(',', encounterId, Iso(at), Iso(stop), patientId, organization, clinician, primary.Id, type.Class,
                    type.Code, type.Description, Money(lines[0].Cost), Money(total), Money(claim.PaidByPayers), "", ""));
                var billed = claim.Outstanding1 + claim.Outstanding2 + claim.OutstandingP > 0m;
                claims.WriteLine(string.Join(',', claimId, patientId, clinician, primary.Name == SyntheaMapping.NoInsurance ? "" : primary.Id,
                    secondary?.Id ?? "", "3", "3", type.Code, "", "", "", "", "", "", "", "", encounterId, Iso(at), Iso(at), clinician,
                    claim.Outstanding1 > 0m ? "BILLED" : "CLOSED", secondary is null ? "" : claim.Outstanding2 > 0m ? "BILLED" : "CLOSED",
                    claim.OutstandingP > 0m ? "BILLED" : "CLOSED", Money(claim.Outstanding1), secondary is null ? "" : Money(claim.Outstanding2),
                    Money(claim.OutstandingP), Iso(at), secondary is null ? "" : Iso(at), billed ? Iso(stop) : Iso(at),
                    type.Class is "inpatient" or "emergency" ? "2" : "1", "0"));
                encounterCount++;
                claimCount++;
            }
            var (first, last) = (FirstNames[random.Next(0, FirstNames.Length)] + random.Next(10, 999), LastNames[random.Next(0, LastNames.Length)] + random.Next(10, 999));
            var town = Towns[random.Next(0, Towns.Length)];
            var gender = random.Chance(0.5) ? "F" : "M";
            patients.WriteLine(string.Join(',', patientId, Date(birth), death is { } d ? Date(d) : "", $"999-{random.Next(10, 99)}-{random.Next(1000, 9999)}",
                $"S999{random.Next(10000, 99999)}", "", gender == "F" ? "Ms." : "Mr.", first, "", last, "", "", random.Chance(0.5) ? "M" : "S",
                "white", "nonhispanic", gender, $"{town.City} Massachusetts US", $"{random.Next(1, 999)} {Streets[random.Next(0, Streets.Length)]}",
                town.City, "Massachusetts", town.County, "", town.Zip, "42.3", "-71.1", Money(expenses), Money(coverage), random.Next(20_000, 150_000).ToString(CultureInfo.InvariantCulture)));
        }
        context.Flush();

        using (var payerFile = Writer(options.Folder, SyntheaSchema.Payers, PayersHeader))
        {
            foreach (var payer in payers)
                payerFile.WriteLine(string.Join(',', payer.Id, payer.Name, payer.Ownership, "", "", "", "", "", Money(payer.Covered), Money(payer.Uncovered),
                    "0.00", payer.CoveredEncounters, payer.UncoveredEncounters, 0, 0, 0, 0, 0, 0, payer.Customers, "0.0", 0));
        }
        return new SyntheaSampleSummary(options.Patients, encounterCount, claimCount, context.Rows, deceased, outstandingInsurance, outstandingPatient);
    }

    private static PayerTotals PickPayer(SampleRandom random, PayerTotals[] payers, DateOnly birth, DateOnly end)
    {
        var age = (end.DayNumber - birth.DayNumber) / 365;
        if (age >= 65 && random.Chance(0.85)) return payers.Single(p => p.Name == "Medicare");
        var eligible = payers.Where(p => p.Name != "Medicare").ToArray();
        var pick = random.Next(0, eligible.Sum(p => p.Weight));
        foreach (var payer in eligible)
        {
            if (pick < payer.Weight) return payer;
            pick -= payer.Weight;
        }
        return eligible[^1];
    }

    private static StreamWriter Writer(string folder, string file, string header)
    {
        var writer = new StreamWriter(Path.Combine(folder, file), append: false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        writer.WriteLine(header);
        return writer;
    }

    private static string Iso(DateTime at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private sealed class PayerTotals(string id, string name, string ownership, int weight, int coveragePercent)
    {
        public string Id { get; } = id;
        public string Name { get; } = name;
        public string Ownership { get; } = ownership;
        public int Weight { get; } = weight;
        public int CoveragePercent { get; } = coveragePercent;
        public decimal Covered { get; set; }
        public decimal Uncovered { get; set; }
        public long CoveredEncounters { get; set; }
        public long UncoveredEncounters { get; set; }
        public long Customers { get; set; }
    }

    private sealed record ClaimTotals(decimal Outstanding1, decimal Outstanding2, decimal OutstandingP, decimal PaidByPatient, decimal PaidByPayers);

    /// <summary>Writes transactions; keeps up to <see cref="Window"/> claims' rows and writes them interleaved.</summary>
    private sealed class Context(SampleRandom random, StreamWriter transactions)
    {
        private const int Window = 16;
        private readonly List<string> _pending = [];
        private int _claimsPending;
        private long _chargeId = 1;

        public long Rows { get; private set; }

        public ClaimTotals Claim(string claimId, string patientId, string encounterId, string organization, string clinician, DateTime at,
            PayerTotals primary, PayerTotals? secondary, List<(string Code, string Description, decimal Cost)> lines, bool recent)
        {
            var insured = primary.Name != SyntheaMapping.NoInsurance;
            // What happened to the claim: most are settled; some wait for the payer (recent ones) or for the patient.
            var roll = random.Next(0, 100);
            var payerPending = insured && recent && roll < 40;
            var patientUnpaid = !payerPending && roll is >= 80 and < 88;
            var patientPartly = !payerPending && roll >= 88;
            decimal o1 = 0m, o2 = 0m, op = 0m, byPatient = 0m, byPayers = 0m;
            var row = (string type, decimal? amount, string method, string? transferOut, string transferType, decimal? payments, decimal? adjustments,
                decimal? transfers, decimal outstanding, string code, string description) => Add(string.Join(',', random.Uuid(), claimId,
                (_chargeId++).ToString(CultureInfo.InvariantCulture), patientId, type, amount is { } a ? Money(a) : "", method, Iso(at), Iso(at),
                organization, code, "", "", "1", "", "", "", "1", "3", description, amount is { } u ? Money(u) : "", transferOut ?? "", transferType,
                payments is { } p ? Money(p) : "", adjustments is { } j ? Money(j) : "", transfers is { } t ? Money(t) : "", Money(outstanding),
                encounterId, "", insured ? patientId : "", "1", clinician, clinician));
            var first = true;
            foreach (var (code, description, cost) in lines)
            {
                var remainder = cost;
                row("CHARGE", cost, "", null, insured ? "1" : "p", 0m, 0m, null, remainder, code, description);
                if (first && insured && random.Chance(0.6))
                {
                    var copay = Math.Min(cost, 20m);
                    remainder -= copay;
                    byPatient += copay;
                    row("PAYMENT", null, "COPAY", null, "", copay, 0m, null, remainder, code, description);
                }
                first = false;
                if (payerPending)
                {
                    o1 += remainder; // billed to insurance, no answer yet
                    continue;
                }
                if (insured)
                {
                    var adjustment = Percent(remainder, random.Next(15, 46));
                    if (adjustment > 0m)
                    {
                        remainder -= adjustment;
                        row("ADJUSTMENT", null, "SYSTEM", null, "", 0m, adjustment, null, remainder, code, description);
                    }
                    var paid = Percent(remainder, primary.CoveragePercent);
                    if (paid > 0m)
                    {
                        remainder -= paid;
                        byPayers += paid;
                        primary.Covered += paid;
                        row("PAYMENT", null, "ECHECK", null, "", paid, 0m, null, remainder, code, description);
                    }
                    if (secondary is not null && remainder > 0m)
                    {
                        var outId = _chargeId;
                        row("TRANSFEROUT", null, "", null, "", 0m, 0m, remainder, remainder, code, description);
                        row("TRANSFERIN", remainder, "", outId.ToString(CultureInfo.InvariantCulture), "2", 0m, 0m, remainder, remainder, code, description);
                        var second = remainder;
                        remainder = 0m;
                        byPayers += second;
                        secondary.Covered += second;
                        row("PAYMENT", null, "ECHECK", null, "", second, 0m, null, remainder, code, description);
                    }
                }
                if (remainder <= 0m) continue;
                if (insured)
                {
                    primary.Uncovered += remainder;
                    var outId = _chargeId;
                    row("TRANSFEROUT", null, "", null, "", 0m, 0m, remainder, remainder, code, description);
                    row("TRANSFERIN", remainder, "", outId.ToString(CultureInfo.InvariantCulture), "p", 0m, 0m, remainder, remainder, code, description);
                }
                var pays = patientUnpaid ? 0m : patientPartly ? Percent(remainder, random.Next(20, 80)) : remainder;
                if (pays > 0m)
                {
                    byPatient += pays;
                    row("PAYMENT", null, random.Next(0, 3) switch { 0 => "CASH", 1 => "CHECK", _ => "CC" }, null, "", pays, 0m, null, remainder - pays, code, description);
                }
                op += remainder - pays;
            }
            if (insured && !payerPending) primary.CoveredEncounters++;
            else if (!insured) primary.UncoveredEncounters++;
            if (++_claimsPending >= Window) Flush();
            return new ClaimTotals(o1, o2, op, byPatient, byPayers);
        }

        private void Add(string line)
        {
            _pending.Add(line);
            Rows++;
        }

        /// <summary>Writes the window's rows in a shuffled order (rows of several claims interleaved, not in CHARGEID order).</summary>
        public void Flush()
        {
            for (var i = _pending.Count - 1; i > 0; i--)
            {
                var j = random.Next(0, i + 1);
                (_pending[i], _pending[j]) = (_pending[j], _pending[i]);
            }
            foreach (var line in _pending) transactions.WriteLine(line);
            _pending.Clear();
            _claimsPending = 0;
        }

        private static decimal Percent(decimal amount, int percent) => Math.Round(amount * percent / 100m, 2, MidpointRounding.ToEven);
    }

    /// <summary>A seeded sequence of random numbers (SplitMix64): the same seed writes the same folder.</summary>
    private sealed class SampleRandom(ulong seed)
    {
        private ulong _state = seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;

        public ulong NextUInt64() => Randomness.Mix(_state += 0x9E3779B97F4A7C15UL);

        /// <summary>A number in [min, max).</summary>
        public int Next(int min, int max) => max <= min ? min : min + (int)(NextUInt64() % (ulong)(max - min));

        public bool Chance(double probability) => (NextUInt64() >> 11) * (1.0 / (1UL << 53)) < probability;

        public decimal Cents(int min, int max) => Next(min, max) / 100m;

        public string Uuid()
        {
            Span<byte> bytes = stackalloc byte[16];
            BitConverter.TryWriteBytes(bytes[..8], NextUInt64());
            BitConverter.TryWriteBytes(bytes[8..], NextUInt64());
            bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 layout, like Synthea's ids
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
            return new Guid(bytes).ToString("D");
        }
    }
}
