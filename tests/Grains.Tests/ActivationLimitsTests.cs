using Collections.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace Collections.Grains.Tests;

/// <summary><c>Collections:Activations</c>: how many accounts and guarantors the silo keeps in memory.</summary>
public sealed class ActivationLimitsTests
{
    private static GrainCollectionOptions From(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("Collections:Activations:" + s.Key, s.Value)))
            .Build();
        var options = new GrainCollectionOptions();
        SiloConfiguration.ActivationLimitsFrom(configuration, options);
        return options;
    }

    [Fact]
    public void A_silo_near_its_memory_limit_sheds_idle_accounts_by_default_and_an_operator_can_turn_it_off()
    {
        var defaults = From();
        Assert.True(defaults.EnableActivationSheddingOnMemoryPressure);
        Assert.Equal(70, defaults.MemoryUsageLimitPercentage); // room for the GC below its limit, not Orleans' own 80 and 75
        Assert.Equal(60, defaults.MemoryUsageTargetPercentage);
        Assert.Equal(TimeSpan.FromMinutes(15), defaults.CollectionAge);

        var tuned = From(("ShedOnMemoryPressure", "false"), ("CollectionAge", "00:05:00"), ("MemoryUsageLimitPercentage", "85"), ("MemoryUsageTargetPercentage", "80"));
        Assert.False(tuned.EnableActivationSheddingOnMemoryPressure);
        Assert.Equal(TimeSpan.FromMinutes(5), tuned.CollectionAge);
        Assert.Equal(85, tuned.MemoryUsageLimitPercentage);
        Assert.Equal(80, tuned.MemoryUsageTargetPercentage);
    }

    [Theory]
    [InlineData("CollectionAge", "00:01:00", "CollectionAge must be more than 00:01:00")]
    [InlineData("MemoryUsageTargetPercentage", "85", "MemoryUsageTargetPercentage must be above 0 and below MemoryUsageLimitPercentage")]
    [InlineData("MemoryUsageLimitPercentage", "120", "MemoryUsageLimitPercentage, which is at most 100")]
    public void A_limit_that_cannot_work_stops_the_start_naming_the_setting(string key, string value, string message)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => From((key, value)));
        Assert.Contains("Collections:Activations:", refused.Message);
        Assert.Contains(message, refused.Message);
    }

    [Fact]
    public void Registers_and_queues_stay_in_memory_and_what_there_is_one_of_per_person_can_be_shed()
    {
        // The million-account run: shed under memory pressure, the worklist queue read its whole list back and ran out of memory.
        Type[] kept = [typeof(WorklistQueueGrain), typeof(WorklistDirectoryGrain), typeof(CallTaskQueueGrain), typeof(BillingOfficeQueueGrain),
            typeof(CreditBalanceRegistryGrain), typeof(PlacementRegisterGrain), typeof(CadencePolicyBookGrain), typeof(ReplyReviewGrain)];
        Type[] shed = [typeof(PatientAccountGrain), typeof(GuarantorGrain), typeof(PatientPaymentGrain), typeof(PatientPortalGrain), typeof(PhoneDirectoryGrain)];
        Assert.All(kept, t => Assert.True(t.IsDefined(typeof(KeepAliveAttribute), inherit: false), t.Name));
        Assert.All(shed, t => Assert.False(t.IsDefined(typeof(KeepAliveAttribute), inherit: false), t.Name));
    }
}
