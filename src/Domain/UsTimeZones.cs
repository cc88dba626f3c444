namespace Collections.Domain;

/// <summary>How a guarantor's time zone was determined.</summary>
public enum TimeZoneSource
{
    /// <summary>Given explicitly by the caller.</summary>
    Given,
    /// <summary>Derived from the ZIP code's area (a state split between zones).</summary>
    ZipArea,
    /// <summary>Derived from the state (a state in one zone).</summary>
    State,
}

/// <summary>
/// The time zone in which contact windows are checked. When the address does not settle it (the ZIP area straddles a
/// zone line), <see cref="Zone"/> is null and <see cref="PlausibleZones"/> lists every zone it could be: a contact is
/// then allowed only at hours that are allowed in all of them.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.TimeZoneResolution")]
public sealed record TimeZoneResolution
{
    [Id(0)] public string? Zone { get; init; }
    [Id(1)] public required IReadOnlyList<string> PlausibleZones { get; init; }
    [Id(2)] public required TimeZoneSource Source { get; init; }

    public static TimeZoneResolution Given(string zone) => new() { Zone = zone, PlausibleZones = [zone], Source = TimeZoneSource.Given };
}

/// <summary>
/// US states and territories and their IANA time zones, with the ZIP areas (first three digits) of states that are
/// split between zones. Coarse by design: where a three-digit area straddles a line, both zones are plausible.
/// </summary>
public static class UsTimeZones
{
    private const string Eastern = "America/New_York";
    private const string Central = "America/Chicago";
    private const string Mountain = "America/Denver";
    private const string Arizona = "America/Phoenix";
    private const string Pacific = "America/Los_Angeles";

    private static readonly Dictionary<string, string> ByState = new()
    {
        ["CT"] = Eastern, ["DE"] = Eastern, ["DC"] = Eastern, ["GA"] = Eastern, ["ME"] = Eastern, ["MD"] = Eastern,
        ["MA"] = Eastern, ["NH"] = Eastern, ["NJ"] = Eastern, ["NY"] = Eastern, ["NC"] = Eastern, ["OH"] = Eastern,
        ["PA"] = Eastern, ["RI"] = Eastern, ["SC"] = Eastern, ["VT"] = Eastern, ["VA"] = Eastern, ["WV"] = Eastern,
        ["FL"] = Eastern, ["MI"] = "America/Detroit", ["IN"] = "America/Indiana/Indianapolis", ["KY"] = "America/Kentucky/Louisville", ["TN"] = Central,
        ["AL"] = Central, ["AR"] = Central, ["IL"] = Central, ["IA"] = Central, ["LA"] = Central, ["MN"] = Central,
        ["MS"] = Central, ["MO"] = Central, ["OK"] = Central, ["WI"] = Central, ["TX"] = Central, ["KS"] = Central,
        ["NE"] = Central, ["ND"] = Central, ["SD"] = Central,
        ["CO"] = Mountain, ["MT"] = Mountain, ["NM"] = Mountain, ["UT"] = Mountain, ["WY"] = Mountain, ["ID"] = "America/Boise",
        ["AZ"] = Arizona,
        ["CA"] = Pacific, ["WA"] = Pacific, ["NV"] = Pacific, ["OR"] = Pacific,
        ["AK"] = "America/Anchorage", ["HI"] = "Pacific/Honolulu",
        ["PR"] = "America/Puerto_Rico", ["VI"] = "America/St_Thomas", ["GU"] = "Pacific/Guam",
        ["MP"] = "Pacific/Saipan", ["AS"] = "Pacific/Pago_Pago",
    };

