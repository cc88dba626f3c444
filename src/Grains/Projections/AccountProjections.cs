using Collections.Domain;
using Collections.Outreach;
using Collections.Outreach.Webhooks;
using Collections.Persistence;
using Orleans.Serialization;

namespace Collections.Grains;

/// <summary>The facts events of a batch, read back; the last per account when only the newest matters.</summary>
internal static class FactsBatch
{
    public static IEnumerable<(LoggedEvent Event, AccountProjectionFacts Facts)> Read(IReadOnlyList<LoggedEvent> events, Serializer serializer) =>
        events.Where(e => e.Type == AccountProjectionFacts.EventType).Select(e => (e, serializer.Deserialize<AccountProjectionFacts>(e.Payload)!));

    public static readonly IReadOnlyCollection<string> FactsOnly = [AccountProjectionFacts.EventType];
}

/// <summary>Webhook deliveries: every public account event, once per subscription (the store ignores an event id it already has).</summary>
public sealed class WebhookProjection(IAccountEventSink sink, Serializer serializer) : IAccountProjection
{
    public string Name => "webhooks";
    public IReadOnlyCollection<string> EventTypes => AccountEventTypes.All;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken) =>
        sink.PublishAsync(events.Select(e => serializer.Deserialize<AccountEvent>(e.Payload)!).ToList(), cancellationToken);

    // Deliveries already made are history, not a view: a rebuild re-offers every event and the store skips those it has.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The supervisors' KPI rows: the newest facts of each account, upserted.</summary>
public sealed class KpiProjection(KpiStore kpis, Serializer serializer) : IAccountProjection
{
    public string Name => "kpi";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var facts = FactsBatch.Read(events, serializer).ToList();
        var rows = facts.Where(f => f.Facts.Kpi is not null).GroupBy(f => f.Facts.Account)
            .Select(g => g.Last()).Select(f => KpiRows.From(f.Facts.Kpi!, f.Facts.At)).ToList();
        return rows.Count == 0 ? Task.CompletedTask : kpis.SaveAllAsync(rows);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => kpis.ClearAsync(cancellationToken);
}

/// <summary>The agents' worklist: each account's entry routed to its queue by facility and language, or taken out.</summary>
public sealed class WorklistProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "worklist";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var changes = FactsBatch.Read(events, serializer).Where(f => f.Facts.Worklist is not null)
            .GroupBy(f => f.Facts.Account).Select(g => (Account: g.Key, Fact: g.Last().Facts.Worklist!, Previous: g.Select(f => f.Facts.Worklist!.PreviousLanguage).LastOrDefault(p => p is not null)))
            .ToList();
        if (changes.Count == 0) return;
        var directory = grains.GetGrain<IWorklistDirectoryGrain>(IWorklistDirectoryGrain.Key);
        var routes = new Dictionary<(string, string), string>(); // one routing question per facility and language a batch
        async Task<string> Route(string facility, string language) =>
            routes.TryGetValue((facility, language), out var known) ? known : routes[(facility, language)] = await directory.Route(facility, language);
        var upserts = new Dictionary<string, List<Domain.Worklist.WorklistEntry>>();
        foreach (var (account, fact, previous) in changes)
        {
            var queue = await Route(account.Facility, fact.Language);
            if (previous is not null && await Route(account.Facility, previous) is { } old && old != queue)
                await grains.GetGrain<IWorklistQueueGrain>(old).Remove(account);
            if (queue is null) continue;
            if (fact.Entry is null) await grains.GetGrain<IWorklistQueueGrain>(queue).Remove(account);
            else (upserts.TryGetValue(queue, out var list) ? list : upserts[queue] = []).Add(fact.Entry);
        }
        await Task.WhenAll(upserts.Select(u => grains.GetGrain<IWorklistQueueGrain>(u.Key).UpsertMany(u.Value)));
    }

    // Queue entries are replaced account by account as the log replays; an account's last fact decides its place.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Each facility's register of accounts in credit (the refund worklist).</summary>
public sealed class CreditBalanceProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "credit-balances";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken) =>
        Task.WhenAll(FactsBatch.Read(events, serializer).Where(f => f.Facts.Credit is not null)
            .GroupBy(f => f.Facts.Account).Select(g => g.Last().Facts)
            .Select(f => grains.GetGrain<ICreditBalanceRegistryGrain>(f.Account.Facility).Update(f.Account, f.Credit!.Item)));

    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Each facility's register of agency placements and recalls.</summary>
public sealed class PlacementProjection(IGrainFactory grains, Serializer serializer) : IAccountProjection
{
    public string Name => "placements";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
        {
            var register = grains.GetGrain<IPlacementRegisterGrain>(facts.Account.Facility);
            if (facts.Placement is { } placed) await register.Place(placed);
            if (facts.Recall is { } recall) await register.Recall(facts.Account, recall.Reason, recall.At);
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Champion/challenger outcomes: the first score each model version gave an account, and the patient payments after it.</summary>
public sealed class ScoreOutcomeProjection(ScoreOutcomeLog outcomes, ScoringSettings settings, Serializer serializer) : IAccountProjection
{
    public string Name => "score-outcomes";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        var facts = FactsBatch.Read(events, serializer).ToList();
        var scores = facts.Where(f => f.Facts.FirstScore is not null).Select(f =>
        {
            var score = f.Facts.FirstScore!;
            return new ScoreOutcomeLog.FirstScore(f.Facts.Account.ToString(), score.ModelVersion, score.IsChallenger, score.ScoredAt, score.Probability,
                (long)decimal.Round(score.PatientBalance * 100m), score.ScoredAt.AddDays(settings.Label.WindowDays));
        }).ToList();
        var payments = facts.Where(f => f.Facts.PatientPaymentCents > 0)
            .Select(f => new ScoreOutcomeLog.Payment(f.Event.EventId, f.Facts.Account.ToString(), f.Facts.PatientPaymentCents, f.Facts.At)).ToList();
        return outcomes.RecordAsync(scores, payments, cancellationToken);
    }

    public Task ClearAsync(CancellationToken cancellationToken) => outcomes.ClearAsync(cancellationToken);
}

/// <summary>
/// Outbox reactions: when an account stops being collected (paid, in credit, on hold, a promise or a plan), its
/// collection messages still waiting to go are cancelled.
/// </summary>
public sealed class OutboxReactionProjection(IOutboxStore outbox, Serializer serializer) : IAccountProjection
{
    public string Name => "outbox-reactions";
    public IReadOnlyCollection<string> EventTypes => FactsBatch.FactsOnly;

    public async Task ApplyAsync(IReadOnlyList<LoggedEvent> events, CancellationToken cancellationToken)
    {
        foreach (var (_, facts) in FactsBatch.Read(events, serializer))
            if (facts.CollectionStopped is { } reason)
                await outbox.CancelCollectionAsync(facts.Account.Facility, facts.Account.AccountNumber, facts.At, reason, cancellationToken);
    }

    // Cancelling is a reaction, not a view: a replay cancels nothing new.
    public Task ClearAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
