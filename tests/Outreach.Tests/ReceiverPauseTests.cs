namespace Collections.Outreach.Tests;

/// <summary>
/// A receiver that keeps failing is paused, then tried with one delivery at a time until one gets through; the pauses
/// double up to a longest, any answer from a receiver that is up ends them, and answers of requests that left before a
/// pause neither lengthen nor end it.
/// </summary>
public sealed class ReceiverPauseTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan First = TimeSpan.FromSeconds(30), Longest = TimeSpan.FromSeconds(300), ProbeWait = TimeSpan.FromSeconds(20);

    /// <summary>Requests sent at <paramref name="now"/>, each failing there.</summary>
    private static ReceiverPause Fail(ReceiverPause pause, DateTimeOffset now, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            var (ticket, asked) = pause.Ask(now, ProbeWait);
            Assert.NotNull(ticket);
            pause = asked.After(ticket.Value, ReceiverAnswer.Unavailable, now, 5, First, Longest);
        }
        return pause;
    }

    private static ReceiverPause Answer(ReceiverPause pause, ReceiverTicket ticket, ReceiverAnswer answer, DateTimeOffset now) =>
        pause.After(ticket, answer, now, 5, First, Longest);

    [Fact]
    public void Fewer_failures_in_a_row_than_allowed_leave_the_receiver_open()
    {
        var pause = Fail(new ReceiverPause(), At, times: 4);

        Assert.NotNull(pause.Ask(At, ProbeWait).Ticket);
        Assert.Null(pause.Until);
    }

    [Fact]
    public void A_success_between_failures_starts_the_count_again()
    {
        var pause = Fail(new ReceiverPause(), At, times: 4);
        pause = Answer(pause, new ReceiverTicket(0, false), ReceiverAnswer.Delivered, At);

        Assert.NotNull(Fail(pause, At, times: 4).Ask(At, ProbeWait).Ticket);
    }

    [Fact]
    public void The_failure_that_reaches_the_limit_pauses_the_receiver_for_the_first_pause()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);

        Assert.Null(pause.Ask(At.AddSeconds(29), ProbeWait).Ticket);
        Assert.Equal(At.AddSeconds(30), pause.Until);
    }

    [Fact]
    public void Answers_of_requests_that_left_before_a_pause_neither_lengthen_nor_end_it()
    {
        var leftBefore = new ReceiverTicket(0, false);
        var pause = Fail(new ReceiverPause(), At, times: 5);

        Assert.Equal(pause, Answer(pause, leftBefore, ReceiverAnswer.Unavailable, At.AddSeconds(10)));
        Assert.Equal(pause, Answer(pause, leftBefore, ReceiverAnswer.Unavailable, At.AddSeconds(40))); // after the pause ended
        Assert.Equal(pause, Answer(pause, leftBefore, ReceiverAnswer.Delivered, At.AddSeconds(40)));
    }

    [Fact]
    public void Looking_whether_a_receiver_is_paused_takes_no_probe()
    {
        var pauses = new ReceiverPauses<string>(() => new ReceiverPauseRules(5, First, Longest, ProbeWait));
        for (var i = 0; i < 5; i++)
        {
            var (ticket, _) = pauses.Ask("vendor", At, lastAttempt: false);
            pauses.Observe("vendor", ticket!.Value, ReceiverAnswer.Unavailable, At);
        }
        Assert.True(pauses.Peek("vendor", At.AddSeconds(10), lastAttempt: false).Waiting);
        Assert.False(pauses.Peek("vendor", At.AddSeconds(10), lastAttempt: true).Waiting); // a last attempt always goes

        // The pause over: looking says a request may go, as often as it is asked, and leaves the probe to the one that asks.
        Assert.False(pauses.Peek("vendor", At.AddSeconds(30), lastAttempt: false).Waiting);
        Assert.False(pauses.Peek("vendor", At.AddSeconds(30), lastAttempt: false).Waiting);
        Assert.Equal(new ReceiverTicket(1, Probe: true), pauses.Ask("vendor", At.AddSeconds(30), lastAttempt: false).Ticket);
        Assert.True(pauses.Peek("vendor", At.AddSeconds(31), lastAttempt: false).Waiting);
    }

    [Fact]
    public void After_a_pause_one_delivery_goes_as_a_probe_and_the_others_wait_for_its_answer()
    {
        var (probe, probing) = Fail(new ReceiverPause(), At, times: 5).Ask(At.AddSeconds(30), ProbeWait);
        Assert.Equal(new ReceiverTicket(1, Probe: true), probe);

        Assert.Null(probing.Ask(At.AddSeconds(31), ProbeWait).Ticket);
        Assert.NotNull(probing.Ask(At.AddSeconds(50), ProbeWait).Ticket); // a probe never answered no longer holds them back
    }

    [Fact]
    public void A_probe_that_fails_pauses_the_receiver_twice_as_long_up_to_the_longest()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);
        var lengths = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var now = pause.Until!.Value;
            pause = Fail(pause, now);
            lengths.Add((pause.Until!.Value - now).TotalSeconds);
        }

        Assert.Equal([60, 120, 240, 300, 300, 300], lengths);
    }

    [Fact]
    public void A_probe_that_never_reached_the_receiver_lets_the_next_request_probe_at_once()
    {
        var (probe, probing) = Fail(new ReceiverPause(), At, times: 5).Ask(At.AddSeconds(30), ProbeWait);

        var freed = probing.Unanswered(probe!.Value); // a bad address, a document that could not be built

        Assert.Equal(new ReceiverTicket(1, Probe: true), freed.Ask(At.AddSeconds(31), ProbeWait).Ticket);
        Assert.Equal(probing, probing.Unanswered(new ReceiverTicket(1, Probe: false))); // a last attempt's: not the probe
    }

    [Theory]
    [InlineData(ReceiverAnswer.Delivered)]
    [InlineData(ReceiverAnswer.Refused)]
    public void The_probes_answer_from_a_receiver_that_is_up_ends_the_pauses(ReceiverAnswer answer)
    {
        var (probe, probing) = Fail(new ReceiverPause(), At, times: 5).Ask(At.AddSeconds(30), ProbeWait);

        var open = Answer(probing, probe!.Value, answer, At.AddSeconds(31));

        Assert.Equal(new ReceiverPause(), open);
        Assert.NotNull(Fail(open, At.AddSeconds(31), times: 4).Ask(At.AddSeconds(31), ProbeWait).Ticket); // counted from nothing again
    }

    [Fact]
    public void A_row_on_its_last_attempt_goes_while_paused_with_a_ticket_that_is_not_the_probes()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);

        var (ticket, state) = pause.Ask(At.AddSeconds(10), ProbeWait, lastAttempt: true);

        Assert.Equal(new ReceiverTicket(1, Probe: false), ticket);
        Assert.Equal(pause, state);
        Assert.Equal(pause, Answer(pause, ticket!.Value, ReceiverAnswer.Delivered, At.AddSeconds(11))); // says nothing of the pause
    }

    [Fact]
    public void A_row_put_back_is_tried_after_its_back_off_and_no_sooner_than_the_pause_ends()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5); // until 09:00:30

        Assert.Equal(At.AddSeconds(30), pause.RetryAt(At.AddSeconds(10), TimeSpan.FromSeconds(5)));
        Assert.Equal(At.AddSeconds(70), pause.RetryAt(At.AddSeconds(10), TimeSpan.FromSeconds(60)));
        Assert.Equal(At.AddSeconds(5), new ReceiverPause().RetryAt(At, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_limit_of_zero_never_pauses()
    {
        var pause = new ReceiverPause();
        for (var i = 0; i < 100; i++) pause = pause.After(new ReceiverTicket(0, false), ReceiverAnswer.Unavailable, At, 0, First, Longest);

        Assert.NotNull(pause.Ask(At, ProbeWait).Ticket);
    }

    [Theory]
    [InlineData(null, "paused: down")]
    [InlineData("http 503", "paused: down (last error: http 503)")]                                  // the receiver's own error is kept
    [InlineData("paused: down (last error: smtp 421 UnexpectedStatusCode)", "paused: down (last error: smtp 421 UnexpectedStatusCode)")] // paused again: still the receiver's
    [InlineData("paused: down", "paused: down")]                                                    // never tried before its first pause
    [InlineData("deferred: quiet-hours", "paused: down")]                                          // our own note, not the receiver's error
    public void A_row_put_back_by_a_pause_keeps_its_receivers_last_error(string? lastError, string expected) =>
        Assert.Equal(expected, ReceiverPause.PausedError("paused: down", lastError));

    [Fact]
    public void A_pause_begun_and_ended_is_told_from_the_states_before_and_after()
    {
        var paused = new ReceiverPause(Failures: 5, Pauses: 1, Until: At.AddSeconds(30));
        var longer = paused with { Pauses = 2 };

        Assert.True(paused.PausedSince(new ReceiverPause()));
        Assert.True(longer.PausedSince(paused)); // a failed probe: a longer pause
        Assert.False(paused.PausedSince(paused));
        Assert.True(new ReceiverPause().ResumedSince(longer));
        Assert.False(new ReceiverPause().ResumedSince(new ReceiverPause()));
    }
}
