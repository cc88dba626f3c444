namespace Collections.Grains;

/// <summary>What an account grain needs to score itself: this silo's live models and the settings.</summary>
public sealed class AccountScoring(LiveScoringModels models, ScoringSettings settings)
{
    public LiveScoringModels Models => models;
    public ScoringSettings Settings => settings;
}
