using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;

namespace Collections.Scoring;

/// <summary>
/// A trained payment-likelihood model: gradient-boosted trees (ML.NET) whose raw score a Platt calibration fitted on a
/// later time slice turns into a probability. Reason codes replace each feature in turn by its training median and
/// measure how much the calibrated log-odds move (docs/scoring.md). Scoring is thread-safe. <see cref="Save"/> writes
/// one stream (a zip holding the ML.NET model and <c>metadata.json</c>: version, feature names, training medians, label
/// definition, calibration, evaluation report) that <see cref="Load(Stream)"/> reads back.
/// </summary>
public sealed class PaymentModel : IDisposable
{
    /// <summary>Reasons returned with each score.</summary>
    public const int ReasonCount = 3;

    private const string ModelEntry = "mlnet-model.zip";
    private const string MetadataEntry = "metadata.json";
    private const int FormatVersion = 1;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly MLContext _ml;
    private readonly byte[] _mlModel;
    private readonly ModelMetadata _metadata;
    private readonly ITransformer _scorer;
    /// <summary>The trees read out of the ML.NET model (null: score through ML.NET only).</summary>
    private readonly TreeEvaluator? _trees;
    private readonly float[] _medians;
    private readonly int _width;
    /// <summary>For each model feature, its index in <see cref="PaymentFeatures.Names"/>; null when the model has features PaymentFeatures lacks.</summary>
    private readonly int[]? _fromPaymentFeatures;
    private readonly ConcurrentBag<Engine<ScoreRow>> _scorers = [];
    private readonly Lock _creating = new();
    private bool _disposed;

    /// <summary>The model version: given at training, else the learner and a hash of the trees.</summary>
    public string Version => _metadata.Version;
    public string Learner => _metadata.Learner;
    /// <summary>The features the model reads, in vector order.</summary>
    public IReadOnlyList<string> FeatureNames => _metadata.FeatureNames;

    /// <summary>The columns this model reads that <see cref="PaymentFeatures"/> does not compute (none: it can score an account).</summary>
    public IReadOnlyList<string> ForeignFeatures => [.. FeatureNames.Where(n => PaymentFeatures.IndexOf(n) < 0)];
    public LabelDefinition Label => _metadata.Label;
    public PlattCalibration Calibration => _metadata.Calibration;
    /// <summary>Each feature's median over the training rows: the "typical account" reasons are measured against.</summary>
    public IReadOnlyList<float> Medians => _medians;
    /// <summary>True when scores come from the trees read out of the ML.NET model (verified equal to ML.NET's at load), false when through ML.NET's prediction engine.</summary>
    public bool EvaluatesTreesDirectly => _trees is not null;
    /// <summary>How the model did on its held-out rows (stored in the model file).</summary>
    public EvaluationReport? Report => _metadata.Report;

    private PaymentModel(byte[] mlModel, ModelMetadata metadata)
    {
        _ml = new MLContext(seed: 0);
        _mlModel = mlModel;
        _metadata = metadata;
        using var stream = new MemoryStream(mlModel, writable: false);
        _scorer = _ml.Model.Load(stream, out _);
        _width = metadata.FeatureNames.Count;
        _medians = metadata.Medians is { } m && m.Count == _width ? [.. m] : new float[_width];
        var indexes = metadata.FeatureNames.Select(PaymentFeatures.IndexOf).ToArray();
        _fromPaymentFeatures = indexes.All(i => i >= 0) ? indexes : null;
        _trees = TreeEvaluator.TryCreate(_scorer, _width);
        if (_trees is not null && !AgreesWithMlNet(_trees)) _trees = null;
    }

    /// <summary>The trees read out must give ML.NET's own scores on the medians, zeros and a few seeded random vectors around the medians.</summary>
    private bool AgreesWithMlNet(TreeEvaluator trees)
    {
        var random = new Random(17);
        var probes = new List<float[]>
        {
            _medians.Select(v => float.IsNaN(v) ? 0 : v).ToArray(),
            new float[_width],
        };
        for (var k = 0; k < 8; k++)
            probes.Add([.. _medians.Select(v => (float.IsNaN(v) ? 0 : v) * (float)(random.NextDouble() * 3) + (float)(random.NextDouble() * 2 - 0.5))]);
        foreach (var probe in probes)
        {
            var direct = trees.Score(probe);
            var engine = EngineScore(probe, null);
            if (Math.Abs(direct - engine) > 1e-4 * Math.Max(1, Math.Abs(engine))) return false;
        }
        return true;
    }

    internal static PaymentModel Create(byte[] mlModel, ModelMetadata metadata) => new(mlModel, metadata);

    internal PaymentModel With(string version, PlattCalibration calibration, EvaluationReport? report, DateTimeOffset? trainedAt = null) =>
        new(_mlModel, _metadata with { Version = version, Calibration = calibration, Report = report, TrainedAt = trainedAt });

    /// <summary>When it was trained, if the trainer said (files written before this was kept say nothing).</summary>
    public DateTimeOffset? TrainedAt => _metadata.TrainedAt;

