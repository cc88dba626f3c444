using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace Collections.Grains.Tests;

[Collection(SqliteClusterCollection.Name)]
public sealed class GrainInterfaceTypeTests(SqliteClusterFixture fixture)
{
    [Fact]
    public void Every_grain_interface_keeps_the_name_Orleans_gives_it_when_names_are_remembered()
    {
        var services = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress);
        var providers = services.GetServices<IGrainInterfaceTypeProvider>().ToList();
        Assert.IsType<KnownGrainInterfaceTypes>(providers[0]);
        var remembered = services.GetRequiredService<GrainInterfaceTypeResolver>();
        var orleans = new GrainInterfaceTypeResolver(providers.Skip(1), services.GetRequiredService<TypeConverter>());

        var interfaces = typeof(IPatientAccountGrain).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t) && !t.ContainsGenericParameters).ToList();
        Assert.Contains(typeof(IGuarantorGrain), interfaces);
        foreach (var type in interfaces)
        {
            var named = orleans.GetGrainInterfaceType(type);
            Assert.Equal(named, remembered.GetGrainInterfaceType(type));
            Assert.Equal(named, remembered.GetGrainInterfaceType(type)); // the second time, from memory
        }
    }
}
