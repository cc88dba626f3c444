namespace Collections.Grains;

/// <summary>One of the few features that pushed an account's score most, in words an agent understands.</summary>
[GenerateSerializer, Immutable, Alias("collections.ScoreReason")]
public sealed record ScoreReason
{
    /// <summary>The feature's name in the model (e.g. <c>PatientPaymentCount</c>).</summary>
    [Id(0)] public required string Feature { get; init; }
    /// <summary>"Has paid 3 times before".</summary>
    [Id(1)] public required string Text { get; init; }
    /// <summary>How much it moved the score: positive raises the likelihood of paying, negative lowers it.</summary>
    [Id(2)] public required double Effect { get; init; }
}

/// <summary>How likely the account is to pay, by which model version, and why.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountScore")]
public sealed record AccountScore
{
    /// <summary>Calibrated probability (0-1) that the label event happens (by default: at least half the patient balance paid within 90 days).</summary>
    [Id(0)] public required double Probability { get; init; }
    [Id(1)] public required string ModelVersion { get; init; }
    [Id(2)] public required DateTimeOffset ScoredAt { get; init; }
    [Id(3)] public IReadOnlyList<ScoreReason> Reasons { get; init; } = [];
    /// <summary>True when the account is in the challenger's share and this score came from the challenger.</summary>
    [Id(4)] public bool IsChallenger { get; init; }
    /// <summary>Probability times the patient balance at scoring time: what the worklist orders by.</summary>
    [Id(5)] public required decimal ExpectedRecovery { get; init; }
    /// <summary>The patient balance the score was computed on.</summary>
    [Id(6)] public required decimal PatientBalance { get; init; }
}

public enum ModelKind
{
    /// <summary>Trained by the engine itself on the synthetic generator at first start, so accounts are scored from day one.</summary>
    Bootstrap,
    /// <summary>Trained by the data team on the engine's own history (or any data) and registered through the API.</summary>
    Trained,
}

/// <summary>A registered model version as the registry lists it.</summary>
[GenerateSerializer, Immutable, Alias("collections.ModelVersionInfo")]
public sealed record ModelVersionInfo
{
    [Id(0)] public required string Version { get; init; }
    [Id(1)] public required ModelKind Kind { get; init; }
    [Id(2)] public required DateTimeOffset RegisteredAt { get; init; }
    [Id(3)] public required string RegisteredBy { get; init; }
    [Id(4)] public string? Notes { get; init; }
    /// <summary>Held-out ROC AUC from the model's own evaluation report.</summary>
    [Id(5)] public double? Auc { get; init; }
    [Id(6)] public double? Brier { get; init; }
    [Id(7)] public string? LabelDefinition { get; init; }

    /// <summary>The registry's view of a stored version, with the headline figures of its report (JSON with auc, brier, labelDefinition).</summary>
    public static ModelVersionInfo Describe(string version, string kind, DateTimeOffset registeredAt, string registeredBy, string? notes, string reportJson)
    {
        double? auc = null, brier = null;
        string? label = null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(reportJson);
            if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    if (property.NameEquals("auc") && property.Value.TryGetDouble(out var a)) auc = a;
                    else if (property.NameEquals("brier") && property.Value.TryGetDouble(out var b)) brier = b;
                    else if (property.NameEquals("labelDefinition") && property.Value.ValueKind == System.Text.Json.JsonValueKind.String) label = property.Value.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // A report we cannot read still registers; its figures are just not listed.
        }
        return new ModelVersionInfo
        {
            Version = version, Kind = kind == "bootstrap" ? ModelKind.Bootstrap : ModelKind.Trained,
            RegisteredAt = registeredAt, RegisteredBy = registeredBy, Notes = notes, Auc = auc, Brier = brier, LabelDefinition = label,
        };
    }
}

/// <summary>Which versions score accounts now. The generation grows with every change, so silos can tell they are behind.</summary>
[GenerateSerializer, Immutable, Alias("collections.ModelAssignment")]
public sealed record ModelAssignment
{
    [Id(0)] public string? Champion { get; init; }
    [Id(1)] public string? Challenger { get; init; }
    /// <summary>The share of accounts (by a stable hash of the account key) the challenger scores, 0-0.5.</summary>
    [Id(2)] public double ChallengerShare { get; init; }
    [Id(3)] public long Generation { get; init; }
}

