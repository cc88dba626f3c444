using Collections.Domain.Cadence;
using Collections.Domain.Kpi;

namespace Collections.Domain.Tests;

/// <summary>What the uplift report reads from an account: its group, and what it paid and reached after assignment.</summary>
public sealed class TreatmentOutcomeTests
{
    private static readonly DateTimeOffset AssignedAt = LedgerBuilder.Now.AddDays(-5);

    [Fact]
    public void Only_payments_from_the_day_of_assignment_count_net_of_reversals_and_with_the_steps_reached_since()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(LedgerBuilder.Charge(500m));
        ledger.Post(LedgerBuilder.PatientPayment(40m) with { EffectiveDate = DateOnly.FromDateTime(AssignedAt.UtcDateTime).AddDays(-1) }); // before the assignment
        var after = LedgerBuilder.PatientPayment(100m) with { EffectiveDate = DateOnly.FromDateTime(AssignedAt.UtcDateTime) };
        ledger.Post(after);
        var reversed = ledger.Post(LedgerBuilder.PatientPayment(30m) with { EffectiveDate = DateOnly.FromDateTime(AssignedAt.UtcDateTime).AddDays(3) });
        ledger.Post(LedgerBuilder.Reverse(reversed.EntryId));
        var policy = CadencePolicies.Standard with { ControlShare = 0.5m };
        var assignment = ControlGroups.Assign(policy, "MAIN/A1", AssignedAt, score: 0.42, owed: 460m) with { StepsReached = ["text-7"] }; // kept from a run whose steps the cadence has since forgotten
        StepRecord Step(string id, DateTimeOffset at) => new() { StepId = id, Outcome = StepOutcome.Done, Action = OutreachAction.PatientStatement, PolicyReference = "standard v1", At = at, Reason = "" };

        var run = new CadenceProgress
        {
            StartedAt = AssignedAt.AddHours(-1), Cycle = 1,
            Steps = [Step("statement", AssignedAt.AddHours(-1)), Step("reminder-15", AssignedAt), Step("reminder-15", AssignedAt.AddDays(1)), Step("call-45", AssignedAt.AddDays(30))],
        };

        var outcome = TreatmentOutcome.Of(ControlGroups.Record(assignment, run), ledger.Entries);

        Assert.Equal(100m, outcome.Collected);
        Assert.Equal(460m, outcome.Owed);
        Assert.Equal(0.42, outcome.ScoreAtAssignment);
        Assert.Equal(["text-7", "reminder-15", "call-45"], outcome.Steps);
        Assert.Equal(0.5m, outcome.ControlShare);
        Assert.Equal((policy.PolicyId, assignment.Control, DateOnly.FromDateTime(AssignedAt.UtcDateTime)), (outcome.PolicyId, outcome.Control, outcome.AssignedOn));
    }

    [Fact]
    public void The_outcome_changes_the_kpi_fingerprint_so_the_projection_rewrites_it()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(LedgerBuilder.Charge(100m));
        var facts = AccountKpiFacts.Of(new AccountKey("MAIN", "A1"), ledger.Entries, ledger.Balances, [], null, false);
        var assignment = ControlGroups.Assign(CadencePolicies.Standard, "MAIN/A1", AssignedAt);
        var withOutcome = facts with { Treatment = TreatmentOutcome.Of(assignment, ledger.Entries) };

        Assert.NotEqual(facts.Fingerprint(), withOutcome.Fingerprint());
        Assert.NotEqual(withOutcome.Fingerprint(), (withOutcome with { Treatment = withOutcome.Treatment! with { Collected = 1m } }).Fingerprint());
    }

    private static StepRecord Reached(string id, DateTimeOffset at) =>
        new() { StepId = id, Outcome = StepOutcome.Done, Action = OutreachAction.EmailReminder, PolicyReference = "standard v1", At = at, Reason = "" };

    [Fact]
    public void An_account_keeps_its_group_for_the_whole_debt_whichever_policy_the_cadence_selects_meanwhile()
    {
        var standard = CadencePolicies.Standard with { ControlShare = 0.2m };
        var small = CadencePolicies.SmallBalance;
        var book = new[] { standard, small };
        var assigned = ControlGroups.Assign(standard, "MAIN/A1", AssignedAt) with { Cycle = 1 };
        var running = new CadenceProgress { StartedAt = AssignedAt, Cycle = 1 };
        var idle = running with { StartedAt = null };

        Assert.True(ControlGroups.StillHolds(assigned, small, book, running, patientOwes: 20m)); // paid down into small-balance: same group
        Assert.True(ControlGroups.StillHolds(assigned, small, book, idle, patientOwes: 0m)); // paid in full: the outcome stays
        Assert.True(ControlGroups.StillHolds(assigned, small, [standard with { ControlShare = 0.3m }, small], idle, 0m)); // even if the share changes meanwhile
        Assert.False(ControlGroups.StillHolds(assigned, standard, book, idle, patientOwes: 80m)); // a new debt: a new draw
        Assert.False(ControlGroups.StillHolds(assigned, standard, book, running with { Cycle = 2 }, patientOwes: 80m));
        Assert.False(ControlGroups.StillHolds(assigned, small, [standard with { ControlShare = 0.3m }, small], running, 80m)); // its share changed
        Assert.False(ControlGroups.StillHolds(assigned, small, [small], running, 80m)); // its policy left the book
        Assert.False(ControlGroups.StillHolds(null, standard, book, running, 80m));
    }

    [Fact]
    public void An_insured_account_assigned_at_a_zero_patient_balance_is_drawn_again_when_its_debt_starts()
    {
        var standard = CadencePolicies.Standard with { ControlShare = 0.2m };
        var small = CadencePolicies.SmallBalance;
        var atZero = ControlGroups.Assign(small, "MAIN/A1", AssignedAt); // the charge went to insurance: no cycle yet
        var never = new CadenceProgress();

        Assert.True(ControlGroups.StillHolds(atZero, small, [standard, small], never, patientOwes: 0m));
        Assert.False(ControlGroups.StillHolds(atZero, standard, [standard, small], never, patientOwes: 150m)); // the transfer to the patient starts the debt
    }

    [Fact]
    public void An_account_on_the_built_in_standard_keeps_its_assignment_though_the_book_holds_a_different_standard()
    {
        var builtIn = CadencePolicies.Standard;
        var saved = builtIn with { Facility = "OTHER", ControlShare = 0.2m }; // a supervisor's standard for another facility
        var assigned = ControlGroups.Assign(builtIn, "MAIN/A1", AssignedAt) with { Cycle = 1 };

        Assert.True(ControlGroups.StillHolds(assigned, builtIn, [saved], new CadenceProgress { StartedAt = AssignedAt, Cycle = 1 }, 80m));
    }

    [Fact]
    public void The_assignment_keeps_the_steps_reached_after_the_cadence_forgets_them()
    {
        var assigned = ControlGroups.Assign(CadencePolicies.Standard, "MAIN/A1", AssignedAt);
        var progress = new CadenceProgress { StartedAt = AssignedAt, Cycle = 3, Steps = [Reached("statement", AssignedAt.AddMinutes(-1)), Reached("reminder-15", AssignedAt.AddDays(15))] };

        var recorded = ControlGroups.Record(assigned, progress);
        var afterPayment = ControlGroups.Record(recorded, progress with { StartedAt = null, Steps = [] });

        Assert.Equal(3, recorded.Cycle);
        Assert.Equal(["reminder-15"], recorded.StepsReached);
        Assert.Same(recorded, afterPayment);
        Assert.Equal(["reminder-15"], TreatmentOutcome.Of(afterPayment, []).Steps);
    }
}
