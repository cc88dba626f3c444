using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

/// <summary>A request sent again finds what the first one made: by its key, or for a hold, by being the same active hold.</summary>
public sealed class RepeatedRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);

    private static Hold Placed(HoldRequest request, IReadOnlyList<Hold> existing) => HoldRules.Place(request, existing, "agent-1", Now).Hold!;

    [Fact]
    public void A_hold_sent_again_with_its_key_or_again_while_active_without_one_is_the_same_hold()
    {
        var request = new HoldRequest { Reason = HoldReason.Dispute, Note = " Billed twice ", IdempotencyKey = " k1 " };
        var hold = Placed(request, []);
        Assert.Equal(("k1", "Billed twice"), (hold.IdempotencyKey, hold.Note));

        Assert.Same(hold, HoldRules.RepeatOf(request, [hold]).Earlier);
        Assert.Same(hold, HoldRules.RepeatOf(request with { IdempotencyKey = null }, [hold]).Earlier); // a double click
        Assert.Null(HoldRules.RepeatOf(request with { IdempotencyKey = "k2" }, [hold]).Earlier);     // a new key: a new hold
        Assert.Equal("idempotency-key.reused", HoldRules.RepeatOf(request with { Note = "Another" }, [hold]).Error!.Code);
        // Released, the same words make a new hold.
        var released = hold with { ReleasedAt = Now.AddDays(1), ReleasedBy = "supervisor" };
        Assert.Null(HoldRules.RepeatOf(request with { IdempotencyKey = null }, [released]).Earlier);
        Assert.Equal("idempotency-key.invalid", HoldRules.RepeatOf(request with { IdempotencyKey = new string('x', 201) }, [hold]).Error!.Code);
    }

    [Fact]
    public void A_promise_or_a_plan_sent_again_with_its_key_is_the_one_made_and_a_key_used_for_other_terms_is_refused()
    {
        var rules = new ArrangementRules();
        var promiseRequest = new PromiseRequest { Amount = 100m, PromisedDate = new DateOnly(2026, 12, 20), IdempotencyKey = "p1" };
        var promise = ArrangementRulesLogic.MakePromise(promiseRequest, 300m, 0, false, rules, "agent-1", Now).Promise!;
        Assert.Same(promise, ArrangementRulesLogic.RepeatOf(promiseRequest with { Amount = 100.00m }, [promise]).Earlier);
        Assert.Equal("idempotency-key.reused", ArrangementRulesLogic.RepeatOf(promiseRequest with { Amount = 90m }, [promise]).Error!.Code);
        Assert.Equal((null, null), ArrangementRulesLogic.RepeatOf(promiseRequest with { IdempotencyKey = null }, [promise])); // no key: the rules decide

        var planRequest = new PlanRequest { DownPayment = 50m, InstallmentCount = 4, Frequency = InstallmentFrequency.Monthly, FirstDueDate = new DateOnly(2026, 12, 20), IdempotencyKey = "pl1" };
        var plan = ArrangementRulesLogic.MakePlan(planRequest, 400m, 0, false, rules, "agent-1", Now).Plan!;
        Assert.Same(plan, ArrangementRulesLogic.RepeatOf(planRequest, [plan]).Earlier);
        Assert.Equal("idempotency-key.reused", ArrangementRulesLogic.RepeatOf(planRequest with { InstallmentCount = 5 }, [plan]).Error!.Code);
    }
}

/// <summary>An account's posts find an earlier entry by its key through an index that keeps up with its ledger.</summary>
public sealed class LedgerKeysTests
{
    private static LedgerEntry Entry(int n, string key) => new()
    {
        EntryId = $"E{n}", Kind = EntryKind.Charge, Amount = 1m, EffectiveDate = new DateOnly(2026, 12, 1),
        PostedAt = LedgerBuilder.Now, IdempotencyKey = key, PostedBy = "t",
    };

