using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using CsCheck;

namespace Collections.Scoring.Tests;

/// <summary>
/// No future information leaks: whatever happens after the time asked about (payments, reversals, charges, contacts,
/// holds and their releases, promises and their resolution, plans and their status), the features at that time do not
/// change; and the label depends only on what happens in its window after that time.
/// </summary>
public class PointInTimeProperties
{
    private static readonly SyntheticOptions Options = new() { Seed = 11, Accounts = 400 };
    private static readonly Lazy<SyntheticAccount[]> Accounts = new(() => [.. SyntheticHistory.Accounts(Options).Where(a => a.History.Entries.Count > 3)]);

    private enum Kind { Payment, Reversal, Charge, Charity, Transfer, Contact, NewHold, ReleaseHold, NewPromise, ResolvePromise, NewPlan, EndPlan }

    private sealed record FutureEvent(Kind Kind, double Days, decimal Amount, int Pick, OutreachAction Action, ContactOutcome Outcome, ContactInitiator Initiator, HoldReason Reason, int Status);

    private static readonly Gen<FutureEvent> GenEvent =
        from kind in Gen.Enum<Kind>()
        from days in Gen.Frequency((3, Gen.Double[0.00001, 2]), (3, Gen.Double[2, 90]), (2, Gen.Double[90, 400]))
        from cents in Gen.Int[1, 500_000]
        from pick in Gen.Int[0, 1000]
        from action in Gen.Enum<OutreachAction>()
        from outcome in Gen.Enum<ContactOutcome>()
        from initiator in Gen.Enum<ContactInitiator>()
        from reason in Gen.Enum<HoldReason>()
        from status in Gen.Int[0, 2]
        select new FutureEvent(kind, days, cents / 100m, pick, action, outcome, initiator, reason, status);

    private static readonly Gen<(SyntheticAccount Account, DateTimeOffset AsOf, FutureEvent[] Events)> GenCase =
        from index in Gen.Int[0, 10_000]
        from dateIndex in Gen.Int[0, Options.ScoringDates - 1]
        from minutes in Gen.Frequency((2, Gen.Const(0)), (1, Gen.Int[1, 60 * 24 * 60]))
        from events in GenEvent.Array[1, 25]
        let accounts = Accounts.Value
        select (accounts[index % accounts.Length], SyntheticHistory.ScoringDates(Options)[dateIndex].AddMinutes(minutes), events);

    [Fact]
    public void Features_at_a_time_do_not_change_whatever_happens_after_it()
    {
        GenCase.Sample(c =>
        {
            var history = c.Account.History;
            var future = After(history, c.AsOf, c.Events);
            var before = FeatureExtractor.Extract(history, c.AsOf);
            var after = FeatureExtractor.Extract(future, c.AsOf);
            Assert.True(before.SameValues(after), $"{history.AccountId} at {c.AsOf:O}:\n{before}\n{after}");
        }, iter: 1500);
    }

    [Fact]
    public void The_label_does_not_change_with_what_happens_after_its_window()
    {
        var definition = new LabelDefinition();
        var now = SyntheticHistory.Now(Options).AddDays(400);
        GenCase.Sample(c =>
        {
            var end = c.AsOf.AddDays(definition.WindowDays);
            var history = c.Account.History;
            var future = After(history, end, c.Events);
            Assert.Equal(PaymentLabel.Evaluate(history, c.AsOf, definition, now), PaymentLabel.Evaluate(future, c.AsOf, definition, now));
        }, iter: 1000);
    }

    [Fact]
    public void The_label_does_not_change_with_contacts_holds_promises_or_plans_at_any_time()
    {
        var definition = new LabelDefinition();
        var now = SyntheticHistory.Now(Options).AddDays(400);
        var notLedger = GenCase.Select(c => c with { Events = [.. c.Events.Where(e => e.Kind is Kind.Contact or Kind.NewHold or Kind.ReleaseHold or Kind.NewPromise or Kind.ResolvePromise or Kind.NewPlan or Kind.EndPlan)] });
        notLedger.Sample(c =>
        {
            var history = c.Account.History;
            // From 60 days before the time: before and after it.
            var changed = After(history, c.AsOf.AddDays(-60), c.Events);
            Assert.Equal(PaymentLabel.Evaluate(history, c.AsOf, definition, now), PaymentLabel.Evaluate(changed, c.AsOf, definition, now));
        }, iter: 500);
    }

