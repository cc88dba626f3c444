namespace Collections.Domain.Compliance;

/// <summary>Why collection activity must stop. Every hold stops every outbound contact and every extraordinary action it covers.</summary>
public enum HoldReason
{
    /// <summary>The patient disputes the debt: collection pauses until verification is recorded.</summary>
    Dispute,
    /// <summary>A written request to stop communicating.</summary>
    CeaseCommunication,
    /// <summary>The patient is represented by an attorney: contact goes to the attorney, not the patient.</summary>
    Attorney,
    /// <summary>Bankruptcy filed: the automatic stay forbids collection.</summary>
    Bankruptcy,
    /// <summary>The patient has died: only the estate may be contacted.</summary>
    Deceased,
    /// <summary>A claim is still with insurance: the patient's share is not known yet.</summary>
    InsurancePending,
    /// <summary>A financial-assistance application is being decided (suspends extraordinary collection actions under 501(r)).</summary>
    FinancialAssistancePending,
    /// <summary>A patient-provider dispute under the No Surprises Act.</summary>
    PatientProviderDispute,
    /// <summary>Placed by staff for any other reason given in the note.</summary>
    Manual,
}

/// <summary>A hold on an account (or on a guarantor, covering all their accounts). Released holds stay on record.</summary>
[GenerateSerializer, Immutable, Alias("collections.Hold")]
public sealed record Hold
{
    [Id(0)] public required string HoldId { get; init; }
    [Id(1)] public required HoldReason Reason { get; init; }
    /// <summary>The evidence: what was received, from whom (no clinical details).</summary>
    [Id(2)] public required string Note { get; init; }
    [Id(3)] public required string PlacedBy { get; init; }
    [Id(4)] public required DateTimeOffset PlacedAt { get; init; }
    [Id(5)] public string? ReleasedBy { get; init; }
    [Id(6)] public DateTimeOffset? ReleasedAt { get; init; }
    /// <summary>Why it was released (for a dispute: the verification that was sent).</summary>
    [Id(7)] public string? ReleaseNote { get; init; }
    /// <summary>The Idempotency-Key it was placed with, if any.</summary>
    [Id(8), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }

    public bool IsActive => ReleasedAt is null;
}

/// <summary>A request to place a hold (unvalidated).</summary>
[GenerateSerializer, Immutable, Alias("collections.HoldRequest")]
public sealed record HoldRequest
{
    [Id(0)] public HoldReason? Reason { get; init; }
    [Id(1)] public string? Note { get; init; }
    /// <summary>The request's Idempotency-Key: sent again with it, the request answers with the hold it placed.</summary>
    [Id(2), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

public static class HoldRules
{
    /// <summary>
    /// The hold this request repeats: the one placed with its Idempotency-Key (the same reason and note), or, without a
    /// key, an active hold with the same reason and note (a double click): one hold, which one release ends. A key used
    /// for another hold is refused.
    /// </summary>
    public static (Hold? Earlier, DomainError? Error) RepeatOf(HoldRequest request, IReadOnlyList<Hold> existing)
    {
        var note = request.Note?.Trim();
        if (request.IdempotencyKey is not null)
            return RepeatedRequests.Find(request.IdempotencyKey, existing, h => h.IdempotencyKey, h => h.Reason == request.Reason && h.Note == note, "hold");
        return (existing.FirstOrDefault(h => h.IsActive && h.Reason == request.Reason && h.Note == note), null);
    }

    /// <summary>
    /// A bankruptcy's automatic stay and a death are about the person, not one bill: a hold for either placed on one
    /// account would leave the person's other accounts collected. They go on the guarantor, which covers every account.
    /// </summary>
    public static DomainError? PersonOnly(HoldRequest request, string guarantorId) => request.Reason is HoldReason.Bankruptcy or HoldReason.Deceased
        ? DomainError.Invalid("reason", "hold.person-only",
            $"A {(request.Reason == HoldReason.Bankruptcy ? "bankruptcy" : "deceased")} hold covers the person and every one of their accounts: place it on the guarantor (POST /api/guarantors/{guarantorId}/holds).")
        : null;

    public static (Hold? Hold, IReadOnlyList<DomainError> Errors) Place(HoldRequest request, IReadOnlyList<Hold> existing, string placedBy, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (request.Reason is null)
            errors.Invalid("reason", "reason.required", "The hold reason is required (dispute, ceaseCommunication, attorney, bankruptcy, deceased, insurancePending, financialAssistancePending, patientProviderDispute, manual).");
        Text.Require(request.Note, "note", 500, errors);
        if (errors.Any) return (null, errors.Errors);
        var hold = new Hold
        {
            HoldId = $"H{existing.Count + 1}",
            Reason = request.Reason!.Value,
            Note = request.Note!.Trim(),
            PlacedBy = placedBy,
            PlacedAt = now,
            IdempotencyKey = RepeatedRequests.Key(request.IdempotencyKey).Key,
        };
        return (hold, []);
    }

    public static (Hold? Hold, IReadOnlyList<DomainError> Errors) Release(string holdId, string? note, IReadOnlyList<Hold> existing, string releasedBy, DateTimeOffset now)
    {
        var hold = existing.FirstOrDefault(h => h.HoldId == holdId);
        if (hold is null) return (null, [DomainError.NotFound("hold.not-found", "No hold with this id.")]);
        if (!hold.IsActive) return (null, [DomainError.Conflict("hold.already-released", "This hold was already released.")]);
        var errors = new ErrorList();
        if (hold.Reason == HoldReason.Dispute)
            Text.Require(note, "note", 500, errors);   // a dispute ends only when its verification is recorded
        else
            Text.Check(note, "note", 500, errors);
        if (errors.Any)
            return (null, errors.Errors.Select(e => e with { Message = hold.Reason == HoldReason.Dispute ? "Releasing a dispute needs the verification that was sent to the patient (note)." : e.Message }).ToList());
        return (hold with { ReleasedAt = now, ReleasedBy = releasedBy, ReleaseNote = Text.Clean(note) }, []);
    }
}
