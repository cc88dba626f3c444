namespace Collections.Remittance;

/// <summary>One CAS adjustment: group (CO contractual, PR patient responsibility, OA other, PI payer-initiated, CR correction), reason code (CARC), amount.</summary>
public sealed record ClaimAdjustment(string Group, string Reason, decimal Amount);

/// <summary>One SVC service line with its own adjustments (kept as detail on the posted entries).</summary>
public sealed record ServiceLine(string Procedure, decimal Charge, decimal Paid, DateOnly? ServiceDate, IReadOnlyList<ClaimAdjustment> Adjustments, int SegmentNumber);

/// <summary>One CLP claim payment and everything under it.</summary>
public sealed record ClaimPayment
{
    /// <summary>CLP01: the provider's patient control number, which is the account number.</summary>
    public required string PatientControlNumber { get; init; }
    /// <summary>
    /// CLP02: 1-3 processed as primary/secondary/tertiary, 4 denied, 19-21 processed and forwarded to the next payer,
    /// 22 reversal of a previous payment, 23 not our claim (forwarded), 25 predetermination pricing only (no payment).
    /// </summary>
    public required int Status { get; init; }
    public required decimal ChargeAmount { get; init; }
    public required decimal PaidAmount { get; init; }
    public decimal? PatientResponsibility { get; init; }
    /// <summary>CLP07: the payer's claim control number.</summary>
    public required string PayerClaimControlNumber { get; init; }
    /// <summary>Claim-level CAS adjustments.</summary>
    public IReadOnlyList<ClaimAdjustment> Adjustments { get; init; } = [];
    public IReadOnlyList<ServiceLine> ServiceLines { get; init; } = [];
    public required int SegmentNumber { get; init; }
    /// <summary>
    /// 1 for the first claim loop in the transaction with this patient and payer claim control number, 2 for the next,
    /// and so on: a payer may split one claim into several loops, and each is a payment of its own.
    /// </summary>
    public int Occurrence { get; init; } = 1;

    /// <summary>AMT*I at claim level: late-payment interest the payer added to this claim's payment, if any.</summary>
    public decimal Interest { get; init; }

    public bool IsReversal => Status == 22;

    /// <summary>Every adjustment, claim-level and service-level.</summary>
    public IEnumerable<ClaimAdjustment> AllAdjustments => Adjustments.Concat(ServiceLines.SelectMany(s => s.Adjustments));
}

/// <summary>A PLB provider-level adjustment: recorded against the remittance, never against a patient.</summary>
public sealed record ProviderAdjustment(string ProviderId, DateOnly? FiscalPeriodEnd, string ReasonCode, string? Reference, decimal Amount);

/// <summary>A problem that does not stop the file from posting (claim-level totals are intact), with where it is.</summary>
public sealed record RemittanceWarning(int SegmentNumber, string Reason);

/// <summary>One 835 transaction (ST..SE): a payment from one payer, with its claims.</summary>
public sealed record Remittance835
{
    /// <summary>
    /// What identifies this remittance: a hash of the transaction's content (every segment between ST and SE), so the
    /// same remittance sent again in a new interchange (new control numbers) is the same remittance, and two different
    /// remittances that reuse control numbers (some senders always send 000000001) are not.
    /// </summary>
    public required string RemittanceId { get; init; }
    /// <summary>The id earlier versions gave it (ISA13-ST02): remittances posted under it keep it.</summary>
    public string LegacyId => $"{InterchangeControlNumber}-{TransactionControlNumber}";
    /// <summary>ISA15 = T: test data, which moves no money.</summary>
    public bool IsTest { get; init; }
    public required string InterchangeControlNumber { get; init; }
    public required string TransactionControlNumber { get; init; }
    public required decimal PaymentAmount { get; init; }
    public required string CreditDebit { get; init; }
    public string? PaymentMethod { get; init; }
    public DateOnly? PaymentDate { get; init; }
    /// <summary>TRN02: the check or EFT trace number.</summary>
    public string? TraceNumber { get; init; }
    public string? PayerName { get; init; }
    public string? PayeeName { get; init; }
    public string? PayeeId { get; init; }
    public required IReadOnlyList<ClaimPayment> Claims { get; init; }
    public required IReadOnlyList<ProviderAdjustment> ProviderAdjustments { get; init; }
    public IReadOnlyList<RemittanceWarning> Warnings { get; init; } = [];
    public required int FirstSegment { get; init; }
    /// <summary>The segment number of the ISA that carries the transaction (where ISA15, the test flag, is).</summary>
    public int InterchangeSegment { get; init; }

    public decimal ClaimPaymentsTotal => Claims.Sum(c => c.PaidAmount);

    public decimal ProviderAdjustmentsTotal => ProviderAdjustments.Sum(p => p.Amount);

