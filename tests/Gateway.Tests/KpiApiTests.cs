using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Collections.Gateway.Tests;

/// <summary>The supervisors' portfolio KPIs over real HTTP, kept current by the accounts as entries are posted.</summary>
[Collection(EngineCollection.Name)]
public sealed class KpiApiTests(EngineFixture engine)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    private static string NewFacility() => "KPI" + Guid.NewGuid().ToString("N")[..10];

    private static string Day(int daysAgo) => Today.AddDays(-daysAgo).ToString("yyyy-MM-dd");

    private static async Task<string> OpenAsync(HttpClient admin, string facility, string? primaryPayer = null)
    {
        var guarantorId = Api.NewId("G");
        (await admin.PostAsJsonAsync("/api/guarantors", Api.Guarantor(guarantorId))).EnsureSuccessStatusCode();
        var accountNumber = Api.NewId("A");
        var opened = await admin.PostAsJsonAsync("/api/accounts", new { facility, accountNumber, guarantorId, primaryPayer });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        return $"/api/accounts/{facility}/{accountNumber}";
    }

    private static async Task PostAsync(HttpClient admin, string account, object entry) =>
        Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(admin, account, entry)).StatusCode);

    private static object Charge(decimal amount, int daysAgo) => new { kind = "charge", amount, serviceDate = Day(daysAgo), code = "99213" };

    [Fact]
    public async Task Kpis_of_a_facility_sum_its_accounts_ar_by_age_without_credit_balances_with_collection_and_promise_kept_rates()
    {
        using var admin = engine.Admin();
        var facility = NewFacility();

        // Insured: insurance pays 700 of 1000 and passes 200 to the patient, who pays 50. Owed: insurance 100, patient 150.
        var insured = await OpenAsync(admin, facility, primaryPayer: "Acme Health");
        await PostAsync(admin, insured, Charge(1000m, daysAgo: 10));
        await PostAsync(admin, insured, new { kind = "insurancePayment", amount = 700m, payer = "Acme Health" });
        await PostAsync(admin, insured, new { kind = "transfer", amount = 200m, direction = "insuranceToPatient", reasonCode = "PR-1" });
        await PostAsync(admin, insured, Api.Payment(50m));

        // Self-pay: 300 charged, 100 paid, then a promise of 50 kept by a payment. Owed: patient 150.
        var selfPay = await OpenAsync(admin, facility);
        await PostAsync(admin, selfPay, Charge(300m, daysAgo: 40));
        await PostAsync(admin, selfPay, Api.Payment(100m));
        var promised = await admin.PostAsJsonAsync($"{selfPay}/promises", new { amount = 50m, promisedDate = Today.AddDays(10).ToString("yyyy-MM-dd") });
        Assert.Equal(HttpStatusCode.OK, promised.StatusCode);
        await PostAsync(admin, selfPay, Api.Payment(50m));

        // Overpaid: 130 paid on a 100 charge from before the 90-day window: a credit balance of 30, not A/R.
        var overpaid = await OpenAsync(admin, facility);
        await PostAsync(admin, overpaid, Charge(100m, daysAgo: 100));
        await PostAsync(admin, overpaid, Api.Payment(130m));

        await engine.ProjectionsCaughtUpAsync(); // the KPI rows are a projection of the committed events
        var kpis = await admin.GetJsonAsync($"/api/kpis?facility={facility}");

        Assert.Equal(facility, kpis.GetProperty("facility").GetString());
        Assert.Equal(Today.ToString("yyyy-MM-dd"), kpis.GetProperty("asOf").GetString());
        Assert.Equal(2, kpis.GetProperty("accountsWithBalance").GetInt32());
        Assert.Equal(400m, kpis.GetProperty("totalAr").GetDecimal());
        Assert.Equal(300m, kpis.GetProperty("patientAr").GetDecimal());
        Assert.Equal(100m, kpis.GetProperty("insuranceAr").GetDecimal());
        Assert.Equal(1300m, kpis.GetProperty("grossChargesLast90Days").GetDecimal());
        Assert.Equal(1300m, kpis.GetProperty("netRevenueLast90Days").GetDecimal()); // no adjustment in the window: net is gross
        Assert.Equal(27.7m, kpis.GetProperty("daysInAr").GetDecimal());        // 400 / (1300 / 90)
        Assert.Equal(0.55m, kpis.GetProperty("collectionRate").GetDecimal());  // paid 50 + 150 + 130 of 200 + 300 + 100
        Assert.Equal(1m, kpis.GetProperty("promiseKeptRate").GetDecimal());
        Assert.Equal(1, kpis.GetProperty("promisesKept").GetInt32());
        Assert.Equal(0, kpis.GetProperty("promisesBroken").GetInt32());
        Assert.Equal(1, kpis.GetProperty("creditBalances").GetProperty("accounts").GetInt32());
        Assert.Equal(30m, kpis.GetProperty("creditBalances").GetProperty("amount").GetDecimal());
        Assert.Equal(0, kpis.GetProperty("placedWithAgency").GetProperty("accounts").GetInt32());

        // Each account with a balance sits in the bucket its own aging names (the first statement may restart the clock).
        var buckets = kpis.GetProperty("aging").EnumerateArray().ToList();
        Assert.Equal(["0-30", "31-60", "61-90", "91-120", "121-180", "180+"], buckets.Select(b => b.GetProperty("label").GetString()));
        var expected = new Dictionary<string, (decimal Amount, int Accounts)>();
        foreach (var (account, balance) in new[] { (insured, 250m), (selfPay, 150m) })
        {
            var bucket = (await admin.GetJsonAsync(account)).GetProperty("aging").GetProperty("bucket").GetString()!;
            var (amount, accounts) = expected.GetValueOrDefault(bucket);
            expected[bucket] = (amount + balance, accounts + 1);
        }
        foreach (var b in buckets)
        {
            var (amount, accounts) = expected.GetValueOrDefault(b.GetProperty("label").GetString()!);
            Assert.Equal(amount, b.GetProperty("amount").GetDecimal());
            Assert.Equal(accounts, b.GetProperty("accounts").GetInt32());
        }

        // The read is audited, naming the facility and no patient.
        var audit = await admin.GetJsonAsync($"/api/audit?resourceType=portfolio&resourceId={facility}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "kpi.read");
    }

    [Fact]
    public async Task An_account_paid_in_full_after_its_statement_counts_its_days_and_payments_count_by_channel_on_their_effective_day()
    {
        using var admin = engine.Admin();
        var facility = NewFacility();
        var paid = await OpenAsync(admin, facility);
        await PostAsync(admin, paid, Charge(300m, daysAgo: 40)); // the statement goes out now
        await PostAsync(admin, paid, new { kind = "patientPayment", amount = 100m, method = "check", effectiveDate = Day(0) });
        await PostAsync(admin, paid, new { kind = "patientPayment", amount = 200m, method = "ach", channel = "agency", effectiveDate = Day(0) });
        var insured = await OpenAsync(admin, facility, primaryPayer: "Acme Health");
        await PostAsync(admin, insured, Charge(500m, daysAgo: 20));
        await PostAsync(admin, insured, new { kind = "insurancePayment", amount = 400m, payer = "Acme Health", effectiveDate = Day(2) });
        var refused = await Api.PostEntryAsync(admin, insured, new { kind = "adjustment", amount = 10m, category = "contractual", reasonCode = "45", channel = "mail" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await engine.ProjectionsCaughtUpAsync();

        var kpis = await admin.GetJsonAsync($"/api/kpis?facility={facility}");
        Assert.Equal((0m, 1), (kpis.GetProperty("averageDaysToPaidInFull").GetDecimal(), kpis.GetProperty("paidInFullLast90Days").GetInt32()));
        Assert.Equal(0, kpis.GetProperty("refundsOverdue").GetProperty("accounts").GetInt32());

        var days = (await admin.GetJsonAsync($"/api/kpis/daily?facility={facility}&days=3")).GetProperty("days").EnumerateArray().ToList();
        Assert.Equal([Day(2), Day(1), Day(0)], days.Select(d => d.GetProperty("day").GetString()));
        Assert.Equal(400m, days[0].GetProperty("cash").GetProperty("remittance").GetDecimal());
        Assert.Equal((100m, 200m, 300m), (days[2].GetProperty("cash").GetProperty("mail").GetDecimal(), days[2].GetProperty("cash").GetProperty("agency").GetDecimal(),
            days[2].GetProperty("cashTotal").GetDecimal()));
        Assert.Equal(0m, days[1].GetProperty("cashTotal").GetDecimal());
    }

    [Fact]
    public async Task A_facility_without_accounts_has_zero_ar_and_no_rates()
    {
        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));

        var kpis = await supervisor.GetJsonAsync($"/api/kpis?facility={NewFacility()}");

        Assert.Equal(0m, kpis.GetProperty("totalAr").GetDecimal());
        Assert.Equal(JsonValueKind.Null, kpis.GetProperty("daysInAr").ValueKind);
        Assert.Equal(JsonValueKind.Null, kpis.GetProperty("collectionRate").ValueKind);
        Assert.Equal(JsonValueKind.Null, kpis.GetProperty("promiseKeptRate").ValueKind);
    }

    [Fact]
    public async Task Agents_may_not_read_kpis_and_a_bad_facility_code_is_a_problem()
    {
        using var agent = engine.As(await engine.KeyForAsync("agent"));
        await (await agent.GetAsync("/api/kpis")).AssertProblemAsync(HttpStatusCode.Forbidden);

        using var admin = engine.Admin();
        var problem = await (await admin.GetAsync("/api/kpis?facility=no%20such%20place")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("facility.invalid", problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/kpis")).StatusCode);
    }

    [Fact]
    public async Task A_backfill_rebuilds_past_days_from_the_ledgers_effective_dates_and_never_overwrites_a_day_and_today_is_as_of_now()
    {
        using var admin = engine.Admin();
        var facility = NewFacility();
        var account = await OpenAsync(admin, facility);
        await PostAsync(admin, account, Charge(400m, daysAgo: 30));
        await PostAsync(admin, account, new { kind = "patientPayment", amount = 150m, method = "check", effectiveDate = Day(10) });
        await admin.GetAsync(account);
        await engine.ProjectionsCaughtUpAsync();

        var backfill = await admin.PostAsync("/api/admin/kpis/backfill?days=45", null);
        Assert.Equal(HttpStatusCode.OK, backfill.StatusCode);
        Assert.True((await backfill.JsonAsync()).GetProperty("rowsAdded").GetInt32() > 0);

        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        var trend = await supervisor.GetJsonAsync($"/api/kpis/trend?facility={facility}&days=45");
        var days = trend.GetProperty("days").EnumerateArray().ToDictionary(d => d.GetProperty("day").GetString()!);
        Assert.False(days.ContainsKey(Day(31)));                                     // nothing was owed yet: no row for the facility
        Assert.Equal(400m, days[Day(30)].GetProperty("figures").GetProperty("totalAr").GetDecimal());
        Assert.Equal("backfill", days[Day(20)].GetProperty("source").GetString());
        Assert.Equal(400m, days[Day(11)].GetProperty("figures").GetProperty("totalAr").GetDecimal());
        Assert.Equal(250m, days[Day(10)].GetProperty("figures").GetProperty("totalAr").GetDecimal());   // the check, by its deposit date
        Assert.Equal(0.375m, days[Day(1)].GetProperty("figures").GetProperty("collectionRate").GetDecimal());
        var today = days[Day(0)];
        Assert.Equal("now", today.GetProperty("source").GetString());
        var kpis = await supervisor.GetJsonAsync($"/api/kpis?facility={facility}");
        Assert.Equal(kpis.GetProperty("totalAr").GetDecimal(), today.GetProperty("figures").GetProperty("totalAr").GetDecimal());

        // Again, after another payment: the days already there are kept as they were (a backfill adds, never rewrites).
        await PostAsync(admin, account, new { kind = "patientPayment", amount = 50m, method = "check", effectiveDate = Day(5) });
        await engine.ProjectionsCaughtUpAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/admin/kpis/backfill?days=45", null)).StatusCode);
        var after = await supervisor.GetJsonAsync($"/api/kpis/trend?facility={facility}&days=45");
        var kept = after.GetProperty("days").EnumerateArray().Single(d => d.GetProperty("day").GetString() == Day(5));
        Assert.Equal(250m, kept.GetProperty("figures").GetProperty("totalAr").GetDecimal());

        using var agent = engine.As(await engine.KeyForAsync("agent"));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync($"/api/kpis/trend?facility={facility}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.PostAsync("/api/admin/kpis/backfill", null)).StatusCode);
        Assert.Equal("days.out-of-range", (await (await supervisor.GetAsync("/api/kpis/trend?days=0")).AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_compliance_view_counts_the_gates_decisions_by_rule_and_shows_what_waits_for_a_person()
    {
        using var admin = engine.Admin();
        var facility = NewFacility();
        var account = await OpenAsync(admin, facility);
        await PostAsync(admin, account, Charge(300m, daysAgo: 3));   // the statement goes out: an allowed contact
        await admin.GetAsync(account);
        var call = new HttpRequestMessage(HttpMethod.Post, $"{account}/calls") { Content = JsonContent.Create(new { initiator = "agent", outcome = "noAnswer" }) };
        call.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, (await admin.SendAsync(call)).StatusCode);
        using var vendor = engine.As(await engine.KeyForAsync("integration"));
        var reply = await (await vendor.PostAsJsonAsync("/api/outreach/replies", new { channel = "sms", from = "5125550100", text = $"who is this {Guid.NewGuid():N}" })).JsonAsync();
        Assert.Equal("needsReview", reply.GetProperty("meaning").GetString());
        await engine.ProjectionsCaughtUpAsync(); // the decisions are a projection of the accounts' committed facts

        using var supervisor = engine.As(await engine.KeyForAsync("supervisor"));
        var view = await supervisor.GetJsonAsync($"/api/compliance?facility={facility}&days=7");
        var decisions = view.GetProperty("decisions").EnumerateArray().ToList();
        Assert.All(decisions, d => Assert.Equal(Day(0), d.GetProperty("day").GetString()));
        Assert.Equal(2, decisions.Where(d => d.GetProperty("verdict").GetString() == "allow").Sum(d => d.GetProperty("count").GetInt32())); // the statement and the call
        var unclear = view.GetProperty("reviewQueues").EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "unclear replies");
        Assert.True(unclear.GetProperty("open").GetInt32() >= 1);
        Assert.True(unclear.GetProperty("oldestReceivedAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);

        using var agent = engine.As(await engine.KeyForAsync("agent"));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/compliance")).StatusCode);
    }
}
