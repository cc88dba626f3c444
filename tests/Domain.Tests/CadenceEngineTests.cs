using Collections.Domain;
using Collections.Domain.Cadence;

namespace Collections.Domain.Tests;

public sealed class CadenceEngineTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 15, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private static readonly CadencePolicy Policy = CadencePolicies.Standard;
    private static readonly CadenceSituation Owing = new(300m, false, false, false);

    private static CadenceEvaluation Eval(CadenceProgress p, DateTimeOffset now, CadenceSituation? s = null) =>
        CadenceEngine.Evaluate(p, Policy, s ?? Owing, Day, now);

    private static CadenceProgress Run(CadenceProgress p, CadenceStep step, DateTimeOffset at) =>
        CadenceEngine.Record(p, new StepRecord { StepId = step.StepId, Outcome = StepOutcome.Done, Action = step.Action, PolicyReference = Policy.Reference, At = at, Reason = "sent" });

    [Fact]
    public void A_positive_patient_balance_starts_the_cadence_with_the_statement_due_at_once()
    {
        var e = Eval(new CadenceProgress(), Start);
        Assert.Equal(CadenceStatus.Active, e.Status);
        Assert.Equal("statement", e.DueStep!.StepId);
        Assert.Equal(Start, e.Progress.StartedAt);
        Assert.Equal(1, e.Progress.Cycle);
    }

    [Fact]
    public void After_a_step_the_next_wake_up_is_the_next_steps_day()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = Run(e.Progress, e.DueStep!, Start);

        var next = Eval(p, Start.AddMinutes(1));

        Assert.Null(next.DueStep);
        Assert.Equal(Start.AddDays(15), next.WakeAt);
    }

    [Fact]
    public void Walking_the_standard_policy_visits_every_step_in_order()
    {
        var p = new CadenceProgress();
        var now = Start;
        var seen = new List<string>();
        for (var guard = 0; guard < 50; guard++)
        {
            var e = Eval(p, now);
            p = e.Progress;
            if (e.DueStep is { } step) { seen.Add(step.StepId); p = Run(p, step, now); continue; }
            if (e.WakeAt is null) break;
            now = e.WakeAt.Value;
        }
        Assert.Equal(["statement", "reminder-15", "reminder-30", "call-45", "final-notice", "agency"], seen);
        Assert.Equal(CadenceStatus.Finished, Eval(p, now).Status);
    }

    [Fact]
    public void A_zero_balance_ends_the_cycle_and_a_new_balance_starts_a_new_one()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = Run(e.Progress, e.DueStep!, Start);

        var paid = Eval(p, Start.AddDays(3), Owing with { PatientResponsibility = 0m });
        Assert.Equal(CadenceStatus.Idle, paid.Status);
        Assert.Null(paid.WakeAt);
        Assert.False(paid.Progress.IsRunning);

        var again = Eval(paid.Progress, Start.AddDays(40));
        Assert.Equal(2, again.Progress.Cycle);
        Assert.Equal("statement", again.DueStep!.StepId);
    }

    [Fact]
    public void A_restart_begins_a_new_cycle_at_its_statement_with_the_balance_still_owed()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = Run(e.Progress, e.DueStep!, Start);
        var later = Eval(p, Start.AddDays(16));
        p = Run(later.Progress, later.DueStep!, Start.AddDays(16)); // reminder-15

        var restarted = CadenceEngine.Restart(p, Start.AddDays(20));
        var again = Eval(restarted, Start.AddDays(20));

        Assert.Equal((2, Start.AddDays(20), true), (restarted.Cycle, restarted.StartedAt, restarted.IsRunning));
        Assert.Equal("statement", again.DueStep!.StepId);
        Assert.Equal(2, again.Progress.Cycle);
        Assert.Empty(again.Progress.Steps);
        var soon = Start.AddDays(16).AddHours(6);
        Assert.Equal(Start.AddDays(17), Eval(CadenceEngine.Restart(p, soon), soon).WakeAt); // still a day after the last step
        var idle = new CadenceProgress();
        Assert.Same(idle, CadenceEngine.Restart(idle, Start)); // not running: the next balance starts a cycle
    }

    [Fact]
    public void A_credit_balance_also_ends_the_cadence() =>
        Assert.Equal(CadenceStatus.Idle, Eval(new CadenceProgress(), Start, Owing with { PatientResponsibility = -20m }).Status);

    [Fact]
    public void Time_on_hold_shifts_the_schedule_so_the_cadence_resumes_at_the_step_it_had_reached()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = Run(e.Progress, e.DueStep!, Start);

        var held = Eval(p, Start.AddDays(10), Owing with { HasActiveHold = true });
        Assert.Equal(CadenceStatus.OnHold, held.Status);
        Assert.Null(held.WakeAt);

        // Released 20 days later: the day-15 reminder is now due on day 35.
        var released = Eval(held.Progress, Start.AddDays(30));
        Assert.Null(released.DueStep);
        Assert.Equal(Start.AddDays(35), released.WakeAt);
    }

    [Fact]
    public void Overdue_steps_catch_up_one_day_apart_not_in_a_burst()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = Run(e.Progress, e.DueStep!, Start);
        var late = Start.AddDays(40); // reminders of day 15 and 30 are both overdue

        var first = Eval(p, late);
        Assert.Equal("reminder-15", first.DueStep!.StepId);
        p = Run(first.Progress, first.DueStep, late);

        var second = Eval(p, late);
        Assert.Null(second.DueStep);
        Assert.Equal(late.AddDays(1), second.WakeAt);
    }

    [Fact]
    public void A_deferred_step_is_not_due_before_its_deferral()
    {
        var e = Eval(new CadenceProgress(), Start);
        var p = CadenceEngine.Defer(e.Progress, "statement", Start.AddHours(5));

        var again = Eval(p, Start.AddHours(1));

        Assert.Null(again.DueStep);
        Assert.Equal(Start.AddHours(5), again.WakeAt);
    }

    [Fact]
    public void A_shorter_day_length_runs_the_same_cadence_faster()
    {
        var e = CadenceEngine.Evaluate(new CadenceProgress(), Policy, Owing, TimeSpan.FromMinutes(1), Start);
        var p = Run(e.Progress, e.DueStep!, Start);
        Assert.Equal(Start.AddMinutes(15), CadenceEngine.Evaluate(p, Policy, Owing, TimeSpan.FromMinutes(1), Start).WakeAt);
    }

    [Fact]
    public void A_promise_or_a_plan_pauses_the_cadence()
    {
        Assert.Equal(CadenceStatus.PromisePending, Eval(new CadenceProgress(), Start, Owing with { PromisePending = true }).Status);
        Assert.Equal(CadenceStatus.OnPaymentPlan, Eval(new CadenceProgress(), Start, Owing with { OnPaymentPlan = true }).Status);
    }

    [Fact]
    public void A_reminder_goes_by_the_preferred_channel_with_its_fallback()
    {
        var step = Policy.Steps.Single(s => s.StepId == "reminder-15");
        Assert.Equal([(ContactChannel.Sms, OutreachAction.SmsReminder), (ContactChannel.Mail, OutreachAction.Letter)], CadenceEngine.Attempts(step, ContactChannel.Sms));
        Assert.Equal([(ContactChannel.Email, OutreachAction.EmailReminder), (ContactChannel.Mail, OutreachAction.Letter)], CadenceEngine.Attempts(step, ContactChannel.Email));
        Assert.Equal([(ContactChannel.Mail, OutreachAction.Letter)], CadenceEngine.Attempts(step, ContactChannel.Mail));
    }
}

