using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Scoring.Tests;

public class SyntheticHistoryTests
{
    private static readonly SyntheticOptions Options = new() { Seed = 5, Accounts = 3000 };
    private static readonly Lazy<List<SyntheticAccount>> Accounts = new(() => [.. SyntheticHistory.Accounts(Options)]);

    [Fact]
    public void The_same_seed_gives_the_same_rows_and_another_seed_other_rows()
    {
        static string Csv(int seed)
        {
            using var writer = new StringWriter();
            TrainingSet.WriteCsv(writer, SyntheticHistory.Rows(new SyntheticOptions { Seed = seed, Accounts = 300 }));
            return writer.ToString();
        }

        Assert.Equal(Csv(3), Csv(3));
        Assert.NotEqual(Csv(3), Csv(4));
    }

    [Fact]
    public void Labels_computed_from_the_history_agree_with_the_drawn_outcomes_at_every_scoring_date()
    {
        var dates = SyntheticHistory.ScoringDates(Options);
        var now = SyntheticHistory.Now(Options);
        var rows = 0;
        foreach (var account in Accounts.Value)
        {
            var labelled = TrainingSet.Rows([account.History], dates, Options.Label, now).ToList();
            // Every labellable row had a draw, and every draw is a labellable row with the drawn outcome.
            Assert.Equal(account.Outcomes.Keys.Order(), labelled.Select(r => r.ScoringDate).Order());
            foreach (var row in labelled) Assert.Equal(account.Outcomes[row.ScoringDate], row.Label);
            rows += labelled.Count;
        }
        Assert.True(rows > 4000, $"{rows} rows");
    }

    [Fact]
    public void The_true_probabilities_are_calibrated_against_the_labels()
    {
        var rows = SyntheticHistory.Rows(Options).ToList();

        var meanProbability = rows.Average(r => r.TrueProbability!.Value);
        var positiveRate = rows.Average(r => r.Label ? 1.0 : 0.0);
        var auc = Metrics.Auc([.. rows.Select(r => r.TrueProbability!.Value)], [.. rows.Select(r => r.Label)]);

        Assert.InRange(positiveRate, 0.2, 0.5);
        Assert.InRange(meanProbability - positiveRate, -0.02, 0.02);
        Assert.InRange(auc, 0.8, 0.9);
    }

    [Fact]
    public void Histories_hold_every_kind_of_event_collections_sees()
    {
        var histories = Accounts.Value.Select(a => a.History).ToList();
        var entries = histories.SelectMany(h => h.Entries).ToList();
        var contacts = histories.SelectMany(h => h.Contacts).ToList();

        foreach (var kind in new[] { EntryKind.Charge, EntryKind.InsurancePayment, EntryKind.Adjustment, EntryKind.Transfer, EntryKind.PatientPayment, EntryKind.Reversal })
            Assert.Contains(entries, e => e.Kind == kind);
        foreach (var category in new[] { AdjustmentCategory.Contractual, AdjustmentCategory.Charity, AdjustmentCategory.SmallBalance, AdjustmentCategory.Administrative })
            Assert.Contains(entries, e => e.Category == category);
        foreach (var action in new[] { OutreachAction.PatientStatement, OutreachAction.EmailReminder, OutreachAction.SmsReminder, OutreachAction.Letter, OutreachAction.CallTask, OutreachAction.FinalNotice, OutreachAction.AgencyPlacement, OutreachAction.InstallmentReminder })
            Assert.Contains(contacts, c => c.Action == action);
        foreach (var outcome in new[] { ContactOutcome.RightPartyContact, ContactOutcome.NoAnswer, ContactOutcome.LeftMessage, ContactOutcome.WrongNumber })
            Assert.Contains(contacts, c => c.Outcome == outcome);
        Assert.Contains(contacts, c => c.Initiator == ContactInitiator.Inbound);
        foreach (var reason in new[] { HoldReason.Dispute, HoldReason.FinancialAssistancePending, HoldReason.Bankruptcy })
            Assert.Contains(histories.SelectMany(h => h.Holds), h => h.Reason == reason);
        var promises = histories.SelectMany(h => h.Promises).ToList();
        Assert.Contains(promises, p => p.Status == PromiseStatus.Kept);
        Assert.Contains(promises, p => p.Status == PromiseStatus.Broken);
        var plans = histories.SelectMany(h => h.Plans).ToList();
        Assert.Contains(plans, p => p.Status == PlanStatus.Defaulted);
        Assert.Contains(plans, p => p.Status == PlanStatus.Completed);
        Assert.Contains(histories, h => h.PrimaryPayer is null);
        Assert.All(histories, h => Assert.True(AccountBalances.Of(h.Entries).PatientBalance >= 0, h.AccountId));
    }

    [Fact]
    public void The_feature_extractor_recovers_the_generator_state_the_truth_depends_on()
    {
        // Promise outcomes recomputed from the ledger agree with the generator's: every promise the generator made has
        // resolved one way or the other by the next scoring date, and the extractor says the same.
        var dates = SyntheticHistory.ScoringDates(Options);
        foreach (var account in Accounts.Value.Take(1000))
            foreach (var date in account.Outcomes.Keys)
            {
                var f = FeatureExtractor.Extract(account.History, date);
                var made = account.History.Promises.Where(p => p.CreatedAt <= date).ToList();
                Assert.Equal(made.Count(p => p.Status == PromiseStatus.Kept && p.ResolvedAt <= date), (int)f.PromisesKept);
                Assert.Equal(made.Count(p => p.Status == PromiseStatus.Broken && p.ResolvedAt <= date), (int)f.PromisesBroken);
                var plans = account.History.Plans.Where(p => p.CreatedAt <= date).ToList();
                Assert.Equal(plans.Count(p => p.Status == PlanStatus.Defaulted && p.EndedAt <= date), (int)f.PlansDefaulted);
            }
        Assert.NotEmpty(dates);
    }
}
