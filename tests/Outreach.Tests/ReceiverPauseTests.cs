using Collections.Outreach.Webhooks;

namespace Collections.Outreach.Tests;

/// <summary>
/// A receiver that keeps failing is paused, then tried with one delivery at a time until one gets through; the pauses
/// double up to a longest, and any answer from a receiver that is up ends them.
/// </summary>
public sealed class ReceiverPauseTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan First = TimeSpan.FromSeconds(30), Longest = TimeSpan.FromSeconds(300), ProbeWait = TimeSpan.FromSeconds(20);

    private static ReceiverPause Fail(ReceiverPause pause, DateTimeOffset now, int times = 1)
    {
        for (var i = 0; i < times; i++) pause = pause.After(ReceiverAnswer.Unavailable, now, 5, First, Longest);
        return pause;
    }

    [Fact]
    public void Fewer_failures_in_a_row_than_allowed_leave_the_receiver_open()
    {
        var pause = Fail(new ReceiverPause(), At, times: 4);

        Assert.True(pause.Ask(At, ProbeWait).Go);
        Assert.Null(pause.Until);
    }

    [Fact]
    public void A_success_between_failures_starts_the_count_again()
    {
        var pause = Fail(new ReceiverPause(), At, times: 4).After(ReceiverAnswer.Delivered, At, 5, First, Longest);

        Assert.True(Fail(pause, At, times: 4).Ask(At, ProbeWait).Go);
    }

    [Fact]
    public void The_failure_that_reaches_the_limit_pauses_the_receiver_for_the_first_pause()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);

        var (go, _, waitUntil) = pause.Ask(At.AddSeconds(29), ProbeWait);
        Assert.False(go);
        Assert.Equal(At.AddSeconds(30), waitUntil);
    }

    [Fact]
    public void Failures_of_requests_already_on_their_way_do_not_lengthen_a_pause()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);

        Assert.Equal(pause, Fail(pause, At.AddSeconds(10), times: 60));
    }

    [Fact]
    public void After_a_pause_one_delivery_goes_as_a_probe_and_the_others_wait_for_its_answer()
    {
        var (go, probing, _) = Fail(new ReceiverPause(), At, times: 5).Ask(At.AddSeconds(30), ProbeWait);
        Assert.True(go);

        var (another, _, waitUntil) = probing.Ask(At.AddSeconds(31), ProbeWait);
        Assert.False(another);
        Assert.Equal(At.AddSeconds(50), waitUntil);
        Assert.True(probing.Ask(At.AddSeconds(50), ProbeWait).Go); // a probe never answered no longer holds them back
    }

    [Fact]
    public void A_probe_that_fails_pauses_the_receiver_twice_as_long_up_to_the_longest()
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);
        var now = At;
        var lengths = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            now = pause.Until!.Value;
            var (_, probing, _) = pause.Ask(now, ProbeWait);
            pause = Fail(probing, now);
            lengths.Add((pause.Until!.Value - now).TotalSeconds);
        }

        Assert.Equal([60, 120, 240, 300, 300, 300], lengths);
    }

    [Theory]
    [InlineData(ReceiverAnswer.Delivered)]
    [InlineData(ReceiverAnswer.Refused)]
    public void An_answer_from_a_receiver_that_is_up_ends_the_pauses(ReceiverAnswer answer)
    {
        var pause = Fail(new ReceiverPause(), At, times: 5);
        var (_, probing, _) = pause.Ask(At.AddSeconds(30), ProbeWait);

        var open = probing.After(answer, At.AddSeconds(31), 5, First, Longest);

        Assert.Equal(new ReceiverPause(), open);
        Assert.True(open.Ask(At.AddSeconds(31), ProbeWait).Go);
        Assert.True(Fail(open, At.AddSeconds(31), times: 4).Ask(At.AddSeconds(31), ProbeWait).Go); // counted from nothing again
    }

    [Fact]
    public void A_limit_of_zero_never_pauses()
    {
        var pause = new ReceiverPause();
        for (var i = 0; i < 100; i++) pause = pause.After(ReceiverAnswer.Unavailable, At, 0, First, Longest);

        Assert.True(pause.Ask(At, ProbeWait).Go);
    }
}
