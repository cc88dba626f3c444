using System.Security.Cryptography;
using System.Text;
using Collections.Outreach;
using Orleans.Concurrency;

namespace Collections.Grains;

/// <summary>The inbound-reply workflow behind <see cref="IReplyIntakeGrain"/>: classify, honour, or send to a person.</summary>
[StatelessWorker]
public sealed class ReplyIntakeGrain(IGrainFactory grains) : Grain, IReplyIntakeGrain
{
    public async Task<ReplyIntakeResult> Receive(string fromDigits, InboundReply reply)
    {
        var meaning = ReplyKeywords.Classify(reply.Text);
        var matched = await grains.GetGrain<IPhoneDirectoryGrain>(fromDigits).Find();
        int optedOut = 0, confirmed = 0;
        foreach (var guarantorId in matched)
        {
            // Every guarantor records (and audits) the reply; a revocation closes the channel there and then.
            var handling = await grains.GetGrain<IGuarantorGrain>(guarantorId).RecordReply(reply);
            if (handling.OptedOut) optedOut++;
            if (handling.ConfirmationSent) confirmed++;
        }
        string? reviewId = null;
        if (meaning == ReplyMeaning.NeedsReview)
        {
            reviewId = ReviewId(fromDigits, reply);
            await grains.GetGrain<IReplyReviewGrain>(0).Add(new ReplyReview
            {
                ReviewId = reviewId, Channel = reply.Channel, From = fromDigits, Text = reply.Text.Length > 2000 ? reply.Text[..2000] : reply.Text,
                ReceivedAt = reply.ReceivedAt, GuarantorIds = matched.ToList(),
            });
        }
        return new ReplyIntakeResult
        {
            GuarantorsMatched = matched.Count, OptedOut = optedOut, ConfirmationsSent = confirmed, ReviewId = reviewId,
            Meaning = meaning switch { ReplyMeaning.OptOut => "optOut", ReplyMeaning.Acknowledgement => "acknowledgement", _ => "needsReview" },
        };
    }

    private static string ReviewId(string from, InboundReply reply) =>
        "R" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{from}\n{reply.ReceivedAt.UtcTicks}\n{reply.Text}")))[..16];
}
