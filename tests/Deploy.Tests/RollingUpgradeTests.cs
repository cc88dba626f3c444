using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Collections.TestSupport;

namespace Collections.Deploy.Tests;

/// <summary>
/// A rolling upgrade: one silo of the previous release and one of the current run as one cluster (tests/UpgradeProbe,
/// built twice from one source: the current release added a field to a grain's state and to its answer). Both keep
/// serving; calls cross between releases both ways; state the previous release wrote is read by the current one and the
/// other way round, through the engine's own grain storage and Orleans' serializer on a shared database.
/// </summary>
[Collection(ReleaseBuilds.Name)]
public sealed class RollingUpgradeTests
{
    private static async Task<string> BuildAsync(string release)
    {
        var project = Repository.Path("tests", "UpgradeProbe", "UpgradeProbe.csproj");
        var (exit, output) = await Commands.RunAsync("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "q", "-m:1"], TimeSpan.FromMinutes(10),
            new Dictionary<string, string> { ["COLLECTIONS_PROBE_RELEASE"] = release });
        Assert.True(exit == 0, $"building the {release} release failed: {output}");
        return Repository.Path("tests", "UpgradeProbe", "bin", "Release", release, "net10.0", "UpgradeProbe.dll");
    }

    private sealed record Tally(int Entries, decimal Total, string Release, string Silo, string? LastNote);

    private static async Task<Tally> AddAsync(HttpClient silo, string id, decimal amount, string note)
    {
        var answer = await silo.PostAsync($"/tally/{id}?amount={amount}&note={Uri.EscapeDataString(note)}", null);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        return (await answer.Content.ReadFromJsonAsync<Tally>(JsonSerializerOptions.Web))!;
    }

    private static async Task<Tally> ReadAsync(HttpClient silo, string id) =>
        (await silo.GetFromJsonAsync<Tally>($"/tally/{id}", JsonSerializerOptions.Web))!;

    [Fact]
    public async Task Silos_of_the_previous_and_the_current_release_serve_together_and_each_reads_the_state_the_other_wrote()
    {
        var previousDll = await BuildAsync("previous");
        var currentDll = await BuildAsync("current");
        var database = Path.Combine(TestDatabases.NewFolder(), "upgrade.db");
        var primaryPort = Ports.Free();
        var (previousHttp, currentHttp) = (Ports.Free(), Ports.Free());

        using var previous = await EngineProcess.StartProgramAsync(previousDll, new Uri($"http://127.0.0.1:{previousHttp}"), "/ready",
            database, primaryPort.ToString(), Ports.Free().ToString(), primaryPort.ToString(), previousHttp.ToString());
        using var current = await EngineProcess.StartProgramAsync(currentDll, new Uri($"http://127.0.0.1:{currentHttp}"), "/ready",
            database, Ports.Free().ToString(), Ports.Free().ToString(), primaryPort.ToString(), currentHttp.ToString());
        using var onPrevious = new HttpClient { BaseAddress = previous.HealthBase, Timeout = TimeSpan.FromSeconds(30) };
        using var onCurrent = new HttpClient { BaseAddress = current.HealthBase, Timeout = TimeSpan.FromSeconds(30) };
        var id = "tally-" + Guid.NewGuid().ToString("N")[..8];

        // Calls cross between releases both ways, each side reading an answer written by the other (the previous
        // release's answer has no note; the current release's has one the previous release skips).
        var (old, @new) = ($"{id}-old/1", $"{id}-new/1");
        await AddAsync(onPrevious, old, 2.00m, "written by the previous release");
        var oldAnswer = await ReadAsync(onCurrent, old);
        Assert.Equal((1, 2.00m, "previous", (string?)null), (oldAnswer.Entries, oldAnswer.Total, oldAnswer.Release, oldAnswer.LastNote));
        await AddAsync(onCurrent, @new, 3.00m, "written by the current release");
        var newAnswer = await ReadAsync(onPrevious, @new);
        Assert.Equal((1, 3.00m, "current"), (newAnswer.Entries, newAnswer.Total, newAnswer.Release));

        // The previous release writes the tally (hop 1 is placed on the silo that calls it).
        var written = await AddAsync(onPrevious, $"{id}/1", 10.50m, "first");
        Assert.Equal((1, 10.50m, "previous"), (written.Entries, written.Total, written.Release));

        // The current release reads what the previous one stored and adds to it.
        var upgraded = await AddAsync(onCurrent, $"{id}/2", 5.25m, "second");
        Assert.Equal((2, 15.75m, "current", "second"), (upgraded.Entries, upgraded.Total, upgraded.Release, upgraded.LastNote));

        // And back: the previous release reads state with a field it does not know, skips it and adds.
        var back = await AddAsync(onPrevious, $"{id}/3", 1.00m, "third");
        Assert.Equal((3, 16.75m, "previous"), (back.Entries, back.Total, back.Release));

        // The current release reads that too. A field only the new release knows does not survive a write by the old
        // one (Orleans skips unknown fields): a new field must be optional until no silo of the old release is left.
        var again = await ReadAsync(onCurrent, $"{id}/4");
        Assert.Equal((3, 16.75m, "current", (string?)null), (again.Entries, again.Total, again.Release, again.LastNote));
        var last = await AddAsync(onCurrent, $"{id}/4", 0.25m, "fourth");
        Assert.Equal((4, 17.00m, "fourth"), (last.Entries, last.Total, last.LastNote));
    }
}

/// <summary>
/// Tests that build the engine's projects in Release (the images' publish, the upgrade probe's two releases) run one
/// after the other: two builds at once write the same files under src/*/bin/Release and one fails on the other's lock.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReleaseBuilds
{
    public const string Name = "Release builds";
}
