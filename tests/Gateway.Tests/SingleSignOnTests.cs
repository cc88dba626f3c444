using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Collections.Gateway.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace Collections.Gateway.Tests;

/// <summary>
/// An engine that accepts the test identity provider's tokens beside API keys: the provider's <c>groups</c> claim
/// mapped to our roles (Collections-Agents → agent, Collections-Supervisors → supervisor).
/// </summary>
public sealed class SingleSignOnFixture : EngineFixture
{
    public TestIdentityProvider Provider { get; private set; } = null!;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Collections:Oidc:Authority", Provider.Issuer.ToString(),
        "--Collections:Oidc:RequireHttpsMetadata", "false",
        "--Collections:Oidc:RoleClaim", "groups",
        "--Collections:Oidc:Roles:Collections-Agents", "agent",
        "--Collections:Oidc:Roles:Collections-Supervisors", "supervisor",
        "--Collections:Oidc:Roles:Collections Billing admin", "integration", // a value with spaces is one value
    ];

    public override async Task InitializeAsync()
    {
        Provider = await TestIdentityProvider.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync();
    }

    /// <summary>Signs a person in with the provider (code + PKCE, as the console does) and returns their access token.</summary>
    public async Task<string> TokenForAsync(string subject, params string[] groups)
    {
        Provider.Person = (subject, "Signed-in " + subject, groups);
        var (status, token, body) = await Provider.SignInAsync(new Uri(BaseAddress, "/console"));
        Assert.True(status == HttpStatusCode.OK, body);
        return token!;
    }
}