    /// <summary>ZIP areas whose zone differs from their state's. One zone: settled; two: ambiguous.</summary>
    private static readonly Dictionary<string, string[]> ByZipArea = new()
    {
        // Florida panhandle west of the Apalachicola river; 324 also holds Gulf county's Eastern half (Port St. Joe)
        ["324"] = [Central, Eastern], ["325"] = [Central],
        // Idaho panhandle
        ["835"] = [Pacific], ["838"] = [Pacific],
        // Indiana: north-west (Chicago area) and south-west (Evansville)
        ["463"] = [Central], ["464"] = [Central], ["476"] = [Central], ["477"] = [Central],
        // Kansas: western counties straddle Central/Mountain
        ["677"] = [Central, Mountain], ["678"] = [Central, Mountain], ["679"] = [Central, Mountain],
        // Kentucky: the western half; 427 (Elizabethtown) straddles the line (Hardin and Meade Eastern, Grayson and Breckinridge Central)
        ["420"] = [Central], ["421"] = [Central], ["422"] = [Central], ["423"] = [Central], ["424"] = [Central], ["427"] = [Eastern, Central],
        // Michigan's Upper Peninsula, partly Central
        ["498"] = ["America/Detroit", "America/Menominee"], ["499"] = ["America/Detroit", "America/Menominee"],
        // Nebraska panhandle
        ["693"] = [Mountain], ["691"] = [Central, Mountain],
        // North Dakota south-west
        ["586"] = [Mountain], ["588"] = [Central, Mountain],
        // Oregon's Malheur county
        ["979"] = ["America/Boise"],
        // South Dakota west river; 576 also holds Mobridge and Walworth county, on Central time
        ["576"] = [Central, Mountain], ["577"] = [Mountain],
        // Tennessee: the eastern third; 373 also holds Central counties west of Chattanooga (Tullahoma, Winchester, Jasper)
        ["373"] = [Eastern, Central], ["374"] = [Eastern], ["376"] = [Eastern], ["377"] = [Eastern], ["378"] = [Eastern], ["379"] = [Eastern],
        // Texas: El Paso and Hudspeth; 798 also holds the Central Trans-Pecos (Alpine, Marfa, Presidio, Van Horn)
        ["798"] = [Central, Mountain], ["799"] = [Mountain], ["885"] = [Mountain],
        // Arizona: the Navajo Nation observes daylight saving time
        ["865"] = [Arizona, Mountain],
    };

    public static bool IsKnownState(string state) => ByState.ContainsKey(state);

    public static IEnumerable<string> AllZones => ByState.Values.Concat(ByZipArea.Values.SelectMany(z => z)).Distinct();

    /// <summary>
    /// The zone of an address as far as it tells: a known state and a five-digit ZIP settle it (or name the plausible
    /// zones); without a ZIP, a state split between zones gives all of them; without a state, nothing is known (every
    /// US zone is then plausible).
    /// </summary>
    public static TimeZoneResolution ResolveAddress(string? state, string? zip)
    {
        state = state?.Trim().ToUpperInvariant();
        zip = zip?.Trim();
        if (state is null || !ByState.TryGetValue(state, out var stateZone)) return new TimeZoneResolution { Zone = null, PlausibleZones = [], Source = TimeZoneSource.State };
        if (zip is { Length: >= 5 } && zip[..5].All(char.IsAsciiDigit)) return Resolve(state, zip);
        var zones = new[] { stateZone }.Concat(SplitStates.TryGetValue(state, out var more) ? more : []).Distinct().ToArray();
        return zones.Length == 1
            ? new TimeZoneResolution { Zone = zones[0], PlausibleZones = zones, Source = TimeZoneSource.State }
            : new TimeZoneResolution { Zone = null, PlausibleZones = zones, Source = TimeZoneSource.State };
    }

    /// <summary>The other zones of states split between zones (for an address without a ZIP).</summary>
    private static readonly Dictionary<string, string[]> SplitStates = new()
    {
        ["FL"] = [Central], ["ID"] = [Pacific], ["IN"] = [Central], ["KS"] = [Mountain], ["KY"] = [Central], ["MI"] = ["America/Menominee"],
        ["NE"] = [Mountain], ["ND"] = [Mountain], ["OR"] = ["America/Boise"], ["SD"] = [Mountain], ["TN"] = [Eastern], ["TX"] = [Mountain],
        ["AZ"] = [Mountain], ["AK"] = ["America/Adak"],
    };

    public static TimeZoneResolution Resolve(string state, string zip)
    {
        if (zip.Length >= 3 && ByZipArea.TryGetValue(zip[..3], out var zones) && ByState.ContainsKey(state))
        {
            return zones.Length == 1
                ? new TimeZoneResolution { Zone = zones[0], PlausibleZones = zones, Source = TimeZoneSource.ZipArea }
                : new TimeZoneResolution { Zone = null, PlausibleZones = zones, Source = TimeZoneSource.ZipArea };
        }
        var zone = ByState[state];
        return new TimeZoneResolution { Zone = zone, PlausibleZones = [zone], Source = TimeZoneSource.State };
    }
}
