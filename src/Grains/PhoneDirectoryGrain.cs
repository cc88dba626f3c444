namespace Collections.Grains;

/// <summary>Keyed by a 10-digit phone number.</summary>
public sealed class PhoneDirectoryGrain(
    [PersistentState(StorageNames.PhoneDirectoryState, StorageNames.Collections)] IPersistentState<PhoneDirectoryState> directory) : Grain, IPhoneDirectoryGrain
{
    public async Task Add(string guarantorId)
    {
        if (directory.State.GuarantorIds.Contains(guarantorId)) return;
        directory.State.GuarantorIds.Add(guarantorId);
        await directory.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> Find() => Task.FromResult<IReadOnlyList<string>>(directory.State.GuarantorIds.ToList());
}
