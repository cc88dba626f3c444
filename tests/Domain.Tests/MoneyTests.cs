using System.Globalization;
using Collections.Domain.Compliance;

namespace Collections.Domain.Tests;

/// <summary>Amounts compared by value, and a retried call told from another call under its key.</summary>
public sealed class MoneyTests
{
    private static string Text(decimal amount) => Money.Canonical(amount).ToString(CultureInfo.InvariantCulture);

    /// <summary>An amount as a sender wrote it, by value.</summary>
    private static string Written(string amount) => Text(decimal.Parse(amount, CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("50", "50.00")]
    [InlineData("50.0", "50")]
    [InlineData("0.10", "0.1")]
    [InlineData("1234567.00", "1234567")]
    [InlineData("99999999.99", "99999999.990")]
    [InlineData("-12.50", "-12.5")]
    public void An_amount_counts_by_its_value_not_by_how_its_sender_wrote_it(string first, string retry) =>
        Assert.Equal(Written(first), Written(retry));

    [Theory]
    [InlineData("50.00", "50.01")]
    [InlineData("50.001", "50.00")]
    [InlineData("500", "50")]
    [InlineData("0.0000000000000000000000000001", "0")]
    [InlineData("-50", "50")]
    public void Amounts_of_other_value_stay_apart_written_without_their_trailing_zeros(string one, string other) =>
        Assert.NotEqual(Written(one), Written(other));

    [Fact]
    public void The_value_itself_never_changes_at_the_ends_of_the_range()
    {
        foreach (var amount in new[] { decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 0m, 0.00m, 99999999.99m, 7.9228162514264337593543950335m })
            Assert.Equal(amount, Money.Canonical(amount));
        Assert.Equal("79228162514264337593543950335", Text(decimal.MaxValue));
        Assert.Equal("0", Text(0.00m));
        Assert.Equal("50.001", Text(50.0010m));
    }

    [Theory]
    // recorded as sent, recorded by value, retry as sent, retry by value, same request
    [InlineData(null, null, "a|50.00", "a|50", true)]        // logged before fingerprints: taken as the same
    [InlineData("a|50.00", null, "a|50.00", "a|50", true)]   // logged by the release before, retried as sent
    [InlineData("a|50.00", null, "a|50", "a|50", false)]     // ... retried written another way: that release kept no more
    [InlineData("a|50.00", "a|50", "a|50", "a|50", true)]    // logged now, retried written another way
    [InlineData("a|50.00", "a|50", "a|50.00", "a|50", true)]
    [InlineData("a|50.00", "a|50", "a|50.00", null, true)]   // asked by a caller that has only the first form
    [InlineData("a|50.00", "a|50", "a|60.00", "a|60", false)] // other terms under the key
    [InlineData(null, "a|50", "a|50.00", "a|50", true)]
    [InlineData(null, "a|50", "a|60", "a|60", false)]
    public void A_retried_call_is_the_same_when_either_kept_fingerprint_matches(string? recordedAsSent, string? recordedByValue, string asSent, string? byValue, bool same) =>
        Assert.Equal(same, LoggedCall.SameRequest(recordedAsSent, recordedByValue, asSent, byValue));
}
