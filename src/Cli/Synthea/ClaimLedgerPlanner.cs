using System.Globalization;
using Collections.Domain;

namespace Collections.Cli.Synthea;

/// <summary>One ledger entry to post for a Synthea transaction row, under an idempotency key derived from the row's ID.</summary>
public sealed record PlannedEntry(long Row, string TransactionId, string IdempotencyKey, EntryRequest Request, string AmountColumn)
{
    /// <summary>The claims_transactions.csv column an API error field came from.</summary>
    public string ColumnFor(string? field) => field switch
    {
        "amount" => AmountColumn,
        "effectiveDate" or "serviceDate" => "FROMDATE",
        "code" => "PROCEDURECODE",
        "description" => "NOTES",
        "method" => "METHOD",
        "direction" or "party" => "TRANSFERTYPE",
        "Idempotency-Key" => "ID",
        _ => "TYPE",
    };
}

/// <summary>
/// A claim's ledger: the entries to post in order, the rows that post nothing of their own, the rows refused, and the
/// balances the account holds once every entry is posted (computed with the engine's own posting rules).
/// </summary>
public sealed record ClaimLedgerPlan(IReadOnlyList<PlannedEntry> Entries, IReadOnlyList<SyntheaError> Errors, int RowsWithoutEntry, ClaimBalances Balances);

/// <summary>
/// Turns one claim's claims_transactions.csv rows into ledger entries. Pure and deterministic. The rules (docs/import.md):
/// rows are taken in CHARGEID order (Synthea numbers them in the order it processed them; the file order may differ);
/// CHARGE → charge (TRANSFERTYPE p: the patient's, otherwise the account's default party); PAYMENT → the payer's
/// insurancePayment when TRANSFERTYPE is 1/2, or METHOD is ECHECK on an insured claim, otherwise the patient's
/// patientPayment (a COPAY on an insured claim first moves that share from insurance to the patient, reason PR-3);
/// ADJUSTMENT → contractual (insured) or administrative (self-pay); a TRANSFEROUT and the TRANSFERIN that names it
/// (TRANSFEROUTID) are one transfer, posted on the TRANSFERIN: insurance → patient (p), patient → insurance (1/2), and
/// nothing between two insurers (primary → secondary), which the two-party ledger does not distinguish.
/// A patient payment that follows a transfer to the patient and settles it is posted just before that transfer, so a
/// share paid on the spot does not start a follow-up cadence; the balances end the same.
/// </summary>
public static class ClaimLedgerPlanner
{
    public const string KeyPrefix = "synthea:";
    private const string File = SyntheaSchema.Transactions;
    private const string PostedBy = "synthea-import";