/// <summary>
/// Single sign-on: staff call the API with their identity provider's access tokens, roles come from a configurable
/// claim through a configurable map, the audit trail names the person (the token's subject), API keys keep working,
/// and the agents' console signs people in with the authorization code flow and PKCE in a real browser.
/// </summary>
public sealed class SingleSignOnTests(SingleSignOnFixture engine) : IClassFixture<SingleSignOnFixture>
{
    private static string NewSubject() => "u-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<string> GuarantorAsync()
    {
        using var admin = engine.Admin();
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", new
        {
            guarantorId, firstName = "Ada", lastName = "Quinn", dateOfBirth = "1969-02-03",
            address = new { line1 = "1 Elm St", city = "Austin", state = "TX", zip = "78701" },
            timeZone = Api.DaytimeZone(),
        })).EnsureSuccessStatusCode();
        return guarantorId;
    }

    [Fact]
    public async Task A_token_from_the_identity_provider_reads_with_the_role_its_group_maps_to_and_the_audit_names_the_person()
    {
        var guarantorId = await GuarantorAsync();
        var subject = NewSubject();
        using var agent = engine.As(await engine.TokenForAsync(subject, "Collections-Agents", "Everyone"));

        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync($"/api/guarantors/{guarantorId}")).StatusCode);
        // An agent may not manage keys, whoever signed them in.
        var keys = await agent.PostAsJsonAsync("/api/keys", new { name = "mine", role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, keys.StatusCode);

        using var admin = engine.Admin();
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=guarantor&resourceId={guarantorId}");
        var shown = audit.EnumerateArray().Where(e => e.GetProperty("actor").GetString() == subject).ToList();
        var read = Assert.Single(shown);
        Assert.Equal("agent", read.GetProperty("actorRole").GetString());
    }

    [Fact]
    public async Task A_person_in_several_mapped_groups_acts_with_the_most_privileged_role()
    {
        var subject = NewSubject();
        using var supervisor = engine.As(await engine.TokenForAsync(subject, "Collections-Agents", "Collections-Supervisors"));
        // Reading the audit trail is a supervisor's right, not an agent's.
        Assert.Equal(HttpStatusCode.OK, (await supervisor.GetAsync("/api/audit?limit=1")).StatusCode);
        // Endpoints that hold agents to patient payments must not treat a supervisor who is also in the agents' group
        // as an agent: the supervisor posts a charge.
        var guarantorId = await GuarantorAsync();
        using var admin = engine.Admin();
        var (facility, accountNumber) = ("SSO", Api.NewId("A"));
        (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId })).EnsureSuccessStatusCode();
        var charged = await Api.PostEntryAsync(supervisor, $"/api/accounts/{facility}/{accountNumber}",
            new { kind = "charge", amount = 80.00m, serviceDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3).ToString("yyyy-MM-dd"), code = "99213" });
        Assert.Equal(HttpStatusCode.Created, charged.StatusCode);
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={facility}/{accountNumber}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == subject && e.GetProperty("actorRole").GetString() == "supervisor");
    }

    [Fact]
    public async Task A_person_whose_groups_map_to_no_role_is_signed_in_but_may_do_nothing_and_the_refusal_is_audited()
    {
        var guarantorId = await GuarantorAsync();
        var subject = NewSubject();
        using var nobody = engine.As(await engine.TokenForAsync(subject, "Everyone", "Cafeteria"));
        var refused = await nobody.GetAsync($"/api/guarantors/{guarantorId}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("auth.forbidden", (await refused.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("code").GetString());

        using var admin = engine.Admin();
        var audit = await admin.GetJsonAsync("/api/audit?resourceType=endpoint&limit=200");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == subject && e.GetProperty("outcome").GetString() == "denied");
    }

    [Fact]
    public async Task A_forged_unsigned_or_altered_token_is_refused_401_and_each_failure_is_audited()
    {
        var guarantorId = await GuarantorAsync();
        using var rsa = RSA.Create(2048);
        var stranger = new RsaSecurityKey(rsa) { KeyId = "stranger" };
        string Forge(string issuer, string audience, DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer, Audience = audience, Expires = expires, NotBefore = expires.AddHours(-2), IssuedAt = expires.AddHours(-2),
            Subject = new ClaimsIdentity([new Claim("sub", "mallory"), new Claim("groups", "Collections-Supervisors")]),
            SigningCredentials = new SigningCredentials(stranger, SecurityAlgorithms.RsaSha256),
        });

        foreach (var token in new[]
                 {
                     Forge(engine.Provider.Issuer.ToString(), TestIdentityProvider.Audience, DateTime.UtcNow.AddHours(1)),
                     "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.",
                 })
        {
            using var forged = engine.As(token);
            var answer = await forged.GetAsync($"/api/guarantors/{guarantorId}");
            Assert.Equal("auth.invalid", (await answer.AssertProblemAsync(HttpStatusCode.Unauthorized)).GetProperty("code").GetString());
        }

        // A real token whose claims were altered no longer matches its signature.
        var real = await engine.TokenForAsync(NewSubject(), "Collections-Agents");
        var parts = real.Split('.');
        using var tampered = engine.As($"{parts[0]}.{parts[1][..^2]}AA.{parts[2]}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tampered.GetAsync($"/api/guarantors/{guarantorId}")).StatusCode);

        using var admin = engine.Admin();
        var failures = await admin.GetJsonAsync("/api/audit?resourceType=oidc-token&limit=50");
        Assert.True(failures.GetArrayLength() >= 3, failures.ToString());
        Assert.All(failures.EnumerateArray(), e => Assert.Equal("denied", e.GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task A_group_is_matched_whole_so_a_name_containing_a_role_grants_only_what_the_table_says()
    {
        using var billing = engine.As(await engine.TokenForAsync(NewSubject(), "Collections Billing admin"));
        // integration may read accounts but not the audit trail (an admin's or supervisor's right).
        Assert.Equal(HttpStatusCode.Forbidden, (await billing.GetAsync("/api/audit?limit=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await billing.GetAsync($"/api/guarantors/{await GuarantorAsync()}")).StatusCode);
    }

    [Fact]
    public async Task The_provider_refuses_a_code_redeemed_with_the_wrong_PKCE_verifier()
    {
        engine.Provider.Person = (NewSubject(), "Eve", ["Collections-Agents"]);
        var (status, token, _) = await engine.Provider.SignInAsync(new Uri(engine.BaseAddress, "/console"), verifierOverride: new string('x', 43));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(token);
    }

    [Fact]
    public async Task API_keys_keep_working_beside_single_sign_on()
    {
        var guarantorId = await GuarantorAsync();
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync($"/api/guarantors/{guarantorId}")).StatusCode);
        using var wrong = engine.As("ck_0123456789ab_notthesecret");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync($"/api/guarantors/{guarantorId}")).StatusCode);
    }

    [Fact]
    public async Task The_console_learns_the_providers_endpoints_and_may_call_its_token_endpoint_under_its_content_policy()
    {
        using var anonymous = engine.Anonymous();
        var options = await anonymous.GetJsonAsync("/console/sign-in");
        Assert.True(options.GetProperty("singleSignOn").GetBoolean());
        Assert.Equal(TestIdentityProvider.ClientId, options.GetProperty("clientId").GetString());
        Assert.StartsWith(engine.Provider.Issuer.ToString(), options.GetProperty("authorizationEndpoint").GetString(), StringComparison.Ordinal);
        var page = await anonymous.GetAsync("/console");
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains($"connect-src 'self' {engine.Provider.Issuer.GetLeftPart(UriPartial.Authority)};", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_signs_in_to_the_console_through_the_identity_provider_and_takes_the_next_account()
    {
        var subject = NewSubject();
        var (facility, accountNumber) = await ConsoleScenario.AccountToCallAsync(engine, subject, 180.00m);
        engine.Provider.Person = (subject, "Sam Agent", ["Collections-Agents"]);

        var browser = Browser.Start();
        try
        {
            var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(20));
            browser.Navigate().GoToUrl(new Uri(engine.BaseAddress, "/console"));
            wait.Until(b => b.FindElement(By.Id("sso")).Displayed);
            browser.FindElement(By.Id("sso-sign-in")).Click();
            // To the provider and back with a code, exchanged in the page for an access token.
            wait.Until(b => b.FindElement(By.Id("work-panel")).Displayed);
            Assert.Equal(new Uri(engine.BaseAddress, "/console#worklist").ToString(), browser.Url); // no code or state left in the address
            Assert.Equal("Signed in.", browser.FindElement(By.Id("message")).Text);

            browser.FindElement(By.Id("queue-id")).SendKeys(facility);
            browser.FindElement(By.Id("next")).Click();
            wait.Until(b => b.FindElement(By.Id("account-number")).Text == accountNumber);
            wait.Until(b => b.FindElement(By.Id("guarantor-name")).Text == "Rosa Delgado");
            ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(Artifacts.Folder("screenshots"), "console-single-sign-on.png"));
        }
        finally
        {
            browser.Quit();
        }

        using var admin = engine.Admin();
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=account&resourceId={facility}/{accountNumber}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == subject && e.GetProperty("actorRole").GetString() == "agent");
    }
}

public sealed class StaffSignInSettingsTests
{
    [Fact]
    public void Only_whole_values_listed_in_the_table_grant_a_role_and_the_most_privileged_comes_first()
    {
        var settings = new StaffSignInSettings { Roles = { ["Billing-Office"] = "integration", ["IT-Admins"] = "admin", ["agent"] = "agent" } };
        Assert.Equal(["admin", "agent", "integration"], settings.MapRoles(["agent", "Billing-Office", "Cafeteria", "IT-Admins"]));
        // A group whose name contains a role, or our own role names not listed, grant nothing.
        Assert.Empty(settings.MapRoles(["Billing admin", "admin", "supervisor", "IT-Admins Billing-Office", ""]));
    }

    [Theory]
    [InlineData("Bearer ck_0123456789ab_secret", false)]
    [InlineData("Bearer eyJ.eyJ.sig", true)]
    [InlineData("Bearer a.b", false)]
    [InlineData("Basic eyJ.eyJ.sig", false)]
    public void Bearer_tokens_go_to_the_identity_provider_only_when_shaped_like_a_JWT(string header, bool jwt) =>
        Assert.Equal(jwt, StaffSignIn.LooksLikeJwt(header));
}