public sealed class CadencePolicyTests
{
    [Fact]
    public void The_shipped_policies_are_valid()
    {
        Assert.Empty(CadencePolicies.Validate(CadencePolicies.Standard));
        Assert.Empty(CadencePolicies.Validate(CadencePolicies.SmallBalance));
    }

    [Fact]
    public void Small_balances_get_the_small_balance_policy_and_others_the_standard_one()
    {
        var policies = new[] { CadencePolicies.Standard, CadencePolicies.SmallBalance };
        Assert.Equal("small-balance", CadencePolicies.Select(policies, "MAIN", 12.50m, true)!.PolicyId);
        Assert.Equal("standard", CadencePolicies.Select(policies, "MAIN", 25.00m, true)!.PolicyId);
    }

    [Fact]
    public void A_facilitys_own_policy_wins_over_the_shared_one()
    {
        var own = CadencePolicies.Standard with { PolicyId = "east", Facility = "EAST" };
        Assert.Equal("east", CadencePolicies.Select([CadencePolicies.Standard, own], "EAST", 100m, true)!.PolicyId);
        Assert.Equal("standard", CadencePolicies.Select([CadencePolicies.Standard, own], "MAIN", 100m, true)!.PolicyId);
    }

    [Fact]
    public void Every_mistake_in_a_policy_is_reported_with_its_place()
    {
        var bad = CadencePolicies.Standard with
        {
            Name = "",
            Steps =
            [
                new CadenceStep { StepId = "a", Day = -1, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Sms },
                new CadenceStep { StepId = "a", Day = 10, Action = OutreachAction.CallTask, Channel = ContactChannel.Email },
                new CadenceStep { StepId = "agency", Day = 100, Action = OutreachAction.AgencyPlacement },
            ],
        };

        var fields = CadencePolicies.Validate(bad).Select(e => e.Field).ToList();

        Assert.Contains("name", fields);
        Assert.Contains("steps[0].day", fields);
        Assert.Contains("steps[0].channel", fields);
        Assert.Contains("steps[1].stepId", fields);
        Assert.Contains("steps[1].channel", fields);
        Assert.Contains("steps[2]", fields); // agency placement without a final notice
    }

