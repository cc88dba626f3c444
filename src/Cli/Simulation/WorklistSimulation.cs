using System.Globalization;
using System.Text;
using Collections.Scoring;

namespace Collections.Cli.Simulation;

/// <summary>The knobs of the agents' worklist experiment (docs/simulation.md, "Score-prioritised outreach").</summary>
public sealed record WorklistSimulationOptions
{
    /// <summary>Accounts in the portfolio the agents work (a different seed from the training accounts).</summary>
    public int Accounts { get; init; } = 20_000;
    /// <summary>Synthetic accounts the model is trained on.</summary>
    public int TrainingAccounts { get; init; } = 20_000;
    public int Seed { get; init; } = 1;
    public int Agents { get; init; } = 10;
    public int CallsPerAgentPerDay { get; init; } = 40;
    public int Days { get; init; } = 20;
    /// <summary>A call reaches the right party this often.</summary>
    public double RightPartyRate { get; init; } = 0.30;
    /// <summary>A conversation multiplies the account's chance of paying within the window by this (capped at 95 %).</summary>
    public double ConversationLift { get; init; } = 1.5;
    /// <summary>After a call that reached no one, the account may be called again this many days later.</summary>
    public int RetryAfterDays { get; init; } = 2;
    /// <summary>Calls per account at most (well inside 7 in 7 days).</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>A payer pays in full this often, half the balance otherwise.</summary>
    public double FullPaymentShare { get; init; } = 0.6;
}

public sealed record WorklistStrategyResult(
    string Strategy, string OrderedBy, long Calls, long RightPartyContacts, long AccountsPaid, decimal Collected, decimal PerCall, decimal PerRightPartyContact);

public sealed record WorklistSimulationReport(
    WorklistSimulationOptions Options, int PortfolioAccounts, decimal PortfolioBalance, double ModelAucOnPortfolio, double TrueProbabilityAucOnPortfolio,
    IReadOnlyList<WorklistStrategyResult> Strategies);

/// <summary>
/// Agents with a fixed number of calls a day work one portfolio three ways: in the order the live worklist uses
/// (the model's probability times the patient balance), oldest debt first (how many teams work without a model), and
/// by the generator's true probability times balance (the best any ordering can do, for scale). Every draw is a
/// counter-based hash of (seed, account, attempt, purpose), so an account reached by two strategies meets the same
/// coins: only the ordering differs.
/// </summary>
public static class WorklistSimulation
{
    private const int DrawRightParty = 1, DrawPays = 2, DrawFull = 3;

    private sealed record Candidate(int Index, decimal Balance, double Predicted, double TrueProbability, float DaysOwed);

    public static WorklistSimulationReport Run(WorklistSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var training = SyntheticHistory.Rows(new SyntheticOptions { Seed = options.Seed, Accounts = options.TrainingAccounts }).ToList();
        using var model = ModelTrainer.Train(training, new TrainingOptions { Seed = options.Seed, Version = "simulation" }).Model;

        // The portfolio: another seed's accounts at their last scoring date that still owe something.
        var portfolioOptions = new SyntheticOptions { Seed = options.Seed + 1_000_003, Accounts = options.Accounts };
        var last = SyntheticHistory.ScoringDates(portfolioOptions)[^1];
        var rows = SyntheticHistory.Rows(portfolioOptions).Where(r => r.ScoringDate == last && r.PatientBalance > 0).ToList();
        var predictions = model.ScoreBatch([.. rows.Select(r => r.Features)], withReasons: false);
        var candidates = rows.Select((r, i) => new Candidate(i, r.PatientBalance, predictions[i].Probability, r.TrueProbability ?? 0, r.Features.DaysSincePatientOwed)).ToList();

        var labels = rows.Select(r => r.Label).ToList();
        var strategies = new List<WorklistStrategyResult>
        {
            Work("score-prioritised", "probability x balance (the worklist's default)", candidates, c => c.Predicted * (double)c.Balance, options),
            Work("oldest-first", "days the patient has owed", candidates, c => c.DaysOwed, options),
            Work("true-probability", "true probability x balance (upper bound)", candidates, c => c.TrueProbability * (double)c.Balance, options),
        };
        return new WorklistSimulationReport(options, candidates.Count, candidates.Sum(c => c.Balance),
            Metrics.Auc([.. candidates.Select(c => c.Predicted)], labels), Metrics.Auc([.. candidates.Select(c => c.TrueProbability)], labels), strategies);
    }

