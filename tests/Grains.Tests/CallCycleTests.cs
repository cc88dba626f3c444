using System.Collections.Concurrent;
using Orleans.Concurrency;

namespace Collections.Grains.Tests;

/// <summary>A grain that calls along a path of other probes: "id" awaits the call, "~id" sends it one-way.</summary>
[Alias("tests.ICallChainProbeGrain")]
public interface ICallChainProbeGrain : IGrainWithStringKey
{
    [Alias("Call")]
    Task<string> Call(string[] path);

    [Alias("Notify"), OneWay]
    Task Notify(string[] path);
}

public sealed class CallChainProbeGrain : Grain, ICallChainProbeGrain
{
    public static readonly ConcurrentDictionary<string, string> Notified = new();

    public async Task<string> Call(string[] path)
    {
        if (path.Length == 0) return "done";
        if (path[0].StartsWith('~'))
        {
            await GrainFactory.GetGrain<ICallChainProbeGrain>(path[0][1..]).Notify(path[1..]);
            return "notified";
        }
        return await GrainFactory.GetGrain<ICallChainProbeGrain>(path[0]).Call(path[1..]);
    }

    public async Task Notify(string[] path)
    {
        Notified[this.GetPrimaryKeyString()] = await Call(path);
    }
}

[Collection(SqliteClusterCollection.Name)]
public sealed class CallCycleTests(SqliteClusterFixture fixture)
{
    [Fact]
    public async Task An_awaited_call_chain_that_comes_back_to_a_waiting_grain_is_refused_at_once_not_after_a_timeout()
    {
        var a = Samples.NewId("probe-a");
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<GrainCallCycleException>(() =>
            fixture.Grains.GetGrain<ICallChainProbeGrain>(a).Call([Samples.NewId("probe-b"), a]));
        Assert.Contains("callchainprobe -> callchainprobe -> callchainprobe", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_chain_through_different_grains_and_a_one_way_notification_back_to_its_start_is_allowed()
    {
        string a = Samples.NewId("probe-a"), b = Samples.NewId("probe-b"), c = Samples.NewId("probe-c");
        Assert.Equal("done", await fixture.Grains.GetGrain<ICallChainProbeGrain>(a).Call([b, c]));
        // b notifies a one-way; a then awaits b again: a new chain, since nobody waits for a notification.
        Assert.Equal("notified", await fixture.Grains.GetGrain<ICallChainProbeGrain>(a).Call([b, "~" + a, b]));
        for (var i = 0; i < 200 && !CallChainProbeGrain.Notified.ContainsKey(a); i++) await Task.Delay(25);
        Assert.Equal("done", CallChainProbeGrain.Notified[a]);
    }
}
