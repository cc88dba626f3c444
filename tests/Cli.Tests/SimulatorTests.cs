using System.Text.Json;
using Collections.Cli;
using Collections.Cli.Simulation;
using Collections.Domain;
using Collections.Domain.Cadence;

namespace Collections.Cli.Tests;

public class SimulatorTests
{
    private static readonly SimulationOptions Small = new() { Accounts = 2_000, Days = 150, Seed = 42 };

    private static PolicyScenario[] ShippedVsVariant =>
        [PolicyScenario.Shipped("shipped"), PolicyScenario.Shipped("variant", DefaultPolicies.EarlyCallAndTexts)];

    private static string Json(object value) => JsonSerializer.Serialize(value, PolicyFiles.Json);

    [Fact]
    public void The_same_seed_gives_identical_results_whatever_the_number_of_threads()
    {
        var one = PortfolioSimulator.Run(Small with { MaxDegreeOfParallelism = 1 }, ShippedVsVariant);
        var two = PortfolioSimulator.Run(Small with { MaxDegreeOfParallelism = 2 }, ShippedVsVariant);
        var again = PortfolioSimulator.Run(Small, ShippedVsVariant);

        Assert.Equal(Json(one.Scenarios), Json(two.Scenarios));
        Assert.Equal(Json(one.Scenarios), Json(again.Scenarios));
        Assert.True(one.Scenarios[0].Collected > 0);
    }

    [Fact]
    public void Another_seed_gives_another_portfolio()
    {
        var a = PortfolioSimulator.Run(Small, ShippedVsVariant);
        var b = PortfolioSimulator.Run(Small with { Seed = 43 }, ShippedVsVariant);
        Assert.NotEqual(a.StartingBalance, b.StartingBalance);
    }

    [Fact]
    public void Every_policy_sees_the_same_starting_balances()
    {
        var report = PortfolioSimulator.Run(Small, [.. ShippedVsVariant, Scenario("nothing", NoSteps)]);

        Assert.All(report.Scenarios, s => Assert.Equal(report.StartingBalance, s.StartingBalance));
        Assert.Equal(Portfolio.Generate(Small.Accounts, Small.Seed, new PortfolioModel()).Sum(a => a.BalanceCents) / 100m, report.StartingBalance);
    }

    [Fact]
    public void The_same_policy_under_two_names_gives_the_same_results_common_random_numbers()
    {
        var report = PortfolioSimulator.Run(Small, [PolicyScenario.Shipped("a"), PolicyScenario.Shipped("b")]);
        Assert.Equal(Json(report.Scenarios[0] with { Name = "" }), Json(report.Scenarios[1] with { Name = "" }));
    }

    [Fact]
    public void A_policy_with_no_steps_contacts_nobody_and_collects_only_spontaneous_payments()
    {
        var report = PortfolioSimulator.Run(Small, [Scenario("nothing", NoSteps), PolicyScenario.Shipped("shipped")]);
        var nothing = report.Scenarios[0];
        var shipped = report.Scenarios[1];

        // The only messages left are installment reminders for plans patients started on their own, as in the engine
        // (a plan's reminders are not cadence steps).
        Assert.All(nothing.Actions.Where(a => a.Key != "installmentReminders"), a => Assert.Equal(0, a.Value));
        Assert.Equal(nothing.Actions["installmentReminders"], nothing.Contacts);
        Assert.Equal(0, nothing.StepsSkippedBelowMinimum);
        Assert.Equal(0, nothing.Conversations);
        Assert.Equal(0, nothing.PlacedWithAgency);
        Assert.True(nothing.Collected > 0, "some patients pay without being asked");
        Assert.True(nothing.Collected < shipped.Collected, "asking collects more than not asking");
    }

    [Fact]
    public void The_gate_keeps_an_agency_step_at_day_30_from_placing_anyone_before_day_120()
    {
        var early = new CadencePolicy
        {
            PolicyId = "too-early", Name = "Agency at day 30", Priority = 100,
            Steps =
            [
                new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "final-notice", Day = 0, Action = OutreachAction.FinalNotice, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "agency", Day = 30, Action = OutreachAction.AgencyPlacement },
            ],
        };
        Assert.Contains(CadencePolicies.Validate(early), e => e.Code == "eca.too-early"); // a supervisor could not save it

        var result = PortfolioSimulator.Run(Small, [Scenario("early", early)]).Scenarios[0];

        Assert.True(result.PlacedWithAgency > 0);
        Assert.True(result.EarliestPlacementDay >= 120, $"first placement on day {result.EarliestPlacementDay}");
        Assert.True(result.Deferred.GetValueOrDefault("eca.120-days") > 0);
    }

    [Fact]
    public void Nobody_without_consent_gets_a_text()
    {
        var options = Small with { Portfolio = new PortfolioModel { SmsConsentShare = 0 } };
        var result = PortfolioSimulator.Run(options, [PolicyScenario.Shipped("variant", DefaultPolicies.EarlyCallAndTexts)]).Scenarios[0];

        Assert.Equal(0, result.Actions["texts"]);
        Assert.Equal(0, result.ContactsByChannel["sms"]);
        Assert.True(result.Denied.GetValueOrDefault("channel.no-consent") > 0);
    }

    [Fact]
    public void A_patient_who_replied_stop_gets_no_further_text()
    {
        var options = Small with { Behaviour = new BehaviourModel { StopRate = 1.0 } };
        var result = PortfolioSimulator.Run(options, [PolicyScenario.Shipped("variant", DefaultPolicies.EarlyCallAndTexts)]).Scenarios[0];

        Assert.True(result.Actions["texts"] > 0);
        Assert.Equal(result.Actions["texts"], result.StopReplies); // each person was texted once, then replied STOP
        Assert.True(result.Denied.GetValueOrDefault("channel.opted-out") > 0);
    }

    [Fact]
    public void Collected_plus_what_is_left_and_placed_is_the_starting_balance()
    {
        foreach (var s in PortfolioSimulator.Run(Small, ShippedVsVariant).Scenarios)
            Assert.Equal(s.StartingBalance, s.Collected + s.EndingBalance + s.PlacedBalance);
    }

    [Fact]
    public void The_portfolio_has_many_small_balances_and_a_long_tail()
    {
        var cents = Portfolio.Generate(20_000, 7, new PortfolioModel()).Select(a => a.BalanceCents).Order().ToArray();
        var median = cents[cents.Length / 2] / 100m;
        var mean = cents.Average() / 100.0;
        Assert.InRange(median, 120m, 260m);
        Assert.True(mean > (double)median * 1.5, $"mean {mean} vs median {median}");
        Assert.True(cents[^1] / 100m > 5_000m);
    }

    private static CadencePolicy NoSteps => new() { PolicyId = "nothing", Name = "No contact at all", Priority = 100, Steps = [] };

    private static PolicyScenario Scenario(string name, CadencePolicy policy) => new(name, [policy]);
}
