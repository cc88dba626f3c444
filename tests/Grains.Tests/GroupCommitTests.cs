using Collections.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Grains.Tests;

/// <summary>The group commit under the journal, grain states, reminders and the projections' stores.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Several_writers_commit_each_request_once_and_never_an_empty_transaction()
    {
        var transactions = new List<int>();
        await using var commits = new GroupCommit<int>(async items =>
        {
            lock (transactions) transactions.Add(items.Count);
            await Task.Delay(1); // a round trip to the database
        }, maxItems: 100, NullLogger.Instance, "test items", writers: 4);

        // One at a time, as one account in flight commits: every writer wakes for each, one takes it.
        for (var i = 0; i < 200; i++) await commits.WriteAsync([i]);
        // Many at once: groups form, none empty.
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => commits.WriteAsync([i, i])));

        lock (transactions)
        {
            Assert.DoesNotContain(0, transactions);
            Assert.Equal(200 + 1000, transactions.Sum());
        }
    }
}
