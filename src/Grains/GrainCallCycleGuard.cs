using System.Reflection;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>
/// Refuses a grain call that would come back to a grain already waiting further up the same call chain (A awaits B,
/// B awaits A): in a non-reentrant grain that is a deadlock that ends in a 30 s timeout. Each call carries the grains
/// it passed through in its request context; a one-way call starts a new chain, since nobody waits for it. Installed
/// on every silo, so a cycle reintroduced anywhere fails at once, naming the grain types (never their keys: account
/// numbers are identifiers).
/// </summary>
public sealed class GrainCallCycleGuard : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
{
    public const string ChainKey = "collections.call-chain";

    /// <summary>Incoming: this grain joins the chain of the call it serves (a one-way call starts a new chain).</summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var self = context.TargetId.ToString();
        var previous = RequestContext.Get(ChainKey) as string[];
        var chain = IsOneWay(context.InterfaceMethod) ? null : previous;
        RequestContext.Set(ChainKey, chain is null ? new[] { self } : [.. chain, self]);
        try
        {
            await context.Invoke();
        }
        finally
        {
            if (previous is null) RequestContext.Remove(ChainKey);
            else RequestContext.Set(ChainKey, previous);
        }
    }

    /// <summary>
    /// Outgoing: refused before it is sent if the target is already waiting up the chain (it would sit behind that
    /// grain's own request until the 30 s timeout).
    /// </summary>
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!IsOneWay(context.InterfaceMethod) && RequestContext.Get(ChainKey) is string[] chain)
        {
            var target = context.TargetId.ToString();
            if (Array.IndexOf(chain, target) >= 0)
                throw new GrainCallCycleException(
                    $"Grain call cycle: {string.Join(" -> ", chain.Select(TypeOf))} -> {TypeOf(target)} ({context.InterfaceMethod?.Name}). " +
                    "A grain must not await a call chain that comes back to it; make the notification one-way.");
        }
        return context.Invoke();
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MethodInfo, bool> OneWay = new();

    /// <summary>Whether the interface method is [OneWay] (looked up once per method: attribute reflection is slow).</summary>
    private static bool IsOneWay(MethodInfo? method) =>
        method is not null && OneWay.GetOrAdd(method, static m => m.GetCustomAttribute<OneWayAttribute>() is not null);

    /// <summary>The grain type of a grain id ("account/MAIN/123" → "account").</summary>
    private static string TypeOf(string grainId) => grainId.Split('/', 2)[0];
}

/// <summary>A grain call that would have closed a cycle (see <see cref="GrainCallCycleGuard"/>); nothing was done by it.</summary>
[GenerateSerializer, Alias("collections.GrainCallCycleException")]
public sealed class GrainCallCycleException : Exception
{
    public GrainCallCycleException() { }
    public GrainCallCycleException(string message) : base(message) { }
    public GrainCallCycleException(string message, Exception inner) : base(message, inner) { }
}