    /// <summary>A hash of what the model computes: the trees when they can be read, else the ML.NET file.</summary>
    internal byte[] Fingerprint() => _trees?.Fingerprint() ?? System.Security.Cryptography.SHA256.HashData(_mlModel);

    // ------------------------------------------------------------------ file format

    public static PaymentModel Load(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        try
        {
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
            var metadataEntry = archive.GetEntry(MetadataEntry) ?? throw new InvalidDataException($"Not a payment model: no {MetadataEntry}.");
            var modelEntry = archive.GetEntry(ModelEntry) ?? throw new InvalidDataException($"Not a payment model: no {ModelEntry}.");
            ModelMetadata metadata;
            using (var s = metadataEntry.Open())
                metadata = JsonSerializer.Deserialize<ModelMetadata>(s, Json) ?? throw new InvalidDataException("Empty model metadata.");
            if (metadata.FormatVersion != FormatVersion)
                throw new InvalidDataException($"Model format {metadata.FormatVersion} is not supported (this build reads format {FormatVersion}).");
            using var buffer = new MemoryStream();
            using (var s = modelEntry.Open()) s.CopyTo(buffer);
            return new PaymentModel(buffer.ToArray(), metadata);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Bad model metadata: {e.Message}", e);
        }
    }

    public static PaymentModel Load(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        return Load(stream);
    }

    /// <summary>Writes the whole model (ML.NET model and metadata) to one stream, e.g. a database blob.</summary>
    public void Save(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        var fixedTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var metadataEntry = archive.CreateEntry(MetadataEntry, CompressionLevel.Optimal);
        metadataEntry.LastWriteTime = fixedTime;
        using (var s = metadataEntry.Open()) JsonSerializer.Serialize(s, _metadata, Json);
        var modelEntry = archive.CreateEntry(ModelEntry, CompressionLevel.NoCompression);
        modelEntry.LastWriteTime = fixedTime;
        using (var s = modelEntry.Open()) s.Write(_mlModel);
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        Save(stream);
        return stream.ToArray();
    }

    // ------------------------------------------------------------------ scoring

    /// <summary>The calibrated probability of the label event, and (unless <paramref name="withReasons"/> is false) the top reasons.</summary>
    public PaymentPrediction Score(PaymentFeatures features, bool withReasons = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        var map = _fromPaymentFeatures ?? throw new InvalidOperationException(
            $"This model reads features that PaymentFeatures does not have ({string.Join(", ", ForeignFeatures)}); score it with a vector.");
        Span<float> all = stackalloc float[PaymentFeatures.Count];
        features.CopyTo(all);
        Span<float> vector = _width <= 1024 ? stackalloc float[_width] : new float[_width];
        for (var k = 0; k < map.Length; k++) vector[k] = all[map[k]];
        return Predict(vector, withReasons);
    }

    /// <summary>Scores a vector in <see cref="FeatureNames"/> order (for models trained on other data than <see cref="PaymentFeatures"/>).</summary>
    public PaymentPrediction Score(ReadOnlySpan<float> values, bool withReasons = true)
    {
        if (values.Length != _width) throw new ArgumentException($"The model reads {_width} features, got {values.Length}.", nameof(values));
        return Predict(values, withReasons);
    }

    /// <summary>Scores many accounts at once, spread over the cores.</summary>
    public IReadOnlyList<PaymentPrediction> ScoreBatch(IReadOnlyList<PaymentFeatures> features, bool withReasons = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        var results = new PaymentPrediction[features.Count];
        if (features.Count < 512)
        {
            for (var i = 0; i < results.Length; i++) results[i] = Score(features[i], withReasons);
            return results;
        }
        Parallel.ForEach(Partitioner.Create(0, features.Count, 256), range =>
        {
            for (var i = range.Item1; i < range.Item2; i++) results[i] = Score(features[i], withReasons);
        });
        return results;
    }

    /// <summary>The trees' raw (uncalibrated) scores of the rows of a row-major matrix, spread over the cores.</summary>
    internal double[] RawScores(float[] matrix, int rows)
    {
        var scores = new double[rows];
        Parallel.ForEach(Partitioner.Create(0, rows, Math.Max(256, rows / (4 * Environment.ProcessorCount) + 1)), range =>
        {
            for (var i = range.Item1; i < range.Item2; i++) scores[i] = RawScore(Filled(matrix.AsSpan(i * _width, _width)));
        });
        return scores;
    }

    internal double Probability(double rawScore) => _metadata.Calibration.Probability(rawScore);

    /// <summary>The vector with its missing values filled as in training (the same span when nothing is missing or the model fills nothing).</summary>
    private ReadOnlySpan<float> Filled(ReadOnlySpan<float> vector)
    {
        if (_metadata.MissingFill is not { } fill || fill.Count != _width || !HasMissing(vector)) return vector;
        var filled = vector.ToArray();
        for (var j = 0; j < filled.Length; j++)
            if (float.IsNaN(filled[j])) filled[j] = fill[j];
        return filled;
    }