    public static ClaimLedgerPlan Plan(AccountPlan claim, IEnumerable<SyntheaTransaction> rows, DateTimeOffset now)
    {
        var errors = new List<SyntheaError>();
        var steps = new List<Step>();
        var withoutEntry = 0;
        decimal insurance = 0m, patient = 0m;
        var insurer = claim.PrimaryPayer;
        var transferOuts = new List<(SyntheaTransaction Row, string? ChargeId, decimal Amount, ResponsibleParty Source)>();

        foreach (var t in rows.OrderBy(r => ChargeOrder(r.ChargeId)).ThenBy(r => r.Row))
        {
            var before = errors.Count;
            void Error(string column, string reason) => errors.Add(new SyntheaError(File, t.Row, column, reason));
            if (t.Id is null) Error("ID", "required; the cell is empty (the idempotency key is made from it)");
            if (t.PatientId is not null && t.PatientId != claim.PatientId)
                Error("PATIENTID", $"'{t.PatientId}' is not the claim's patient ({claim.PatientId})");
            DateOnly date = default;
            if (t.FromDate is null) Error("FROMDATE", "required; the cell is empty");
            else if (!SyntheaValues.TryDate(t.FromDate, out date)) Error("FROMDATE", $"'{t.FromDate}' is not a date or timestamp (yyyy-MM-dd...)");
            var type = t.Type?.ToUpperInvariant();
            if (type is not ("CHARGE" or "PAYMENT" or "ADJUSTMENT" or "TRANSFERIN" or "TRANSFEROUT"))
            {
                Error("TYPE", t.Type is null ? "required; the cell is empty" : $"'{t.Type}' is not CHARGE, PAYMENT, ADJUSTMENT, TRANSFERIN or TRANSFEROUT");
                continue;
            }
            var (amount, amountColumn) = type switch
            {
                "CHARGE" => (Amount(t.Amount, "AMOUNT"), "AMOUNT"),
                "PAYMENT" => t.Payments is not null ? (Amount(t.Payments, "PAYMENTS"), "PAYMENTS") : (Amount(t.Amount, "AMOUNT"), "AMOUNT"),
                "ADJUSTMENT" => t.Adjustments is not null ? (Amount(t.Adjustments, "ADJUSTMENTS"), "ADJUSTMENTS") : (Amount(t.Amount, "AMOUNT"), "AMOUNT"),
                "TRANSFERIN" => t.Amount is not null ? (Amount(t.Amount, "AMOUNT"), "AMOUNT") : (Amount(t.Transfers, "TRANSFERS"), "TRANSFERS"),
                _ => t.Transfers is not null ? (Amount(t.Transfers, "TRANSFERS"), "TRANSFERS") : (Amount(t.Amount, "AMOUNT"), "AMOUNT"),
            };
            var transferType = t.TransferType?.ToLowerInvariant();
            if (transferType is not (null or "1" or "2" or "p"))
                Error("TRANSFERTYPE", $"'{t.TransferType}' is not 1 (primary insurance), 2 (secondary insurance) or p (patient)");
            if (errors.Count > before) continue;
            if (amount == 0m)
            {
                withoutEntry++; // nothing to post: the engine keeps no zero entries
                continue;
            }
            var key = KeyPrefix + t.Id;

            switch (type)
            {
                case "CHARGE":
                {
                    if (t.ProcedureCode is null) { Error("PROCEDURECODE", "required for a charge; the cell is empty"); continue; }
                    ResponsibleParty? party = transferType switch
                    {
                        "p" => ResponsibleParty.Patient,
                        "1" or "2" => ResponsibleParty.Insurance,
                        _ => null,
                    };
                    if (party == ResponsibleParty.Insurance && !claim.Insured)
                    {
                        Error("TRANSFERTYPE", $"'{t.TransferType}' bills insurance, but the claim has no primary insurance");
                        continue;
                    }
                    var defaultParty = claim.Insured ? ResponsibleParty.Insurance : ResponsibleParty.Patient;
                    Add(new EntryRequest
                    {
                        Kind = EntryKind.Charge, Amount = amount, EffectiveDate = date, ServiceDate = date, Code = t.ProcedureCode,
                        Description = t.Notes, Party = party == defaultParty ? null : party,
                    }, key, amountColumn);
                    break;
                }
                case "PAYMENT":
                {
                    var byInsurer = transferType switch
                    {
                        "1" or "2" => true,
                        "p" => false,
                        _ => claim.Insured && t.Method?.ToUpperInvariant() == "ECHECK",
                    };
                    if (byInsurer)
                    {
                        var payer = transferType switch { "1" => claim.PrimaryPayer, "2" => claim.SecondaryPayer ?? insurer, _ => insurer };
                        if (payer is null) { Error("TRANSFERTYPE", "an insurance payment on a claim without insurance"); continue; }
                        Add(new EntryRequest
                        {
                            Kind = EntryKind.InsurancePayment, Amount = amount, EffectiveDate = date, Payer = payer,
                            ClaimReference = Short(claim.ClaimId), Reference = Short(t.Id),
                        }, key, amountColumn);
                        break;
                    }
                    if (PaymentMethodOf(t.Method) is not { } method)
                    {
                        Error("METHOD", t.Method is null ? "required for a patient payment; the cell is empty" : $"'{t.Method}' is not CASH, CHECK, CC, ECHECK or COPAY");
                        continue;
                    }
                    var payment = new EntryRequest
                    {
                        Kind = EntryKind.PatientPayment, Amount = amount, EffectiveDate = date, Method = method,
                        Reference = t.Method?.ToUpperInvariant() == "COPAY" ? "COPAY" : Short(t.Id),
                    };
                    if (t.Method?.ToUpperInvariant() == "COPAY" && claim.Insured)
                    {
                        // The copay is the patient's share of a charge billed to insurance: move it, and post the payment first.
                        var share = Math.Min(amount - Math.Max(patient, 0m), Math.Max(insurance, 0m));
                        Add(payment, key, amountColumn);
                        if (share > 0m)
                            Add(new EntryRequest
                            {
                                Kind = EntryKind.Transfer, Amount = share, EffectiveDate = date, Direction = TransferDirection.InsuranceToPatient,
                                ReasonCode = "PR-3", Payer = insurer, ClaimReference = Short(claim.ClaimId),
                            }, key + ":copay-share", amountColumn);
                        break;
                    }
                    if (steps.Count > 0 && steps[^1] is { OpensPatientShare: true, Settled: false } last
                        && last.Entry.Request.Amount >= amount)
                    {
                        // Pays the share just moved to the patient: post it before the transfer.
                        steps.Insert(steps.Count - 1, new Step(new PlannedEntry(t.Row, t.Id!, key, payment, amountColumn), false));
                        steps[^1] = last with { Settled = true };
                        patient -= amount;
                        break;
                    }
                    Add(payment, key, amountColumn);
                    break;
                }
                case "ADJUSTMENT":
                    Add(claim.Insured
                        ? new EntryRequest { Kind = EntryKind.Adjustment, Amount = amount, EffectiveDate = date, Category = AdjustmentCategory.Contractual, ReasonCode = "CO-45", Payer = insurer }
                        : new EntryRequest { Kind = EntryKind.Adjustment, Amount = amount, EffectiveDate = date, Category = AdjustmentCategory.Administrative, ReasonCode = "SELF-PAY-DISCOUNT" },
                        key, amountColumn);
                    break;
                case "TRANSFEROUT":
                {
                    // Where the balance leaves from: TRANSFERTYPE when given (earlier Synthea), otherwise whoever holds it.
                    var source = transferType switch
                    {
                        "p" => ResponsibleParty.Patient,
                        "1" or "2" => ResponsibleParty.Insurance,
                        _ => insurance >= amount || patient < amount ? ResponsibleParty.Insurance : ResponsibleParty.Patient,
                    };
                    transferOuts.Add((t, t.ChargeId, amount, source));
                    withoutEntry++; // posted with its TRANSFERIN
                    break;
                }
                case "TRANSFERIN":
                {
                    if (transferType is null) { Error("TRANSFERTYPE", "required for a TRANSFERIN (1, 2 or p: who the balance goes to)"); continue; }
                    var destination = transferType == "p" ? ResponsibleParty.Patient : ResponsibleParty.Insurance;
                    var outIndex = t.TransferOutId is { } outId ? transferOuts.FindIndex(o => o.ChargeId == outId) : -1;
                    if (outIndex < 0 && transferOuts.Count > 0) outIndex = 0;
                    ResponsibleParty source;
                    if (outIndex >= 0)
                    {
                        source = transferOuts[outIndex].Source;
                        transferOuts.RemoveAt(outIndex);
                    }
                    else source = destination == ResponsibleParty.Patient ? ResponsibleParty.Insurance : ResponsibleParty.Patient;
                    if (source == destination)
                    {
                        // Primary to secondary insurance: one insurance balance in the ledger, only the payer changes.
                        if (destination == ResponsibleParty.Insurance) insurer = transferType == "2" ? claim.SecondaryPayer ?? insurer : claim.PrimaryPayer;
                        withoutEntry++;
                        break;
                    }
                    Add(new EntryRequest
                    {
                        Kind = EntryKind.Transfer, Amount = amount, EffectiveDate = date,
                        Direction = destination == ResponsibleParty.Patient ? TransferDirection.InsuranceToPatient : TransferDirection.PatientToInsurance,
                        Payer = insurer, ClaimReference = Short(claim.ClaimId),
                    }, key, amountColumn, opensPatientShare: destination == ResponsibleParty.Patient);
                    if (destination == ResponsibleParty.Insurance) insurer = transferType == "2" ? claim.SecondaryPayer ?? insurer : claim.PrimaryPayer;
                    break;
                }
            }

            decimal Amount(string? value, string column)
            {
                if (value is null) { Error(column, "required; the cell is empty"); return 0m; }
                if (!SyntheaValues.TryAmount(value, out var a)) { Error(column, $"'{value}' is not a decimal amount"); return 0m; }
                if (a < 0m) { Error(column, $"'{value}' is negative; Synthea amounts are positive (the TYPE gives the direction)"); return 0m; }
                return a;
            }

            void Add(EntryRequest request, string idempotencyKey, string column, bool opensPatientShare = false)
            {
                steps.Add(new Step(new PlannedEntry(t.Row, t.Id!, idempotencyKey, request, column), opensPatientShare));
                var (ins, pat) = Effect(request, claim.Insured);
                insurance += ins;
                patient += pat;
            }
        }

        foreach (var orphan in transferOuts)
        {
            withoutEntry--;
            errors.Add(new SyntheaError(File, orphan.Row.Row, "TRANSFEROUTID", "a TRANSFEROUT with no TRANSFERIN in its claim naming it: there is nowhere to move the balance, nothing was posted"));
        }

        // The engine's own rules decide what it would accept and what the balances come to.
        var ledger = new List<LedgerEntry>();
        var entries = new List<PlannedEntry>();
        foreach (var step in steps)
        {
            var entry = step.Entry.Request with { IdempotencyKey = step.Entry.IdempotencyKey };
            var decision = LedgerPosting.Prepare(entry, ledger, new AccountFacts(claim.Insured), PostedBy, now);
            if (!decision.Accepted)
            {
                errors.AddRange(decision.Errors.Select(e => new SyntheaError(File, step.Entry.Row, step.Entry.ColumnFor(e.Field), e.Message)));
                continue;
            }
            if (!decision.IsReplay) ledger.Add(decision.Entry!);
            entries.Add(step.Entry);
        }
        var balances = AccountBalances.Of(ledger);
        return new ClaimLedgerPlan(entries, [.. errors.OrderBy(e => e.Row)], withoutEntry, new ClaimBalances(balances.InsuranceBalance, balances.PatientBalance));
    }