    [Fact]
    public void An_agency_placement_too_soon_after_the_final_notice_is_refused()
    {
        var policy = CadencePolicies.Standard with
        {
            Steps = [.. CadencePolicies.Standard.Steps.Where(s => s.StepId != "agency"), new CadenceStep { StepId = "agency", Day = 100, Action = OutreachAction.AgencyPlacement }],
        };
        Assert.Contains(CadencePolicies.Validate(policy), e => e.Code == "eca.notice-too-late");
    }

    [Fact]
    public void A_final_notice_counts_for_the_cycle_it_was_sent_in_and_one_kept_before_cycles_were_recorded_is_read_from_the_steps()
    {
        var t0 = new DateTimeOffset(2026, 1, 5, 15, 0, 0, TimeSpan.Zero);
        StepRecord Notice(DateTimeOffset at) => new() { StepId = "final-notice", Outcome = StepOutcome.Done, Action = OutreachAction.FinalNotice, PolicyReference = "standard v1", At = at, Reason = "sent" };
        var cycle2 = new CadenceProgress { Cycle = 2, StartedAt = t0.AddDays(300), Steps = [] };

        // Kept with its cycle: only that cycle's actions may rely on it.
        Assert.Equal(t0.AddDays(90), FinalNotices.For(1, t0.AddDays(90), 1, cycle2));
        Assert.Null(FinalNotices.For(2, t0.AddDays(90), 1, cycle2));
        // A run starting cycle 3 asks for it: the stored cycle 2's notice does not count.
        Assert.Null(FinalNotices.For(3, t0.AddDays(390), 2, cycle2));

        // Recorded by the earlier release (no cycle; it kept the first notice ever, from cycle 1):
        Assert.Null(FinalNotices.For(2, t0.AddDays(90), null, cycle2)); // cycle 2 has sent none
        var noticed = cycle2 with { Steps = [Notice(t0.AddDays(390))] };
        Assert.Equal(t0.AddDays(390), FinalNotices.For(2, t0.AddDays(90), null, noticed)); // cycle 2's own step is its notice
        Assert.Equal(t0.AddDays(320), FinalNotices.For(2, t0.AddDays(320), null, cycle2)); // recorded within the running cycle
        Assert.Null(FinalNotices.For(2, null, null, noticed)); // nothing recorded at all
    }

    [Theory]
    [InlineData(200, 12, "eca.credit-too-early")]
    [InlineData(364, 12, "eca.credit-too-early")]
    [InlineData(365, 12, null)]
    [InlineData(400, 12, null)]
    [InlineData(200, 6, null)]   // a shorter wait in force: six months can be 181 days (September to February)
    [InlineData(181, 6, null)]
    [InlineData(180, 6, "eca.credit-too-early")]
    public void A_credit_report_step_before_the_bureaus_wait_is_refused_when_the_policy_is_saved(int day, int waitMonths, string? code)
    {
        Assert.Equal((365, 181, 28), (CadencePolicies.FewestDays(12), CadencePolicies.FewestDays(6), CadencePolicies.FewestDays(1)));
        SavedWithCreditStep(day, waitMonths, code);
    }

    private static void SavedWithCreditStep(int day, int waitMonths, string? code)
    {
        var policy = CadencePolicies.Standard with
        {
            Steps = [.. CadencePolicies.Standard.Steps, new CadenceStep { StepId = "credit", Day = day, Action = OutreachAction.CreditReporting }],
        };
        var errors = CadencePolicies.Validate(policy, new Compliance.ComplianceRules { CreditReportingWaitMonths = waitMonths });
        if (code is null) Assert.Empty(errors);
        else Assert.Equal(("steps[" + (policy.Steps.Count - 1) + "].day", code), (Assert.Single(errors).Field, Assert.Single(errors).Code));
    }

    [Fact]
    public void A_policy_is_checked_against_the_notice_and_waiting_periods_in_force_not_the_defaults()
    {
        Assert.Empty(CadencePolicies.Validate(CadencePolicies.Standard)); // final notice day 90, placement day 120
        var stricter = new Compliance.ComplianceRules { EcaNoticePeriod = TimeSpan.FromDays(45), EcaWaitAfterFirstStatement = TimeSpan.FromDays(150) };
        var errors = CadencePolicies.Validate(CadencePolicies.Standard, stricter);
        Assert.Contains(errors, e => e.Code == "eca.notice-too-late" && e.Message.Contains("45 days", StringComparison.Ordinal));
        var later = CadencePolicies.Standard with
        {
            Steps = [.. CadencePolicies.Standard.Steps.Where(s => s.StepId != "agency"), new CadenceStep { StepId = "agency", Day = 140, Action = OutreachAction.AgencyPlacement }],
        };
        Assert.Contains(CadencePolicies.Validate(later, stricter), e => e.Code == "eca.too-early" && e.Message.Contains("day 150", StringComparison.Ordinal));
    }
}
