namespace Collections.Domain;

/// <summary>What posting a request did: a new entry, the entry a retried request already created, or refusals.</summary>
public sealed record PostingDecision(LedgerEntry? Entry, bool IsReplay, IReadOnlyList<DomainError> Errors)
{
    public bool Accepted => Entry is not null;
}

/// <summary>
/// The rules for adding an entry to an account's ledger. Pure: the caller passes the existing entries, the account's
/// facts and the current time.
/// </summary>
public static class LedgerPosting
{
    public const int MaxTextLength = 200;
    public const int MaxCodeLength = 40;
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>
    /// Validates <paramref name="request"/> against the ledger so far and returns the entry to append, the earlier
    /// entry when the same idempotency key was already used for the same request, or the reasons it is refused.
    /// <paramref name="balances"/>: the ledger's balances when the caller has them already (else they are worked out).
    /// <paramref name="keys"/>: the caller's index of the ledger's idempotency keys, kept across calls (else the ledger is scanned).
    /// </summary>
    public static PostingDecision Prepare(
        EntryRequest request,
        IReadOnlyList<LedgerEntry> ledger,
        AccountFacts account,
        string postedBy,
        DateTimeOffset now,
        AccountBalances? balances = null,
        LedgerKeys? keys = null)
    {
        var errors = new ErrorList();
        var key = request.IdempotencyKey?.Trim();
        if (string.IsNullOrEmpty(key))
            return Refuse(DomainError.Invalid("Idempotency-Key", "idempotency-key.required", "An Idempotency-Key is required to post an entry."));
        if (key.Length > MaxIdempotencyKeyLength || key.Any(char.IsControl))
            return Refuse(DomainError.Invalid("Idempotency-Key", "idempotency-key.invalid", $"The Idempotency-Key must be 1 to {MaxIdempotencyKeyLength} printable characters."));

        var fingerprint = request.Fingerprint();
        var earlier = keys is not null ? keys.Find(ledger, key) : LedgerKeys.Scan(ledger, key);
        if (earlier is not null)
        {
            return earlier.RequestFingerprint == fingerprint
                ? new PostingDecision(earlier, IsReplay: true, [])
                : Refuse(DomainError.Conflict("idempotency-key.reused", "This Idempotency-Key was already used for a different request.", "Idempotency-Key"));
        }

        if (request.Kind is not { } kind)
            return Refuse(DomainError.Invalid("kind", "kind.required", "The entry kind is required (charge, insurancePayment, patientPayment, adjustment, transfer, refund, reversal)."));

        var today = DateOnly.FromDateTime(now.UtcDateTime);
        Text.Check(request.Note, "note", MaxTextLength, errors);
        var entry = new LedgerEntry
        {
            EntryId = $"E{ledger.Count + 1}",
            Kind = kind,
            Amount = 0m,
            EffectiveDate = request.EffectiveDate ?? today,
            PostedAt = now,
            Note = Text.Clean(request.Note),
            IdempotencyKey = key,
            RequestFingerprint = fingerprint,
            PostedBy = postedBy,
        };

        CheckEffectiveDate(request.EffectiveDate, now, errors);
        if (kind != EntryKind.Reversal)
        {
            Money.ValidateEntryAmount(request.Amount, "amount", errors);
            entry = entry with { Amount = request.Amount is { } a ? Money.Normalize(a) : 0m };
            if (request.ReversesEntryId is not null)
                errors.Invalid("reversesEntryId", "field.not-applicable", "Only a reversal names an entry to reverse.");
        }

        entry = kind switch
        {
            EntryKind.Charge => PrepareCharge(request, entry, account, now, errors),
            EntryKind.InsurancePayment => PrepareInsurancePayment(request, entry, errors),
            EntryKind.PatientPayment => PreparePatientPayment(request, entry, errors),
            EntryKind.Adjustment => PrepareAdjustment(request, entry, errors),
            EntryKind.Transfer => PrepareTransfer(request, entry, errors),
            EntryKind.Refund => PrepareRefund(request, entry, errors),
            EntryKind.Reversal => PrepareReversal(request, entry, ledger, errors),
            _ => entry,
        };
        if (request.Channel is not null && kind is not (EntryKind.PatientPayment or EntryKind.InsurancePayment))
            errors.Invalid("channel", "field.not-applicable", "channel applies to payments only.");
        if (kind is EntryKind.PatientPayment or EntryKind.InsurancePayment)
            entry = entry with { Channel = request.Channel ?? PaymentChannels.Default(kind, entry.Method) };
        if (errors.Any)
            return new PostingDecision(null, false, errors.Errors);

        // Rules that need the balance: only checked once the request itself is well formed.
        balances ??= AccountBalances.Of(ledger);
        if (kind == EntryKind.Refund && entry.Amount > balances.CreditBalance)
            return Refuse(DomainError.Conflict("refund.exceeds-credit", $"A refund may not exceed the account's credit balance ({balances.CreditBalance:0.00}).", "amount"));
        if (kind == EntryKind.Transfer)
        {
            var available = entry.Direction == TransferDirection.InsuranceToPatient ? balances.InsuranceBalance : balances.PatientBalance;
            if (entry.Amount > available)
                return Refuse(DomainError.Conflict("transfer.exceeds-balance", $"A transfer may not move more than the {(entry.Direction == TransferDirection.InsuranceToPatient ? "insurance" : "patient")} balance ({Math.Max(available, 0m):0.00}).", "amount"));
        }
        return new PostingDecision(entry, false, []);

        static PostingDecision Refuse(DomainError error) => new(null, false, [error]);
    }

