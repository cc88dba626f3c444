namespace Collections.Scoring;

/// <summary>A trained, calibrated payment-likelihood model. Scoring is thread-safe.</summary>
public sealed class PaymentModel : IDisposable
{
    public string Version { get; }
    public IReadOnlyList<string> FeatureNames { get; }
    public LabelDefinition Label { get; }
    public EvaluationReport? Report { get; }

    private PaymentModel(string version, IReadOnlyList<string> featureNames, LabelDefinition label, EvaluationReport? report)
    {
        Version = version;
        FeatureNames = featureNames;
        Label = label;
        Report = report;
    }

    public static PaymentModel Load(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        return new PaymentModel("stub", PaymentFeatures.Names, new LabelDefinition(), null);
    }

    public static PaymentModel Load(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Load(stream);
    }

    public void Save(Stream destination) => destination.Write(System.Text.Encoding.UTF8.GetBytes(Version));

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        Save(stream);
        return stream.ToArray();
    }

    public PaymentPrediction Score(PaymentFeatures features, bool withReasons = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        _ = withReasons;
        return new PaymentPrediction { Probability = FeatureNames.Count > 0 ? 0.5 : 0 };
    }

    public IReadOnlyList<PaymentPrediction> ScoreBatch(IReadOnlyList<PaymentFeatures> features, bool withReasons = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        return [.. features.Select(f => Score(f, withReasons))];
    }

    public void Dispose()
    {
    }
}
