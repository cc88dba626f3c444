using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Collections.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Collections.Gateway.Tests;

/// <summary>The engine with a fast webhook dispatcher: short polls and retries.</summary>
public sealed class WebhookEngineFixture : EngineFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Collections:Webhooks:PollSeconds", "0.2", "--Collections:Webhooks:RetryBaseSeconds", "0.2",
        "--Collections:Webhooks:RetryMaxSeconds", "1", "--Collections:Webhooks:MaxAttempts", "4",
        "--Collections:Webhooks:TimeoutSeconds", "3", "--Collections:Webhooks:LeaseSeconds", "10",
        // The test receivers listen on this machine: an on-premise receiver, as an administrator would allow one.
        "--Collections:Webhooks:AllowedPrivateTargets:0", "127.0.0.1",
    ];
}

public sealed class WebhookTests(WebhookEngineFixture engine) : IClassFixture<WebhookEngineFixture>
{
    [Fact]
    public async Task Posting_a_payment_delivers_a_signed_balanceChanged_event_without_PHI()
    {
        await using var receiver = await Receiver.StartAsync();
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        (await Api.PostEntryAsync(admin, account, Api.Charge(120m))).EnsureSuccessStatusCode();
        await engine.ProjectionsCaughtUpAsync(); // the charge's event goes out before the subscription exists
        var (id, secret) = await SubscribeAsync(admin, receiver, "balanceChanged");
        try
        {
            (await Api.PostEntryAsync(admin, account, Api.Payment(20m))).EnsureSuccessStatusCode();

            var received = await receiver.WaitForAsync(r => r.Json.GetProperty("accountNumber").GetString() == AccountNumber(account));
            Assert.Equal("balanceChanged", received.Event);
            Assert.Equal(Sign(secret, received.Timestamp, received.Body), received.Signature);
            Assert.StartsWith("sha256=", received.Signature, StringComparison.Ordinal);
            var json = received.Json;
            Assert.Equal("balanceChanged", json.GetProperty("type").GetString());
            Assert.Equal("MAIN", json.GetProperty("facility").GetString());
            Assert.Equal(120m, json.GetProperty("previousBalances").GetProperty("patientResponsibility").GetDecimal());
            Assert.Equal(100m, json.GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
            Assert.Equal(100m, json.GetProperty("balances").GetProperty("balance").GetDecimal());
            Assert.True(Guid.TryParse(json.GetProperty("eventId").GetString(), out _));
            var text = Encoding.UTF8.GetString(received.Body);
            // Whole values: a bare "555" or "1980" also turns up in a timestamp's fraction or an event id.
            foreach (var phi in new[] { "Maria", "Lopez", "Elm", "1980-04-02", "maria@", "512-555-0100", "5125550100" })
                Assert.DoesNotContain(phi, text, StringComparison.Ordinal);

            var delivery = await WaitForDeliveryAsync(admin, id, d => d.GetProperty("status").GetString() == "delivered");
            Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
            Assert.Equal(200, delivery.GetProperty("lastStatusCode").GetInt32());
            Assert.Equal(received.Delivery, delivery.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(json.GetProperty("eventId").GetString(), delivery.GetProperty("eventId").GetString());
            Assert.True(delivery.TryGetProperty("deliveredAt", out _));
        }
        finally
        {
            await admin.DeleteAsync($"/api/webhooks/{id}");
        }
    }

    [Fact]
    public async Task Paying_the_balance_off_delivers_paidInFull()
    {
        await using var receiver = await Receiver.StartAsync();
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        (await Api.PostEntryAsync(admin, account, Api.Charge(80m))).EnsureSuccessStatusCode();
        var (id, secret) = await SubscribeAsync(admin, receiver, "paidInFull");
        try
        {
            (await Api.PostEntryAsync(admin, account, Api.Payment(30m))).EnsureSuccessStatusCode();
            (await Api.PostEntryAsync(admin, account, Api.Payment(50m))).EnsureSuccessStatusCode();

            var received = await receiver.WaitForAsync(r => r.Json.GetProperty("accountNumber").GetString() == AccountNumber(account));
            Assert.Equal("paidInFull", received.Event);
            Assert.Equal(Sign(secret, received.Timestamp, received.Body), received.Signature);
            Assert.Equal(0m, received.Json.GetProperty("balances").GetProperty("patientResponsibility").GetDecimal());
            Assert.Equal(50m, received.Json.GetProperty("previousBalances").GetProperty("patientResponsibility").GetDecimal());
            await Task.Delay(500);
            Assert.Single(receiver.Received); // the partial payment raised no paidInFull
        }
        finally
        {
            await admin.DeleteAsync($"/api/webhooks/{id}");
        }
    }

    [Fact]
    public async Task A_receiver_failing_twice_with_503_gets_the_event_on_the_third_attempt()
    {
        var calls = 0;
        await using var receiver = await Receiver.StartAsync(_ => Interlocked.Increment(ref calls) <= 2 ? 503 : 200);
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        var (id, _) = await SubscribeAsync(admin, receiver, "balanceChanged");
        try
        {
            (await Api.PostEntryAsync(admin, account, Api.Charge(40m))).EnsureSuccessStatusCode();

            var delivery = await WaitForDeliveryAsync(admin, id, d => d.GetProperty("status").GetString() == "delivered");
            Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
            Assert.Equal(200, delivery.GetProperty("lastStatusCode").GetInt32());
            Assert.Equal(3, receiver.Received.Count);
            Assert.Single(receiver.Received.Select(r => r.Delivery).Distinct()); // the same delivery, retried
        }
        finally
        {
            await admin.DeleteAsync($"/api/webhooks/{id}");
        }
    }

    [Fact]
    public async Task A_400_answer_fails_the_delivery_without_retrying()
    {
        await using var receiver = await Receiver.StartAsync(_ => 400);
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        var (id, _) = await SubscribeAsync(admin, receiver, "balanceChanged");
        try
        {
            (await Api.PostEntryAsync(admin, account, Api.Charge(40m))).EnsureSuccessStatusCode();

            var delivery = await WaitForDeliveryAsync(admin, id, d => d.GetProperty("status").GetString() == "failed");
            Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
            Assert.Equal(400, delivery.GetProperty("lastStatusCode").GetInt32());
            Assert.Equal("http 400", delivery.GetProperty("lastError").GetString());
            await Task.Delay(1000);
            Assert.Single(receiver.Received);
            var failed = await admin.GetJsonAsync($"/api/webhooks/deliveries?subscription={id}&status=failed");
            Assert.Equal(1, failed.GetArrayLength());
        }
        finally
        {
            await admin.DeleteAsync($"/api/webhooks/{id}");
        }
    }

    [Fact]
    public async Task Unsubscribing_stops_deliveries()
    {
        await using var receiver = await Receiver.StartAsync();
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        var (id, _) = await SubscribeAsync(admin, receiver);
        Assert.Contains((await admin.GetJsonAsync("/api/webhooks")).EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        Assert.DoesNotContain("secret", (await admin.GetStringAsync("/api/webhooks")).ToLowerInvariant(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        (await Api.PostEntryAsync(admin, account, Api.Charge(40m))).EnsureSuccessStatusCode();
        await Task.Delay(1500);

        Assert.Empty(receiver.Received);
        Assert.Equal(0, (await admin.GetJsonAsync($"/api/webhooks/deliveries?subscription={id}")).GetArrayLength());
        Assert.DoesNotContain((await admin.GetJsonAsync("/api/webhooks")).EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        await (await admin.DeleteAsync($"/api/webhooks/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=webhook&resourceId={id}");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("action").GetString() == "webhook.subscribe");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("action").GetString() == "webhook.unsubscribe");
    }

    [Fact]
    public async Task Bad_subscriptions_are_refused_with_problem_details_and_only_admins_may_subscribe()
    {
        using var admin = engine.Admin();
        foreach (var body in new object[]
                 {
                     new { url = "ftp://127.0.0.1/hook" },
                     new { url = "http://example.org/hook" },
                     new { url = "not a url" },
                     new { url = "https://example.org/hook", events = new[] { "balanceChanged", "accountDeleted" } },
                 })
        {
            var problem = await (await admin.PostAsJsonAsync("/api/webhooks", body)).AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.StartsWith(Collections.Gateway.Api.Problems.TypePrefix, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        }
        await (await admin.GetAsync("/api/webhooks/deliveries?status=lost")).AssertProblemAsync(HttpStatusCode.BadRequest);

        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.PostAsJsonAsync("/api/webhooks", new { url = "https://example.org/hook" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.GetAsync("/api/webhooks/deliveries")).StatusCode);
    }

    [Fact]
    public async Task Subscriptions_aimed_inside_the_network_are_refused_in_every_spelling()
    {
        using var admin = engine.Admin();
        foreach (var url in new[]
                 {
                     "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.1.1/",
                     "https://[fd00::1]/", "https://[fe80::1]/", "https://[::1]/", "https://[::ffff:169.254.169.254]/", "https://[64:ff9b::a9fe:a9fe]/",
                     "https://localhost:5080/api/keys", "https://api.localhost/", "https://0.0.0.0/", "https://2852039166/", "https://0xA9FEA9FE/",
                     "https://127.2/", "https://100.64.0.1/", "https://intranet/", "http://example.org/hook", "https://user:pw@example.org/",
                 })
        {
            var response = await admin.PostAsJsonAsync("/api/webhooks", new { url });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {response.StatusCode}");
            var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").EnumerateArray().Any(e => e.GetProperty("field").GetString() == "url"), url);
        }
        Assert.DoesNotContain((await admin.GetJsonAsync("/api/webhooks")).EnumerateArray(), s => s.GetProperty("url").GetString()!.Contains("169.254", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_delivery_whose_target_is_no_longer_allowed_fails_at_once_without_connecting()
    {
        // Subscribed while allowed; the connection is checked again at send time, as a name that now resolves inside
        // the network would be. 127.0.0.2 is loopback but not on the allow-list.
        await using var receiver = await Receiver.StartAsync();
        using var admin = engine.Admin();
        var account = await Api.OpenAccountAsync(admin);
        await engine.ProjectionsCaughtUpAsync();
        using var signal = new Outreach.Webhooks.WebhookSignal();
        var store = new Outreach.Webhooks.SqlWebhookStore(Persistence.DatabaseOptions.SqliteFile(Path.Combine(engine.DataFolder, "collections.db")), TimeProvider.System, signal);
        var (subscription, _) = await store.CreateAsync("http://127.0.0.2:" + new Uri(receiver.Url).Port + "/", ["balanceChanged"], "moved inside", "test");
        try
        {
            (await Api.PostEntryAsync(admin, account, Api.Charge(10m))).EnsureSuccessStatusCode();
            var delivery = await WaitForDeliveryAsync(admin, subscription.Id, d => d.GetProperty("status").GetString() == "failed");
            Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
            Assert.Contains("webhook target refused", delivery.GetProperty("lastError").GetString(), StringComparison.Ordinal);
            Assert.Empty(receiver.Received);
        }
        finally
        {
            await store.DeleteAsync(subscription.Id);
        }
    }

    private static string AccountNumber(string accountUrl) => accountUrl[(accountUrl.LastIndexOf('/') + 1)..];

    private static async Task<(string Id, string Secret)> SubscribeAsync(HttpClient admin, Receiver receiver, params string[] events)
    {
        var response = await admin.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url, events, description = "test receiver" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.JsonAsync();
        var secret = created.GetProperty("secret").GetString()!;
        Assert.True(secret.Length >= 32);
        return (created.GetProperty("id").GetString()!, secret);
    }

    /// <summary>Our own HMAC-SHA256 of "timestamp.body", as a receiver would compute it.</summary>
    private static string Sign(string secret, string timestamp, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray()));

    private static async Task<JsonElement> WaitForDeliveryAsync(HttpClient admin, string subscriptionId, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var log = await admin.GetJsonAsync($"/api/webhooks/deliveries?subscription={subscriptionId}");
            var match = log.EnumerateArray().Where(condition).ToList();
            if (match.Count > 0) return match[0];
            if (DateTime.UtcNow > deadline) Assert.Fail($"No delivery matched in time; the log: {log}");
            await Task.Delay(100);
        }
    }

    private sealed record Received(string Event, string Delivery, string Timestamp, string Signature, byte[] Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    /// <summary>A webhook receiver on 127.0.0.1 that records every request and answers with the status <c>respond</c> picks.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Received> _received = new();

        private Receiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }
        public IReadOnlyList<Received> Received => [.. _received];

        public static async Task<Receiver> StartAsync(Func<Received, int>? respond = null)
        {
            var url = $"http://127.0.0.1:{Ports.Free()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app, url + "/hooks/collections");
            app.MapPost("/hooks/collections", async (HttpContext http) =>
            {
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer);
                var h = http.Request.Headers;
                var received = new Received(h["X-Collections-Event"].ToString(), h["X-Collections-Delivery"].ToString(),
                    h["X-Collections-Timestamp"].ToString(), h["X-Collections-Signature"].ToString(), buffer.ToArray());
                receiver._received.Enqueue(received);
                return Results.StatusCode(respond?.Invoke(received) ?? 200);
            });
            await app.StartAsync();
            return receiver;
        }

        public async Task<Received> WaitForAsync(Func<Received, bool> condition)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                if (_received.FirstOrDefault(condition) is { } match) return match;
                await Task.Delay(50);
            }
            throw new TimeoutException($"The receiver got {_received.Count} request(s), none matching.");
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