    private static WorklistStrategyResult Work(string name, string orderedBy, List<Candidate> candidates, Func<Candidate, double> priority, WorklistSimulationOptions options)
    {
        var seed = (ulong)options.Seed;
        // Highest priority first; ties by index so the order is total and repeatable.
        var ready = new PriorityQueue<Candidate, (double Priority, int Index)>(candidates.Select(c => (c, (-priority(c), c.Index))));
        var later = new List<(int Day, Candidate Account)>();
        var attempts = new int[candidates.Count];
        long calls = 0, conversations = 0, paid = 0;
        var collected = 0m;
        var capacity = options.Agents * options.CallsPerAgentPerDay;
        for (var day = 0; day < options.Days; day++)
        {
            foreach (var (_, account) in later.Where(l => l.Day == day)) ready.Enqueue(account, (-priority(account), account.Index));
            later.RemoveAll(l => l.Day == day);
            for (var slot = 0; slot < capacity && ready.TryDequeue(out var account, out _); slot++)
            {
                var attempt = attempts[account.Index]++;
                calls++;
                if (Randomness.Uniform(seed, account.Index, attempt, DrawRightParty) >= options.RightPartyRate)
                {
                    if (attempts[account.Index] < options.MaxAttempts) later.Add((day + options.RetryAfterDays, account));
                    continue;
                }
                conversations++;
                var chance = Math.Min(0.95, account.TrueProbability * options.ConversationLift);
                if (Randomness.Uniform(seed, account.Index, 0, DrawPays) >= chance) continue; // talked, did not pay: off the list for the quiet week
                paid++;
                var amount = Randomness.Uniform(seed, account.Index, 0, DrawFull) < options.FullPaymentShare ? account.Balance : decimal.Round(account.Balance / 2, 2);
                collected += amount;
            }
        }
        return new WorklistStrategyResult(name, orderedBy, calls, conversations, paid, collected,
            calls == 0 ? 0 : decimal.Round(collected / calls, 2), conversations == 0 ? 0 : decimal.Round(collected / conversations, 2));
    }

    public static string Table(WorklistSimulationReport report)
    {
        var us = CultureInfo.GetCultureInfo("en-US");
        var o = report.Options;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"portfolio: {report.PortfolioAccounts:N0} accounts owing {report.PortfolioBalance.ToString("C0", us)}; "
            + $"{o.Agents} agents x {o.CallsPerAgentPerDay} calls a day x {o.Days} days; right-party rate {o.RightPartyRate:P0}; seed {o.Seed}");
        text.AppendLine(CultureInfo.InvariantCulture, $"model AUC on the portfolio {report.ModelAucOnPortfolio:0.000} (true probabilities: {report.TrueProbabilityAucOnPortfolio:0.000})");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"strategy",-20} {"calls",8} {"conversations",14} {"paid",7} {"collected",12} {"$/call",8} {"$/conversation",15}  ordered by");
        foreach (var s in report.Strategies)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Strategy,-20} {s.Calls,8:N0} {s.RightPartyContacts,14:N0} {s.AccountsPaid,7:N0} {s.Collected.ToString("C0", us),12} {s.PerCall.ToString("C2", us),8} {s.PerRightPartyContact.ToString("C2", us),15}  {s.OrderedBy}");
        return text.ToString();
    }
}
