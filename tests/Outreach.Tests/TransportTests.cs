using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Collections.Domain;
using Collections.TestSupport;
using Microsoft.Extensions.Options;

namespace Collections.Outreach.Tests;

public sealed class TransportTests
{
    [Fact]
    public async Task Emails_share_a_few_kept_connections_to_the_relay_instead_of_one_each()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var server = new MiniSmtpServer();
        h.Options.Smtp = Relay(server, maxConnections: 2);
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
            ids.Add((await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder) with { Recipient = $"patient{i}@example.org" })).MessageId);
        await using var transport = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks);

        Assert.Equal(12, await h.Sender(transport).RunOnceAsync());

        foreach (var id in ids) Assert.Equal((OutboxStatus.Sent, 1), ((await h.Outbox.GetAsync(id))!.Status, (await h.Outbox.GetAsync(id))!.Attempts));
        Assert.InRange(server.Connections, 1, 2); // the sender had 12 on their way; the relay saw at most two connections
        Assert.InRange(server.PeakOpen, 1, 2);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"<patient{i}@example.org>").Order(), server.Messages.Select(m => Assert.Single(m.To)).Order());

        await transport.DisposeAsync(); // at shutdown: QUIT on every kept connection
        for (var waited = 0; server.Open > 0 && waited < 100; waited++) await Task.Delay(50);
        Assert.Equal(0, server.Open);
    }

    [Fact]
    public async Task An_email_that_times_out_waiting_for_a_free_connection_says_nothing_of_the_relay()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var server = new MiniSmtpServer { HoldData = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        h.Options.Smtp = Relay(server, maxConnections: 1, timeoutSeconds: 2);
        await using var transport = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks);
        var first = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        var second = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
        var holding = transport.DeliverAsync(first, CancellationToken.None); // takes the one connection; the relay is slow to take it
        for (var waited = 0; server.Open == 0 && waited < 100; waited++) await Task.Delay(20);

        var waiting = await transport.DeliverAsync(second, CancellationToken.None);

        Assert.Equal((false, false, null), (waiting.Delivered, waiting.Permanent, waiting.Vendor)); // a retry; the channel is not paused for it
        // Either it never got the connection, or got it as the first one's timeout freed it, with no time left: ours both ways.
        Assert.Contains(waiting.Error, new[] { "timeout: every one of the 1 connections to the relay stayed busy",
            "timeout: the relay had less than half the time (preparing the email and waiting for a connection took the rest)" });
        server.HoldData!.SetResult();
        // The one the relay held: its own timeout, the relay's (the deadline's cancellation or MailKit's own timeout, whichever fires first).
        var held = await Assert.ThrowsAnyAsync<Exception>(() => holding);
        Assert.True(held is OperationCanceledException or TimeoutException, held.GetType().Name);
    }

    [Fact]
    public async Task A_connection_is_closed_after_its_number_of_messages_and_one_the_relay_dropped_is_replaced_not_blamed()
    {
        foreach (var (closeAfterMessage, perConnection, expected) in new[] { (false, 3, 3), (true, 100, 7) })
        {
            var h = await Harness.CreateAsync(Db.Sqlite);
            using var server = new MiniSmtpServer(closeAfterMessage: closeAfterMessage);
            h.Options.Smtp = Relay(server, maxConnections: 1, messagesPerConnection: perConnection);
            await using var transport = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks);
            for (var i = 0; i < 7; i++)
            {
                var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.EmailReminder));
                var result = await transport.DeliverAsync(message, CancellationToken.None);
                Assert.True(result.Delivered, $"message {i}: {result.Error}");
            }
            Assert.Equal(7, server.Messages.Count);
            Assert.Equal(expected, server.Connections); // 3 + 3 + 1 messages; or a new connection for each one the relay dropped
        }
    }

    [Fact]
    public async Task An_email_that_cannot_be_prepared_says_the_relay_was_not_reached_and_the_relay_is_not_called()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var server = new MiniSmtpServer();
        h.Options.Smtp = Relay(server);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.PatientStatement));
        // The statement's pay link is read from a database that is not there (a file in a folder that does not exist).
        var gone = Persistence.DatabaseOptions.SqliteFile(Path.Combine(Path.GetTempPath(), $"collections-missing-{Guid.NewGuid():N}", "collections.db"));
        var documents = new StatementPdfRenderer(h.Facilities, new PayLinks(gone, new Persistence.SignedLinks(gone, h.Clock), Options.Create(h.Options), h.Clock,
            new PortalLinkLifetime(TimeSpan.FromDays(90))));
        await using var transport = new SmtpTransport(Options.Create(h.Options), documents, h.OptOutLinks);

        var result = await transport.DeliverAsync(message, CancellationToken.None);

        Assert.Equal((false, false, null), (result.Delivered, result.Permanent, result.Vendor)); // a retry that says nothing of the relay
        Assert.StartsWith("the email could not be prepared: ", result.Error, StringComparison.Ordinal);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task The_smtp_transport_delivers_to_an_smtp_server_with_a_message_id_derived_from_the_outbox_id()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var server = new MiniSmtpServer();
        h.Options.Smtp = Relay(server, from: "Billing <billing@riverside.example>");
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Email, OutreachAction.PatientStatement));
        await using var transport = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks);

        await h.Sender(transport).RunOnceAsync();

        var sent = await h.Outbox.GetAsync(message.MessageId);
        Assert.True(sent!.Status == OutboxStatus.Sent, sent.LastError);
        var expectedId = SmtpTransport.MessageIdHeader(message.MessageId, "riverside.example");
        Assert.Equal(expectedId, sent.ProviderMessageId);
        var mail = Assert.Single(server.Messages);
        Assert.Equal("<billing@riverside.example>", mail.From);
        Assert.Equal(["<maria@example.org>"], mail.To);
        Assert.Contains($"Message-Id: <{expectedId}>", mail.Data, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Subject: Your statement from Riverside Hospital", mail.Data, StringComparison.Ordinal);
        Assert.Contains("application/pdf", mail.Data, StringComparison.Ordinal);   // the statement goes with it
        Assert.DoesNotContain("A1001", expectedId, StringComparison.Ordinal);
        // Every email carries its way out: a link in the text and a one-click List-Unsubscribe header (RFC 8058).
        var link = await h.OptOutLinks.UrlAsync(message.GuarantorId);
        Assert.Contains(link, sent.Body, StringComparison.Ordinal);
        var unfolded = System.Text.RegularExpressions.Regex.Replace(mail.Data, "\r?\n[ \t]+", " ");
        Assert.True(unfolded.Contains($"List-Unsubscribe: <{link}>", StringComparison.OrdinalIgnoreCase), unfolded[..Math.Min(1500, unfolded.Length)]);
        Assert.Contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click", mail.Data, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(message.GuarantorId, await h.OptOutLinks.GuarantorAsync(link[(link.LastIndexOf('/') + 1)..]));
        Assert.Null(await h.OptOutLinks.GuarantorAsync(link[(link.LastIndexOf('/') + 1)..] + "x"));
    }

    [Fact]
    public async Task An_smtp_server_refusing_the_recipient_fails_the_message_and_one_that_is_down_is_retried()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var server = new MiniSmtpServer(rejectRecipients: true);
        h.Options.Smtp = Relay(server);
        var refused = await h.Service().EnqueueAsync(Harness.Request());
        await using (var smtp = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks))
            await h.Sender(smtp).RunOnceAsync();
        var failed = await h.Outbox.GetAsync(refused.MessageId);
        Assert.Equal(OutboxStatus.Failed, failed!.Status);
        Assert.Equal("smtp 550 RecipientNotAccepted", failed.LastError);
        Assert.DoesNotContain("maria", failed.LastError!, StringComparison.OrdinalIgnoreCase);

        h.Options.Smtp.Port = Ports.Free();   // nothing listens there
        var down = await h.Service().EnqueueAsync(Harness.Request());
        await using (var smtp = new SmtpTransport(Options.Create(h.Options), h.Documents, h.OptOutLinks))
            await h.Sender(smtp).RunOnceAsync();
        var pending = await h.Outbox.GetAsync(down.MessageId);
        Assert.Equal(OutboxStatus.Pending, pending!.Status);
        Assert.StartsWith("socket", pending.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_webhook_transport_posts_signed_json_with_an_idempotency_key()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        using var vendor = new WebhookReceiver(_ => (200, """{"id":"vendor-77"}"""));
        const string secret = "a-very-secret-shared-key";
        h.Options.Webhooks.Sms = new OutreachOptions.WebhookSettings { Url = vendor.Url, Secret = secret };
        h.Options.Webhooks.Mail = new OutreachOptions.WebhookSettings { Url = vendor.Url, Secret = secret };
        var sms = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));
        var letter = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.FinalNotice));
        var transport = new WebhookTransport(new PlainHttpClients(), Options.Create(h.Options), h.Documents, h.Clock);

        await h.Sender(transport).RunOnceAsync();

        Assert.Equal("vendor-77", (await h.Outbox.GetAsync(sms.MessageId))!.ProviderMessageId);
        Assert.Equal(OutboxStatus.Sent, (await h.Outbox.GetAsync(letter.MessageId))!.Status);
        Assert.Equal(2, vendor.Requests.Count);
        foreach (var request in vendor.Requests)
        {
            Assert.True(WebhookTransport.Verify(secret, request.Headers[WebhookTransport.TimestampHeader]!, request.Body, request.Headers[WebhookTransport.SignatureHeader]));
            Assert.False(WebhookTransport.Verify("another-secret-entirely", request.Headers[WebhookTransport.TimestampHeader]!, request.Body, request.Headers[WebhookTransport.SignatureHeader]));
            Assert.Equal(h.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), request.Headers[WebhookTransport.TimestampHeader]);
        }
        var smsRequest = vendor.Requests.Single(r => r.Headers[WebhookTransport.IdempotencyHeader] == sms.MessageId);
        using var json = JsonDocument.Parse(smsRequest.Body);
        Assert.Equal("5125550100", json.RootElement.GetProperty("recipient").GetString());
        Assert.Equal(sms.Body, json.RootElement.GetProperty("body").GetString());
        var letterRequest = vendor.Requests.Single(r => r.Headers[WebhookTransport.IdempotencyHeader] == letter.MessageId);
        using var letterJson = JsonDocument.Parse(letterRequest.Body);
        Assert.StartsWith("JVBER", letterJson.RootElement.GetProperty("pdfBase64").GetString(), StringComparison.Ordinal);   // "%PDF"
    }

    [Fact]
    public async Task A_vendor_answering_503_is_retried_and_one_answering_400_fails_the_message()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var status = 503;
        using var vendor = new WebhookReceiver(_ => (status, "{}"));
        h.Options.Webhooks.Sms = new OutreachOptions.WebhookSettings { Url = vendor.Url, Secret = "a-very-secret-shared-key" };
        var transport = new WebhookTransport(new PlainHttpClients(), Options.Create(h.Options), h.Documents, h.Clock);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder));

        await h.Sender(transport).RunOnceAsync();
        Assert.Equal(OutboxStatus.Pending, (await h.Outbox.GetAsync(message.MessageId))!.Status);
        status = 400;
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        await h.Sender(transport).RunOnceAsync();
        var failed = await h.Outbox.GetAsync(message.MessageId);
        Assert.Equal(OutboxStatus.Failed, failed!.Status);
        Assert.Equal("http 400", failed.LastError);
        Assert.Equal(2, vendor.Requests.Count);
        Assert.All(vendor.Requests, r => Assert.Equal(message.MessageId, r.Headers[WebhookTransport.IdempotencyHeader]));
    }

    private sealed class PlainHttpClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }

    /// <summary>A vendor endpoint on 127.0.0.1 that records what it receives.</summary>
    private sealed class WebhookReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<byte[], (int Status, string Body)> _answer;
        public List<(byte[] Body, System.Collections.Specialized.NameValueCollection Headers)> Requests { get; } = [];
        public string Url { get; }

        public WebhookReceiver(Func<byte[], (int, string)> answer)
        {
            _answer = answer;
            Url = $"http://127.0.0.1:{Ports.Free()}/vendor/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var memory = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(memory);
                var body = memory.ToArray();
                lock (Requests) Requests.Add((body, context.Request.Headers));
                var (status, answer) = _answer(body);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(answer);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    /// <summary>Just enough SMTP (RFC 5321) on 127.0.0.1 to accept mail and record it.</summary>
    /// <summary>The test relay, plain (no TLS), with the pool's limits the test needs.</summary>
    private static OutreachOptions.SmtpSettings Relay(MiniSmtpServer server, string from = "billing@riverside.example", int maxConnections = 32,
        int messagesPerConnection = 100, int timeoutSeconds = 30) =>
        new()
        {
            Host = "127.0.0.1", Port = server.Port, UseTls = false, From = from, MaxConnections = maxConnections, MessagesPerConnection = messagesPerConnection,
            TimeoutSeconds = timeoutSeconds,
        };

    private sealed class MiniSmtpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly bool _rejectRecipients, _closeAfterMessage;
        private int _connections, _open, _peak;
        public List<(string From, List<string> To, string Data)> Messages { get; } = [];
        public int Port { get; }
        /// <summary>Connections accepted, and the most open at once.</summary>
        public int Connections => Volatile.Read(ref _connections);
        public int PeakOpen => Volatile.Read(ref _peak);
        public int Open => Volatile.Read(ref _open);
        /// <summary>When set, the end of a message's data is answered only once this completes (a relay slow to take it).</summary>
        public TaskCompletionSource? HoldData { get; set; }

        /// <param name="closeAfterMessage">Drops the connection right after each message is taken (as a relay that closes idle connections).</param>
        public MiniSmtpServer(bool rejectRecipients = false, bool closeAfterMessage = false)
        {
            _rejectRecipients = rejectRecipients;
            _closeAfterMessage = closeAfterMessage;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(LoopAsync);
        }

        private async Task LoopAsync()
        {
            while (true)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            Interlocked.Increment(ref _connections);
            var open = Interlocked.Increment(ref _open);
            for (var peak = Volatile.Read(ref _peak); open > peak && Interlocked.CompareExchange(ref _peak, open, peak) != peak; peak = Volatile.Read(ref _peak))
            {
            }
            try
            {
                await SessionAsync(client);
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        }

        private async Task SessionAsync(TcpClient client)
        {
            using var _ = client;
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 localhost test SMTP");
            string from = "";
            var to = new List<string>();
            while (await reader.ReadLineAsync() is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO": case "HELO": await writer.WriteLineAsync("250 localhost"); break;
                    case "MAIL": from = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ')[0]; await writer.WriteLineAsync("250 OK"); break;
                    case "RCPT":
                        if (_rejectRecipients) { await writer.WriteLineAsync("550 5.1.1 No such user here"); break; }
                        to.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync() is { } d && d != ".") data.Append(d).Append('\n');
                        if (HoldData is { } hold) await hold.Task;
                        lock (Messages) Messages.Add((from, to, data.ToString()));
                        to = [];
                        await writer.WriteLineAsync("250 OK queued");
                        if (_closeAfterMessage) return;
                        break;
                    case "RSET": to.Clear(); await writer.WriteLineAsync("250 OK"); break;
                    case "QUIT": await writer.WriteLineAsync("221 Bye"); return;
                    default: await writer.WriteLineAsync("250 OK"); break;
                }
            }
        }

        public void Dispose() => _listener.Stop();
    }
}
