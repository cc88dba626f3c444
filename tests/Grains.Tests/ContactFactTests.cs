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

    /// <summary>A zone where it is the middle of the day right now, so a call there now is within the contact window.</summary>
    private static string DayZone()
    {
        foreach (var zone in new[] { "America/New_York", "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo", "Europe/London", "Asia/Kolkata", "Australia/Sydney", "America/Anchorage" })
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(zone));
            if (local.Hour is >= 10 and < 18) return zone;
        }
        throw new InvalidOperationException("No listed zone is at midday (cannot happen: they span the globe).");
    }

    private async Task<(IGuarantorGrain Guarantor, IPatientAccountGrain Account)> PersonWithDebtAsync(string zone)
    {
        var guarantorId = Samples.NewId("G");
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(guarantorId);
        Assert.True((await guarantor.Register(Samples.Guarantor() with { TimeZone = zone })).Succeeded);
        var account = fixture.Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(300m, "c1"))).Succeeded);
        return (guarantor, account);
    }

    [Fact]
    public async Task A_call_logged_the_next_morning_is_judged_and_recorded_at_the_time_it_was_made()
    {
        var zone = DayZone();
        var (guarantor, account) = await PersonWithDebtAsync(zone);
        // Last night at 22:30 the person's time: logged now, in the middle of their day.
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, tz);
        var lastNight = new DateTime(local.Year, local.Month, local.Day, 22, 30, 0).AddDays(-1);
        var calledAt = new DateTimeOffset(lastNight, tz.GetUtcOffset(lastNight));

        var logged = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "dialer-1", CalledAt = calledAt });

        Assert.True(logged.Succeeded);
        Assert.Equal(GateVerdict.Allow, logged.Value!.Verdict);
        Assert.Equal("recorded.window.local-time", logged.Value.Rule);
        var call = Assert.Single((await guarantor.Get())!.RecentContacts, c => c.RequestId.EndsWith("dialer-1", StringComparison.Ordinal));
        Assert.Equal(calledAt, call.At);
        Assert.Equal("window.local-time", call.RuleBroken);

        // The same call logged now, in the day, breaks nothing.
        var now = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "console-1" });
        Assert.Equal(GateVerdict.Allow, now.Value!.Verdict);
        Assert.Equal("allowed", now.Value.Rule);
    }

    [Fact]
    public async Task A_call_logged_afterwards_counts_only_the_calls_before_it_and_takes_its_place_in_the_history()
    {
        var (guarantor, account) = await PersonWithDebtAsync(DayZone());
        for (var i = 0; i < 7; i++)
            Assert.Equal("allowed", (await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = $"today-{i}" })).Value!.Rule);
        var eighth = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "today-8" });
        Assert.Equal("recorded.calls.7-in-7", eighth.Value!.Rule);

        // Twelve days ago, at this hour: seven calls today are after it, and none before it.
        var calledAt = DateTimeOffset.UtcNow.AddDays(-12);
        var earlier = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "dialer-old", CalledAt = calledAt });
        Assert.Equal("allowed", earlier.Value!.Rule);
        var history = (await guarantor.Get())!.RecentContacts; // newest first
        Assert.Equal(calledAt, history[^1].At);
        Assert.Equal(history.Select(c => c.At).OrderDescending(), history.Select(c => c.At));

        // A retry with the same key and time is the same call; the same key with another time is another request.
        var replay = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "dialer-old", CalledAt = calledAt });
        Assert.True(replay.Replayed);
        var reused = await account.LogCall(new CallLogRequest { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "dialer-old", CalledAt = calledAt.AddHours(1) });
        Assert.False(reused.Succeeded);
    }

    [Theory]
    [InlineData(2.0, "called-at.future")]
    [InlineData(-31 * 24.0, "called-at.too-old")]
    public async Task A_call_time_in_the_future_or_beyond_thirty_days_is_refused_and_nothing_is_recorded(double hoursFromNow, string code)
    {
        var (guarantor, account) = await PersonWithDebtAsync(DayZone());
        var refused = await account.LogCall(new CallLogRequest
        {
            Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "bad-time", CalledAt = DateTimeOffset.UtcNow.AddHours(hoursFromNow),
        });
        Assert.False(refused.Succeeded);
        Assert.Equal(code, Assert.Single(refused.Errors).Code);
        Assert.DoesNotContain((await guarantor.Get())!.RecentContacts, c => c.RequestId.EndsWith("bad-time", StringComparison.Ordinal));
    }
}
