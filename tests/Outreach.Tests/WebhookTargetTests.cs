using System.Net;
using Collections.Outreach.Webhooks;

namespace Collections.Outreach.Tests;

public sealed class WebhookTargetTests
{
    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.216.34")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    public void Public_addresses_may_be_reached(string address) => Assert.True(WebhookTargets.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1")] [InlineData("10.1.2.3")] [InlineData("172.31.255.255")] [InlineData("192.168.0.1")] [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")] [InlineData("0.0.0.0")] [InlineData("255.255.255.255")] [InlineData("224.0.0.1")] [InlineData("198.18.0.1")]
    [InlineData("::")] [InlineData("::1")] [InlineData("fd00::1")] [InlineData("fe80::1")] [InlineData("fec0::1")] [InlineData("ff02::1")]
    [InlineData("::ffff:10.0.0.1")] [InlineData("64:ff9b::a9fe:a9fe")] [InlineData("2002:a9fe:a9fe::1")] [InlineData("2001:db8::1")] [InlineData("::127.0.0.1")]
    public void Addresses_inside_a_network_may_not(string address) => Assert.False(WebhookTargets.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void An_administrator_allows_named_receivers_ranges_and_plain_http_to_them()
    {
        var targets = new WebhookTargets(["hooks.billing.internal", "10.20.0.0/16", "fd00:1::5"]);
        Assert.Null(targets.CheckUrl(new Uri("http://hooks.billing.internal/collections")));
        Assert.Null(targets.CheckUrl(new Uri("https://10.20.3.4/")));
        Assert.Null(targets.CheckUrl(new Uri("https://[fd00:1::5]/")));
        Assert.NotNull(targets.CheckUrl(new Uri("https://10.21.0.1/")));
        Assert.NotNull(targets.CheckUrl(new Uri("http://example.org/")));
        Assert.True(targets.MayConnect("hooks.billing.internal", IPAddress.Parse("192.168.7.7")));
        Assert.False(targets.MayConnect("evil.example", IPAddress.Parse("192.168.7.7")));
        Assert.True(targets.MayConnect("evil.example", IPAddress.Parse("10.20.9.9")));
    }

    [Theory]
    [InlineData("https://2852039166/")]
    [InlineData("https://0xA9FEA9FE/")]
    [InlineData("https://0251.0376.0251.0376/")]
    [InlineData("https://[::ffff:a9fe:a9fe]/")]
    public void Numeric_spellings_of_the_metadata_address_are_refused(string url) => Assert.NotNull(new WebhookTargets([]).CheckUrl(new Uri(url)));
}
