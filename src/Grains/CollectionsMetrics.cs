using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Collections.Domain;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>
/// The engine's own instruments (meter <c>Collections.Accounts</c>): what was posted, which steps the cadences took, what
/// the compliance gate decided, how accounts were scored, what patients paid by card, and how deep the agents'
/// worklists are. Tags are codes, kinds and versions only: never an account, a person or free text.
/// Counted after the command's commit, so a rolled-back command counts nothing.
/// </summary>
public static class CollectionsMetrics
{
    public const string MeterName = "Collections.Accounts";
    public static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Postings = Meter.CreateCounter<long>("collections.postings", "{entry}", "Ledger entries committed");
    private static readonly Counter<double> PostedAmount = Meter.CreateCounter<double>("collections.posted.amount", "USD", "Sum of the ledger entries committed (absolute amounts)");
    private static readonly Counter<long> Payments = Meter.CreateCounter<long>("collections.payments", "{payment}", "Payments committed to ledgers (patients' and insurers'), by kind and method");
    private static readonly Counter<double> PaymentAmount = Meter.CreateCounter<double>("collections.payments.amount", "USD", "Sum of the payments committed to ledgers");
    private static readonly Counter<long> CadenceSteps = Meter.CreateCounter<long>("collections.cadence.steps", "{step}", "Cadence steps taken (after the gate allowed them)");
    private static readonly Counter<long> GateDecisions = Meter.CreateCounter<long>("collections.gate.decisions", "{decision}", "Compliance gate decisions, by rule and verdict");
    private static readonly Counter<long> Scores = Meter.CreateCounter<long>("collections.scores", "{score}", "Accounts scored, by model version");
    private static readonly Counter<long> CardPayments = Meter.CreateCounter<long>("collections.card-payments", "{payment}", "Card payments settled by the processor, by source and outcome");
    private static readonly ConcurrentDictionary<string, int> WorklistDepths = new(StringComparer.Ordinal);

    static CollectionsMetrics() =>
        Meter.CreateObservableGauge("collections.worklist.depth",
            () => WorklistDepths.Select(q => new Measurement<int>(q.Value, new KeyValuePair<string, object?>("collections.queue", q.Key))),
            "{account}", "Accounts waiting in each agents' worklist queue");

    /// <summary>Whether anything listens to the cadence-step and score counters (telemetry is off unless configured).</summary>
    public static bool CountsSteps => CadenceSteps.Enabled;

    public static bool CountsScores => Scores.Enabled;

    public static void Committed(IEnumerable<LedgerEntry> entries)
    {
        if (!Postings.Enabled && !Payments.Enabled) return; // telemetry off: nothing to build tags for
        foreach (var entry in entries)
        {
            var kind = new KeyValuePair<string, object?>("collections.entry.kind", entry.Kind.ToString());
            var party = new KeyValuePair<string, object?>("collections.entry.party", entry.Party?.ToString() ?? "none");
            Postings.Add(1, kind, party);
            PostedAmount.Add((double)Math.Abs(entry.Amount), kind, party);
            if (entry.Kind is EntryKind.PatientPayment or EntryKind.InsurancePayment)
            {
                var method = new KeyValuePair<string, object?>("collections.payment.method", entry.Method?.ToString() ?? "unspecified");
                Payments.Add(1, kind, method);
                PaymentAmount.Add((double)Math.Abs(entry.Amount), kind, method);
            }
        }
    }

    public static void StepTaken(OutreachAction action, ContactChannel? channel) =>
        CadenceSteps.Add(1, new("collections.action", action.ToString()), new("collections.channel", channel?.ToString() ?? "none"));

    public static void Decided(OutreachAction action, GateDecision decision) =>
        GateDecisions.Add(1, new("collections.action", action.ToString()), new("collections.gate.rule", decision.Rule),
            new("collections.gate.verdict", decision.Verdict.ToString()));

    public static void Scored(string modelVersion) => Scores.Add(1, new KeyValuePair<string, object?>("collections.model.version", modelVersion));

    public static void CardPaymentSettled(string source, string outcome) =>
        CardPayments.Add(1, new("collections.payment.source", source), new("collections.payment.outcome", outcome));

    public static void WorklistDepth(string queue, int depth) => WorklistDepths[queue] = depth;

    /// <summary>The queue's grain left this silo: another silo reports its depth now (or nobody, until it is activated).</summary>
    public static void WorklistDepthGone(string queue) => WorklistDepths.TryRemove(queue, out _);
}
