namespace Collections.Domain.Worklist;

/// <summary>
/// One queue's worklist as an incremental index, pure and deterministic (every operation takes <c>now</c>):
/// <list type="bullet">
/// <item>accounts callable now, in priority order (a red-black tree under a total order: priority, then account key);</item>
/// <item>accounts not callable yet, ordered by the instant they become callable, promoted as time passes it;</item>
/// <item>leases (account → agent until an expiry), ordered by expiry, returned to the worklist when they run out.</item>
/// </list>
/// Every operation costs O(log n) (plus O(log n) per lease expired or entry promoted by the time that passed); nothing
/// ever scans all entries, except <see cref="Reorder"/> (a supervisor changing the queue's ordering). Time never runs
/// backwards here: the queue's clock is the latest <c>now</c> it was given.
/// Not thread-safe: its grain is single-threaded.
/// </summary>
public sealed class WorklistQueue
{
    public const int Bins = 10;
    /// <summary>Worked accounts kept per agent (the newest) for the supervisor's view and for idempotent retries.</summary>
    public const int WorkedKeptPerAgent = 500;

    private enum Place { None, Available, Deferred, Leased }

    private sealed record ActiveLease(string Agent, DateTimeOffset LeasedAt, DateTimeOffset ExpiresAt);

    private sealed class Slot(AccountKey account)
    {
        public AccountKey Account { get; } = account;
        public WorklistEntry? Entry;
        public WorklistPriority Priority;
        /// <summary>The queue's own not-before after a worked attempt (no answer, message left, wrong number).</summary>
        public DateTimeOffset? RetryAfter;
        /// <summary>While deferred: when it becomes callable.</summary>
        public DateTimeOffset DueAt;
        public Place Place;
        public ActiveLease? Lease;
        /// <summary>The agent whose lease ran out, while nobody else has leased the account: they may still record its outcome.</summary>
        public string? LastHolder;
    }

    private sealed class ByPriority : IComparer<Slot>
    {
        public int Compare(Slot? a, Slot? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            var c = WorklistPriority.CompareBestFirst(a!.Priority, b!.Priority);
            return c != 0 ? c : AccountKeyOrder.Compare(a.Account, b.Account);
        }
    }

    private sealed class ByDue : IComparer<Slot>
    {
        public int Compare(Slot? a, Slot? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            var c = a!.DueAt.UtcTicks.CompareTo(b!.DueAt.UtcTicks);
            return c != 0 ? c : AccountKeyOrder.Compare(a.Account, b.Account);
        }
    }

    private sealed class ByExpiry : IComparer<Slot>
    {
        public int Compare(Slot? a, Slot? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            var c = a!.Lease!.ExpiresAt.UtcTicks.CompareTo(b!.Lease!.ExpiresAt.UtcTicks);
            return c != 0 ? c : AccountKeyOrder.Compare(a.Account, b.Account);
        }
    }

    private readonly Dictionary<AccountKey, Slot> _slots = [];
    private SortedSet<Slot> _available = new(new ByPriority());
    private readonly SortedSet<Slot> _deferred = new(new ByDue());
    private readonly SortedSet<Slot> _leases = new(new ByExpiry());
    private readonly Dictionary<string, Slot> _leaseByAgent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Slot> _lastHeldByAgent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedList<WorkedAccount>> _worked = new(StringComparer.Ordinal);
    private readonly int[] _histogram = new int[Bins];
    /// <summary>Entries per oldest-balance date, so the oldest is read without a scan.</summary>
    private readonly SortedDictionary<DateOnly, int> _balanceDates = [];
    private int _unscored;
    private int _entries;
    private DateTimeOffset _clock = DateTimeOffset.MinValue;

    public WorklistQueue(WorklistOrdering ordering = WorklistOrdering.ExpectedRecovery) => Ordering = ordering;

    public WorklistOrdering Ordering { get; private set; }

    /// <summary>Entries held (callable, deferred or leased).</summary>
    public int Count => _entries;

    /// <summary>The queue's clock: the latest <c>now</c> it has been given.</summary>
    public DateTimeOffset Clock => _clock;

