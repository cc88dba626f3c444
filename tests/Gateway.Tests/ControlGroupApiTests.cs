using System.Net;
using System.Net.Http.Json;
using Collections.Domain.Cadence;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace Collections.Gateway.Tests;

/// <summary>A policy's control share over real HTTP: the group is on the account, and a control account is not called.</summary>
[Collection(EngineCollection.Name)]
public sealed class ControlGroupApiTests(EngineFixture engine)
{
    [Fact]
    public async Task A_control_account_keeps_to_the_statement_is_never_offered_to_agents_and_shows_its_group()
    {
        using var admin = engine.Admin();
        var facility = "CG" + Guid.NewGuid().ToString("N")[..10];
        var policyId = "cg-" + Guid.NewGuid().ToString("N")[..8];
        var saved = await admin.PutAsJsonAsync($"/api/policies/{policyId}", new
        {
            name = "Half kept as a control group", facility, priority = 1000, controlShare = 0.5m,
            steps = new object[]
            {
                new { stepId = "statement", day = 0, action = "patientStatement", channel = "mail" },
                new { stepId = "text", day = 1, action = "smsReminder", channel = "sms" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/worklist/queues/{facility}", new { name = "Calls", facility, agents = new[] { "nobody" } })).StatusCode);

        // The same hash the engine uses picks one account of each group.
        string Pick(bool control)
        {
            while (true)
            {
                var number = Api.NewId("A");
                if (ControlGroups.Position(policyId, $"{facility}/{number}") < 0.5 == control) return number;
            }
        }
        var accounts = new Dictionary<string, string> { ["control"] = Pick(true), ["treated"] = Pick(false) };
        foreach (var number in accounts.Values)
        {
            var guarantorId = Api.NewId("G");
            (await admin.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = number, guarantorId })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{number}", Api.Charge(200m))).StatusCode);
        }
        await engine.ProjectionsCaughtUpAsync();

        foreach (var (group, number) in accounts)
        {
            var account = await admin.GetJsonAsync($"/api/accounts/{facility}/{number}");
            var treatment = account.GetProperty("treatment");
            Assert.Equal((group == "control", policyId, 0.5m), (treatment.GetProperty("control").GetBoolean(), treatment.GetProperty("policyId").GetString(), treatment.GetProperty("controlShare").GetDecimal()));
            Assert.NotNull(account.GetProperty("firstPatientStatementDate").GetString()); // both got the baseline: the statement
        }
        var stats = await admin.GetJsonAsync($"/api/worklist/queues/{facility}/stats");
        Assert.Equal(1, stats.GetProperty("depth").GetInt32()); // only the treated account is offered to agents
        // The uplift report counts each group from the KPI projection: the treated account's payment, the control's none.
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, $"/api/accounts/{facility}/{accounts["treated"]}", Api.Payment(50m))).StatusCode);
        await engine.ProjectionsCaughtUpAsync();
        var stored = new Dictionary<bool, AccountTreatmentRow>();
        await foreach (var row in engine.Services.GetRequiredService<KpiStore>().TreatmentsAsync(facility)) stored[row.Control] = row;
        Assert.Equal((policyId, 0.5m, 5000L, 0L), (stored[false].PolicyId, stored[false].ControlShare, stored[false].CollectedCents, stored[true].CollectedCents));
        Assert.Contains("statement", stored[true].Steps);
        var uplift = await admin.GetJsonAsync($"/api/models/uplift?facility={facility}");
        Assert.Equal(2, uplift.GetProperty("accounts").GetInt64());
        var all = uplift.GetProperty("segments")[0];
        Assert.Equal(("all", "too few"), (all.GetProperty("kind").GetString(), all.GetProperty("verdict").GetString()));
        Assert.Equal(1, all.GetProperty("treated").GetProperty("accounts").GetInt32());
        Assert.False(all.GetProperty("treated").TryGetProperty("collected", out _)); // one account's dollars are not shown
        var segments = uplift.GetProperty("segments").EnumerateArray().Select(s => $"{s.GetProperty("kind").GetString()}/{s.GetProperty("name").GetString()}").ToList();
        Assert.Contains($"policy/{policyId}", segments);
        Assert.Contains("step/statement", segments);
        Assert.Equal("uplift.confidence", (await (await admin.GetAsync("/api/models/uplift?confidence=0.5")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("uplift.confidence", (await (await admin.GetAsync("/api/models/uplift?confidence=NaN")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal("uplift.minimum-accounts", (await (await admin.GetAsync("/api/models/uplift?minimumAccounts=2")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());

        var refused = await admin.PutAsJsonAsync($"/api/policies/{policyId}", new { name = "Too many", facility, controlShare = 0.9m, steps = new object[] { new { stepId = "s", day = 0, action = "patientStatement", channel = "mail" } } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("control-share.out-of-range", (await refused.JsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_insured_account_is_drawn_under_the_policy_its_debt_starts_under_not_the_one_it_met_owing_nothing()
    {
        using var admin = engine.Admin();
        var (facility, policyId) = await EngineFixture.SaveHalfControlPolicyAsync(admin, "ci", "Patients owing 25 or more, half in control", new { minimumBalance = 25.00m });
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var number = Api.NewId("A");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber = number, guarantorId, primaryPayer = "ACME HEALTH PLAN" })).StatusCode);
        var account = $"/api/accounts/{facility}/{number}";
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, Api.Charge(300m))).StatusCode); // insurance's: the patient owes nothing
        Assert.NotEqual(policyId, (await admin.GetJsonAsync(account)).GetProperty("treatment").GetProperty("policyId").GetString());

        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account,
            new { kind = "transfer", amount = 150.00m, direction = "insuranceToPatient", reasonCode = "PR-1" })).StatusCode);

        var treatment = (await admin.GetJsonAsync(account)).GetProperty("treatment");
        Assert.Equal((policyId, 0.5m), (treatment.GetProperty("policyId").GetString(), treatment.GetProperty("controlShare").GetDecimal()));
    }
}
