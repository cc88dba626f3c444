using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace Collections.Grains;

/// <summary>
/// The Orleans name of each grain interface, worked out once per process. Orleans' <c>GetGrain</c> works it out again
/// on every call: it reads the interface's attributes (constructing each one) and formats its type name. Every request
/// asks for a grain reference, so under 64-way posting that was 3 % of the process's CPU. Placed first among the
/// providers, this one answers with what the providers after it, or Orleans' naming convention, said the first time:
/// the same name, so references, messages and stored grain ids do not change.
/// </summary>
public sealed class KnownGrainInterfaceTypes(IServiceProvider services) : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, GrainInterfaceType> _known = new();
    private GrainInterfaceTypeResolver? _orleans;

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        grainInterfaceType = _known.GetOrAdd(type, static (t, self) => self.OrleansResolver.GetGrainInterfaceType(t), this);
        return true;
    }

    // The resolver as Orleans builds it, from every other provider: resolved on first use, after the container is built.
    private GrainInterfaceTypeResolver OrleansResolver => _orleans ??= new GrainInterfaceTypeResolver(
        services.GetServices<IGrainInterfaceTypeProvider>().Where(p => p is not KnownGrainInterfaceTypes),
        services.GetRequiredService<TypeConverter>());
}

public static class KnownGrainInterfaceTypesExtensions
{
    /// <summary>Names grain interfaces once per process (<see cref="KnownGrainInterfaceTypes"/>); on a silo's or a client's services.</summary>
    public static IServiceCollection AddKnownGrainInterfaceTypes(this IServiceCollection services)
    {
        // First: Orleans asks its providers in the order they were registered, and takes the first answer.
        if (!services.Any(d => d.ImplementationType == typeof(KnownGrainInterfaceTypes)))
            services.Insert(0, ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider, KnownGrainInterfaceTypes>());
        return services;
    }
}
