using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Collections.Outreach;
using Collections.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Collections.Gateway.Tests;

/// <summary>A local stand-in for Twilio's Messages API: records each text asked for and answers with a message SID.</summary>
public sealed class TwilioStandIn : IDisposable
{
    private readonly WebApplication _app;
    private int _next;
    public Uri Address { get; } = new($"http://127.0.0.1:{Ports.Free()}");
    public ConcurrentQueue<(string Sid, string Authorization, Dictionary<string, string> Form)> Messages { get; } = new();

    public TwilioStandIn()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Address.ToString());
        _app = builder.Build();
        _app.MapPost("/2010-04-01/Accounts/{sid}/Messages.json", async (string sid, HttpContext http) =>
        {
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var messageSid = $"SM{Interlocked.Increment(ref _next):D32}";
            Messages.Enqueue((messageSid, http.Request.Headers.Authorization.ToString(), form));
            return Results.Json(new { sid = messageSid, account_sid = sid, status = "queued", to = form["To"] }, statusCode: 201);
        });
        // A retried text is looked up first (Twilio takes no idempotency key): the texts to a number, newest first.
        _app.MapGet("/2010-04-01/Accounts/{sid}/Messages.json", (string sid, string? To) => Results.Json(new
        {
            messages = Messages.Where(m => m.Form["To"] == To).Reverse()
                .Select(m => new { sid = m.Sid, account_sid = sid, to = m.Form["To"], body = m.Form["Body"], direction = "outbound-api", status = "queued" }),
        }));
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public void Dispose() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

public sealed class TwilioEngineFixture : EngineFixture, IDisposable
{
    public const string AccountSid = "AC00000000000000000000000000000001", AuthToken = "local-auth-token";
    public TwilioStandIn Twilio { get; } = new();

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Collections:Outreach:Transports:Sms", "twilio", "--Collections:Outreach:Twilio:AccountSid", AccountSid,
        "--Collections:Outreach:Twilio:AuthToken", AuthToken, "--Collections:Outreach:Twilio:From", "+15125550199",
        "--Collections:Outreach:Twilio:ApiBase", Twilio.Address.ToString().TrimEnd('/'),
    ];

    public void Dispose() => Twilio.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TwilioEngineCollection : ICollectionFixture<TwilioEngineFixture>
{
    public const string Name = "twilio engine";
}

/// <summary>Texts through Twilio (a local stand-in) with callbacks signed locally: a STOP reply, the one confirmation, its delivery.</summary>
[Collection(TwilioEngineCollection.Name)]
public sealed class TwilioTests(TwilioEngineFixture engine)
{
    private async Task<HttpResponseMessage> CallbackAsync(string path, Dictionary<string, string> form, string? token = TwilioEngineFixture.AuthToken)
    {
        using var anonymous = engine.Anonymous();
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", TwilioSignature.Compute(token!, engine.BaseAddress.ToString().TrimEnd('/') + path, form));
        return await anonymous.SendAsync(request);
    }

    [Fact]
    public async Task A_STOP_reply_through_Twilio_opts_the_person_out_and_the_one_confirmation_goes_out_through_Twilio_and_is_reported_delivered()
    {
        var household = await Household.CreateAsync(engine, 75.00m);
        using var admin = engine.Admin();
        (await admin.PostAsJsonAsync($"/api/guarantors/{household.GuarantorId}/consents", new { channel = "sms", status = "granted", source = "signed form at registration" })).EnsureSuccessStatusCode();

        var forged = await CallbackAsync("/webhooks/twilio/inbound", new() { ["From"] = "+15125550142", ["Body"] = "STOP", ["AccountSid"] = TwilioEngineFixture.AccountSid }, token: "not-the-token");
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        var stop = await CallbackAsync("/webhooks/twilio/inbound", new() { ["From"] = "+15125550142", ["To"] = "+15125550199", ["Body"] = "STOP", ["MessageSid"] = "SMinbound1", ["AccountSid"] = TwilioEngineFixture.AccountSid });
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        Assert.Contains("<Response>", await stop.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var guarantor = await admin.GetFromJsonAsync<JsonElement>($"/api/guarantors/{household.GuarantorId}");
        Assert.Contains(guarantor.GetProperty("consents").EnumerateArray(), c => c.GetProperty("channel").GetString() == "sms" && c.GetProperty("status").GetString() == "optedOut");

        (string Sid, string Authorization, Dictionary<string, string> Form) sent = default;
        for (var i = 0; i < 400 && sent.Sid is null; i++)
        {
            sent = engine.Twilio.Messages.FirstOrDefault(m => m.Form["Body"]!.Contains("You will not get any more texts", StringComparison.Ordinal));
            if (sent.Sid is null) await Task.Delay(25);
        }
        Assert.NotNull(sent.Sid);
        Assert.Equal(("+15125550142", "+15125550199"), (sent.Form!["To"], sent.Form["From"]));
        Assert.Equal(engine.BaseAddress.ToString().TrimEnd('/') + "/webhooks/twilio/status", sent.Form["StatusCallback"]);
        Assert.StartsWith("Basic ", sent.Authorization, StringComparison.Ordinal);

        // Twilio reports delivery once the outbox recorded the send (the endpoint also waits a little if it has not yet).
        var delivered = await CallbackAsync("/webhooks/twilio/status", new() { ["MessageSid"] = sent.Sid, ["MessageStatus"] = "delivered", ["AccountSid"] = TwilioEngineFixture.AccountSid });
        Assert.Equal(HttpStatusCode.NoContent, delivered.StatusCode);
        var outbox = await admin.GetFromJsonAsync<JsonElement>($"/api/outbox?account={Uri.EscapeDataString(household.Accounts[0])}");
        var confirmation = outbox.EnumerateArray().Single(m => m.GetProperty("action").GetString() == "optOutConfirmation");
        Assert.True(confirmation.GetProperty("status").GetString() == "delivered", confirmation.ToString());
        Assert.Equal(sent.Sid, confirmation.GetProperty("providerMessageId").GetString());
    }
}