    [Fact]
    public void The_index_answers_as_a_scan_while_the_ledger_grows_is_replaced_or_is_cut_back()
    {
        var keys = new LedgerKeys();
        var random = new Random(9);
        var ledger = new List<LedgerEntry>();
        for (var n = 1; n <= 300; n++)
        {
            // Some keys repeat (a batch's own repeat, an import's): the first entry wins.
            ledger.Add(Entry(n, $"k{random.Next(200)}"));
            if (n % 97 == 0) ledger = [.. ledger];                // a batch posts through a copy
            if (n % 131 == 0) ledger.RemoveRange(ledger.Count - 3, 3); // a shorter list: built again
            foreach (var probe in new[] { $"k{random.Next(220)}", $"k{random.Next(220)}", "none" })
                Assert.Same(LedgerKeys.Scan(ledger, probe), keys.Find(ledger, probe));
        }
        Assert.True(ledger.Count >= LedgerKeys.IndexFrom);
    }

    [Fact]
    public void A_ledger_cut_back_and_grown_again_is_indexed_again_whether_or_not_it_was_asked_in_between()
    {
        var keys = new LedgerKeys();
        var ledger = Enumerable.Range(1, 40).Select(n => Entry(n, $"k{n}")).ToList();
        Assert.Equal("E40", keys.Find(ledger, "k40")!.EntryId);
        ledger.RemoveRange(10, 30);
        Assert.Null(keys.Find(ledger, "k40"));
        ledger.AddRange(Enumerable.Range(41, 35).Select(n => Entry(n, $"k{n - 30}"))); // k11..k45 again, on other entries
        foreach (var probe in new[] { "k5", "k11", "k40", "k45", "k46" })
            Assert.Same(LedgerKeys.Scan(ledger, probe), keys.Find(ledger, probe));

        // Cut back and grown past where it was, with no question in between.
        ledger.RemoveRange(10, ledger.Count - 10);
        ledger.AddRange(Enumerable.Range(100, 50).Select(n => Entry(n, $"k{n - 80}"))); // k20..k69, on new entries
        foreach (var probe in new[] { "k5", "k20", "k40", "k45", "k69", "k70" })
            Assert.Same(LedgerKeys.Scan(ledger, probe), keys.Find(ledger, probe));
    }

    [Fact]
    public void A_read_mark_resumes_after_appends_and_starts_again_for_another_list_or_one_cut_back()
    {
        var ledger = Enumerable.Range(1, 5).Select(n => Entry(n, $"k{n}")).ToList();
        var mark = new LedgerReadMark();
        Assert.Equal(0, mark.ReadOf(ledger));
        mark.Read(ledger);
        ledger.Add(Entry(6, "k6"));
        Assert.Equal(5, mark.ReadOf(ledger));
        Assert.Equal(0, mark.ReadOf([.. ledger]));
        ledger.RemoveRange(3, 3);
        ledger.AddRange([Entry(7, "k7"), Entry(8, "k8"), Entry(9, "k9")]); // as long as before, other entries
        Assert.Equal(0, mark.ReadOf(ledger));
    }

    [Fact]
    public void A_post_sent_again_finds_its_entry_through_the_index_of_a_long_ledger()
    {
        var keys = new LedgerKeys();
        var ledger = Enumerable.Range(1, 40).Select(n => Entry(n, $"k{n}")).ToList();
        var request = LedgerBuilder.Charge(1m) with { IdempotencyKey = "k7" };
        var repeat = LedgerPosting.Prepare(request with { IdempotencyKey = "k41" }, ledger, new AccountFacts(false), "t", LedgerBuilder.Now, keys: keys);
        ledger.Add(repeat.Entry!);

        var again = LedgerPosting.Prepare(request with { IdempotencyKey = "k41" }, ledger, new AccountFacts(false), "t", LedgerBuilder.Now, keys: keys);
        Assert.True(again.IsReplay);
        Assert.Same(repeat.Entry, again.Entry);
        Assert.Equal("idempotency-key.reused",
            LedgerPosting.Prepare(request, ledger, new AccountFacts(false), "t", LedgerBuilder.Now, keys: keys).Errors.Single().Code);
    }
}