    private static void CheckEffectiveDate(DateOnly? effectiveDate, DateTimeOffset now, ErrorList errors)
    {
        if (effectiveDate is not { } date) return;
        if (date > Calendar.LatestToday(now))
            errors.Invalid("effectiveDate", "date.future", "The effective date must not be in the future.");
        else if (date < Calendar.EarliestBusinessDate)
            errors.Invalid("effectiveDate", "date.too-old", $"The effective date must not be before {Calendar.EarliestBusinessDate:yyyy-MM-dd}.");
    }

    private static LedgerEntry PrepareCharge(EntryRequest r, LedgerEntry e, AccountFacts account, DateTimeOffset now, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.Payer), r.Payer), (nameof(r.ClaimReference), r.ClaimReference), (nameof(r.Method), r.Method), (nameof(r.Reference), r.Reference), (nameof(r.Category), r.Category), (nameof(r.ReasonCode), r.ReasonCode), (nameof(r.Direction), r.Direction));
        if (r.ServiceDate is not { } serviceDate)
            errors.Invalid("serviceDate", "service-date.required", "A charge needs its service date.");
        else if (serviceDate > Calendar.LatestToday(now))
            errors.Invalid("serviceDate", "date.future", "The service date must not be in the future.");
        else if (serviceDate < Calendar.EarliestBusinessDate)
            errors.Invalid("serviceDate", "date.too-old", $"The service date must not be before {Calendar.EarliestBusinessDate:yyyy-MM-dd}.");
        Text.Require(r.Code, "code", MaxCodeLength, errors);
        Text.Check(r.Description, "description", MaxTextLength, errors);
        return e with
        {
            ServiceDate = r.ServiceDate,
            EffectiveDate = r.EffectiveDate ?? r.ServiceDate ?? e.EffectiveDate,
            Code = Text.Clean(r.Code),
            Description = Text.Clean(r.Description),
            Party = r.Party ?? (account.HasInsurance ? ResponsibleParty.Insurance : ResponsibleParty.Patient),
        };
    }

    private static LedgerEntry PrepareInsurancePayment(EntryRequest r, LedgerEntry e, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.Party), r.Party), (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Method), r.Method), (nameof(r.Category), r.Category), (nameof(r.ReasonCode), r.ReasonCode), (nameof(r.Direction), r.Direction));
        Text.Require(r.Payer, "payer", MaxTextLength, errors);
        Text.Check(r.ClaimReference, "claimReference", MaxCodeLength, errors);
        Text.Check(r.Reference, "reference", MaxCodeLength, errors);
        return e with { Payer = Text.Clean(r.Payer), ClaimReference = Text.Clean(r.ClaimReference), Reference = Text.Clean(r.Reference) };
    }

    private static LedgerEntry PreparePatientPayment(EntryRequest r, LedgerEntry e, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.Party), r.Party), (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Payer), r.Payer), (nameof(r.ClaimReference), r.ClaimReference), (nameof(r.Category), r.Category), (nameof(r.ReasonCode), r.ReasonCode), (nameof(r.Direction), r.Direction));
        if (r.Method is null)
            errors.Invalid("method", "method.required", "A patient payment needs its method (cash, check, card, ach, other).");
        Text.Check(r.Reference, "reference", MaxCodeLength, errors);
        return e with { Method = r.Method, Reference = Text.Clean(r.Reference) };
    }

    private static LedgerEntry PrepareAdjustment(EntryRequest r, LedgerEntry e, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Method), r.Method), (nameof(r.Reference), r.Reference), (nameof(r.Direction), r.Direction), (nameof(r.ClaimReference), r.ClaimReference));
        if (r.Category is not { } category)
        {
            errors.Invalid("category", "category.required", "An adjustment needs its category (contractual, charity, smallBalance, badDebt, administrative).");
            return e;
        }
        Text.Require(r.ReasonCode, "reasonCode", MaxCodeLength, errors);
        Text.Check(r.Payer, "payer", MaxTextLength, errors);
        // A contractual adjustment reduces what insurance is expected to pay; the others reduce what the patient owes.
        var party = r.Party ?? (category == AdjustmentCategory.Contractual ? ResponsibleParty.Insurance : ResponsibleParty.Patient);
        return e with { Category = category, ReasonCode = Text.Clean(r.ReasonCode), Payer = Text.Clean(r.Payer), Party = party };
    }

    private static LedgerEntry PrepareTransfer(EntryRequest r, LedgerEntry e, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.Party), r.Party), (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Method), r.Method), (nameof(r.Reference), r.Reference), (nameof(r.Category), r.Category));
        if (r.Direction is null)
            errors.Invalid("direction", "direction.required", "A transfer needs its direction (insuranceToPatient or patientToInsurance).");
        Text.Check(r.ReasonCode, "reasonCode", MaxCodeLength, errors);
        Text.Check(r.Payer, "payer", MaxTextLength, errors);
        Text.Check(r.ClaimReference, "claimReference", MaxCodeLength, errors);
        return e with { Direction = r.Direction, ReasonCode = Text.Clean(r.ReasonCode), Payer = Text.Clean(r.Payer), ClaimReference = Text.Clean(r.ClaimReference) };
    }

    private static LedgerEntry PrepareRefund(EntryRequest r, LedgerEntry e, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Category), r.Category), (nameof(r.ReasonCode), r.ReasonCode), (nameof(r.Direction), r.Direction), (nameof(r.ClaimReference), r.ClaimReference));
        Text.Check(r.Reference, "reference", MaxCodeLength, errors);
        Text.Check(r.Payer, "payer", MaxTextLength, errors);
        var party = r.Party ?? ResponsibleParty.Patient;
        if (party == ResponsibleParty.Insurance && string.IsNullOrWhiteSpace(r.Payer))
            errors.Invalid("payer", "payer.required", "A refund to insurance needs the payer it goes to.");
        return e with { Party = party, Method = r.Method, Reference = Text.Clean(r.Reference), Payer = Text.Clean(r.Payer) };
    }

    private static LedgerEntry PrepareReversal(EntryRequest r, LedgerEntry e, IReadOnlyList<LedgerEntry> ledger, ErrorList errors)
    {
        NotApplicable(errors, (nameof(r.Party), r.Party), (nameof(r.ServiceDate), r.ServiceDate), (nameof(r.Code), r.Code), (nameof(r.Description), r.Description), (nameof(r.Payer), r.Payer), (nameof(r.ClaimReference), r.ClaimReference), (nameof(r.Method), r.Method), (nameof(r.Reference), r.Reference), (nameof(r.Category), r.Category), (nameof(r.ReasonCode), r.ReasonCode), (nameof(r.Direction), r.Direction));
        if (string.IsNullOrWhiteSpace(r.ReversesEntryId))
        {
            errors.Invalid("reversesEntryId", "reverses-entry-id.required", "A reversal must name the entry it reverses.");
            return e;
        }
        var target = ledger.FirstOrDefault(x => x.EntryId == r.ReversesEntryId);
        if (target is null)
        {
            errors.Add(DomainError.NotFound("entry.not-found", "The entry to reverse does not exist on this account.", "reversesEntryId"));
            return e;
        }
        if (target.Kind == EntryKind.Reversal)
            errors.Add(DomainError.Conflict("reversal.of-reversal", "A reversal cannot itself be reversed; post the original entry again instead.", "reversesEntryId"));
        else if (ledger.Any(x => x.ReversesEntryId == target.EntryId))
            errors.Add(DomainError.Conflict("entry.already-reversed", "That entry has already been reversed.", "reversesEntryId"));
        if (r.Amount is { } amount && amount != target.Amount)
            errors.Invalid("amount", "amount.reversal-mismatch", "A reversal reverses the whole entry; leave the amount out or give the entry's own amount.");
        return e with { ReversesEntryId = target.EntryId, Amount = target.Amount, Party = target.Party };
    }

    // Each field with its value, read directly: reading them through reflection emitted invoke stubs on the posting
    // path again whenever the type's reflection cache was collected.
    private static void NotApplicable(ErrorList errors, params (string Name, object? Value)[] fields)
    {
        foreach (var (property, value) in fields)
        {
            if (value is not null)
                errors.Invalid(char.ToLowerInvariant(property[0]) + property[1..], "field.not-applicable", $"{char.ToLowerInvariant(property[0]) + property[1..]} does not apply to this kind of entry.");
        }
    }
}

/// <summary>The account facts posting rules depend on.</summary>
public sealed record AccountFacts(bool HasInsurance);
