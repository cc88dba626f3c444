using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Domain.Cadence;
using Collections.Domain.Worklist;

namespace Collections.Grains.Tests;

/// <summary>Records of what already happened are facts: the compliance gate never refuses them.</summary>
[Collection(SqliteClusterCollection.Name)]
public sealed class ContactFactTests(SqliteClusterFixture fixture)
{
    /// <summary>A zone where it is late evening or night right now, so every call there is outside the contact window.</summary>
    private static string NightZone()
    {
        foreach (var zone in new[] { "America/New_York", "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo", "Europe/London", "Asia/Kolkata", "Australia/Sydney", "America/Anchorage" })
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(zone));
            if (local.Hour is >= 22 or < 7) return zone;
        }
        throw new InvalidOperationException("No listed zone is at night (cannot happen: they span the globe).");
    }

    [Fact]
    public async Task A_dispute_raised_on_a_call_after_hours_is_recorded_with_its_hold_and_the_call_flagged()
    {
        var guarantorId = Samples.NewId("G");
        Assert.True((await fixture.Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor() with { TimeZone = NightZone() })).Succeeded);
        var account = fixture.Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(300m, "c1"))).Succeeded);

        // The patient called back late, or the agent recorded the call a minute after the window closed.
        var result = await account.RecordCallOutcome(new CallOutcomeRequest { Outcome = WorklistOutcome.Dispute, IdempotencyKey = "late-call", Note = "Says the bill is wrong" });

        Assert.True(result.Succeeded);
        Assert.Equal(GateVerdict.Allow, result.Value!.Call.Verdict);
        Assert.Equal("recorded.window.local-time", result.Value.Call.Rule);
        var view = (await account.Get())!;
        Assert.Contains(view.Holds, h => h.Reason == HoldReason.Dispute && h.IsActive);
        Assert.Equal(CadenceStatus.OnHold, view.Cadence!.Status);
    }
}
