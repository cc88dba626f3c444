using Collections.Domain.Worklist;

namespace Collections.Domain.Tests;

/// <summary>
/// Model-based test: random sequences of every operation run against <see cref="WorklistQueue"/> and against a naive
/// reference that keeps a plain dictionary and scans it for every answer. After every step both must give the same
/// answer and the same statistics.
/// </summary>
public sealed class WorklistQueueModelTests
{
    private sealed class Item
    {
        public WorklistEntry? Entry;
        public DateTimeOffset? RetryAfter;
        public (string Agent, DateTimeOffset LeasedAt, DateTimeOffset ExpiresAt)? Lease;
        public string? LastHolder;
    }

    /// <summary>The obvious implementation: every question is answered by looking at everything.</summary>
    private sealed class Reference(WorklistOrdering ordering)
    {
        private readonly Dictionary<AccountKey, Item> _items = [];
        private readonly List<WorkedAccount> _worked = [];
        public WorklistOrdering Ordering { get; set; } = ordering;
        public DateTimeOffset Clock { get; private set; } = DateTimeOffset.MinValue;

        private void Tick(DateTimeOffset now)
        {
            if (now > Clock) Clock = now;
            foreach (var (key, item) in _items.Where(i => i.Value.Lease?.ExpiresAt <= Clock).OrderBy(i => i.Value.Lease!.Value.ExpiresAt).ThenBy(i => i.Key, KeyOrder).ToList())
            {
                var agent = item.Lease!.Value.Agent;
                item.Lease = null;
                ForgetLastHolder(agent);
                item.LastHolder = agent;
            }
        }

        private static readonly Comparer<AccountKey> KeyOrder = Comparer<AccountKey>.Create(AccountKeyOrder.Compare);

        private void ForgetLastHolder(string agent)
        {
            foreach (var (key, item) in _items.Where(i => i.Value.LastHolder == agent).ToList())
            {
                item.LastHolder = null;
                DropIfEmpty(key);
            }
        }

        private void DropIfEmpty(AccountKey key)
        {
            if (_items.TryGetValue(key, out var item) && item.Entry is null && item.Lease is null && item.LastHolder is null) _items.Remove(key);
        }

        private DateTimeOffset? Due(Item item)
        {
            var a = item.Entry!.CallableFrom;
            var b = item.RetryAfter;
            return a is null ? b : b is null ? a : a > b ? a : b;
        }

        private bool Callable(Item item) => item.Entry is not null && item.Lease is null && !(Due(item) > Clock);

        private IEnumerable<KeyValuePair<AccountKey, Item>> Ranked() => _items.Where(i => Callable(i.Value))
            .OrderBy(i => WorklistPriority.Of(i.Value.Entry!, Ordering), Comparer<WorklistPriority>.Create(WorklistPriority.CompareBestFirst))
            .ThenBy(i => i.Key, KeyOrder);

        public void Upsert(WorklistEntry entry, DateTimeOffset now)
        {
            Tick(now);
            if (!_items.TryGetValue(entry.Account, out var item)) _items[entry.Account] = item = new Item();
            item.Entry = entry;
        }

        public bool Remove(AccountKey key)
        {
            if (!_items.TryGetValue(key, out var item) || item.Entry is null) return false;
            item.Entry = null;
            item.RetryAfter = null;
            DropIfEmpty(key);
            return true;
        }

        public WorklistLease? Next(string agent, DateTimeOffset now, TimeSpan leaseFor)
        {
            Tick(now);
            if (_items.FirstOrDefault(i => i.Value.Lease?.Agent == agent) is { Value: not null } held)
            {
                if (held.Value.Entry is not null) return LeaseOf(held.Value, true);
                held.Value.Lease = null;
                DropIfEmpty(held.Key);
            }
            var best = Ranked().FirstOrDefault();
            if (best.Value is null) return null;
            ForgetLastHolder(agent);
            if (best.Value.LastHolder is { } last) ForgetLastHolder(last);
            best.Value.Lease = (agent, Clock, Clock + leaseFor);
            return LeaseOf(best.Value, false);
        }

        private static WorklistLease LeaseOf(Item item, bool reoffered) => new()
        {
            Entry = item.Entry!, Agent = item.Lease!.Value.Agent, LeasedAt = item.Lease.Value.LeasedAt, ExpiresAt = item.Lease.Value.ExpiresAt, Reoffered = reoffered,
        };