    /// <param name="vector">Already <see cref="Filled"/>.</param>
    private double RawScore(ReadOnlySpan<float> vector)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _trees is not null && !HasMissing(vector) ? _trees.Score(vector) : EngineScore(vector, null);
    }

    /// <summary>
    /// The probability, and the reasons: for each feature whose value differs from its training median, the calibrated
    /// log-odds of this account minus those of the same account with that one feature set to the median. The
    /// <see cref="ReasonCount"/> largest by size, positive raising the likelihood of paying.
    /// </summary>
    private PaymentPrediction Predict(ReadOnlySpan<float> vector, bool withReasons)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        vector = Filled(vector);
        if (!withReasons) return new PaymentPrediction { Probability = Probability(RawScore(vector)) };
        Span<double> effects = _width <= 1024 ? stackalloc double[_width] : new double[_width];
        double score;
        if (_trees is not null && !HasMissing(vector) && !HasMissing(_medians))
            score = _trees.ScoreWithReplacementEffects(vector, _medians, effects);
        else
        {
            score = EngineScore(vector, null);
            var changed = vector.ToArray();
            for (var j = 0; j < _width; j++)
            {
                effects[j] = 0;
                if (vector[j].Equals(_medians[j])) continue;
                changed[j] = _medians[j];
                effects[j] = score - EngineScore(changed, null);
                changed[j] = vector[j];
            }
        }
        var slope = _metadata.Calibration.Slope;
        // The few largest effects by size; ties go to the earlier feature.
        Span<int> top = stackalloc int[ReasonCount];
        var found = 0;
        for (var j = 0; j < effects.Length; j++)
        {
            var size = Math.Abs(effects[j]);
            if (size < 1e-9) continue;
            var at = found;
            while (at > 0 && Math.Abs(effects[top[at - 1]]) < size) at--;
            if (at >= ReasonCount) continue;
            for (var k = Math.Min(found, ReasonCount - 1); k > at; k--) top[k] = top[k - 1];
            top[at] = j;
            if (found < ReasonCount) found++;
        }
        var reasons = new ReasonCode[found];
        for (var k = 0; k < found; k++)
        {
            var j = top[k];
            var name = _metadata.FeatureNames[j];
            reasons[k] = new ReasonCode { Feature = name, Text = ReasonText.Describe(name, vector[j]), Effect = effects[j] * slope };
        }
        return new PaymentPrediction { Probability = Probability(score), Reasons = reasons };
    }

    private static bool HasMissing(ReadOnlySpan<float> vector)
    {
        foreach (var v in vector)
            if (float.IsNaN(v)) return true;
        return false;
    }

    private double EngineScore(ReadOnlySpan<float> values, int[]? map)
    {
        var engine = Rent(_scorers, _scorer);
        try
        {
            Fill(engine.Input.Features, values, map);
            engine.Predictor.Predict(engine.Input, ref engine.Output);
            return engine.Output.Score;
        }
        finally
        {
            _scorers.Add(engine);
        }
    }

    private static void Fill(float[] destination, ReadOnlySpan<float> values, int[]? map)
    {
        if (map is null) values.CopyTo(destination);
        else
            for (var k = 0; k < map.Length; k++) destination[k] = values[map[k]];
    }

    private Engine<T> Rent<T>(ConcurrentBag<Engine<T>> pool, ITransformer transformer) where T : class, new()
    {
        if (pool.TryTake(out var engine)) return engine;
        lock (_creating)
            return new Engine<T>(_ml.Model.CreatePredictionEngine<FeatureRow, T>(transformer, ignoreMissingColumns: true, inputSchemaDefinition: MlRows.Schema(_width)), _width);
    }

    private sealed class Engine<T>(PredictionEngine<FeatureRow, T> predictor, int width) where T : class, new()
    {
        public PredictionEngine<FeatureRow, T> Predictor { get; } = predictor;
        public FeatureRow Input { get; } = new() { Features = new float[width] };
        public T Output = new();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        while (_scorers.TryTake(out var s)) s.Predictor.Dispose();
    }
}

/// <summary>What the model file carries besides the ML.NET model.</summary>
internal sealed record ModelMetadata
{
    public int FormatVersion { get; init; } = 1;
    public required string Version { get; init; }
    public required string Learner { get; init; }
    public required IReadOnlyList<string> FeatureNames { get; init; }
    /// <summary>Training medians, one per feature (NaN where a feature had no values).</summary>
    public IReadOnlyList<float>? Medians { get; init; }
    /// <summary>
    /// What a missing value (NaN) becomes before the trees see it, per feature: below every value the column had in
    /// training, so "missing" is a value of its own (FastTree drops rows with a missing value from training; a model
    /// trained on filled values must be scored on filled values). Null in files written before.
    /// </summary>
    public IReadOnlyList<float>? MissingFill { get; init; }
    public required LabelDefinition Label { get; init; }
    public required PlattCalibration Calibration { get; init; }
    public EvaluationReport? Report { get; init; }
    public DateTimeOffset? TrainedAt { get; init; }
}
