namespace Collections.Grains;

/// <summary>Keyed by a date of birth (yyyy-MM-dd): the guarantors born that day, for the agents' caller search.</summary>
public sealed class BirthDateDirectoryGrain(
    [PersistentState(StorageNames.BirthDateDirectoryState, StorageNames.Collections)] IPersistentState<BirthDateDirectoryState> directory) : Grain, IBirthDateDirectoryGrain
{
    public async Task Add(string guarantorId, string lastNameKey)
    {
        if (directory.State.LastNames.TryGetValue(guarantorId, out var known) && known == lastNameKey) return;
        directory.State.LastNames[guarantorId] = lastNameKey;
        await directory.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> Find(string lastNameKey) => Task.FromResult<IReadOnlyList<string>>(
        [.. directory.State.LastNames.Where(p => p.Value == lastNameKey).Select(p => p.Key).Order(StringComparer.Ordinal)]);
}
