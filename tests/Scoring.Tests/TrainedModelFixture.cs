namespace Collections.Scoring.Tests;

/// <summary>
/// One model trained once for the tests that need one: 16,000 synthetic accounts (about 31,000 rows over eight
/// quarterly scoring dates), seed 21, FastTree with the default settings.
/// </summary>
public sealed class TrainedModelFixture : IDisposable
{
    public SyntheticOptions Options { get; } = new() { Seed = 21, Accounts = 16_000 };
    public IReadOnlyList<TrainingRow> Rows { get; }
    public TrainingResult Result { get; }
    public PaymentModel Model => Result.Model;

    public TrainedModelFixture()
    {
        Rows = [.. SyntheticHistory.Rows(Options)];
        Result = ModelTrainer.Train(Rows, new TrainingOptions { Seed = 21, ImportanceSampleRows = 4000 });
    }

    /// <summary>The training medians as a feature set: the typical account, which has no reasons.</summary>
    public PaymentFeatures Typical() => PaymentFeatures.FromArray([.. Model.Medians]);

    public void Dispose() => Result.Model.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TrainedModelCollection : ICollectionFixture<TrainedModelFixture>
{
    public const string Name = "trained model";
}
