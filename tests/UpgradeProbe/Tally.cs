namespace Collections.UpgradeProbe;

// The grain contract and its state as two releases have them. The current release added a field to the state (the
// note of the last entry) and to the answer; the previous release has neither. Fields keep their [Id]s forever and new
// ones take new [Id]s: that is what lets each release read what the other wrote.

/// <summary>
/// A tally kept in grain storage. The key is <c>NAME/HOP</c>: every hop is a new activation, placed on the silo that
/// calls it first (prefer-local), over the one stored tally NAME, so a test moves the tally between releases by calling
/// the next hop through the other silo (no deactivation to wait for, no cached address to chase).
/// </summary>
[Alias("upgrade-probe.ITallyGrain")]
public interface ITallyGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task<TallySnapshot> Add(decimal amount, string note);

    [Alias("Read")]
    Task<TallySnapshot> Read();
}

[GenerateSerializer, Alias("upgrade-probe.TallyState")]
public sealed class TallyState
{
    [Id(0)] public int Entries { get; set; }
    [Id(1)] public decimal Total { get; set; }
#if !PREVIOUS_RELEASE
    [Id(2)] public string? LastNote { get; set; }
#endif
}

[GenerateSerializer, Immutable, Alias("upgrade-probe.TallySnapshot")]
public sealed record TallySnapshot(
    [property: Id(0)] int Entries,
    [property: Id(1)] decimal Total,
    [property: Id(2)] string Release,
    [property: Id(3)] string Silo)
{
#if !PREVIOUS_RELEASE
    [Id(4)] public string? LastNote { get; init; }
#endif
}

[Orleans.Placement.PreferLocalPlacement]
public sealed class TallyGrain(IServiceProvider services, ILocalSiloDetails silo) : Grain, ITallyGrain
{
    private readonly Orleans.Storage.IGrainStorage _storage = services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(Grains.StorageNames.Collections);
    private readonly GrainState<TallyState> _tally = new() { State = new TallyState() };

    private TallyState Tally => _tally.State!;

    private GrainId StoredAs => GrainId.Create("upgrade-probe-tally", this.GetPrimaryKeyString().Split('/')[0]);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _storage.ReadStateAsync("tally", StoredAs, _tally);
        _tally.State ??= new TallyState(); // no row yet
    }

    public async Task<TallySnapshot> Add(decimal amount, string note)
    {
        Tally.Entries++;
        Tally.Total += amount;
#if !PREVIOUS_RELEASE
        Tally.LastNote = note;
#endif
        await _storage.WriteStateAsync("tally", StoredAs, _tally);
        return Snapshot();
    }

    public Task<TallySnapshot> Read() => Task.FromResult(Snapshot());

    private TallySnapshot Snapshot() => new(Tally.Entries, Tally.Total, Program.Release, silo.Name)
#if !PREVIOUS_RELEASE
    { LastNote = Tally.LastNote }
#endif
    ;
}