    /// <summary>The account's entry, if the queue holds it.</summary>
    public WorklistEntry? Get(AccountKey account) => _slots.TryGetValue(account, out var slot) ? slot.Entry : null;

    /// <summary>The queue's own not-before for the account (set by a worked attempt), if any.</summary>
    public DateTimeOffset? RetryAfter(AccountKey account) => _slots.TryGetValue(account, out var slot) ? slot.RetryAfter : null;

    /// <summary>Adds the account's entry or replaces it. A leased account stays leased (its lease keeps the new entry).</summary>
    public void Upsert(WorklistEntry entry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Tick(now);
        if (!_slots.TryGetValue(entry.Account, out var slot))
        {
            slot = new Slot(entry.Account);
            _slots.Add(entry.Account, slot);
        }
        if (slot.Entry is not null) Tally(slot.Entry, -1);
        else _entries++;
        if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
        slot.Entry = entry;
        slot.Priority = WorklistPriority.Of(entry, Ordering);
        Tally(entry, +1);
        if (slot.Place == Place.None) Settle(slot);
    }

    /// <summary>
    /// Restores an entry as stored, with the queue's own not-before (after a restart). Same as <see cref="Upsert"/>
    /// plus the retry time.
    /// </summary>
    public void Restore(WorklistEntry entry, DateTimeOffset? retryAfter, DateTimeOffset now)
    {
        Upsert(entry, now);
        if (retryAfter is { } retry && retry > _clock)
        {
            var slot = _slots[entry.Account];
            if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
            slot.RetryAfter = retry;
            if (slot.Place == Place.None) Settle(slot);
        }
    }

    /// <summary>Restores a stored lease (after a restart); an expired one, or one for an account the queue does not hold, is ignored.</summary>
    public bool RestoreLease(AccountKey account, string agent, DateTimeOffset leasedAt, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        Tick(now);
        if (expiresAt <= _clock || !_slots.TryGetValue(account, out var slot) || slot.Lease is not null || _leaseByAgent.ContainsKey(agent)) return false;
        if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
        Lease(slot, agent, leasedAt, expiresAt);
        return true;
    }

    /// <summary>
    /// Drops the account's entry. If it is leased, the lease stays (without an entry) so its agent can still record the
    /// outcome of the call under way; nothing returns to the worklist when it ends.
    /// </summary>
    public bool Remove(AccountKey account)
    {
        if (!_slots.TryGetValue(account, out var slot) || slot.Entry is null) return false;
        Tally(slot.Entry, -1);
        _entries--;
        if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
        slot.Entry = null;
        slot.RetryAfter = null;
        DropIfEmpty(slot);
        return true;
    }

    /// <summary>
    /// The best account callable now, leased to <paramref name="agent"/> until now + <paramref name="leaseFor"/>; null
    /// when nothing is callable. An agent holds at most one lease per queue: one who still holds an unexpired lease
    /// is offered that account again (<see cref="WorklistLease.Reoffered"/>) instead of a second one.
    /// </summary>
    public WorklistLease? Next(string agent, DateTimeOffset now, TimeSpan leaseFor)
    {
        ArgumentException.ThrowIfNullOrEmpty(agent);
        if (leaseFor <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(leaseFor), "A lease lasts a positive time.");
        Tick(now);
        if (_leaseByAgent.TryGetValue(agent, out var held))
        {
            if (held.Entry is not null) return LeaseOf(held, reoffered: true);
            // The account left the worklist during the lease (paid, promised, put on hold): the agent moves on.
            EndLease(held);
            DropIfEmpty(held);
        }
        if (_available.Count == 0) return null;
        var slot = _available.Min!;
        _available.Remove(slot);
        slot.Place = Place.None;
        ForgetLastHolder(agent);
        Lease(slot, agent, _clock, _clock + leaseFor);
        return LeaseOf(slot, reoffered: false);
    }

    /// <summary>The best account callable now, without leasing it.</summary>
    public WorklistEntry? Peek(DateTimeOffset now)
    {
        Tick(now);
        return _available.Count == 0 ? null : _available.Min!.Entry;
    }