        public WorklistEntry? Peek(DateTimeOffset now)
        {
            Tick(now);
            return Ranked().FirstOrDefault().Value?.Entry;
        }

        public LeaseHolding? Holder(AccountKey key, DateTimeOffset now)
        {
            Tick(now);
            if (!_items.TryGetValue(key, out var item)) return null;
            if (item.Lease is { } lease) return new LeaseHolding { Agent = lease.Agent, Active = true, ExpiresAt = lease.ExpiresAt };
            return item.LastHolder is { } last ? new LeaseHolding { Agent = last, Active = false } : null;
        }

        private bool EndWork(AccountKey key, string agent, DateTimeOffset now, out Item item)
        {
            Tick(now);
            if (!_items.TryGetValue(key, out item!)) return false;
            if (item.Lease?.Agent == agent) { item.Lease = null; return true; }
            if (item.Lease is null && item.LastHolder == agent) { ForgetLastHolder(agent); return true; }
            return false;
        }

        public bool Complete(AccountKey key, string agent, WorklistOutcome outcome, DateTimeOffset now, DateTimeOffset? retry)
        {
            if (!EndWork(key, agent, now, out var item)) return false;
            if (item.Entry is not null && retry > Clock) item.RetryAfter = retry;
            _worked.Add(new WorkedAccount { Agent = agent, Account = key, Outcome = outcome, At = Clock });
            DropIfEmpty(key);
            return true;
        }

        public bool Release(AccountKey key, string agent, DateTimeOffset now)
        {
            if (!EndWork(key, agent, now, out _)) return false;
            DropIfEmpty(key);
            return true;
        }

        public bool Defer(AccountKey key, DateTimeOffset until, DateTimeOffset now)
        {
            Tick(now);
            if (!_items.TryGetValue(key, out var item) || item.Entry is null) return false;
            item.Lease = null;
            item.Entry = item.Entry with { CallableFrom = until };
            return true;
        }

        public WorklistEntry? Get(AccountKey key) => _items.TryGetValue(key, out var item) ? item.Entry : null;

        public (int Depth, int Callable, int Deferred, int Leased, int Unscored, int[] Bins, string Agents) Stats(DateTimeOffset now)
        {
            Tick(now);
            var entries = _items.Values.Where(i => i.Entry is not null).ToList();
            var bins = new int[WorklistQueue.Bins];
            foreach (var p in entries.Select(i => i.Entry!.Probability).OfType<double>()) bins[Math.Min(9, (int)(p * 10))]++;
            var agents = _items.Where(i => i.Value.Lease is not null).Select(i => $"{i.Value.Lease!.Value.Agent}>{i.Key.AccountNumber}")
                .Concat(_worked.GroupBy(w => w.Agent).Select(g => $"{g.Key}#{g.Count()}")).Order(StringComparer.Ordinal);
            return (entries.Count, _items.Values.Count(Callable), entries.Count(i => i.Lease is null && Due(i) > Clock),
                _items.Values.Count(i => i.Lease is not null), entries.Count(i => i.Entry!.Probability is null), bins, string.Join(",", agents));
        }
    }

    private static string Describe(WorklistLease? lease) =>
        lease is null ? "none" : $"{lease.Entry.Account}@{lease.Agent} until {lease.ExpiresAt:O} reoffered={lease.Reoffered} bal={lease.Entry.PatientBalance}";

    private static string Describe(LeaseHolding? holding) => holding is null ? "none" : $"{holding.Agent} active={holding.Active} {holding.ExpiresAt:O}";

