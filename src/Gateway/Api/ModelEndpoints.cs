using System.Globalization;
using System.Text.Json;
using Collections.Domain;
using Collections.Gateway.Models;
using Collections.Gateway.Security;
using Collections.Grains;
using Collections.Persistence;
using Collections.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>
/// The data team's loop: export labelled history, register a trained model with its report, promote it, roll back,
/// run a challenger on a share of accounts and compare outcomes. Every silo picks up a promotion without a restart.
/// </summary>
public static class ModelEndpoints
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder api)
    {
        var read = api.MapGroup("/models").WithTags("Scoring models").RequireAuthorization(Policies.ReadModels);
        read.MapGet("/", async (IGrainFactory grains) => TypedResults.Ok(await Registry(grains).Get()))
            .WithSummary("Registered versions with their headline figures, the champion and challenger, and the history of changes.");
        read.MapGet("/{version}", GetVersion).WithSummary("One version: its registration and its full evaluation report.");
        read.MapGet("/{version}/chart", GetChart).WithSummary("The version's calibration and lift chart (PNG).");
        read.MapGet("/{version}/drift", Drift).WithName("ModelDrift")
            .WithSummary("How far the scores this version gave live accounts (their first score from it) moved from the scores it gave its own test set: the share in each score band and the population stability index, flagged above Collections:Scoring:DriftPsiThreshold (0.2).");
        read.MapGet("/uplift", Uplift).WithName("ModelUplift")
            .WithSummary("What outreach adds: treated against control accounts (each policy's controlShare) in payment rate and dollars collected per account since assignment, with confidence intervals, for all accounts, each policy, each cadence step reached and each score band at assignment.");
        read.MapGet("/fairness", Fairness).WithName("ModelFairness")
            .WithSummary("Scores and outreach by the guarantor's language and by the median-income band of their ZIP code (Collections:Fairness:ZipIncomeFile), each group against the portfolio, flagged when its mean score differs by more than scoreGap (Collections:Fairness:ScoreGap, 0.10) or its contacted share falls outside contactRatio (Collections:Fairness:ContactRatio, 0.8) to its inverse; groups under Collections:Fairness:MinimumGroup (11) accounts show no figures.");
        read.MapGet("/comparison", Compare).WithSummary("Champion, challenger and earlier versions on real accounts: what each predicted, what the accounts paid.");
        read.MapGet("/rescore", async (IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IPortfolioRescoreGrain>(IPortfolioRescoreGrain.Key).GetProgress()))
            .WithSummary("Progress of the background rescore of the portfolio.");

        var manage = api.MapGroup("/models").WithTags("Scoring models").RequireAuthorization(Policies.ManageModels);
        manage.MapPost("/", Register)
            .WithSummary("Register a model file written by `collections model train` (body: the file; ?version= names it, default the version inside the file).");
        manage.MapPost("/{version}/promote", async (string version, ChangeBody? body, IGrainFactory grains) =>
                ReasonMissing(body) ?? Answer(await Registry(grains).Promote(version, body!.Reason!.Trim())))
            .WithSummary("Make the version the champion: every silo scores with it within seconds, and the portfolio is rescored in the background.");
        manage.MapPost("/rollback", async Task<Results<Ok<ModelAssignment>, ProblemHttpResult>> (ChangeBody? body, [Microsoft.AspNetCore.Mvc.FromHeader(Name = AccountEndpoints.IdempotencyKeyHeader)] string? idempotencyKey,
                IGrainFactory grains, HttpContext http) =>
            {
                if (ReasonMissing(body) is { } missing) return missing;
                // Without a key, the call every release has taken; with one, a retry rolls nothing further back.
                var outcome = idempotencyKey is null
                    ? await Registry(grains).Rollback(body!.Reason!.Trim())
                    : await Registry(grains).RollbackOnce(body!.Reason!.Trim(), idempotencyKey);
                if (outcome.Replayed) http.Response.Headers[AccountEndpoints.IdempotentReplayedHeader] = "true";
                return Answer(outcome);
            })
            .WithSummary("Put the previous champion back. With an Idempotency-Key, the request sent again answers the assignment as it stands (Idempotent-Replayed) and rolls nothing further back.");
        manage.MapPut("/challenger", async (ChallengerBody body, IGrainFactory grains) =>
                body.Version is not { Length: > 0 } version ? Problems.Invalid("version", "version.required", "Name the version to run as challenger.")
                : body.Share is not { } share ? Problems.Invalid("share", "share.required", "Give the challenger's share of accounts (above 0, at most 0.5).")
                : Answer(await Registry(grains).SetChallenger(version, share, body.Reason)))
            .WithSummary("Score a stable share of accounts (chosen by a hash of the account key) with another version.");
        manage.MapDelete("/challenger", async (IGrainFactory grains) => Answer(await Registry(grains).ClearChallenger(null)))
            .WithSummary("Stop the challenger: the champion scores every account again.");

        api.MapGet("/scoring/training-set", TrainingSetExport).WithTags("Scoring models").RequireAuthorization(Policies.ManageModels)
            .WithSummary("The labelled training set from the engine's own history: CSV, one row per account per scoring date (every account read is audited).");
        api.MapGet("/scoring/accounts/{facility}/{accountNumber}", AccountScoring).WithTags("Scoring models").RequireAuthorization(Policies.ManageModels)
            .WithName("AccountScoring")
            .WithSummary("One account as the payment model sees it: its current score (version, reasons) and every feature's value now, without the person (audited as a read of the account).");
        return api;
    }

    /// <summary>Changing which model scores every account is recorded with why: the registry's history and the audit trail keep it.</summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? ReasonMissing(ChangeBody? body) =>
        string.IsNullOrWhiteSpace(body?.Reason)
            ? Problems.Invalid("reason", "reason.required", "Say why (reason): the model's history and the audit trail keep it beside the change.")
            : null;

    public sealed record ChangeBody(string? Reason);

    public sealed record ChallengerBody(string? Version, double? Share, string? Reason);

    public sealed record ModelVersionResponse(ModelVersionInfo Registration, JsonElement Report, bool Champion, bool Challenger);

    private static IScoringModelRegistryGrain Registry(IGrainFactory grains) => grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key);

    private static Results<Ok<ModelAssignment>, ProblemHttpResult> Answer(Outcome<ModelAssignment> outcome) =>
        outcome.Succeeded ? TypedResults.Ok(outcome.Value!) : Problems.From(outcome.Errors);

    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> GetVersion(string version, IGrainFactory grains, ScoringModelCatalog catalog)
    {
        var view = await Registry(grains).Get();
        var info = view.Versions.FirstOrDefault(v => v.Version == version);
        var record = await catalog.GetAsync(version);
        if (info is null || record is null) return Problems.NotFound("model.not-found", $"No model version {version} is registered.");
        using var report = JsonDocument.Parse(record.ReportJson);
        return TypedResults.Ok(new ModelVersionResponse(info, report.RootElement.Clone(), view.Assignment.Champion == version, view.Assignment.Challenger == version));
    }

    public sealed record DriftResponse(string Version, int TestSetScores, int LiveScores, IReadOnlyList<DriftBin> Bins,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] double? Psi, double Threshold, bool Flagged,
        int LiveFeatureRows, IReadOnlyList<FeatureDriftRow> Features, string? Caution = null);

    /// <summary>Under this many live scores the stability index moves with every few accounts: the answer says so.</summary>
    public const int MinLiveScoresForDrift = 100;

    /// <summary>The most live accounts' features compared per feature (a sample: the PSI is stable long before).</summary>
    public const int MaxFeatureRows = 20_000;

    private static async Task<Results<Ok<DriftResponse>, ProblemHttpResult>> Drift(
        string version, ScoringModelCatalog catalog, ScoreOutcomeLog outcomes, IConfiguration configuration, HttpContext http, CancellationToken cancellationToken)
    {
        // Score bands over every account this version scored, no person shown: one event for the read.
        await http.AuditShownAsync("model.drift.read", [("score-outcomes", version)]);
        if (await catalog.GetAsync(version, cancellationToken) is not { } record)
            return Problems.NotFound("model.not-found", $"No model version {version} is registered.");
        using var report = JsonDocument.Parse(record.ReportJson);
        var bins = report.RootElement.TryGetProperty("calibration", out var calibration) && calibration.ValueKind == JsonValueKind.Array
            ? calibration.EnumerateArray().Select(b => new CalibrationBin(b.GetProperty("lower").GetDouble(), b.GetProperty("upper").GetDouble(), 0, 0, b.GetProperty("count").GetInt32())).ToList()
            : [];
        var live = (await outcomes.ReadAsync(version, cancellationToken)).Select(o => o.Probability).ToList();
        var drift = ScoreDrift.Compute(bins, live);
        var threshold = configuration.GetValue("Collections:Scoring:DriftPsiThreshold", 0.2);
        var profiles = report.RootElement.TryGetProperty("featureProfiles", out var stored) && stored.ValueKind == JsonValueKind.Array
            ? stored.Deserialize<List<FeatureProfile>>(JsonSerializerOptions.Web) ?? []
            : [];
        var vectors = profiles.Count == 0 ? [] : await outcomes.ReadFeaturesAsync(version, MaxFeatureRows, cancellationToken);
        var features = FeatureDrift.Compute(profiles, PaymentFeatures.Names, vectors, threshold);
        var caution = drift.LiveCount < MinLiveScoresForDrift
            ? $"Only {drift.LiveCount} live score(s): the index is not reliable under {MinLiveScoresForDrift}; read the bands, and look again when more accounts are scored."
            : null;
        return TypedResults.Ok(new DriftResponse(version, drift.ExpectedCount, drift.LiveCount, drift.Bins, drift.Psi, threshold, drift.Psi > threshold,
            vectors.Count, features, caution));
    }

    /// <param name="Accounts">Assigned accounts under a policy with a control share.</param>
    /// <param name="WithoutControlGroup">Assigned accounts under a policy with no control share (not compared).</param>
    public sealed record UpliftResponse(long Accounts, long WithoutControlGroup, double Confidence, int MinimumAccounts, IReadOnlyList<UpliftSegment> Segments);

    /// <summary>The smallest group whose figures the reports show (the usual small-cell rule for health data).</summary>
    public const int MinimumGroup = 11;

    private static async Task<Results<Ok<UpliftResponse>, ProblemHttpResult>> Uplift(
        KpiStore kpis, HttpContext http, string? facility, double? confidence, int? minimumAccounts, CancellationToken cancellationToken)
    {
        var options = new UpliftReportOptions { Confidence = confidence ?? 0.95, MinimumAccounts = minimumAccounts ?? 30 };
        if (!double.IsFinite(options.Confidence) || options.Confidence is < 0.8 or > 0.995)
            return Problems.Invalid("confidence", "uplift.confidence", "confidence must be between 0.8 and 0.995 (default 0.95).");
        if (options.MinimumAccounts is < MinimumGroup or > 100_000)
            return Problems.Invalid("minimumAccounts", "uplift.minimum-accounts", $"minimumAccounts must be between {MinimumGroup} and 100000 (default 30): a smaller group's figures would describe its few accounts.");
        // Group figures over every assigned account, no person shown: one event for the read.
        await http.AuditShownAsync("model.uplift.read", [("account-treatment", facility ?? "*")]);
        var report = new UpliftReport();
        await foreach (var row in kpis.TreatmentsAsync(facility, cancellationToken))
            report.Add(new UpliftObservation(row.PolicyId, row.Control, row.ControlShare, row.CollectedCents / 100m, row.ScoreBand, row.Steps));
        return TypedResults.Ok(new UpliftResponse(report.Observations, report.LeftOut, options.Confidence, options.MinimumAccounts, report.Build(options)));
    }

    /// <param name="IncomeTable">The file name of the ZIP income table the silos band by; null without one (every band "unknown").</param>
    public sealed record FairnessResponse(FairnessSummary Summary, string? IncomeTable);

    private static async Task<Results<Ok<FairnessResponse>, ProblemHttpResult>> Fairness(
        KpiStore kpis, IConfiguration configuration, HttpContext http, string? facility, double? scoreGap, double? contactRatio,
        CancellationToken cancellationToken)
    {
        var options = new FairnessOptions
        {
            ScoreGap = scoreGap ?? configuration.GetValue("Collections:Fairness:ScoreGap", 0.10),
            ContactRatio = contactRatio ?? configuration.GetValue("Collections:Fairness:ContactRatio", 0.8),
            MinimumAccounts = Math.Max(MinimumGroup, configuration.GetValue("Collections:Fairness:MinimumGroup", MinimumGroup)),
        };
        if (!double.IsFinite(options.ScoreGap) || options.ScoreGap is <= 0 or >= 1)
            return Problems.Invalid("scoreGap", "fairness.score-gap", "scoreGap must be above 0 and below 1 (default 0.10).");
        if (!double.IsFinite(options.ContactRatio) || options.ContactRatio is <= 0 or > 1)
            return Problems.Invalid("contactRatio", "fairness.contact-ratio", "contactRatio must be above 0 and at most 1 (default 0.8).");
        // Group figures over every account, no person shown: one event for the read.
        await http.AuditShownAsync("model.fairness.read", [("account-fairness", facility ?? "*")]);
        var report = new FairnessReport();
        await foreach (var row in kpis.FairnessAsync(facility, cancellationToken))
            report.Add(new FairnessObservation(row.Language, row.IncomeBand, row.Score, row.OutreachContacts, row.Calls));
        var table = configuration["Collections:Fairness:ZipIncomeFile"];
        return TypedResults.Ok(new FairnessResponse(report.Build(options), string.IsNullOrEmpty(table) ? null : Path.GetFileName(table)));
    }

    private static async Task<IResult> GetChart(string version, ScoringModelCatalog catalog) =>
        await catalog.LoadChartAsync(version) is { } png
            ? TypedResults.File(png, "image/png", $"{version}.png")
            : Problems.NotFound("model.chart-not-found", $"No chart is stored for model version {version}.");

    private static async Task<Results<Created<ModelVersionInfo>, Ok<ModelVersionInfo>, ProblemHttpResult>> Register(
        HttpRequest request, string? version, string? notes, ModelRegistration registration)
    {
        // Refused before it is read when the client says its size; the service checks what was read.
        if (request.ContentLength is > ModelRegistration.MaxModelBytes) return Problems.From([ModelRegistration.TooLarge]);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var outcome = await registration.RegisterAsync(buffer.ToArray(), version, notes);
        if (!outcome.Succeeded) return Problems.From(outcome.Errors);
        var registered = outcome.Value!;
        return registered.Added ? TypedResults.Created($"/api/models/{registered.Version.Version}", registered.Version) : TypedResults.Ok(registered.Version);
    }

    private static async Task<Ok<IReadOnlyList<VersionOutcome>>> Compare(IGrainFactory grains, decimal? paidShare, HttpContext http)
    {
        // Totals over every scored account, no person shown: one event for the read.
        await http.AuditShownAsync("model.comparison.read", [("score-outcomes", "*")]);
        return TypedResults.Ok(await grains.GetGrain<IModelComparisonGrain>(0).Compare(paidShare ?? 0.5m));
    }

    /// <summary>
    /// Streams the training set: for every account, one row per scoring date (from <paramref name="from"/> to
    /// <paramref name="to"/>, every <paramref name="everyDays"/> days) whose label window has ended, with the features
    /// known at that date and the label from what came after.
    /// </summary>
    private static async Task TrainingSetExport(HttpContext context, IGrainFactory grains, AccountDirectory directory, TimeProvider clock,
        DateOnly? from, DateOnly? to, int? everyDays, decimal? paidShare, int? windowDays)
    {
        var now = clock.GetUtcNow();
        var label = new LabelDefinition { PaidShare = paidShare ?? 0.5m, WindowDays = windowDays ?? 90 };
        var step = everyDays ?? 30;
        var last = to ?? DateOnly.FromDateTime(now.UtcDateTime).AddDays(-label.WindowDays);
        var first = from ?? last.AddDays(-365);
        var (field, problem) = label.PaidShare is <= 0 or > 1 ? ("paidShare", "paidShare must be above 0 and at most 1.")
            : label.WindowDays is < 1 or > 730 ? ("windowDays", "windowDays must be between 1 and 730.")
            : step is < 1 or > 365 ? ("everyDays", "everyDays must be between 1 and 365.")
            : first > last ? ("from", "from must not be after to (by default, to is today less the label window).")
            : (null, null);
        if (problem is not null)
        {
            await Problems.Invalid(field!, "training-set.invalid", problem).ExecuteAsync(context);
            return;
        }
        var dates = new List<DateTimeOffset>();
        for (var d = first; d <= last; d = d.AddDays(step)) dates.Add(new DateTimeOffset(d.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero));

        context.Response.ContentType = "text/csv; charset=utf-8";
        // What the rows were chosen by, so a client can say why there are none (the body streams after these are sent).
        var headers = context.Response.Headers;
        headers["Collections-First-Scoring-Date"] = first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        headers["Collections-Last-Scoring-Date"] = last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        headers["Collections-Label-Window-Days"] = label.WindowDays.ToString(CultureInfo.InvariantCulture);
        headers["Collections-Accounts"] = (await directory.CountAsync(context.RequestAborted)).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"training-set-{now.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.csv\"";
        await using var writer = new StreamWriter(context.Response.Body, new System.Text.UTF8Encoding(false), 65536);
        var header = true;
        await foreach (var key in directory.AllAsync(cancellationToken: context.RequestAborted))
        {
            var history = await grains.GetGrain<IPatientAccountGrain>(key).GetScoringHistory();
            if (history is null) continue;
            var rows = TrainingSet.Rows([ToHistory(history)], dates, label, now).ToList();
            if (rows.Count == 0 && !header) continue;
            var text = new StringWriter(CultureInfo.InvariantCulture);
            TrainingSet.WriteCsv(text, rows);
            var csv = text.ToString();
            if (!header) csv = csv[(csv.IndexOf('\n', StringComparison.Ordinal) + 1)..]; // one header for the whole file
            if (rows.Count > 0 || header) await writer.WriteAsync(csv);
            header = false;
        }
        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>
    /// One account as the payment model sees it, for the data team to check a score: the score the account holds and
    /// the features as they are now, from the same history the training set is made of (no name, no address).
    /// </summary>
    private static async Task<Results<Ok<AccountScoringView>, ProblemHttpResult>> AccountScoring(string facility, string accountNumber, IGrainFactory grains, TimeProvider clock)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var key = new AccountKey(facility, accountNumber);
        if (await grains.GetGrain<IPatientAccountGrain>(key.ToString()).GetScoringHistory() is not { } history)
            return Problems.NotFound("account.not-found", "No account is open with this facility and account number.");
        var now = clock.GetUtcNow();
        var features = FeatureExtractor.Extract(ToHistory(history), now);
        // Each value as the float holds it, without binary noise (0.1, not 0.10000000149011612).
        return TypedResults.Ok(new AccountScoringView(key.Facility, key.AccountNumber, history.Score, now,
            PaymentFeatures.Names.ToDictionary(n => n, n => (double)(decimal)features[n])));
    }

    public static AccountHistory ToHistory(AccountScoringHistory history) => new()
    {
        AccountId = history.AccountId, PrimaryPayer = history.PrimaryPayer, OpenedAt = history.OpenedAt,
        GuarantorDateOfBirth = history.Guarantor.DateOfBirth, HasEmail = history.Guarantor.HasEmail,
        HasMobilePhone = history.Guarantor.HasMobilePhone, HasTextConsent = history.Guarantor.HasTextConsent,
        Entries = history.Entries, Contacts = history.Guarantor.Contacts, Holds = [.. history.Holds, .. history.Guarantor.Holds],
        Promises = history.Promises, Plans = history.Plans, TimeZones = history.TimeZones ?? [], GraceDays = history.GraceDays,
        // Only an experiment's groups: an assignment under a policy without a control share compares nothing.
        TreatmentGroup = history.Treatment is { ControlShare: > 0 } t ? t.Group : null, TreatmentAssignedAt = history.Treatment?.AssignedAt,
    };
}

/// <param name="Score">The score the account holds (null: not scored, e.g. nothing owed by the patient, or scoring off).</param>
/// <param name="Features">Every feature the engine's models read, by name, as the account stands at <paramref name="FeaturesAsOf"/>.</param>
public sealed record AccountScoringView(string Facility, string AccountNumber, AccountScore? Score, DateTimeOffset FeaturesAsOf, IReadOnlyDictionary<string, double> Features);