/// <summary>One change of the live versions: who, when, what, why.</summary>
[GenerateSerializer, Immutable, Alias("collections.ModelChange")]
public sealed record ModelChange
{
    [Id(0)] public required DateTimeOffset At { get; init; }
    [Id(1)] public required string By { get; init; }
    /// <summary>bootstrap | promote | rollback | challenger | challenger-cleared</summary>
    [Id(2)] public required string Action { get; init; }
    [Id(3)] public string? From { get; init; }
    [Id(4)] public string? To { get; init; }
    [Id(5)] public string? Reason { get; init; }
    /// <summary>The Idempotency-Key the change was asked with, if any: asked again with it, nothing changes again.</summary>
    [Id(6), System.Text.Json.Serialization.JsonIgnore] public string? IdempotencyKey { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.ModelRegistryView")]
public sealed record ModelRegistryView
{
    [Id(0)] public required ModelAssignment Assignment { get; init; }
    [Id(1)] public required IReadOnlyList<ModelVersionInfo> Versions { get; init; }
    [Id(2)] public required IReadOnlyList<ModelChange> History { get; init; }
}

/// <summary>
/// The model registry: which registered version is the champion (scores every account), which one is the challenger
/// and for what share, and the history of changes. The model files themselves are in the database
/// (<c>scoring_model</c>); every silo polls <see cref="GetAssignment"/> and swaps models without a restart.
/// </summary>
[Alias("collections.IScoringModelRegistryGrain")]
public interface IScoringModelRegistryGrain : IGrainWithStringKey
{
    public const string Key = "models";

    [Alias("GetAssignment"), Orleans.Concurrency.ReadOnly]
    Task<ModelAssignment> GetAssignment();

    [Alias("Get"), Orleans.Concurrency.ReadOnly]
    Task<ModelRegistryView> Get();

    /// <summary>Registers a version whose file is already stored. The same version twice is a conflict unless identical.</summary>
    [Alias("Register")]
    Task<Outcome<ModelVersionInfo>> Register(ModelVersionInfo version);

    /// <summary>Registers the engine's bootstrap model and makes it the champion, only if there is no champion yet. True if adopted.</summary>
    [Alias("AdoptBootstrap")]
    Task<bool> AdoptBootstrap(ModelVersionInfo version);

    /// <summary>Makes a registered version the champion; the whole portfolio is rescored in the background.</summary>
    [Alias("Promote")]
    Task<Outcome<ModelAssignment>> Promote(string version, string? reason);

    /// <summary>Puts the previous champion back.</summary>
    [Alias("Rollback")]
    Task<Outcome<ModelAssignment>> Rollback(string? reason);

    /// <summary>
    /// Puts the previous champion back once per Idempotency-Key: asked again with the key (a retry after a timeout), it
    /// answers the assignment as it stands (<see cref="Outcome{T}.Replayed"/>) and rolls nothing further back.
    /// </summary>
    [Alias("RollbackOnce")]
    Task<Outcome<ModelAssignment>> RollbackOnce(string? reason, string idempotencyKey);

    /// <summary>Scores a share of accounts (0 to 0.5, chosen by a stable hash of the account key) with a registered version.</summary>
    [Alias("SetChallenger")]
    Task<Outcome<ModelAssignment>> SetChallenger(string version, double share, string? reason);

    [Alias("ClearChallenger")]
    Task<Outcome<ModelAssignment>> ClearChallenger(string? reason);
}

/// <summary>Walks the whole portfolio and asks every account to rescore, throttled; resumes after a restart.</summary>
[Alias("collections.IPortfolioRescoreGrain")]
public interface IPortfolioRescoreGrain : IGrainWithStringKey
{
    public const string Key = "portfolio";

    /// <summary>
    /// Starts a pass for this assignment generation (a pass already running restarts from the beginning). One-way: the
    /// registry that changed the models must not wait behind a page of rescores (a page on a busy machine can outlast
    /// a call's timeout, and the promotion or rollback, already stored, would then answer as failed).
    /// </summary>
    [Alias("Start"), Orleans.Concurrency.OneWay]
    Task Start(long generation, string reason);

    /// <summary>The pass's progress, answered between a page's rescores (a read of counters, not behind the page).</summary>
    [Alias("GetProgress"), Orleans.Concurrency.AlwaysInterleave]
    Task<RescoreProgress> GetProgress();
}

[GenerateSerializer, Immutable, Alias("collections.RescoreProgress")]
public sealed record RescoreProgress
{
    [Id(0)] public bool Running { get; init; }
    [Id(1)] public long Generation { get; init; }
    [Id(2)] public string? Reason { get; init; }
    [Id(3)] public DateTimeOffset? StartedAt { get; init; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(5)] public long AccountsDone { get; init; }
    [Id(6)] public string? LastAccount { get; init; }
}

/// <summary>What a guarantor's grain knows that the account's score needs: contactability and the contacts about this account.</summary>
[GenerateSerializer, Immutable, Alias("collections.GuarantorScoringFacts")]
public sealed record GuarantorScoringFacts
{
    [Id(0)] public DateOnly? DateOfBirth { get; init; }
    [Id(1)] public bool HasEmail { get; init; }
    [Id(2)] public bool HasMobilePhone { get; init; }
    [Id(3)] public bool HasTextConsent { get; init; }
    [Id(4)] public IReadOnlyList<Domain.Compliance.ContactAttempt> Contacts { get; init; } = [];
    [Id(5)] public IReadOnlyList<Domain.Compliance.Hold> Holds { get; init; } = [];
}

/// <summary>Everything about an account a training export needs, each item with its own time.</summary>
[GenerateSerializer, Immutable, Alias("collections.AccountScoringHistory")]
public sealed record AccountScoringHistory
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public string? PrimaryPayer { get; init; }
    [Id(2)] public required DateTimeOffset OpenedAt { get; init; }
    [Id(3)] public required GuarantorScoringFacts Guarantor { get; init; }
    [Id(4)] public IReadOnlyList<Domain.LedgerEntry> Entries { get; init; } = [];
    [Id(5)] public IReadOnlyList<Domain.Compliance.Hold> Holds { get; init; } = [];
    [Id(6)] public IReadOnlyList<Domain.Arrangements.PromiseToPay> Promises { get; init; } = [];
    [Id(7)] public IReadOnlyList<Domain.Arrangements.PaymentPlan> Plans { get; init; } = [];
    /// <summary>The account's group under its policy's control share (null: never assigned).</summary>
    [Id(8)] public Domain.Cadence.TreatmentAssignment? Treatment { get; init; }
    /// <summary>The patient's time zones as the account holds them (null: none known, UTC days).</summary>
    [Id(9)] public IReadOnlyList<string>? TimeZones { get; init; }
    /// <summary>The engine's grace days for promises and installments when the history was taken (null from a silo before it was sent: the default).</summary>
    [Id(10)] public int? GraceDays { get; init; }
    /// <summary>The account's current score as the account holds it (null: none, or from a silo before it was sent).</summary>
    [Id(11)] public AccountScore? Score { get; init; }
}

/// <summary>How one version did on real accounts. Only scores whose label window has ended count toward the observed rate and AUC.</summary>
[GenerateSerializer, Immutable, Alias("collections.VersionOutcome")]
public sealed record VersionOutcome(
    [property: Id(0)] string Version, [property: Id(1)] string Role, [property: Id(2)] int AccountsScored, [property: Id(3)] double MeanProbability,
    [property: Id(4)] decimal PatientBalance, [property: Id(5)] decimal Collected, [property: Id(6)] int WindowsEnded,
    [property: Id(7)] double? PredictedRate, [property: Id(8)] double? ObservedRate, [property: Id(9)] double? Auc);

/// <summary>
/// Champion, challenger and earlier versions compared on real accounts: what each predicted and what the accounts
/// paid (the score-outcome projection). Stateless: any silo answers.
/// </summary>
[Alias("collections.IModelComparisonGrain")]
public interface IModelComparisonGrain : IGrainWithIntegerKey
{
    /// <summary><paramref name="paidShare"/>: the share of the balance that counts as "paid" for the observed rate (0.5 by default).</summary>
    [Alias("Compare")]
    Task<IReadOnlyList<VersionOutcome>> Compare(decimal paidShare);
}