    private sealed record Step(PlannedEntry Entry, bool OpensPatientShare, bool Settled = false);

    /// <summary>CHARGEID as a number (Synthea's running counter); rows without one keep file order after the others.</summary>
    private static long ChargeOrder(string? chargeId) =>
        long.TryParse(chargeId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;

    private static PaymentMethod? PaymentMethodOf(string? method) => method?.ToUpperInvariant() switch
    {
        "CASH" => PaymentMethod.Cash,
        "CHECK" => PaymentMethod.Check,
        "CC" => PaymentMethod.Card,
        "ECHECK" => PaymentMethod.Ach,
        "COPAY" => PaymentMethod.Other,
        _ => null,
    };

    private static string? Short(string? text) => text is { Length: <= LedgerPosting.MaxCodeLength } ? text : null;

    /// <summary>How a planned entry moves (insurance, patient), as the engine would post it on this account.</summary>
    private static (decimal Insurance, decimal Patient) Effect(EntryRequest r, bool insured)
    {
        var a = r.Amount ?? 0m;
        return r.Kind switch
        {
            EntryKind.Charge => (r.Party ?? (insured ? ResponsibleParty.Insurance : ResponsibleParty.Patient)) == ResponsibleParty.Insurance ? (a, 0m) : (0m, a),
            EntryKind.InsurancePayment => (-a, 0m),
            EntryKind.PatientPayment => (0m, -a),
            EntryKind.Adjustment => r.Category == AdjustmentCategory.Contractual ? (-a, 0m) : (0m, -a),
            EntryKind.Transfer => r.Direction == TransferDirection.InsuranceToPatient ? (-a, a) : (a, -a),
            _ => (0m, 0m),
        };
    }
}
