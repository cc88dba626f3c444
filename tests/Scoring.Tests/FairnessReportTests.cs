namespace Collections.Scoring.Tests;

public class FairnessReportTests
{
    private static IEnumerable<FairnessObservation> Accounts(int count, string language, string band, double score, double contactedShare)
    {
        for (var i = 0; i < count; i++)
            yield return new FairnessObservation(language, band, score, i < count * contactedShare ? 2 : 0, i % 2);
    }

    [Fact]
    public void A_group_contacted_far_less_often_than_the_portfolio_is_flagged_and_says_why()
    {
        var summary = FairnessReport.Of([.. Accounts(400, "en", "$60k-85k", 0.5, 0.5), .. Accounts(100, "es", "$60k-85k", 0.5, 0.2)]);

        var spanish = summary.Groups.Single(g => g.Group == "es");
        Assert.True(spanish.Flagged);
        Assert.Equal(0.2 / 0.44, spanish.ContactRatio!.Value, 6); // portfolio: 220 of 500 contacted
        Assert.Contains("contacted less often", Assert.Single(spanish.Reasons));
        Assert.False(summary.Groups.Single(g => g.Group == "en").Flagged); // 0.5 / 0.44 = 1.14, inside 0.8 to 1.25
        Assert.False(summary.Groups.Single(g => g.Group == "$60k-85k").Flagged);
    }

    [Fact]
    public void A_group_scored_far_from_the_portfolio_is_flagged_in_either_direction()
    {
        var summary = FairnessReport.Of([.. Accounts(300, "en", "under $40k", 0.30, 0.5), .. Accounts(300, "en", "$120k and over", 0.60, 0.5)]);

        var low = summary.Groups.Single(g => g.Group == "under $40k");
        var high = summary.Groups.Single(g => g.Group == "$120k and over");
        Assert.Equal(-0.15, low.ScoreDifference!.Value, 9);
        Assert.True(low.Flagged && high.Flagged);
        Assert.Contains("below", low.Reasons[0]);
        Assert.Contains("above", high.Reasons[0]);
        Assert.DoesNotContain(FairnessReport.Of([.. Accounts(300, "en", "under $40k", 0.30, 0.5), .. Accounts(300, "en", "$120k and over", 0.60, 0.5)],
            new FairnessOptions { ScoreGap = 0.2 }).Groups, g => g.Flagged);
    }

    [Fact]
    public void Small_groups_are_neither_named_nor_given_figures_nor_flagged()
    {
        var summary = FairnessReport.Of([.. Accounts(200, "en", "unknown", 0.5, 0.5), .. Accounts(5, "vi", "unknown", 0.9, 0), .. Accounts(3, "so", "unknown", 0.1, 1)]);

        Assert.DoesNotContain(summary.Groups, g => g.Group is "vi" or "so");
        var small = Assert.Single(summary.Groups, g => g.Group == FairnessReport.SmallGroups(11));
        Assert.Equal(FairnessReport.LanguageDimension, small.Dimension);
        Assert.Null(small.Accounts);
        Assert.Null(small.MeanScore);
        Assert.False(small.Flagged);
        Assert.Equal(208, summary.Accounts);
        Assert.Equal(["language/en", "language/(groups under 11 accounts)", "incomeBand/unknown"], summary.Groups.Select(g => $"{g.Dimension}/{g.Group}"));
    }

    [Fact]
    public void Languages_come_before_income_bands_largest_first_and_unscored_accounts_do_not_move_the_mean()
    {
        var summary = FairnessReport.Of(
        [
            .. Accounts(20, "es", "$40k-60k", 0.4, 0.5), .. Accounts(30, "en", "$40k-60k", 0.4, 0.5),
            new FairnessObservation("en", "$40k-60k", null, 0, 0),
        ]);

        Assert.Equal(["language/en", "language/es", "incomeBand/$40k-60k"], summary.Groups.Select(g => $"{g.Dimension}/{g.Group}"));
        Assert.Equal(0.4, summary.MeanScore!.Value, 12);
        Assert.Equal(31, summary.Groups[0].Accounts);
    }
}