    [Fact]
    public void A_payment_in_the_window_of_the_required_share_makes_the_label_true()
    {
        var definition = new LabelDefinition();
        var now = SyntheticHistory.Now(Options).AddDays(400);
        Gen.Select(Gen.Int[0, 10_000], Gen.Int[0, Options.ScoringDates - 1], Gen.Double[0.001, 89.999]).Sample((index, dateIndex, day) =>
        {
            var history = Accounts.Value[index % Accounts.Value.Length].History;
            var asOf = SyntheticHistory.ScoringDates(Options)[dateIndex];
            if (PaymentLabel.Evaluate(history, asOf, definition, now) is not { } outcome) return;
            var paid = history with { Entries = [.. history.Entries, Histories.Payment(Math.Ceiling(outcome.PatientBalance * definition.PaidShare * 100m) / 100m, asOf.AddDays(day))] };
            Assert.True(PaymentLabel.Of(paid, asOf, definition, now));
        }, iter: 500);
    }

    /// <summary>The history with the events happened after <paramref name="from"/>.</summary>
    private static AccountHistory After(AccountHistory history, DateTimeOffset from, FutureEvent[] events)
    {
        var entries = history.Entries.ToList();
        var contacts = history.Contacts.ToList();
        var holds = history.Holds.ToList();
        var promises = history.Promises.ToList();
        var plans = history.Plans.ToList();
        var n = 0;
        foreach (var e in events)
        {
            var at = from.AddDays(e.Days);
            var id = $"F{++n}";
            switch (e.Kind)
            {
                case Kind.Payment: entries.Add(Histories.Payment(e.Amount, at, id)); break;
                case Kind.Reversal:
                    var payments = entries.Where(x => x.Kind == EntryKind.PatientPayment && x.PostedAt < at).ToList();
                    if (payments.Count > 0) entries.Add(Histories.Entry(EntryKind.Reversal, 0.01m, at, reverses: payments[e.Pick % payments.Count].EntryId, id: id));
                    break;
                case Kind.Charge: entries.Add(Histories.Entry(EntryKind.Charge, e.Amount, at, party: e.Pick % 2 == 0 ? ResponsibleParty.Patient : ResponsibleParty.Insurance, id: id)); break;
                case Kind.Charity: entries.Add(Histories.Entry(EntryKind.Adjustment, e.Amount, at, party: ResponsibleParty.Patient, category: AdjustmentCategory.Charity, id: id)); break;
                case Kind.Transfer: entries.Add(Histories.Entry(EntryKind.Transfer, e.Amount, at, direction: TransferDirection.InsuranceToPatient, id: id)); break;
                case Kind.Contact: contacts.Add(Histories.Contact(e.Action, null, at, e.Outcome, e.Initiator)); break;
                case Kind.NewHold: holds.Add(Histories.Hold(e.Reason, at, e.Pick % 2 == 0 ? null : at.AddDays(e.Pick % 50 + 1))); break;
                case Kind.ReleaseHold:
                    var active = holds.Select((h, i) => (h, i)).Where(x => x.h.ReleasedAt is null || x.h.ReleasedAt > from).ToList();
                    if (active.Count > 0)
                    {
                        var (hold, i) = active[e.Pick % active.Count];
                        if (hold.PlacedAt < at) holds[i] = hold with { ReleasedAt = at, ReleasedBy = "later" };
                    }
                    break;
                case Kind.NewPromise: promises.Add(Histories.Promise(e.Amount, at, DateOnly.FromDateTime(at.UtcDateTime).AddDays(e.Pick % 30), (PromiseStatus)e.Status, at.AddDays(3))); break;
                case Kind.ResolvePromise:
                    if (promises.Count > 0)
                    {
                        var i = e.Pick % promises.Count;
                        promises[i] = promises[i] with { Status = (PromiseStatus)e.Status, ResolvedAt = at };
                    }
                    break;
                case Kind.NewPlan: plans.Add(Histories.Plan(e.Amount + 100m, 0m, at, DateOnly.FromDateTime(at.UtcDateTime).AddDays(20), e.Pick % 12 + 1, (PlanStatus)e.Status, at.AddDays(40))); break;
                case Kind.EndPlan:
                    if (plans.Count > 0)
                    {
                        var i = e.Pick % plans.Count;
                        plans[i] = plans[i] with { Status = (PlanStatus)e.Status, EndedAt = at };
                    }
                    break;
            }
        }
        return history with { Entries = entries, Contacts = contacts, Holds = holds, Promises = promises, Plans = plans };
    }
}
