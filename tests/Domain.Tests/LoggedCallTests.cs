using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

/// <summary>A call logged after it took place is seen as the rules saw the person when it was made.</summary>
public sealed class LoggedCallTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 15, 0, 0, TimeSpan.Zero);
    private static readonly AccountKey Debt = new("MAIN", "A1");

    private static ContactAttempt Call(string id, DateTimeOffset at) => new()
    {
        RequestId = id, Account = Debt, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice,
        Initiator = ContactInitiator.Agent, At = at, Outcome = ContactOutcome.NoAnswer,
    };

    private static Hold Hold(string id, DateTimeOffset placed, DateTimeOffset? released = null) => new()
    {
        HoldId = id, Reason = HoldReason.Dispute, Note = "n", PlacedBy = "k", PlacedAt = placed,
        ReleasedAt = released, ReleasedBy = released is null ? null : "k", ReleaseNote = released is null ? null : "verified",
    };

    [Theory]
    [InlineData(null, null)]
    [InlineData(-1.0, null)]                   // an hour ago
    [InlineData(0.05, null)]                   // three minutes ahead: a caller's clock
    [InlineData(1.0, "called-at.future")]
    [InlineData(-29 * 24.0, null)]
    [InlineData(-31 * 24.0, "called-at.too-old")]
    public void A_call_time_is_taken_within_the_last_thirty_days_and_a_few_minutes_ahead(double? hoursFromNow, string? code)
    {
        var error = LoggedCall.CalledAtError(hoursFromNow is { } h ? Now.AddHours(h) : null, Now);
        Assert.Equal(code, error?.Code);
        if (error is not null) Assert.Equal("calledAt", error.Field);
    }

    [Fact]
    public void A_call_is_judged_at_its_own_time_and_never_later_than_now()
    {
        Assert.Equal(Now.AddHours(-3), LoggedCall.At(Now.AddHours(-3), Now));
        Assert.Equal(Now, LoggedCall.At(Now.AddMinutes(3), Now));  // a clock a little ahead: now
        Assert.Equal(Now.AddMinutes(-3), LoggedCall.At(Now.AddMinutes(-3), Now)); // a little behind: its own time...
        IReadOnlyList<ContactAttempt> recent = [Call("two-minutes-ago", Now.AddMinutes(-2)), Call("earlier", Now.AddHours(-1))];
        Assert.Equal(2, LoggedCall.HistoryBefore(recent, Now.AddMinutes(-3), Now).Count);  // ...with the contacts of those minutes
        Assert.Equal(Now, LoggedCall.At(null, Now));
    }

    [Fact]
    public void The_person_as_of_the_call_has_the_contacts_holds_and_consents_of_that_moment()
    {
        var at = Now.AddDays(-2);
        var person = new PersonFacts(
            ComplianceGateTests.Profile(),
            [new ChannelConsent { Channel = ContactChannel.Voice, Status = ConsentStatus.Granted, Source = "form", RecordedAt = at.AddDays(-1), RecordedBy = "k" },
             new ChannelConsent { Channel = ContactChannel.Voice, Status = ConsentStatus.OptedOut, Source = "call", RecordedAt = at.AddHours(1), RecordedBy = "k" }],
            [Hold("before-released-after", at.AddDays(-1), released: at.AddDays(1)), Hold("placed-after", at.AddHours(2)), Hold("released-before", at.AddDays(-3), released: at.AddDays(-1))],
            [Call("before", at.AddDays(-1)), Call("after", at.AddDays(1))]);

        var then = LoggedCall.AsOf(person, at, Now);

        Assert.Equal(["before"], then.History.Select(c => c.RequestId));
        Assert.Equal([ConsentStatus.Granted], then.ConsentHistory.Select(c => c.Status));
        Assert.Equal(["before-released-after", "released-before"], then.Holds.Select(h => h.HoldId));
        Assert.True(then.Holds.Single(h => h.HoldId == "before-released-after").IsActive);   // on when the call was made
        Assert.False(then.Holds.Single(h => h.HoldId == "released-before").IsActive);
        Assert.Same(person, LoggedCall.AsOf(person, Now, Now));                               // logged as made: as is
    }

    [Fact]
    public void A_call_logged_after_later_calls_breaks_the_limit_they_break_together_and_only_within_the_window()
    {
        var person = new PersonFacts(ComplianceGateTests.Profile(), [], [],
            Enumerable.Range(0, 7).Select(i => Call($"later-{i}", Now.AddDays(-3).AddMinutes(i))).ToList());
        var request = new ContactRequest(Debt, OutreachAction.CallTask, ContactChannel.Voice, ContactInitiator.Agent);
        var rules = new ComplianceRules();

        var fourDaysAgo = LoggedCall.CallLimitWithLaterCalls(request, person, rules, Now.AddDays(-4), Now);
        Assert.Equal("calls.7-in-7", fourDaysAgo?.Rule);                                                  // eight within seven days
        Assert.Null(LoggedCall.CallLimitWithLaterCalls(request, person, rules, Now.AddDays(-10), Now));    // seven days before the first of them
        Assert.Null(LoggedCall.CallLimitWithLaterCalls(request, person, rules, Now, Now));                 // logged as made: the gate's own count
        Assert.Null(LoggedCall.CallLimitWithLaterCalls(request with { Initiator = ContactInitiator.Inbound }, person, rules, Now.AddDays(-4), Now));
        Assert.Null(LoggedCall.CallLimitWithLaterCalls(request, person with { History = person.History.Take(6).ToList() }, rules, Now.AddDays(-4), Now));
    }

    [Fact]
    public void A_call_logged_afterwards_goes_after_every_contact_made_at_or_before_it()
    {
        IReadOnlyList<ContactAttempt> history = [Call("a", Now.AddDays(-5)), Call("b", Now.AddDays(-3)), Call("c", Now.AddDays(-3)), Call("d", Now.AddDays(-1))];
        Assert.Equal(3, LoggedCall.InsertionIndex(history, Now.AddDays(-3)));
        Assert.Equal(0, LoggedCall.InsertionIndex(history, Now.AddDays(-9)));
        Assert.Equal(4, LoggedCall.InsertionIndex(history, Now));
        Assert.Equal(0, LoggedCall.InsertionIndex([], Now));
    }
}