    /// <summary>The unexpired lease held by this agent, as offered (null if none or its account has left the worklist).</summary>
    public WorklistLease? HeldBy(string agent, DateTimeOffset now)
    {
        Tick(now);
        return _leaseByAgent.TryGetValue(agent, out var slot) && slot.Entry is not null ? LeaseOf(slot, reoffered: true) : null;
    }

    /// <summary>Who may record the account's outcome now: the lease holder, or the last holder of an expired lease nobody has taken since.</summary>
    public LeaseHolding? Holder(AccountKey account, DateTimeOffset now)
    {
        Tick(now);
        if (!_slots.TryGetValue(account, out var slot)) return null;
        if (slot.Lease is { } lease) return new LeaseHolding { Agent = lease.Agent, Active = true, ExpiresAt = lease.ExpiresAt, LeasedAt = lease.LeasedAt };
        return slot.LastHolder is { } last ? new LeaseHolding { Agent = last, Active = false } : null;
    }

    /// <summary>
    /// The agent finished the account with an outcome: the lease ends and the outcome is kept for the supervisor. If the
    /// account is still in the worklist it returns to it, not before <paramref name="retryAfter"/> when given (the
    /// queue's wait after an attempt that reached nobody). False (and nothing changes) unless the agent may record it
    /// (see <see cref="Holder"/>).
    /// </summary>
    public bool Complete(AccountKey account, string agent, WorklistOutcome outcome, DateTimeOffset now, DateTimeOffset? retryAfter = null, string? idempotencyKey = null)
    {
        if (!EndWork(account, agent, now, out var slot)) return false;
        if (slot.Entry is not null && retryAfter is { } retry && retry > _clock) slot.RetryAfter = retry;
        Record(new WorkedAccount { Agent = agent, Account = account, Outcome = outcome, At = _clock, IdempotencyKey = idempotencyKey });
        Reattach(slot);
        return true;
    }

    /// <summary>The agent gives the account back without an outcome: it returns to the worklist at once. False unless the agent may (see <see cref="Holder"/>).</summary>
    public bool Release(AccountKey account, string agent, DateTimeOffset now)
    {
        if (!EndWork(account, agent, now, out var slot)) return false;
        Reattach(slot);
        return true;
    }

    /// <summary>
    /// Not callable before <paramref name="until"/> (the gate said "not yet" when it was about to be offered): its entry
    /// takes that callable-from, and a lease on it ends without anyone being its holder. False if the queue does not hold it.
    /// </summary>
    public bool Defer(AccountKey account, DateTimeOffset until, DateTimeOffset now)
    {
        Tick(now);
        if (!_slots.TryGetValue(account, out var slot) || slot.Entry is null) return false;
        if (slot.Lease is not null) EndLease(slot);
        else if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
        slot.Entry = slot.Entry with { CallableFrom = until };
        Settle(slot);
        return true;
    }

    /// <summary>Orders by another rule: rebuilds the priority index (O(n log n); a supervisor's change, not a routine one).</summary>
    public void Reorder(WorklistOrdering ordering)
    {
        if (ordering == Ordering) return;
        Ordering = ordering;
        var available = _available.ToList();
        foreach (var slot in _slots.Values)
            if (slot.Entry is not null) slot.Priority = WorklistPriority.Of(slot.Entry, ordering);
        _available = new SortedSet<Slot>(available, new ByPriority());
    }

    /// <summary>A worked account restored from storage (oldest first), for the supervisor's view and idempotent retries.</summary>
    public void RestoreWorked(WorkedAccount worked) => Record(worked);

    /// <summary>The outcome this agent already recorded for the account with this Idempotency-Key, if it is still kept.</summary>
    public WorkedAccount? FindWorked(string agent, AccountKey account, string idempotencyKey)
    {
        if (!_worked.TryGetValue(agent, out var list)) return null;
        foreach (var worked in list)
            if (worked.Account == account && worked.IdempotencyKey == idempotencyKey) return worked;
        return null;
    }

