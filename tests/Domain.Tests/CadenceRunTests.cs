using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

/// <summary>The one cadence run the account grain and the simulator share.</summary>
public sealed class CadenceRunTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 15, 0, 0, TimeSpan.Zero);
    private static readonly CadenceSituation Owing = new(300m, false, false, false);

    private static CadenceRunResult Run(CadenceProgress progress, DateTimeOffset now, bool takeSteps, Func<CadenceAttempt, GateDecision> gate, List<CadenceAttempt> made) =>
        CadenceRun.RunAsync(progress, CadencePolicies.Standard, Owing, ContactChannel.Email, TimeSpan.FromDays(1), now, takeSteps,
            a => ValueTask.FromResult(gate(a)), (a, _) => made.Add(a)).AsTask().GetAwaiter().GetResult();

    [Fact]
    public void Inside_another_command_a_due_step_is_reported_and_no_gate_is_asked()
    {
        var made = new List<CadenceAttempt>();
        var result = Run(new CadenceProgress(), Start, takeSteps: false, _ => throw new InvalidOperationException("no contact may be asked for"), made);
        Assert.True(result.StepLeftDue);
        Assert.Equal("statement", result.Evaluation.DueStep!.StepId);
        Assert.Equal(CadenceStatus.Active, result.Evaluation.Status);
        Assert.Empty(made);
    }

    [Fact]
    public void A_closed_channel_falls_back_to_the_next_and_the_run_ends_at_the_next_wake_up()
    {
        var made = new List<CadenceAttempt>();
        var asked = new List<(string Step, ContactChannel? Channel)>();
        GateDecision Gate(CadenceAttempt a)
        {
            asked.Add((a.Step.StepId, a.Channel));
            return a.Channel == ContactChannel.Email ? GateDecision.Deny("channel.opted-out", "Opted out of email.") : GateDecision.Allowed;
        }
        var first = Run(new CadenceProgress(), Start, takeSteps: true, Gate, made);
        Assert.Equal(Start.AddDays(15), first.Evaluation.WakeAt);

        // Day 15: the reminder goes by the preferred channel (email, closed), then its fallback (mail).
        var result = Run(first.Evaluation.Progress, Start.AddDays(15), takeSteps: true, Gate, made);

        Assert.False(result.StepLeftDue);
        Assert.Equal([("statement", ContactChannel.Mail), ("reminder-15", ContactChannel.Mail)], made.Select(m => (m.Step.StepId, m.Channel)).ToList());
        Assert.Equal(OutreachAction.Letter, made[1].Action); // a reminder by mail is a letter
        Assert.Equal([("statement", (ContactChannel?)ContactChannel.Mail), ("reminder-15", ContactChannel.Email), ("reminder-15", ContactChannel.Mail)], asked);
        Assert.Equal(Start.AddDays(30), result.Evaluation.WakeAt);
    }

    [Fact]
    public void A_deferral_keeps_the_step_and_moves_the_wake_up_to_the_gates_time()
    {
        var made = new List<CadenceAttempt>();
        var morning = Start.AddHours(10);
        var result = Run(new CadenceProgress(), Start, takeSteps: true, _ => GateDecision.Defer("window.local-time", "Too late in the day.", morning), made);
        Assert.Empty(made);
        Assert.Equal(morning, result.Evaluation.WakeAt);
        Assert.Empty(result.Evaluation.Progress.Steps);
    }
}
