using System.Globalization;
using System.Text;
using Collections.Cli.Simulation;

namespace Collections.Cli;

/// <summary>Prints a simulation report as an aligned text table, policies side by side.</summary>
public static class ReportWriter
{
    private static readonly CultureInfo Us = CultureInfo.GetCultureInfo("en-US");

    public static string Table(SimulationReport report)
    {
        var scenarios = report.Scenarios;
        var rows = new List<(string Label, string[] Values)>();
        void Row(string label, Func<ScenarioResult, string> value) => rows.Add(("  " + label, [.. scenarios.Select(value)]));
        void Section(string title) => rows.Add((title, [.. scenarios.Select(_ => "")]));
        static string N(long n) => n.ToString("N0", Us);
        static string Money(decimal d) => d.ToString("C0", Us);

        rows.Add(("policy", [.. scenarios.Select(s => s.Name)]));
        rows.Add(("  in force", [.. scenarios.Select(s => s.Policies)]));
        Section("contacts and actions");
        foreach (var (key, label) in new[]
                 {
                     ("statements", "statements"), ("emailReminders", "email reminders"), ("texts", "texts"), ("letters", "letters"),
                     ("callTasks", "call tasks"), ("finalNotices", "final notices"), ("installmentReminders", "installment reminders"),
                     ("agencyPlacements", "agency placements"), ("writeOffReviews", "write-off reviews"),
                 })
            Row(label, s => N(s.Actions[key]));
        foreach (var channel in new[] { "mail", "email", "sms", "voice" })
            Row($"contacts by {channel}", s => N(s.ContactsByChannel[channel]));
        Row("contacts, total", s => N(s.Contacts));
        Section("compliance gate");
        Row("allowed", s => N(s.GateAllowed));
        foreach (var rule in scenarios.SelectMany(s => s.Deferred.Keys).Distinct().Order(StringComparer.Ordinal))
            Row($"deferred: {rule}", s => N(s.Deferred.GetValueOrDefault(rule)));
        foreach (var rule in scenarios.SelectMany(s => s.Denied.Keys).Distinct().Order(StringComparer.Ordinal))
            Row($"denied: {rule}", s => N(s.Denied.GetValueOrDefault(rule)));
        Row("steps skipped (balance under step minimum)", s => N(s.StepsSkippedBelowMinimum));
        Section("outcome");
        Row("collected", s => Money(s.Collected));
        Row("collected, % of starting balance", s => s.CollectedPercent.ToString("0.00", Us) + " %");
        Row("collected per contact", s => s.CollectedPerContact is { } c ? c.ToString("C2", Us) : "-");
        Row("accounts paying anything", s => N(s.AccountsPaying));
        Row("accounts paid in full", s => N(s.AccountsPaidInFull));
        Row("days to pay in full, median", s => s.MedianDaysToPay?.ToString("0.#", Us) ?? "-");
        Row("days to pay in full, mean", s => s.MeanDaysToPay?.ToString("0.0", Us) ?? "-");
        Row("placed with agency (accounts)", s => N(s.PlacedWithAgency));
        Row("placed with agency (balance)", s => Money(s.PlacedBalance));
        Row("first placement, day", s => s.EarliestPlacementDay?.ToString(Us) ?? "-");
        Row("balance left (not placed)", s => Money(s.EndingBalance));
        Section("patient behaviour");
        Row("promises made / kept", s => $"{N(s.PromisesMade)} / {N(s.PromisesKept)}");
        Row("plans started / completed / defaulted", s => $"{N(s.PlansStarted)} / {N(s.PlansCompleted)} / {N(s.PlansDefaulted)}");
        Row("conversations (right-party contacts)", s => N(s.Conversations));
        Row("disputes (hold 30-60 days)", s => N(s.Disputes));
        Row("STOP replies to texts", s => N(s.StopReplies));

        var labelWidth = rows.Max(r => r.Label.Length) + 2;
        var widths = Enumerable.Range(0, scenarios.Count).Select(i => Math.Max(12, rows.Max(r => r.Values[i].Length)) + 2).ToArray();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Portfolio: {N(report.Accounts)} accounts (seed {report.Seed}), {report.Days} days from {report.Start:yyyy-MM-dd}, starting patient balance {Money(report.StartingBalance)} (median {report.MedianBalance.ToString("C2", Us)})");
        text.AppendLine();
        foreach (var (label, values) in rows)
        {
            text.Append(label.PadRight(labelWidth));
            for (var i = 0; i < values.Length; i++) text.Append(label == "policy" || label == "  in force" ? values[i].PadRight(widths[i]) : values[i].PadLeft(widths[i]));
            text.AppendLine();
            if (label == "  in force") text.AppendLine(new string('-', labelWidth + widths.Sum()));
        }
        var t = report.Timing;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Simulated {N(t.AccountDays)} account-days ({scenarios.Count} policies) in {t.Seconds:0.0} s on {t.Threads} threads: {N((long)t.AccountDaysPerSecond)} account-days/s, peak working set {t.PeakWorkingSetBytes / (1024 * 1024)} MiB.");
        return text.ToString();
    }
}
