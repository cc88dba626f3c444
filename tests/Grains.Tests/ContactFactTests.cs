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
        var (_, account) = await PersonWithDebtAsync(Samples.Guarantor() with { TimeZone = NightZone() });

        // The patient called back late, or the agent recorded the call a minute after the window closed.
        var result = await account.RecordCallOutcome(new CallOutcomeRequest { Outcome = WorklistOutcome.Dispute, IdempotencyKey = "late-call", Note = "Says the bill is wrong" });

        Assert.True(result.Succeeded);
        Assert.Equal(GateVerdict.Allow, result.Value!.Call.Verdict);
        Assert.Equal("recorded.window.local-time", result.Value.Call.Rule);
        var view = (await account.Get())!;
        Assert.Contains(view.Holds, h => h.Reason == HoldReason.Dispute && h.IsActive);
        Assert.Equal(CadenceStatus.OnHold, view.Cadence!.Status);
    }

    [Fact]
    public async Task A_call_recorded_despite_a_rule_and_asked_again_is_answered_with_that_rule_not_a_plain_allow()
    {
        var (guarantor, account) = await PersonWithDebtAsync(Samples.Guarantor() with { TimeZone = NightZone() });
        // The account's commit after the guarantor recorded the call was lost: it asks again with the same request id.
        var request = new ContactPermitRequest
        {
            RequestId = $"{account.GetPrimaryKeyString()}/call/lost-commit", Account = AccountKey.Parse(account.GetPrimaryKeyString()),
            Action = OutreachAction.CallTask, Channel = ContactChannel.Voice, Initiator = ContactInitiator.Agent,
            Outcome = ContactOutcome.RightPartyContact, PatientResponsibility = 300m,
        };

        var first = await guarantor.RequestContact(request);
        var again = await guarantor.RequestContact(request);

        Assert.Equal((GateVerdict.Allow, false), (first.Decision.Verdict, first.Replayed));
        Assert.StartsWith("recorded.", first.Decision.Rule, StringComparison.Ordinal); // at night, with no notice sent: it broke a rule
        Assert.Equal((GateVerdict.Allow, first.Decision.Rule, true), (again.Decision.Verdict, again.Decision.Rule, again.Replayed));
        Assert.Single((await guarantor.Get())!.RecentContacts, c => c.RequestId == request.RequestId);
    }

    [Fact]
    public async Task A_worked_call_retried_with_its_amount_written_another_way_is_the_same_call_and_other_terms_are_refused()
    {
        var (_, account) = await PersonWithDebtAsync();
        var promise = new Domain.Arrangements.PromiseRequest { Amount = 50.00m, PromisedDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(9) };
        CallOutcomeRequest Call(decimal amount) => new() { Outcome = WorklistOutcome.PromiseToPay, IdempotencyKey = "promise-call", Promise = promise with { Amount = amount } };

        var first = await account.RecordCallOutcome(Call(50.00m));
        Assert.True(first.Succeeded);
        Assert.False(first.Value!.Replayed);

        var retried = await account.RecordCallOutcome(Call(50m));
        Assert.True(retried.Succeeded);
        Assert.True(retried.Value!.Replayed);
        Assert.Equal(LoggedCallComparison.Same, await account.CompareLoggedCall(Call(50.0m)));

        var other = await account.RecordCallOutcome(Call(60.00m));
        Assert.Equal("idempotency-key.reused", Assert.Single(other.Errors).Code);
        Assert.Equal(LoggedCallComparison.Different, await account.CompareLoggedCall(Call(60m)));
        Assert.Equal(50.00m, Assert.Single((await account.Get())!.Promises).Amount);
    }

    /// <summary>
    /// The sample guarantor lives in Austin with a 512 number: America/Chicago is always among their zones. Times here
    /// are built on Chicago's clock, so the tests hold at any hour the run is made (and across a change of offset).
    /// </summary>
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");

    /// <summary>A time of day in Chicago, the given number of days before today there.</summary>
    private static DateTimeOffset ChicagoTime(int daysAgo, int hour, int minute = 0)
    {
        var today = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Chicago).Date;
        var local = today.AddDays(-daysAgo).AddHours(hour).AddMinutes(minute);
        return new DateTimeOffset(local, Chicago.GetUtcOffset(local));
    }

    private async Task<(IGuarantorGrain Guarantor, IPatientAccountGrain Account)> PersonWithDebtAsync(GuarantorDetails? details = null)
    {
        var guarantorId = Samples.NewId("G");
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(guarantorId);
        Assert.True((await guarantor.Register(details ?? Samples.Guarantor())).Succeeded);
        var account = fixture.Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(300m, "c1"))).Succeeded);
        return (guarantor, account);
    }

    private static CallLogRequest NoAnswer(string key, DateTimeOffset? calledAt = null) =>
        new() { Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = key, CalledAt = calledAt };

    [Fact]
    public async Task A_call_logged_the_next_morning_is_judged_and_recorded_at_the_time_it_was_made()
    {
        var (guarantor, account) = await PersonWithDebtAsync();
        var lastNight = ChicagoTime(daysAgo: 2, hour: 22, minute: 30); // logged two days on: always in the past

        var logged = await account.LogCall(NoAnswer("dialer-1", lastNight));

        Assert.True(logged.Succeeded);
        Assert.Equal(GateVerdict.Allow, logged.Value!.Verdict);
        Assert.Equal("recorded.window.local-time", logged.Value.Rule);
        var call = Assert.Single((await guarantor.Get())!.RecentContacts, c => c.RequestId.EndsWith("dialer-1", StringComparison.Ordinal));
        Assert.Equal(lastNight, call.At);
        Assert.Equal("window.local-time", call.RuleBroken);

        // The same call made at midday breaks nothing.
        var midday = await account.LogCall(NoAnswer("dialer-2", ChicagoTime(daysAgo: 1, hour: 12)));
        Assert.Equal(GateVerdict.Allow, midday.Value!.Verdict);
        Assert.Equal("allowed", midday.Value.Rule);
    }

    [Fact]
    public async Task A_call_logged_afterwards_counts_only_the_calls_before_it_and_takes_its_place_in_the_history()
    {
        var (guarantor, account) = await PersonWithDebtAsync();
        for (var i = 0; i < 7; i++)
            Assert.Equal("allowed", (await account.LogCall(NoAnswer($"yesterday-{i}", ChicagoTime(daysAgo: 1, hour: 12, minute: i)))).Value!.Rule);
        var eighth = await account.LogCall(NoAnswer("yesterday-8", ChicagoTime(daysAgo: 1, hour: 12, minute: 8)));
        Assert.Equal("recorded.calls.7-in-7", eighth.Value!.Rule);

        // Twelve days ago at midday: the eight calls since are after it, and none before it.
        var calledAt = ChicagoTime(daysAgo: 12, hour: 12);
        var earlier = await account.LogCall(NoAnswer("dialer-old", calledAt));
        Assert.Equal("allowed", earlier.Value!.Rule);
        var history = (await guarantor.Get())!.RecentContacts; // newest first
        Assert.Equal(calledAt, history[^1].At);
        Assert.Equal(history.Select(c => c.At).OrderDescending(), history.Select(c => c.At));

        // Two days before yesterday's: judged against the calls before it, it would pass; with the eight after it, it
        // breaks the limit they break together.
        var together = await account.LogCall(NoAnswer("dialer-late", ChicagoTime(daysAgo: 3, hour: 12)));
        Assert.Equal("recorded.calls.7-in-7", together.Value!.Rule);

        // A retry with the same key and time is the same call; the same key with another time is another request.
        Assert.True((await account.LogCall(NoAnswer("dialer-old", calledAt))).Replayed);
        Assert.False((await account.LogCall(NoAnswer("dialer-old", calledAt.AddHours(1)))).Succeeded);
    }

    [Theory]
    [InlineData(2.0, "called-at.future")]
    [InlineData(-31 * 24.0, "called-at.too-old")]
    public async Task A_call_time_in_the_future_or_beyond_thirty_days_is_refused_and_nothing_is_recorded(double hoursFromNow, string code)
    {
        var (guarantor, account) = await PersonWithDebtAsync();
        var refused = await account.LogCall(new CallLogRequest
        {
            Initiator = ContactInitiator.Agent, Outcome = ContactOutcome.NoAnswer, IdempotencyKey = "bad-time", CalledAt = DateTimeOffset.UtcNow.AddHours(hoursFromNow),
        });
        Assert.False(refused.Succeeded);
        Assert.Equal(code, Assert.Single(refused.Errors).Code);
        Assert.DoesNotContain((await guarantor.Get())!.RecentContacts, c => c.RequestId.EndsWith("bad-time", StringComparison.Ordinal));
    }
}
