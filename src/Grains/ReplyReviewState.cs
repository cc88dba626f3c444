namespace Collections.Grains;

[GenerateSerializer, Alias("collections.ReplyReviewState")]
public sealed class ReplyReviewState
{
    [Id(0)] public List<ReplyReview> Reviews { get; set; } = [];
}
