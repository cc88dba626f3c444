using Collections.Domain.Cadence;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

/// <summary>A policy's control share: which accounts it keeps to the baseline, and that the cadence honours it.</summary>
public sealed class ControlGroupTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 15, 0, 0, TimeSpan.Zero);

    private static CadencePolicy Policy(decimal share) => CadencePolicies.Standard with { PolicyId = "standard", ControlShare = share };

    [Fact]
    public void The_assignment_is_stable_per_account_and_policy_and_takes_the_share_asked()
    {
        var policy = Policy(0.2m);
        var accounts = Enumerable.Range(0, 20_000).Select(i => $"MAIN/A{i}").ToList();

        var control = accounts.Count(a => ControlGroups.InControl(policy, a));

        Assert.InRange(control / 20_000.0, 0.19, 0.21);
        Assert.All(accounts.Take(500), a => Assert.Equal(ControlGroups.InControl(policy, a), ControlGroups.InControl(policy with { Version = 7 }, a)));
        Assert.DoesNotContain(accounts, a => ControlGroups.InControl(Policy(0m), a));
        Assert.All(accounts.Take(2000).Where(a => ControlGroups.InControl(Policy(0.1m), a)), a => Assert.True(ControlGroups.InControl(policy, a))); // a larger share only adds
        var other = policy with { PolicyId = "other" };
        Assert.NotEqual(accounts.Select(a => ControlGroups.InControl(policy, a)), accounts.Select(a => ControlGroups.InControl(other, a)));
    }

    [Fact]
    public async Task A_control_account_gets_its_statement_and_no_other_step_and_the_skip_says_why()
    {
        var policy = Policy(0.5m);
        var made = new List<CadenceAttempt>();
        var progress = new CadenceProgress();
        for (var day = 0; day <= 120; day++)
        {
            var run = await CadenceRun.RunAsync(progress, policy, new CadenceSituation(300m, false, false, false, InControlGroup: true), ContactChannel.Sms, TimeSpan.FromDays(1),
                Start.AddDays(day), takeSteps: true, _ => ValueTask.FromResult(GateDecision.Allowed), (a, _) => made.Add(a));
            progress = run.Evaluation.Progress;
        }

        Assert.All(made, a => Assert.Equal(OutreachAction.PatientStatement, a.Step.Action));
        Assert.NotEmpty(made);
        var skipped = progress.Steps.Where(s => s.Outcome == StepOutcome.Skipped).ToList();
        Assert.NotEmpty(skipped);
        Assert.All(skipped, s => Assert.Equal(ControlGroups.SkipReason, s.Reason));
        Assert.Equal(policy.Steps.Count, progress.Steps.Count);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(0.6)]
    public void A_control_share_outside_0_to_half_is_refused(double share)
    {
        var errors = CadencePolicies.Validate(Policy((decimal)share));
        Assert.Contains(errors, e => e.Code == "control-share.out-of-range");
    }
}