    /// <summary>What the payment should be: claim payments minus provider-level adjustments.</summary>
    public decimal ExpectedPayment => ClaimPaymentsTotal - ProviderAdjustmentsTotal;

    /// <summary>
    /// BPR02 with the sign BPR03 gives it: a credit (C) is paid to the provider; a debit (D), a remittance whose
    /// reversals and recoupments exceed its payments, is taken from the provider, so its claims add up to minus BPR02.
    /// </summary>
    public decimal SignedPaymentAmount => CreditDebit == "D" ? -PaymentAmount : PaymentAmount;

    /// <summary>BPR02 (signed by BPR03) minus what the claims and provider adjustments add up to; zero for a balanced file.</summary>
    public decimal Imbalance => SignedPaymentAmount - ExpectedPayment;

    public bool IsBalanced => Imbalance == 0m;
}

/// <summary>Reads every 835 transaction of a file (one or many interchanges).</summary>
public static class Remittance835Reader
{
    public static IReadOnlyList<Remittance835> Read(string text)
    {
        var segments = X12Reader.Read(text).ToList();
        var result = new List<Remittance835>();
        string isa13 = "";
        var test = false;
        string? gs08 = null;
        int gsNumber = 0;
        var interchanges = new Dictionary<string, int>(StringComparer.Ordinal);
        var transactionsInGroup = new Dictionary<string, int>(StringComparer.Ordinal);
        var envelopeWarnings = new List<RemittanceWarning>();
        int isaNumber = 0, groupsInInterchange = 0;
        string gs06 = "";
        var inGroup = new List<int>();        // indexes in result of the current group's transactions
        var inInterchange = new List<int>();  // and of the current interchange's
        // A trailer that disagrees with its header (X12: an interchange or group error) is told on the transactions it
        // closes; they are read as their own segments say, and the remittance balances or not on its own amounts.
        void Warn(List<int> transactions, int segment, string reason)
        {
            foreach (var k in transactions)
                result[k] = result[k] with { Warnings = [.. result[k].Warnings, new RemittanceWarning(segment, reason)] };
        }
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            switch (s.Id)
            {
                case "ISA":
                    isa13 = s[13].Trim();
                    test = s[15].Trim() == "T";
                    isaNumber = s.Number;
                    groupsInInterchange = 0;
                    inInterchange.Clear();
                    envelopeWarnings.Clear();
                    if (interchanges.TryGetValue(isa13, out var earlierIsa))
                        envelopeWarnings.Add(new RemittanceWarning(s.Number, $"Interchange control number {isa13} was already used by the interchange at segment {earlierIsa} of this file."));
                    else interchanges[isa13] = s.Number;
                    break;
                case "GS":
                    gs08 = s[8].Trim();
                    gs06 = s[6].Trim();
                    gsNumber = s.Number;
                    groupsInInterchange++;
                    inGroup.Clear();
                    transactionsInGroup.Clear();
                    break;
                case "GE":
                    if (s[2].Trim() != gs06)
                        Warn(inGroup, s.Number, $"GE02 is {s[2].Trim()}, but the group's GS06 (segment {gsNumber}) is {gs06}: the group's trailer does not match its header.");
                    if (int.TryParse(s[1].Trim(), out var transactionsSaid) && transactionsSaid != inGroup.Count)
                        Warn(inGroup, s.Number, $"GE01 says {transactionsSaid} transaction(s); the group holds {inGroup.Count}.");
                    break;
                case "IEA":
                    if (s[2].Trim() != isa13)
                        Warn(inInterchange, s.Number, $"IEA02 is {s[2].Trim()}, but the interchange's ISA13 (segment {isaNumber}) is {isa13}: the interchange's trailer does not match its header.");
                    if (int.TryParse(s[1].Trim(), out var groupsSaid) && groupsSaid != groupsInInterchange)
                        Warn(inInterchange, s.Number, $"IEA01 says {groupsSaid} group(s); the interchange holds {groupsInInterchange}.");
                    break;
                case "ST":
                    if (s[1] != "835")
                        throw new X12FormatException(s.Number, $"This is a {s[1]} transaction, not an 835 remittance.");
                    var warnings = new List<RemittanceWarning>(envelopeWarnings);
                    if (!string.IsNullOrEmpty(gs08) && !gs08.StartsWith("005010X221", StringComparison.Ordinal))
                    {
                        // 4010 835s have other loops and codes: reading one as 5010 would post wrongly. Anything else
                        // (a bare "5010", a missing release) is read as the 5010 835 its segments are, with a warning.
                        if (gs08.Contains("4010", StringComparison.Ordinal) || gs08.Contains("3051", StringComparison.Ordinal) || gs08.Contains("3050", StringComparison.Ordinal))
                            throw new X12FormatException(gsNumber, $"Version {gs08} is an older 835 (4010 or earlier); only 005010X221A1 is read.");
                        warnings.Add(new RemittanceWarning(gsNumber, $"GS08 is '{gs08}', not 005010X221A1; the transaction was read as a 5010 835."));
                    }
                    if (transactionsInGroup.TryGetValue(s[2], out var earlierSt))
                        warnings.Add(new RemittanceWarning(s.Number, $"Transaction control number {s[2]} was already used in this group (segment {earlierSt})."));
                    else transactionsInGroup[s[2]] = s.Number;
                    var end = segments.FindIndex(i, x => x.Id == "SE");
                    if (end < 0) throw new X12FormatException(s.Number, "The transaction has no SE trailer.");
                    var transaction = ReadTransaction(isa13, segments, i, end);
                    if (segments[end][2].Trim() != s[2].Trim())
                        warnings.Add(new RemittanceWarning(segments[end].Number, $"SE02 is {segments[end][2].Trim()}, but the transaction's ST02 (segment {s.Number}) is {s[2].Trim()}: the transaction's trailer does not match its header."));
                    inGroup.Add(result.Count);
                    inInterchange.Add(result.Count);
                    result.Add(transaction with { IsTest = test, InterchangeSegment = isaNumber, Warnings = [.. warnings, .. transaction.Warnings] });
                    i = end;
                    break;
            }
        }
        if (result.Count == 0) throw new X12FormatException(segments.Count == 0 ? 1 : segments[^1].Number, "The file holds no 835 transaction.");
        return result;
    }

    private static Remittance835 ReadTransaction(string isa13, List<X12Segment> segments, int start, int end)
    {
        var st = segments[start];
        var se = segments[end];
        var warnings = new List<RemittanceWarning>();
        if (int.TryParse(se[1], out var count) && count != end - start + 1)
            warnings.Add(new RemittanceWarning(se.Number, $"SE01 says {count} segments; the transaction has {end - start + 1}."));

        decimal? payment = null;
        string creditDebit = "C", method = "";
        DateOnly? paymentDate = null;
        string? trace = null, payer = null, payee = null, payeeId = null;
        var claims = new List<ClaimPayment>();
        var plbs = new List<ProviderAdjustment>();
        ClaimPayment? claim = null;
        ServiceLine? line = null;

        void CloseLine()
        {
            if (line is null || claim is null) return;
            claim = claim with { ServiceLines = [.. claim.ServiceLines, line] };
            line = null;
        }
        void CloseClaim()
        {
            CloseLine();
            if (claim is not null) claims.Add(claim);
            claim = null;
        }

        for (var i = start + 1; i < end; i++)
        {
            var s = segments[i];
            switch (s.Id)
            {
                case "BPR":
                    payment = X12Reader.Amount(s, 2, "total payment");
                    creditDebit = s[3];
                    method = s[4];
                    paymentDate = X12Reader.Date(s, 16);
                    // BPR16 is required (the check or EFT effective date); without one the entries take the day they post.
                    if (paymentDate is null)
                        warnings.Add(new RemittanceWarning(s.Number, string.IsNullOrEmpty(s[16])
                            ? "BPR16 (the payment date) is missing; the entries take the day they are posted."
                            : $"BPR16 (the payment date) '{(s[16].Length > 20 ? s[16][..20] + "…" : s[16])}' is not a date (CCYYMMDD); the entries take the day they are posted."));
                    break;
                case "TRN":
                    trace = s[2];
                    break;
                case "N1" when s[1] == "PR":
                    payer = s[2];
                    break;
                case "N1" when s[1] == "PE":
                    payee = s[2];
                    payeeId = s[4];
                    break;
                case "CLP":
                    CloseClaim();
                    if (string.IsNullOrWhiteSpace(s[1])) throw new X12FormatException(s.Number, "CLP01 (patient control number) is empty.");
                    if (!int.TryParse(s[2], out var status)) throw new X12FormatException(s.Number, $"CLP02 (claim status) is not a code: '{s[2]}'.");
                    claim = new ClaimPayment
                    {
                        PatientControlNumber = s[1].Trim(),
                        Status = status,
                        ChargeAmount = X12Reader.Amount(s, 3, "total charge"),
                        PaidAmount = X12Reader.Amount(s, 4, "payment"),
                        PatientResponsibility = X12Reader.OptionalAmount(s, 5, "patient responsibility"),
                        PayerClaimControlNumber = s[7].Trim(),
                        SegmentNumber = s.Number,
                    };
                    break;
                case "SVC" when claim is not null:
                    CloseLine();
                    var procedure = s.Components(1);
                    if (procedure.Count < 2 || string.IsNullOrWhiteSpace(procedure[1]))
                    {
                        warnings.Add(new RemittanceWarning(s.Number, "SVC01 has no procedure code; the service line is kept as given and the claim posts from its CLP totals."));
                        line = new ServiceLine(s[1], 0m, 0m, null, [], s.Number);
                    }
                    else
                    {
                        line = new ServiceLine(string.Join(':', procedure), X12Reader.Amount(s, 2, "line charge"), X12Reader.Amount(s, 3, "line payment"), null, [], s.Number);
                    }
                    break;
                case "AMT" when claim is not null && line is null && s[1] == "I":
                    claim = claim with { Interest = claim.Interest + X12Reader.Amount(s, 2, "interest") };
                    break;
                case "DTM" when line is not null && s[1] == "472":
                    line = line with { ServiceDate = X12Reader.Date(s, 2) };
                    break;
                case "CAS":
                    var adjustments = ReadCas(s);
                    if (line is not null) line = line with { Adjustments = [.. line.Adjustments, .. adjustments] };
                    else if (claim is not null) claim = claim with { Adjustments = [.. claim.Adjustments, .. adjustments] };
                    else warnings.Add(new RemittanceWarning(s.Number, "A CAS segment outside any claim was ignored."));
                    break;
                case "PLB":
                    CloseClaim();
                    plbs.AddRange(ReadPlb(s));
                    break;
            }
        }
        CloseClaim();
        if (payment is null) throw new X12FormatException(st.Number, "The transaction has no BPR payment segment.");
        var seen = new Dictionary<(string, string), int>();
        for (var c = 0; c < claims.Count; c++)
        {
            var key = (claims[c].PatientControlNumber, claims[c].PayerClaimControlNumber);
            seen[key] = seen.GetValueOrDefault(key) + 1;
            if (seen[key] > 1) claims[c] = claims[c] with { Occurrence = seen[key] };
        }
        return new Remittance835
        {
            RemittanceId = ContentId(segments, start, end),
            InterchangeControlNumber = isa13,
            TransactionControlNumber = st[2],
            PaymentAmount = payment.Value,
            CreditDebit = creditDebit,
            PaymentMethod = method,
            PaymentDate = paymentDate,
            TraceNumber = trace,
            PayerName = payer,
            PayeeName = payee,
            PayeeId = payeeId,
            Claims = claims,
            ProviderAdjustments = plbs,
            Warnings = warnings,
            FirstSegment = st.Number,
        };
    }

    /// <summary>"835-" and 16 hex digits of a SHA-256 over the segments between ST and SE, delimiters normalised.</summary>
    private static string ContentId(List<X12Segment> segments, int start, int end)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        for (var i = start + 1; i < end; i++)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(string.Join('*', segments[i].Elements.Select(e => e.Trim().Replace(segments[i].ComponentSeparator, ':')))));
            hash.AppendData("~"u8);
        }
        return "835-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static List<ClaimAdjustment> ReadCas(X12Segment s)
    {
        var group = s[1];
        if (group is not ("CO" or "PR" or "OA" or "PI" or "CR"))
            throw new X12FormatException(s.Number, $"CAS01 '{group}' is not an adjustment group (CO, PR, OA, PI, CR).");
        var list = new List<ClaimAdjustment>();
        // Up to six reason, amount, quantity triplets (CAS02-CAS19). A reason and its amount go together: an amount
        // without its reason, or a reason without its amount, is a broken segment, not money to drop or guess at.
        for (var i = 2; i < s.Elements.Count && i <= 17; i += 3)
        {
            if (string.IsNullOrWhiteSpace(s[i]))
            {
                if (!string.IsNullOrWhiteSpace(s[i + 1]))
                    throw new X12FormatException(s.Number, $"CAS{i + 1:00} has an amount ({s[i + 1]}) without its reason code in CAS{i:00}.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(s[i + 1]))
                throw new X12FormatException(s.Number, $"CAS{i:00} gives reason {s[i]} without its amount in CAS{i + 1:00}.");
            list.Add(new ClaimAdjustment(group, s[i], X12Reader.Amount(s, i + 1, "adjustment amount")));
        }
        if (list.Count == 0) throw new X12FormatException(s.Number, "The CAS segment has no reason and amount.");
        return list;
    }

    private static IEnumerable<ProviderAdjustment> ReadPlb(X12Segment s)
    {
        var date = X12Reader.Date(s, 2);
        for (var i = 3; i + 1 < s.Elements.Count; i += 2)
        {
            if (string.IsNullOrWhiteSpace(s[i])) continue;
            var parts = s.Components(i);
            yield return new ProviderAdjustment(s[1], date, parts[0], parts.Count > 1 ? parts[1] : null, X12Reader.Amount(s, i + 1, "provider adjustment amount"));
        }
    }
}
