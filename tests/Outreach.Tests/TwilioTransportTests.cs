using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Collections.Domain;
using Collections.TestSupport;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Tests;

/// <summary>
/// Twilio takes no idempotency key: a text whose first attempt may have reached Twilio (its answer lost) is looked up
/// before it is sent again, so a patient never gets the same text twice.
/// </summary>
public sealed class TwilioTransportTests
{
    private static TwilioTransport Wire(Harness h, TwilioApi api)
    {
        h.Options.PublicBaseUrl = "https://collections.riverside.example";
        h.Options.Twilio = new OutreachOptions.TwilioSettings
        {
            AccountSid = "AC00000000000000000000000000000001", AuthToken = "token", From = "+15125550199", ApiBase = api.Url, TimeoutSeconds = 5,
        };
        return new TwilioTransport(new PlainHttpClients(), Options.Create(h.Options), h.Outbox);
    }

    [Fact]
    public async Task A_text_whose_answer_was_lost_is_found_at_Twilio_on_the_retry_and_not_sent_again()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: post => post == 1);   // Twilio takes the first text, the answer is lost (502)
        var transport = Wire(h, api);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));

        await h.Sender(transport).RunOnceAsync();
        var first = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Pending, first!.Status);   // we cannot know it went: a retry, later
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.Sender(transport).RunOnceAsync();

        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.True(sent!.Status == OutboxStatus.Sent, sent.LastError);
        var text = Assert.Single(api.Created);
        Assert.Equal(text.Sid, sent.ProviderMessageId);
        Assert.Equal(1, api.Posts);
        Assert.Equal(1, api.Lookups);
    }

    [Fact]
    public async Task An_edge_page_instead_of_Twilios_answer_is_read_by_its_status_a_retry_with_Twilio_down()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false) { RefusePost = _ => true, RefuseWithHtml = true };
        var transport = Wire(h, api);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));

        var result = await transport.DeliverAsync(message, CancellationToken.None);

        Assert.Equal((false, false, "twilio http 503 code none", ReceiverAnswer.Unavailable), (result.Delivered, result.Permanent, result.Error, result.Vendor));
    }

    [Fact]
    public async Task A_retry_that_finds_nothing_at_Twilio_sends_the_text_and_an_older_identical_text_does_not_count()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: post => post == 1);
        var transport = Wire(h, api);
        var request = Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder);
        // Last week the same words went to the same number: that text is not this message.
        var message = await h.Service().EnqueueAsync(request);
        api.Seed("SMlastweek", "+1" + message.Recipient, message.Body, h.Clock.GetUtcNow() - TimeSpan.FromDays(7));
        api.RefusePost = post => post == 1;   // the first attempt never reached Twilio

        await h.Sender(transport).RunOnceAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.Sender(transport).RunOnceAsync();

        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.True(sent!.Status == OutboxStatus.Sent, sent.LastError);
        var text = Assert.Single(api.Created);
        Assert.Equal(text.Sid, sent.ProviderMessageId);
        Assert.NotEqual("SMlastweek", sent.ProviderMessageId);
        Assert.Equal(2, api.Posts);
    }

    [Fact]
    public async Task A_retry_does_not_take_over_the_same_words_another_message_already_sent_to_the_number()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false);
        var transport = Wire(h, api);
        var first = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await h.Sender(transport).RunOnceAsync();                        // sent: post 1
        var second = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        Assert.Equal(first.Body, second.Body);                           // a template without the pay link: the same words
        api.RefusePost = post => post == 2;                              // its first attempt never reached Twilio
        await h.Sender(transport).RunOnceAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.Sender(transport).RunOnceAsync();

        var a = await h.Outbox.GetAsync(first.MessageId);
        var b = await h.Outbox.GetAsync(second.MessageId);
        Assert.True(b!.Status == OutboxStatus.Sent, b.LastError);
        Assert.NotEqual(a!.ProviderMessageId, b.ProviderMessageId);      // its own text, sent on the retry
        Assert.Equal(2, api.Created.Count);
    }

    [Fact]
    public async Task A_text_whose_earlier_attempts_were_only_paused_is_sent_without_asking_Twilio_first() =>
        await PausedOnlyAsync(Db.Sqlite);

    [PostgresFact]
    public async Task A_text_whose_earlier_attempts_were_only_paused_is_sent_without_asking_Twilio_first_on_postgres() =>
        await PausedOnlyAsync(Db.Postgres);

    private static async Task PausedOnlyAsync(Db db)
    {
        var h = await Harness.CreateAsync(db);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false);
        var transport = Wire(h, api);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await PauseOnceAsync(h); // the texts' vendor was paused twice: put back before Twilio was asked
        await PauseOnceAsync(h);
        Assert.False(await h.Outbox.MayHaveGoneBeforeAsync(message.MessageId, 3));

        await h.Sender(transport).RunOnceAsync();

        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.True(sent!.Status == OutboxStatus.Sent, sent.LastError);
        Assert.Equal((1, 0), (api.Posts, api.Lookups));
    }

    [Fact]
    public async Task A_text_with_an_attempt_that_was_claimed_but_never_recorded_is_looked_up_before_it_goes_again()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false);
        var transport = Wire(h, api);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await PauseOnceAsync(h);
        Assert.Single(await h.Outbox.ClaimAsync("crashed-sender", 1, 5, TimeSpan.FromSeconds(30))); // attempt 2: its sender crashed
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await h.Outbox.MayHaveGoneBeforeAsync(message.MessageId, 3));

        await h.Sender(transport).RunOnceAsync();

        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(message.MessageId))!.Status);
        Assert.Equal((1, 1), (api.Posts, api.Lookups));
    }

    [Fact]
    public async Task A_retry_whose_earlier_attempts_cannot_be_read_asks_Twilio_first_as_if_one_may_have_gone()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false);
        Wire(h, api);
        var transport = new TwilioTransport(new PlainHttpClients(), Options.Create(h.Options), new UnreadableAttempts(h.Outbox));
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));

        var result = await transport.DeliverAsync(message with { Attempts = 2 }, CancellationToken.None);

        Assert.True(result.Delivered, result.Error);
        Assert.Equal((1, 1), (api.Posts, api.Lookups)); // looked up (nothing found), then sent: no attempt lost to a database blip
    }

    [Fact]
    public async Task A_timeout_spent_on_our_own_database_read_says_nothing_of_Twilio()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: _ => false);
        Wire(h, api);
        h.Options.Twilio.TimeoutSeconds = 1;
        var transport = new TwilioTransport(new PlainHttpClients(), Options.Create(h.Options), new HangingAttempts(h.Outbox));
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));

        var result = await transport.DeliverAsync(message with { Attempts = 2 }, CancellationToken.None);

        Assert.Equal((false, false, null), (result.Delivered, result.Permanent, result.Vendor)); // a retry; the channel is not paused for it
        Assert.Equal((0, 0), (api.Posts, api.Lookups));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Only_a_pause_recorded_while_its_lease_was_held_counts_as_not_sent(Db db) => await OnlyHeldPausesAsync(db);

    [PostgresFact]
    public async Task Only_a_pause_recorded_while_its_lease_was_held_counts_as_not_sent_on_postgres() => await OnlyHeldPausesAsync(Db.Postgres);

    private static async Task OnlyHeldPausesAsync(Db db)
    {
        var h = await Harness.CreateAsync(db);
        var lease = TimeSpan.FromSeconds(30);
        var later = h.Clock.GetUtcNow().AddDays(1);
        // Attempt 1 paused in time; attempt 2 claimed by a sender whose lease runs out before it records its pause;
        // attempt 3 paused in time by the sender that took it over.
        var text = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await PauseOnceAsync(h);
        Assert.Equal(2, Assert.Single(await h.Outbox.ClaimAsync("slow", 1, 5, lease)).Attempts);
        h.Clock.Advance(lease + TimeSpan.FromSeconds(1));
        Assert.Equal(3, Assert.Single(await h.Outbox.ClaimAsync("b", 1, 5, lease)).Attempts);
        var now = h.Clock.GetUtcNow();
        Assert.True(await h.Outbox.RecordAttemptAsync("b", new DeliveryAttempt(text.MessageId, 3, "none", now, now, "paused", null, "paused"), OutboxStatus.Pending, later));
        Assert.False(await h.Outbox.RecordAttemptAsync("slow", new DeliveryAttempt(text.MessageId, 2, "none", now, now, "paused", null, "paused"), OutboxStatus.Pending, later));
        Assert.Contains(await h.Outbox.AttemptsAsync(text.MessageId), a => a is { Attempt: 2, Outcome: "paused:lease-lost" });
        Assert.True(await h.Outbox.MayHaveGoneBeforeAsync(text.MessageId, 4)); // attempt 2's pause came after its lease: not known

        // Attempt 1 deferred (the person's hours: its number is given back), then claimed again by a sender that crashes.
        var other = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        Assert.Equal(other.MessageId, Assert.Single(await h.Outbox.ClaimAsync("a", 1, 5, lease)).MessageId);
        now = h.Clock.GetUtcNow();
        Assert.True(await h.Outbox.RecordAttemptAsync("a", new DeliveryAttempt(other.MessageId, 1, "none", now, now, "deferred", null, "deferred: quiet-hours"),
            OutboxStatus.Pending, now, givesAttemptBack: true));
        Assert.Equal(1, Assert.Single(await h.Outbox.ClaimAsync("crashed", 1, 5, lease)).Attempts);
        h.Clock.Advance(lease + TimeSpan.FromSeconds(1));
        Assert.True(await h.Outbox.MayHaveGoneBeforeAsync(other.MessageId, 2)); // a deferral is not a pause: attempt 1 may have gone
    }

    /// <summary>Claims the one due message and records its attempt as paused, as a sender does while the vendor is paused.</summary>
    private static async Task PauseOnceAsync(Harness h)
    {
        var claimed = Assert.Single(await h.Outbox.ClaimAsync("paused-sender", 1, 5, TimeSpan.FromSeconds(30)));
        var now = h.Clock.GetUtcNow();
        var paused = new DeliveryAttempt(claimed.MessageId, claimed.Attempts, "none", now, now, "paused", null, "paused: the Sms vendor is not answering");
        Assert.True(await h.Outbox.RecordAttemptAsync("paused-sender", paused, OutboxStatus.Pending, now));
    }

    /// <summary>An outbox whose attempts log cannot be read (the database is failing).</summary>
    /// <summary>An outbox whose attempts log answers only when the caller gives up (a database that hangs).</summary>
    private sealed class HangingAttempts(IOutboxStore inner) : DelegatingOutboxStore(inner)
    {
        public override async Task<bool> MayHaveGoneBeforeAsync(string messageId, int attempt, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return true;
        }
    }

    private sealed class UnreadableAttempts(IOutboxStore inner) : DelegatingOutboxStore(inner)
    {
        public override Task<bool> MayHaveGoneBeforeAsync(string messageId, int attempt, CancellationToken cancellationToken = default) =>
            throw new TimeoutException("the database did not answer");
    }

    [Theory]
    [InlineData(403, OutboxStatus.Failed, "twilio lookup http 403: the credentials may not read Messages")] // a key that may not read: say so, stop
    [InlineData(503, OutboxStatus.Pending, "twilio lookup http 503")]                                      // Twilio down: wait, never risk a second text
    public async Task A_retry_Twilio_cannot_be_asked_about_waits_or_fails_plainly_and_never_sends_again(int lookupStatus, OutboxStatus expected, string error)
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var api = new TwilioApi(h.Clock, loseAnswer: post => post == 1);
        var transport = Wire(h, api);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        await h.Sender(transport).RunOnceAsync();
        api.LookupStatus = lookupStatus;
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.Sender(transport).RunOnceAsync();

        var after = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(expected, after!.Status);
        Assert.StartsWith(error, after.LastError, StringComparison.Ordinal);
        Assert.Equal(1, api.Posts);
    }

    [Theory]
    [InlineData("Wed, 18 Aug 2010 20:01:40 +0000", "2010-08-18T20:01:40+00:00")]
    [InlineData("Thu, 3 Dec 2026 09:05:00 -0500", "2026-12-03T09:05:00-05:00")]
    public void Twilio_dates_in_RFC_2822_are_read(string text, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), TwilioTransport.ParseTwilioDate(text));

    private sealed class PlainHttpClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }

    /// <summary>Twilio's Messages API on 127.0.0.1: create a text (POST), list the texts to a number (GET, newest first).</summary>
    private sealed class TwilioApi : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly TimeProvider _clock;
        private readonly Func<int, bool> _loseAnswer;
        private readonly ConcurrentQueue<(string Sid, string To, string Body, DateTimeOffset Created)> _all = new();
        private int _posts, _lookups;
        public string Url { get; } = $"http://127.0.0.1:{Ports.Free()}";
        public int Posts => _posts;
        public int Lookups => _lookups;
        public int LookupStatus { get; set; } = 200;
        /// <summary>Posts (by number) that never reach Twilio: refused with a 503 and nothing created.</summary>
        public Func<int, bool> RefusePost { get; set; } = _ => false;
        /// <summary>Refused posts are answered by an edge's HTML page, not Twilio's JSON.</summary>
        public bool RefuseWithHtml { get; set; }
        public ConcurrentQueue<(string Sid, string To, string Body, DateTimeOffset Created)> Created { get; } = new();

        public TwilioApi(TimeProvider clock, Func<int, bool> loseAnswer)
        {
            _clock = clock;
            _loseAnswer = loseAnswer;
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public void Seed(string sid, string to, string body, DateTimeOffset created) => _all.Enqueue((sid, to, body, created));

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                var (status, answer) = context.Request.HttpMethod == "GET" ? List(context.Request) : await CreateAsync(context.Request);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(answer));
                context.Response.Close();
            }
        }

        private async Task<(int, string)> CreateAsync(HttpListenerRequest request)
        {
            using var reader = new StreamReader(request.InputStream);
            var form = (await reader.ReadToEndAsync()).Split('&').Select(p => p.Split('=', 2))
                .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => WebUtility.UrlDecode(p[1]));
            var post = Interlocked.Increment(ref _posts);
            if (RefusePost(post)) return (503, RefuseWithHtml ? "<html><body>503 Service Unavailable</body></html>" : """{"code":20500}""");
            var text = ($"SM{post:D32}", form["To"], form["Body"], _clock.GetUtcNow());
            _all.Enqueue(text);
            Created.Enqueue(text);
            return _loseAnswer(post) ? (502, "{}") : (201, JsonSerializer.Serialize(new { sid = text.Item1, status = "queued" }));
        }

        private (int, string) List(HttpListenerRequest request)
        {
            Interlocked.Increment(ref _lookups);
            if (LookupStatus != 200) return (LookupStatus, "{}");
            var to = request.QueryString["To"];
            var messages = _all.Where(m => m.To == to).OrderByDescending(m => m.Created).Select(m => new
            {
                sid = m.Sid, to = m.To, body = m.Body, direction = "outbound-api", status = "sent",
                date_created = m.Created.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture) + " +0000",
            });
            return (200, JsonSerializer.Serialize(new { messages }));
        }

        public void Dispose() => _listener.Close();
    }
}
