using System.Text.RegularExpressions;
using Collections.Domain;
using Collections.Grains;
using Collections.Persistence;
using Collections.Scoring;

namespace Collections.Gateway.Models;

/// <summary>A model file registered: the version as the registry holds it, and whether this call added it (a retry of the same file does not).</summary>
public sealed record ModelRegistered(ModelVersionInfo Version, bool Added);

/// <summary>
/// Registering a trained model file: read and check it, store it with its report and chart in the catalog, then add
/// it to the registry. The same file under the same version is a retry and changes nothing; another file under a
/// registered version is refused. The handler only reads the body; the file itself never travels
/// through a grain call.
/// </summary>
public sealed partial class ModelRegistration(ScoringModelCatalog catalog, IGrainFactory grains, TimeProvider clock)
{
    /// <summary>Model files above this are refused (a gradient-boosted model of a few hundred trees is a few MB).</summary>
    public const long MaxModelBytes = 256L * 1024 * 1024;

    /// <summary>The answer to a file over <see cref="MaxModelBytes"/>.</summary>
    public static readonly DomainError TooLarge = DomainError.Invalid("body", "model.too-large", $"A model file may be at most {MaxModelBytes / (1024 * 1024)} MB.");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")]
    private static partial Regex VersionPattern();

    public async Task<Outcome<ModelRegistered>> RegisterAsync(byte[] file, string? version, string? notes)
    {
        if (file.Length == 0) return Outcome<ModelRegistered>.Failure(DomainError.Invalid("body", "model.required", "Send the model file as the request body."));
        if (file.Length > MaxModelBytes) return Outcome<ModelRegistered>.Failure(TooLarge);
        PaymentModel model;
        try
        {
            model = PaymentModel.Load(file);
        }
#pragma warning disable CA1031 // any failure to read the file is the caller's bad input, reported as such
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return Outcome<ModelRegistered>.Failure(DomainError.Invalid("body", "model.unreadable", "The body is not a model file written by `collections model train`."));
        }
        using (model)
        {
            version ??= model.Version;
            if (!VersionPattern().IsMatch(version))
                return Outcome<ModelRegistered>.Failure(DomainError.Invalid("version", "version.invalid", "A version is 1 to 60 letters, digits, '.', '_' or '-', starting with a letter or digit."));
            if (notes is { Length: > 500 })
                return Outcome<ModelRegistered>.Failure(DomainError.Invalid("notes", "notes.too-long", "Notes may be at most 500 characters."));
            // The engine scores an account from its own features only: a model trained on other columns could never score one.
            var foreign = model.ForeignFeatures;
            if (foreign.Count > 0)
                return Outcome<ModelRegistered>.Failure(DomainError.Invalid("body", "model.features-unknown",
                    $"This model reads {foreign.Count} column(s) the engine does not compute for an account ({string.Join(", ", foreign.Take(5))}{(foreign.Count > 5 ? ", ..." : "")}), so it could never score one. " +
                    "Train it on the engine's own rows (`collections model export`, then `collections model train --data` that file); a model of other data can be evaluated offline only."));

            var report = model.Report;
            var record = new ScoringModelRecord(version, "trained", clock.GetUtcNow(), CallerContext.Current.Actor, notes?.Trim(), report?.ToJson() ?? "{}", ScoringModelCatalog.Sha256Of(file));
            var (added, sameFile) = await catalog.AddAsync(record, file, report is null ? null : await ChartOfAsync(report));
            if (!added && !sameFile)
                return Outcome<ModelRegistered>.Failure(DomainError.Conflict("model.version-exists", $"Model version {version} is already registered with a different file.", "version"));
            var stored = added ? record : (await catalog.GetAsync(version))!;
            var outcome = await grains.GetGrain<IScoringModelRegistryGrain>(IScoringModelRegistryGrain.Key)
                .Register(ModelVersionInfo.Describe(stored.Version, stored.Kind, stored.RegisteredAt, stored.RegisteredBy, stored.Notes, stored.ReportJson));
            return outcome.Succeeded
                ? Outcome<ModelRegistered>.Success(new ModelRegistered(outcome.Value!, added))
                : Outcome<ModelRegistered>.Failure(outcome.Errors);
        }
    }

    /// <summary>The report's calibration and lift chart as PNG, or none when it cannot be drawn (the report itself is stored).</summary>
    private static async Task<byte[]?> ChartOfAsync(EvaluationReport report)
    {
        var path = Path.Combine(Path.GetTempPath(), $"collections-chart-{Guid.NewGuid():N}.png");
        try
        {
            report.WriteChartPng(path);
            return await File.ReadAllBytesAsync(path);
        }
        catch (IOException)
        {
            return null;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
