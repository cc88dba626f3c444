using Collections.Domain;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Collections.Grains;

/// <summary>
/// What a worklist queue asks before it offers an account: may an agent call about it now? In the engine the account
/// answers (<see cref="IPatientAccountGrain.CheckCall"/>); a benchmark of the queue alone can put another answer here.
/// </summary>
public interface IWorklistCallCheck
{
    Task<CallCheck> CheckAsync(AccountKey account);
}

/// <summary>Asks the account itself: its worklist rules, then the compliance gate on an agent's call now, recording nothing.</summary>
public sealed class AccountCallCheck(IGrainFactory grains) : IWorklistCallCheck
{
    public Task<CallCheck> CheckAsync(AccountKey account) => grains.GetGrain<IPatientAccountGrain>(account.ToString()).CheckCall();
}

public static class WorklistServiceCollectionExtensions
{
    /// <summary>The worklist's store (its tables, group commit) and the check it runs before offering an account (unless one is registered already).</summary>
    public static IServiceCollection AddCollectionsWorklist(this IServiceCollection services)
    {
        services.TryAddSingleton<WorklistStore>();
        services.TryAddSingleton<IWorklistCallCheck, AccountCallCheck>();
        return services;
    }
}