    /// <summary>Depth, what is callable, deferred and leased, the score histogram, and what each agent holds and worked since <paramref name="since"/>.</summary>
    public WorklistStats Stats(DateTimeOffset now, DateTimeOffset? since = null)
    {
        Tick(now);
        var agents = new SortedDictionary<string, (WorklistLease? Lease, List<WorkedAccount> Worked)>(StringComparer.Ordinal);
        foreach (var (agent, slot) in _leaseByAgent)
            agents[agent] = (new WorklistLease { Entry = slot.Entry ?? Placeholder(slot.Account), Agent = agent, LeasedAt = slot.Lease!.LeasedAt, ExpiresAt = slot.Lease.ExpiresAt }, []);
        foreach (var (agent, list) in _worked)
        {
            var worked = list.Where(w => since is null || w.At >= since).Reverse().ToList();
            if (worked.Count == 0) continue;
            agents[agent] = (agents.TryGetValue(agent, out var a) ? a.Lease : null, worked);
        }
        return new WorklistStats
        {
            AsOf = _clock,
            Depth = _entries,
            CallableNow = _available.Count,
            Deferred = _deferred.Count,
            Leased = _leases.Count,
            Histogram = Enumerable.Range(0, Bins).Select(i => new ScoreBin { From = i / (double)Bins, To = (i + 1) / (double)Bins, Count = _histogram[i] }).ToList(),
            Unscored = _unscored,
            OldestBalanceDate = _balanceDates.Count == 0 ? null : _balanceDates.Keys.First(),
            Agents = agents.Select(a => new AgentActivity
            {
                Agent = a.Key, Leased = a.Value.Lease?.Entry.Account, LeaseExpiresAt = a.Value.Lease?.ExpiresAt, Worked = a.Value.Worked,
            }).ToList(),
        };
    }

    private static WorklistEntry Placeholder(AccountKey account) =>
        new() { Account = account, GuarantorId = "", PatientBalance = 0m, ExpectedRecovery = 0m, UpdatedAt = DateTimeOffset.MinValue };

    /// <summary>Moves the clock to <paramref name="now"/> (never back), ending leases that ran out and promoting entries that became callable.</summary>
    private void Tick(DateTimeOffset now)
    {
        if (now > _clock) _clock = now;
        while (_leases.Count > 0 && _leases.Min!.Lease!.ExpiresAt <= _clock)
        {
            var slot = _leases.Min!;
            var agent = slot.Lease!.Agent;
            EndLease(slot);
            RememberLastHolder(agent, slot);
            if (slot.Entry is not null) Settle(slot);
        }
        while (_deferred.Count > 0 && _deferred.Min!.DueAt <= _clock)
        {
            var slot = _deferred.Min!;
            _deferred.Remove(slot);
            slot.Place = Place.Available;
            _available.Add(slot);
        }
    }

    private bool EndWork(AccountKey account, string agent, DateTimeOffset now, out Slot slot)
    {
        Tick(now);
        if (!_slots.TryGetValue(account, out slot!)) return false;
        if (slot.Lease?.Agent == agent)
        {
            EndLease(slot);
            return true;
        }
        if (slot.Lease is null && slot.LastHolder == agent)
        {
            ForgetLastHolder(agent);
            if (slot.Place is Place.Available or Place.Deferred) Detach(slot);
            return true;
        }
        return false;
    }

    private void Reattach(Slot slot)
    {
        if (slot.Entry is not null && slot.Place == Place.None) Settle(slot);
        else DropIfEmpty(slot);
    }

    private void Lease(Slot slot, string agent, DateTimeOffset leasedAt, DateTimeOffset expiresAt)
    {
        if (slot.LastHolder is { } last) ForgetLastHolder(last);
        slot.Lease = new ActiveLease(agent, leasedAt, expiresAt);
        slot.Place = Place.Leased;
        _leases.Add(slot);
        _leaseByAgent[agent] = slot;
    }

    private void EndLease(Slot slot)
    {
        _leases.Remove(slot);
        _leaseByAgent.Remove(slot.Lease!.Agent);
        slot.Lease = null;
        slot.Place = Place.None;
    }

    private void RememberLastHolder(string agent, Slot slot)
    {
        ForgetLastHolder(agent);
        if (slot.LastHolder is { } other) ForgetLastHolder(other);
        slot.LastHolder = agent;
        _lastHeldByAgent[agent] = slot;
    }