    [Fact]
    public void Random_sequences_of_every_operation_give_the_same_answers_as_the_naive_reference()
    {
        var operations = 0;
        var offers = 0;
        for (var seed = 1; seed <= 400; seed++)
        {
            var random = new Random(seed);
            var ordering = (WorklistOrdering)random.Next(4);
            var queue = new WorklistQueue(ordering);
            var reference = new Reference(ordering);
            var now = WorklistQueueTests.T0;
            var accounts = random.Next(3, 30);
            string[] agents = ["jane", "omar", "lee", "ana"];
            for (var step = 0; step < 250; step++, operations++)
            {
                var where = $"seed {seed}, step {step}";
                var key = new AccountKey(random.Next(2) == 0 ? "MAIN" : "EAST", $"A{random.Next(accounts)}");
                var agent = agents[random.Next(agents.Length)];
                var lease = TimeSpan.FromMinutes(random.Next(1, 30));
                switch (random.Next(100))
                {
                    case < 12:
                        now = now.AddMinutes(random.Next(0, 40));
                        break;
                    case < 14:
                        var back = now.AddMinutes(-random.Next(0, 20)); // a caller with an older clock
                        Assert.Equal(Describe(reference.Next(agent, back, lease)), Describe(queue.Next(agent, back, lease)));
                        break;
                    case < 40:
                        var entry = new WorklistEntry
                        {
                            Account = key, GuarantorId = "G", PatientBalance = random.Next(1, 500) * 5m,
                            Probability = random.Next(4) == 0 ? null : random.Next(0, 21) / 20d,
                            ExpectedRecovery = random.Next(0, 300) * 5m,
                            OldestBalanceDate = random.Next(5) == 0 ? null : new DateOnly(2026, 1, 1).AddDays(random.Next(60)),
                            CallableFrom = random.Next(3) == 0 ? now.AddMinutes(random.Next(-30, 90)) : null,
                            UpdatedAt = now,
                        };
                        queue.Upsert(entry, now);
                        reference.Upsert(entry, now);
                        break;
                    case < 47:
                        Assert.Equal(reference.Remove(key), queue.Remove(key));
                        break;
                    case < 70:
                        var offered = queue.Next(agent, now, lease);
                        Assert.True(Describe(reference.Next(agent, now, lease)) == Describe(offered), $"{where}: Next differs");
                        if (offered is not null) offers++;
                        break;
                    case < 78:
                        var outcome = (WorklistOutcome)random.Next(8);
                        DateTimeOffset? retry = random.Next(2) == 0 ? now.AddMinutes(random.Next(-10, 120)) : null;
                        Assert.True(reference.Complete(key, agent, outcome, now, retry) == queue.Complete(key, agent, outcome, now, retry), $"{where}: Complete differs");
                        break;
                    case < 83:
                        Assert.True(reference.Release(key, agent, now) == queue.Release(key, agent, now), $"{where}: Release differs");
                        break;
                    case < 88:
                        var until = now.AddMinutes(random.Next(-10, 120));
                        Assert.True(reference.Defer(key, until, now) == queue.Defer(key, until, now), $"{where}: Defer differs");
                        break;
                    case < 93:
                        Assert.True(Describe(reference.Holder(key, now)) == Describe(queue.Holder(key, now)), $"{where}: Holder differs");
                        break;
                    case < 96:
                        Assert.Equal(reference.Peek(now)?.Account, queue.Peek(now)?.Account);
                        break;
                    case < 97:
                        var reorder = (WorklistOrdering)random.Next(4);
                        queue.Reorder(reorder);
                        reference.Ordering = reorder;
                        break;
                    default:
                        Assert.Equal(reference.Get(key), queue.Get(key));
                        break;
                }
                var expected = reference.Stats(now);
                var stats = queue.Stats(now);
                var actualAgents = string.Join(",", stats.Agents.SelectMany(a =>
                        (a.Leased is { } leased ? new[] { $"{a.Agent}>{leased.AccountNumber}" } : [])
                        .Concat(a.Worked.Count > 0 ? [$"{a.Agent}#{a.Worked.Count}"] : []))
                    .Order(StringComparer.Ordinal));
                Assert.True(expected == (stats.Depth, stats.CallableNow, stats.Deferred, stats.Leased, stats.Unscored, expected.Bins, actualAgents)
                            && expected.Bins.SequenceEqual(stats.Histogram.Select(b => b.Count)),
                    $"{where}: stats differ: expected {expected.Depth}/{expected.Callable}/{expected.Deferred}/{expected.Leased}/{expected.Unscored} [{string.Join(",", expected.Bins)}] {expected.Agents}, " +
                    $"got {stats.Depth}/{stats.CallableNow}/{stats.Deferred}/{stats.Leased}/{stats.Unscored} [{string.Join(",", stats.Histogram.Select(b => b.Count))}] {actualAgents}");
                Assert.Equal(reference.Clock, queue.Clock);
            }
        }
        Assert.True(offers > 5_000, $"only {offers} offers in {operations} operations");
    }
}