    private void ForgetLastHolder(string agent)
    {
        if (!_lastHeldByAgent.Remove(agent, out var slot)) return;
        slot.LastHolder = null;
        DropIfEmpty(slot);
    }

    /// <summary>Puts an entry with no lease where it belongs: callable now, or deferred until its callable-from or retry time.</summary>
    private void Settle(Slot slot)
    {
        var due = Later(slot.Entry!.CallableFrom, slot.RetryAfter);
        if (due is { } at && at > _clock)
        {
            slot.DueAt = at;
            slot.Place = Place.Deferred;
            _deferred.Add(slot);
        }
        else
        {
            slot.RetryAfter = null; // served
            slot.Place = Place.Available;
            _available.Add(slot);
        }
    }

    private void Detach(Slot slot)
    {
        var removed = slot.Place == Place.Available ? _available.Remove(slot) : _deferred.Remove(slot);
        if (!removed) throw new InvalidOperationException("The worklist index lost an entry.");
        slot.Place = Place.None;
    }

    private void DropIfEmpty(Slot slot)
    {
        if (slot.Entry is null && slot.Lease is null && slot.LastHolder is null && slot.Place == Place.None)
            _slots.Remove(slot.Account);
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private void Tally(WorklistEntry entry, int delta)
    {
        if (entry.Probability is { } p && !double.IsNaN(p)) _histogram[Math.Clamp((int)(Math.Clamp(p, 0d, 1d) * Bins), 0, Bins - 1)] += delta;
        else _unscored += delta;
        if (entry.OldestBalanceDate is { } date)
        {
            var count = _balanceDates.GetValueOrDefault(date) + delta;
            if (count > 0) _balanceDates[date] = count;
            else _balanceDates.Remove(date);
        }
    }

    private void Record(WorkedAccount worked)
    {
        if (!_worked.TryGetValue(worked.Agent, out var list)) _worked[worked.Agent] = list = new LinkedList<WorkedAccount>();
        list.AddLast(worked);
        if (list.Count > WorkedKeptPerAgent) list.RemoveFirst();
    }

    private static WorklistLease LeaseOf(Slot slot, bool reoffered) => new()
    {
        Entry = slot.Entry!, Agent = slot.Lease!.Agent, LeasedAt = slot.Lease.LeasedAt, ExpiresAt = slot.Lease.ExpiresAt, Reoffered = reoffered,
    };
}

[GenerateSerializer, Immutable, Alias("collections.ScoreBin")]
public sealed record ScoreBin
{
    [Id(0)] public required double From { get; init; }
    [Id(1)] public required double To { get; init; }
    [Id(2)] public required int Count { get; init; }
}

/// <summary>What an agent holds now and what they worked (newest first).</summary>
[GenerateSerializer, Immutable, Alias("collections.AgentActivity")]
public sealed record AgentActivity
{
    [Id(0)] public required string Agent { get; init; }
    [Id(1)] public AccountKey? Leased { get; init; }
    [Id(2)] public DateTimeOffset? LeaseExpiresAt { get; init; }
    [Id(3)] public IReadOnlyList<WorkedAccount> Worked { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("collections.WorklistStats")]
public sealed record WorklistStats
{
    [Id(0)] public required DateTimeOffset AsOf { get; init; }
    /// <summary>Entries held: callable now, deferred, or leased.</summary>
    [Id(1)] public required int Depth { get; init; }
    [Id(2)] public required int CallableNow { get; init; }
    /// <summary>Not callable yet (the gate's not-before, or the queue's wait after an attempt).</summary>
    [Id(3)] public required int Deferred { get; init; }
    [Id(4)] public required int Leased { get; init; }
    /// <summary>Scored entries by probability of paying, in ten bins [0, 0.1), ..., [0.9, 1].</summary>
    [Id(5)] public required IReadOnlyList<ScoreBin> Histogram { get; init; }
    [Id(6)] public required int Unscored { get; init; }
    [Id(7)] public required IReadOnlyList<AgentActivity> Agents { get; init; }
    /// <summary>The oldest balance on the list (the earliest date an entry's account has owed from), if any entry says.</summary>
    [Id(8)] public DateOnly? OldestBalanceDate { get; init; }
}
