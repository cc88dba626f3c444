using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Cadence;
using Collections.Domain.Compliance;
using Collections.Outreach;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Collections.Grains.Tests;

/// <summary>
/// A cluster on a fake clock (SQLite, real reminders table, real outbox): tests move time and watch reminders fire.
/// Monday 2 March 2026, 15:00 UTC is 09:00 in Austin (the guarantors' time zone).
/// </summary>
public sealed class FakeClockClusterFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);
    public FakeTimeProvider Clock { get; } = new(Start);
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public DatabaseOptions Database { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public SandboxMailbox Sandbox => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SandboxMailbox>();

    public async Task InitializeAsync()
    {
        Database = await TestDatabases.NewSqliteAsync();
        Cluster = await TestClusters.StartAsync(Database, TestDatabases.NewServiceId(), clock: Clock);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FakeClockCollection : ICollectionFixture<FakeClockClusterFixture>
{
    public const string Name = "fake clock";
}

[Collection(FakeClockCollection.Name)]
public sealed class CadenceGrainTests(FakeClockClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;

    /// <summary>
    /// Moves the fake clock straight to the account's next armed reminder (the reminder fires as the clock passes it),
    /// waits for the tick to be handled, and repeats until the account shows what is expected.
    /// </summary>
    private async Task<AccountView> AdvanceUntil(IPatientAccountGrain account, Func<AccountView, bool> done, int maxSteps = 300)
    {
        var waited = 0;
        for (var step = 0; step < maxSteps; step++)
        {
            var view = (await account.Get())!;
            if (done(view)) return view;
            var now = fixture.Clock.GetUtcNow();
            if (view.Cadence?.NextActionAt is { } next && next > now)
            {
                fixture.Clock.Advance(next - now);
                waited = 0;
            }
            else if (++waited > 40)
            {
                fixture.Clock.Advance(TimeSpan.FromDays(1)); // nothing armed (or a tick that never came): let a day pass
                waited = 0;
            }
            else
            {
                await Task.Delay(25); // the tick is being handled
            }
        }
        var last = (await account.Get())!;
        throw new TimeoutException($"The account never reached the expected state. Clock {fixture.Clock.GetUtcNow():O}; cadence {last.Cadence?.Status}, next {last.Cadence?.NextActionAt:O}; promises {string.Join(",", last.Promises.Select(p => p.Status + "@" + p.PromisedDate))}; plans {string.Join(",", last.Plans.Select(p => p.Status))}; decisions {string.Join(" | ", last.Cadence?.Decisions.Select(d => d.StepId + ":" + d.Decision.Rule) ?? [])}");
    }

    private async Task<(IPatientAccountGrain Account, string GuarantorId)> OpenSelfPayAsync(decimal charge, GuarantorDetails? details = null)
    {
        var guarantorId = Samples.NewId("G");
        var registered = await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(details ?? Samples.Guarantor() with { PreferredChannel = ContactChannel.Email });
        Assert.True(registered.Succeeded);
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        var charged = await account.Post(Samples.Charge(charge, "charge-1") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) });
        Assert.True(charged.Succeeded, string.Join("; ", charged.Errors.Select(e => e.Message)));
        return (account, guarantorId);
    }

    private static string[] StepsDone(AccountView view) =>
        view.Cadence!.Progress.Steps.Where(s => s.Outcome == StepOutcome.Done).Select(s => s.StepId).ToArray();

    [Fact]
    public async Task A_call_task_listed_after_a_bankruptcy_says_not_to_call_and_a_call_made_anyway_is_recorded_once_with_the_rule_it_broke()
    {
        var (account, guarantorId) = await OpenSelfPayAsync(400.00m);
        var key = account.GetPrimaryKeyString();
        await AdvanceUntil(account, v => StepsDone(v).Contains("call-45"));
        var desk = Grains.GetGrain<ICallTaskDeskGrain>("MAIN");
        var task = (await desk.List(CallTaskStatus.Open, 1000)).Single(t => t.Account.ToString() == key && t.Kind == CallTaskKind.Call);
        Assert.NotNull(task.CallNow); // checked now, whatever the verdict at this hour

        // The patient files for bankruptcy after the task was made: the listing says not to call, and why.
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        Assert.True((await guarantor.PlaceHold(new Domain.Compliance.HoldRequest { Reason = Domain.Compliance.HoldReason.Bankruptcy, Note = "chapter 7 notice" })).Succeeded);
        task = (await desk.List(CallTaskStatus.Open, 1000)).Single(t => t.TaskId == task.TaskId);
        Assert.Equal(GateVerdict.Deny, task.CallNow!.Verdict);
        Assert.StartsWith("hold", task.CallNow.Rule, StringComparison.Ordinal);

        // An agent called anyway: the call is a fact, recorded once on the person with the rule it broke; closing the
        // task again records nothing more.
        Assert.False((await desk.Complete(task.TaskId, null)).Succeeded); // how the call went is required
        var done = await desk.Complete(task.TaskId, ContactOutcome.RightPartyContact);
        Assert.True(done.Succeeded, string.Join("; ", done.Errors.Select(e => e.Message)));
        Assert.Equal(CallTaskStatus.Done, done.Value!.Status);
        Assert.True((await desk.Complete(task.TaskId, ContactOutcome.RightPartyContact)).Succeeded);
        var calls = (await guarantor.Get())!.RecentContacts.Where(c => c.Account.ToString() == key && c.Initiator == ContactInitiator.Agent).ToList();
        var call = Assert.Single(calls);
        Assert.Equal(ContactOutcome.RightPartyContact, call.Outcome);
        Assert.StartsWith("hold", call.RuleBroken, StringComparison.Ordinal);
        Assert.DoesNotContain(await desk.List(CallTaskStatus.Open, 1000), t => t.TaskId == task.TaskId);
    }

    [Fact]
    public async Task A_credit_report_is_withdrawn_when_assistance_is_approved_or_the_balance_is_paid_each_once_with_its_event()
    {
        // A facility of its own whose policy reports to the bureaus after a year (the bureaus' wait), after a final notice.
        var facility = "CR" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var saved = await Grains.GetGrain<ICadencePolicyBookGrain>(ICadencePolicyBookGrain.Key).Save(new CadencePolicy
        {
            PolicyId = "credit-" + facility.ToLowerInvariant(), Name = "credit reporting", Facility = facility, Priority = 1000,
            Steps =
            [
                new CadenceStep { StepId = "statement", Day = 0, Action = OutreachAction.PatientStatement, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "final-notice", Day = 120, Action = OutreachAction.FinalNotice, Channel = ContactChannel.Mail },
                new CadenceStep { StepId = "credit", Day = 370, Action = OutreachAction.CreditReporting },
            ],
        });
        Assert.True(saved.Succeeded, string.Join("; ", saved.Errors.Select(e => e.Message)));
        async Task<IPatientAccountGrain> OpenAsync()
        {
            var guarantorId = Samples.NewId("G");
            Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor())).Succeeded);
            var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, Samples.NewId("A")).ToString());
            Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
            Assert.True((await account.Post(Samples.Charge(800.00m, "charge-1") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) })).Succeeded);
            return account;
        }
        var assisted = await OpenAsync();
        var paying = await OpenAsync();

        var reported = await AdvanceUntil(assisted, v => v.CreditReportedAt is not null, maxSteps: 600);
        Assert.True(reported.CreditReportedAt >= reported.FirstStatementAt!.Value.AddMonths(12));
        Assert.Null(reported.CreditReportWithdrawnAt);
        await AdvanceUntil(paying, v => v.CreditReportedAt is not null, maxSteps: 600);

        var approved = await assisted.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, IdempotencyKey = "fa-1" });
        Assert.True(approved.Succeeded, string.Join("; ", approved.Errors.Select(e => e.Message)));
        Assert.NotNull(approved.Value!.CreditReportWithdrawnAt);
        Assert.True((await paying.Post(Samples.Payment(800.00m, "pay-all"))).Succeeded);
        Assert.NotNull((await paying.Get())!.CreditReportWithdrawnAt);
        // Nothing withdraws it twice: another payment or decision later raises nothing more.
        Assert.True((await assisted.Post(Samples.Payment(1.00m, "after-assistance"))).Succeeded); // runs the cadence again
        Assert.True((await paying.Post(Samples.Payment(5.00m, "pay-more"))).Succeeded); // a credit now: still withdrawn once
        var trail = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IAuditTrail>();

        await using var connection = await fixture.Database.OpenAsync();
        foreach (var (account, reason) in new[] { (assisted, "financialAssistance"), (paying, "paid") })
        {
            var id = account.GetPrimaryKeyString();
            await using var events = connection.Command("SELECT type, payload FROM account_event_log WHERE account_id = @id AND type IN ('creditReported', 'creditReportWithdrawn') ORDER BY position").WithParameter("id", id);
            await using var reader = await events.ExecuteReaderAsync();
            var types = new List<string>();
            while (await reader.ReadAsync()) types.Add(reader.GetString(0));
            Assert.Equal(["creditReported", "creditReportWithdrawn"], types);
            var audit = await trail.QueryAsync(new AuditQuery("account", id, Limit: 1000));
            Assert.Single(audit, a => a.Action == "account.eca.reverse" && a.Detail!.Contains(reason == "paid" ? "paid" : "financial assistance", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_final_notice_that_came_back_undeliverable_places_nothing_with_the_agency()
    {
        var (account, _) = await OpenSelfPayAsync(500.00m);
        var key = account.GetPrimaryKeyString();
        await AdvanceUntil(account, v => StepsDone(v).Contains("final-notice"));
        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        var notice = (await outbox.QueryAsync("MAIN", AccountKey.Parse(key).AccountNumber, null, 50)).Single(m => m.Action == OutreachAction.FinalNotice);
        Assert.True(await outbox.RecordReceiptAsync(new DeliveryReceipt(notice.MessageId, ReceiptStatus.Bounced, null, fixture.Clock.GetUtcNow())));

        var view = await AdvanceUntil(account, v => v.Cadence!.Decisions.Any(d => d.Action == OutreachAction.AgencyPlacement));
        Assert.Null(view.PlacedWithAgencyAt);
        var decision = view.Cadence!.Decisions.Last(d => d.Action == OutreachAction.AgencyPlacement).Decision;
        Assert.Equal((GateVerdict.Deny, "eca.notice-undelivered"), (decision.Verdict, decision.Rule));
    }

    [Fact]
    public async Task Reminders_walk_an_unpaid_account_from_first_statement_to_agency_placement()
    {
        var (account, _) = await OpenSelfPayAsync(500.00m);
        var key = account.GetPrimaryKeyString();

        var placed = await AdvanceUntil(account, v => v.PlacedWithAgencyAt is not null);

        Assert.Equal(["statement", "reminder-15", "reminder-30", "call-45", "final-notice", "agency"], StepsDone(placed));
        Assert.All(placed.Cadence!.Progress.Steps, s => Assert.Equal("standard v1", s.PolicyReference));
        Assert.True(placed.PlacedWithAgencyAt >= placed.FirstStatementAt!.Value.AddDays(120));
        Assert.Equal(CadenceStatus.Finished, placed.Cadence.Status);
        Assert.Null(placed.Cadence.NextActionAt); // nothing left to do: no reminder armed
        // ... and none left in the reminders table: a finished cadence's reminder would otherwise fire every period, forever.
        await using (var connection = await fixture.Database.OpenAsync())
        {
            var rows = Convert.ToInt64(await connection.Command("SELECT COUNT(*) FROM OrleansRemindersTable WHERE GrainId = @grain")
                .WithParameter("grain", "patientaccount/" + key).ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0L, rows);
        }

        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        var messages = await outbox.QueryAsync("MAIN", AccountKey.Parse(key).AccountNumber, null, 50);
        Assert.Equal([OutreachAction.PatientStatement, OutreachAction.EmailReminder, OutreachAction.EmailReminder, OutreachAction.FinalNotice],
            messages.OrderBy(m => m.CreatedAt).Select(m => m.Action));
        // The final notice names a deadline thirty days after it went (not the statement's due date, long past), and
        // the placement waits until that day is over.
        var notice = messages.Single(m => m.Action == OutreachAction.FinalNotice);
        Assert.Equal(DateOnly.FromDateTime(notice.CreatedAt.UtcDateTime).AddDays(30), notice.DueDate);
        Assert.Contains(notice.DueDate!.Value.ToString("MMMM d, yyyy", System.Globalization.CultureInfo.InvariantCulture), notice.Body);
        Assert.True(placed.PlacedWithAgencyAt >= new DateTimeOffset(notice.DueDate.Value.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddHours(11), $"placed {placed.PlacedWithAgencyAt:o}, notice {placed.FinalNoticeAt:o} created {notice.CreatedAt:o} due {notice.DueDate}");
        var tasks = await Grains.GetGrain<ICallTaskQueueGrain>("MAIN").List(null, 1000);
        Assert.Single(tasks, t => t.Account.ToString() == key && t.Kind == CallTaskKind.Call);

        // The placement is in the facility's register (and so in the agency's file) until it is recalled.
        var register = Grains.GetGrain<IPlacementRegisterGrain>("MAIN");
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        var placement = Assert.Single(await register.List(PlacementStatus.Placed), p => p.Account.ToString() == key);
        Assert.Equal(500.00m, placement.BalancePlaced);
        Assert.False((await account.RecallPlacement(null)).Succeeded); // a recall needs its reason
        Assert.True((await account.RecallPlacement("Patient applied for financial assistance")).Succeeded);
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        Assert.DoesNotContain(await register.List(PlacementStatus.Placed), p => p.Account.ToString() == key);
        Assert.Equal(PlacementStatus.Recalled, (await register.List(null)).Single(p => p.Account.ToString() == key).Status);
    }

    [Fact]
    public async Task A_discharge_recorded_after_an_interim_bill_sends_a_post_discharge_statement_and_the_120_days_run_from_it()
    {
        // Opened during the stay (admitted, no discharge yet): the interim bill goes out as the cadence's statement.
        var guarantorId = Samples.NewId("G");
        Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded);
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId, AdmitDate = today.AddDays(-3) })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(900.00m, "interim-1") with { ServiceDate = today })).Succeeded);
        var interim = await AdvanceUntil(account, v => v.FirstStatementAt is not null);
        var interimAt = interim.FirstStatementAt!.Value;

        fixture.Clock.Advance(TimeSpan.FromDays(10));
        var discharge = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var recorded = await account.RecordDischarge(discharge);

        Assert.True(recorded.Succeeded, string.Join("; ", recorded.Errors.Select(e => e.Message)));
        Assert.Equal(discharge, recorded.Value!.DischargeDate);
        Assert.Null(recorded.Value.FirstStatementAt); // the interim bill no longer starts the 120 days
        var final = await AdvanceUntil(account, v => v.FirstStatementAt is not null);
        Assert.True(DateOnly.FromDateTime(final.FirstStatementAt!.Value.UtcDateTime) >= discharge);
        Assert.Equal(2, final.Cadence!.Progress.Cycle);
        Assert.Equal((2, interim.Treatment!.AssignedAt), (final.Treatment!.Cycle, final.Treatment.AssignedAt)); // the same debt, the same group
        var audit = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IAuditTrail>();
        async Task<string> LastDischargeRecord() =>
            (await audit.QueryAsync(new AuditQuery("account", account.GetPrimaryKeyString(), Action: "account.discharge.record")))[0].Detail!; // newest first
        Assert.Contains("period-start=cleared;post-discharge-statement=due", await LastDischargeRecord(), StringComparison.Ordinal);
        var again = (await account.RecordDischarge(discharge)).Value!; // the same date again: nothing changes
        Assert.Equal((final.FirstStatementAt, 2, final.Cadence.Progress.Steps.Count), (again.FirstStatementAt, again.Cadence!.Progress.Cycle, again.Cadence.Progress.Steps.Count));
        Assert.EndsWith(";unchanged", await LastDischargeRecord(), StringComparison.Ordinal);

        var placed = await AdvanceUntil(account, v => v.PlacedWithAgencyAt is not null);
        Assert.True(placed.PlacedWithAgencyAt >= final.FirstStatementAt!.Value.AddDays(120));
        Assert.True(placed.PlacedWithAgencyAt >= interimAt.AddDays(130));
        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        var messages = await outbox.QueryAsync("MAIN", AccountKey.Parse(account.GetPrimaryKeyString()).AccountNumber, null, 50);
        Assert.Equal(2, messages.Count(m => m.Action == OutreachAction.PatientStatement));
        Assert.Equal(1, messages.Count(m => m.Action == OutreachAction.FinalNotice));

        // A correction after the placement: the discharge was later still. The placement stands (the staff's to review),
        // nothing starts again until it is recalled; the same date recorded after the recall sends the statement.
        var later = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var corrected = (await account.RecordDischarge(later)).Value!;
        Assert.Equal((later, (DateTimeOffset?)null, 2), (corrected.DischargeDate!.Value, corrected.FirstStatementAt, corrected.Cadence!.Progress.Cycle));
        Assert.Contains("period-start=cleared;extraordinary-action-before-period=review", await LastDischargeRecord(), StringComparison.Ordinal);
        Assert.True((await account.RecallPlacement("Discharged later than billed: the notification period starts again")).Succeeded);
        var afterRecall = (await account.RecordDischarge(later)).Value!;
        Assert.Equal(3, afterRecall.Cadence!.Progress.Cycle);
        var resent = await AdvanceUntil(account, v => v.FirstStatementAt is not null);
        Assert.True(resent.FirstStatementAt >= new DateTimeOffset(later.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)); // not before the corrected day began
        messages = await outbox.QueryAsync("MAIN", AccountKey.Parse(account.GetPrimaryKeyString()).AccountNumber, null, 50);
        Assert.Equal(3, messages.Count(m => m.Action == OutreachAction.PatientStatement));

        // Placed again 120 days after that statement: a new placement, seen as one (recallable, in the register).
        var replaced = await AdvanceUntil(account, v => v.PlacedWithAgencyAt > placed.PlacedWithAgencyAt);
        Assert.Null(replaced.RecalledFromAgencyAt);
        Assert.True(replaced.PlacedWithAgencyAt >= resent.FirstStatementAt!.Value.AddDays(120));
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        var register = await Grains.GetGrain<IPlacementRegisterGrain>("MAIN").List(PlacementStatus.Placed);
        Assert.Equal(replaced.PlacedWithAgencyAt, Assert.Single(register, p => p.Account.ToString() == account.GetPrimaryKeyString()).PlacedAt);
        Assert.True((await account.RecallPlacement("Second look")).Succeeded);
    }

    [Fact]
    public async Task Financial_assistance_approved_after_placement_recalls_it_and_no_extraordinary_action_follows()
    {
        var (account, _) = await OpenSelfPayAsync(700.00m);
        var key = account.GetPrimaryKeyString();
        await AdvanceUntil(account, v => v.PlacedWithAgencyAt is not null);

        var missingKey = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true });
        Assert.Contains(missingKey.Errors, e => e.Code == "idempotency-key.required");
        var tooMuch = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, Amount = 900.00m, IdempotencyKey = "fa-0" });
        Assert.Contains(tooMuch.Errors, e => e.Code == "amount.too-large");
        var decided = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, Amount = 400.00m, Note = "FAP tier 2", IdempotencyKey = "fa-1" });
        Assert.True(decided.Succeeded, string.Join("; ", decided.Errors.Select(e => e.Message)));
        var again = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, Amount = 400.00m, Note = "FAP tier 2", IdempotencyKey = "fa-1" });

        var view = again.Value!;
        Assert.Single(view.Entries, e => e.Category == AdjustmentCategory.Charity && e.Amount == 400.00m); // a retry posts nothing twice
        Assert.Equal(300.00m, view.Balances.PatientResponsibility);
        Assert.NotNull(view.FinancialAssistanceApprovedAt);
        Assert.NotNull(view.RecalledFromAgencyAt);
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        Assert.Equal(PlacementStatus.Recalled, (await Grains.GetGrain<IPlacementRegisterGrain>("MAIN").List(null)).Single(p => p.Account.ToString() == key).Status);

        // The gate refuses any extraordinary action on the account from now on.
        var guarantor = Grains.GetGrain<IGuarantorGrain>(view.GuarantorId);
        var check = await guarantor.CheckContact(new ContactPermitRequest
        {
            RequestId = "check", Account = AccountKey.Parse(key), Action = OutreachAction.AgencyPlacement, Initiator = ContactInitiator.Engine,
            PatientResponsibility = 300.00m, FirstStatementAt = view.FirstStatementAt, FinalNoticeAt = view.FinalNoticeAt,
            FinancialAssistanceApprovedAt = view.FinancialAssistanceApprovedAt,
        });
        Assert.Equal("eca.financial-assistance", check.Decision.Rule);
    }

    [Fact]
    public async Task Full_financial_assistance_after_a_partial_payment_leaves_what_was_paid_as_a_credit_to_refund()
    {
        var (account, _) = await OpenSelfPayAsync(1000.00m);
        Assert.True((await account.Post(Samples.Payment(300.00m, "paid-300"))).Succeeded);

        var tooMuch = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, Amount = 1000.01m, IdempotencyKey = "fa-too-much" });
        Assert.Contains(tooMuch.Errors, e => e.Code == "amount.too-large" && e.Message.Contains("1000.00", StringComparison.Ordinal));
        var decided = await account.DecideFinancialAssistance(new FinancialAssistanceDecision { Approved = true, Amount = 1000.00m, Note = "FAP 100%", IdempotencyKey = "fa-full" });

        Assert.True(decided.Succeeded, string.Join("; ", decided.Errors.Select(e => e.Message)));
        var view = decided.Value!;
        Assert.Equal((0m, 300.00m), (view.Balances.PatientResponsibility, view.Balances.CreditBalance)); // 501(r): the overpayment is refunded
        Assert.Equal(CadenceStatus.Idle, view.Cadence!.Status);
        Assert.NotNull(view.RefundDueBy);
    }

    [Fact]
    public async Task An_imported_history_contacts_nobody_until_it_settles_and_an_unsettled_one_settles_itself_after_a_day()
    {
        var guarantorId = Samples.NewId("G");
        Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor())).Succeeded);
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        IPatientAccountGrain Open(out string number)
        {
            number = Samples.NewId("A");
            return Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", number).ToString());
        }
        var paid = Open(out var paidNumber);
        var owing = Open(out var owingNumber);
        foreach (var account in new[] { paid, owing })
            Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId, Importing = true })).Succeeded);

        // A self-pay charge would start the cadence (and its statement) at once; imported, it waits for its payment.
        Assert.True((await paid.PostBatch([Samples.Charge(80m, "h1") with { ServiceDate = today }, Samples.Payment(80m, "h2")], settleImport: true)).Succeeded);
        Assert.True((await owing.Post(Samples.Charge(120m, "h1") with { ServiceDate = today })).Succeeded);
        var waiting = (await owing.Get())!;
        Assert.NotNull(waiting.ImportHoldUntil);
        Assert.Equal(CadenceStatus.Idle, waiting.Cadence!.Status);

        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        Assert.Empty(await outbox.QueryAsync("MAIN", paidNumber, null, 10));
        Assert.Empty(await outbox.QueryAsync("MAIN", owingNumber, null, 10));
        Assert.Null((await paid.Get())!.ImportHoldUntil);
        Assert.NotEqual(CadenceStatus.Active, (await paid.Get())!.Cadence!.Status);

        // The importer never settled the second: a day later it settles itself, and its statement goes.
        var started = await AdvanceUntil(owing, v => v.Cadence!.Status == CadenceStatus.Active && v.FirstStatementAt is not null);
        Assert.Null(started.ImportHoldUntil);
        Assert.True(started.FirstStatementAt >= waiting.ImportHoldUntil);
        Assert.Single(await outbox.QueryAsync("MAIN", owingNumber, null, 10));
        Assert.Empty(await outbox.QueryAsync("MAIN", paidNumber, null, 10));
    }

    [Fact]
    public async Task Paying_in_full_ends_the_cadence_and_removes_its_reminder()
    {
        var (account, _) = await OpenSelfPayAsync(120.00m);
        var started = (await account.Get())!;
        Assert.Equal(["statement"], StepsDone(started));
        Assert.NotNull(started.Cadence!.NextActionAt);

        await account.Post(Samples.Payment(120.00m, "pay-all"));

        var paid = (await account.Get())!;
        Assert.Equal(CadenceStatus.Idle, paid.Cadence!.Status);
        Assert.Null(paid.Cadence.NextActionAt);
        fixture.Clock.Advance(TimeSpan.FromDays(40));
        await Task.Delay(200);
        Assert.Equal(CadenceStatus.Idle, (await account.Get())!.Cadence!.Status);
    }

    [Fact]
    public async Task The_senders_last_look_stops_a_message_queued_to_the_guarantor_before_an_attorney_was_recorded()
    {
        var (_, guarantorId) = await OpenSelfPayAsync(300.00m);
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        var queued = fixture.Clock.GetUtcNow();
        fixture.Clock.Advance(TimeSpan.FromMinutes(10));
        var set = await guarantor.SetRepresentative(new RepresentativeDetails
        {
            Kind = RepresentativeKind.Attorney, Name = "Dana Reyes", Email = "dana@example.org",
            Address = new PostalAddress { Line1 = "1 Court St", City = "Austin", State = "TX", Zip = "78701" },
        });
        Assert.True(set.Succeeded, string.Join("; ", set.Errors.Select(e => e.Message)));
        Assert.Equal("represented.after-queued", (await guarantor.CheckSend(OutreachAction.EmailReminder, ContactChannel.Email, queued)).Rule);
        Assert.Equal("represented.no-automated", (await guarantor.CheckSend(OutreachAction.SmsReminder, ContactChannel.Sms, fixture.Clock.GetUtcNow())).Rule);
    }

    [Theory]
    [InlineData(HoldReason.Bankruptcy)]
    [InlineData(HoldReason.Deceased)]
    public async Task A_bankruptcy_or_a_death_is_refused_on_one_account_and_pointed_to_the_guarantor_who_covers_them_all(HoldReason reason)
    {
        var (account, guarantorId) = await OpenSelfPayAsync(300.00m);
        var refused = await account.PlaceHold(new HoldRequest { Reason = reason, Note = "notice received" });
        var error = Assert.Single(refused.Errors);
        Assert.Equal("hold.person-only", error.Code);
        Assert.Contains($"/api/guarantors/{guarantorId}/holds", error.Message, StringComparison.Ordinal);
        Assert.Empty((await account.Get())!.Holds);
    }

    [Fact]
    public async Task A_dispute_stops_outreach_at_once_and_its_release_resumes_at_the_step_reached()
    {
        var (account, _) = await OpenSelfPayAsync(300.00m);
        var held = await account.PlaceHold(new HoldRequest { Reason = HoldReason.Dispute, Note = "Patient letter: disputes the lab charge" });
        Assert.Equal(CadenceStatus.OnHold, held.Value!.Cadence!.Status);
        Assert.Null(held.Value.Cadence.NextActionAt);

        fixture.Clock.Advance(TimeSpan.FromDays(40));
        await Task.Delay(200);
        Assert.Equal(["statement"], StepsDone((await account.Get())!));

        var refused = await account.ReleaseHold("H1", null);
        Assert.Equal("note.required", Assert.Single(refused.Errors).Code); // a dispute ends only with its verification
        var released = await account.ReleaseHold("H1", "Itemized bill and lab order sent as verification");
        Assert.Equal(CadenceStatus.Active, released.Value!.Cadence!.Status);
        // 40 days on hold shift the day-15 reminder to day 55.
        var statement = released.Value.FirstStatementAt!.Value;
        Assert.Equal(statement.AddDays(55), released.Value.Cadence.NextActionAt);
    }

    /// <summary>
    /// The deadlock found under faults: a guarantor's hold release used to wait for each account's re-evaluation while
    /// an account with a step due was itself waiting on that guarantor; the release hung for 30 s and failed.
    /// </summary>
    [Fact]
    public async Task Releasing_a_guarantor_hold_while_an_account_has_a_step_due_answers_at_once_and_resumes_the_cadence()
    {
        var (account, guarantorId) = await OpenSelfPayAsync(300.00m);
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");
        var localDay16 = TimeZoneInfo.ConvertTime(fixture.Clock.GetUtcNow(), zone).Date.AddDays(16).AddHours(22);
        fixture.Clock.Advance(new DateTimeOffset(localDay16, zone.GetUtcOffset(localDay16)) - fixture.Clock.GetUtcNow());
        // The day-15 reminder fires at 22:00 local and is deferred to the next morning by the contact window.
        await Eventually(account, v => v.Cadence!.Decisions.Any(d => d.StepId == "reminder-15" && d.Decision.Verdict == GateVerdict.Defer));

        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        var held = await guarantor.PlaceHold(new HoldRequest { Reason = HoldReason.Bankruptcy, Note = "Chapter 7 notice" });
        Assert.True(held.Succeeded);
        await Eventually(account, v => v.Cadence!.Status == CadenceStatus.OnHold);
        fixture.Clock.Advance(TimeSpan.FromHours(11));

        var release = guarantor.ReleaseHold(held.Value!.Holds.Single().HoldId, "Case dismissed");
        var answered = await Task.WhenAny(release, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(release, answered);
        Assert.True((await release).Succeeded);
        var resumed = await AdvanceUntil(account, v => StepsDone(v).Contains("reminder-15"));
        Assert.NotEqual(CadenceStatus.OnHold, resumed.Cadence!.Status);
    }

    /// <summary>Polls the account (no clock movement) until it shows what is expected; one-way notifications land within moments.</summary>
    private static async Task<AccountView> Eventually(IPatientAccountGrain account, Func<AccountView, bool> done)
    {
        for (var i = 0; i < 400; i++)
        {
            var view = (await account.Get())!;
            if (done(view)) return view;
            await Task.Delay(25);
        }
        throw new TimeoutException("The account never reached the expected state.");
    }

    [Fact]
    public async Task A_stop_reply_closes_texts_at_once_with_a_single_confirmation()
    {
        var details = Samples.Guarantor() with { PreferredChannel = ContactChannel.Sms };
        var (account, guarantorId) = await OpenSelfPayAsync(200.00m, details);
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        await guarantor.RecordConsent(new ConsentRequest { Channel = ContactChannel.Sms, Status = ConsentStatus.Granted, Source = "registration form" });

        var first = await guarantor.RecordReply(new InboundReply { Channel = ContactChannel.Sms, Text = "STOP", ReceivedAt = fixture.Clock.GetUtcNow() });
        var second = await guarantor.RecordReply(new InboundReply { Channel = ContactChannel.Sms, Text = "stop", ReceivedAt = fixture.Clock.GetUtcNow() });

        Assert.True(first.OptedOut && first.ConfirmationSent);
        Assert.True(second.OptedOut);
        Assert.False(second.ConfirmationSent);
        // The day-15 reminder would go by text: the channel is closed, so it falls back to a letter.
        var view = await AdvanceUntil(account, v => StepsDone(v).Contains("reminder-15"));
        var reminder = view.Cadence!.Progress.Steps.Single(s => s.StepId == "reminder-15");
        Assert.Equal(ContactChannel.Mail, reminder.Channel);
        Assert.Contains(view.Cadence.Decisions, d => d.Decision.Rule == "channel.opted-out");
    }

    [Fact]
    public async Task A_promise_broken_by_the_passing_of_time_reaches_the_kpi_row_without_any_posting()
    {
        var facility = "KPI" + Guid.NewGuid().ToString("N")[..8];
        var guarantorId = Samples.NewId("G");
        Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded);
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, Samples.NewId("A")).ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(400.00m, "charge-1") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) })).Succeeded);
        Assert.True((await account.MakePromise(new PromiseRequest { Amount = 150.00m, PromisedDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime).AddDays(3) })).Succeeded);
        var store = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<KpiStore>();
        async Task<KpiTotalsRow> Totals()
        {
            var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
            return await store.QueryAsync(facility, today.AddDays(-89), today);
        }
        await fixture.Cluster.ProjectionsCaughtUpAsync();
        var before = await Totals();
        Assert.Equal((0, 0, 40000L), (before.PromisesKept, before.PromisesBroken, before.PatientResponsibilityCents));

        await AdvanceUntil(account, v => v.Promises.Single().Status == PromiseStatus.Broken);

        await fixture.Cluster.ProjectionsCaughtUpAsync();
        var totals = await Totals();
        Assert.Equal((0, 1), (totals.PromisesKept, totals.PromisesBroken));
        Assert.Equal(40000L, Assert.Single(totals.Aging).PatientBalanceCents);
    }

    [Fact]
    public async Task A_promise_pauses_the_cadence_and_a_broken_promise_resumes_it()
    {
        var (account, _) = await OpenSelfPayAsync(400.00m);
        var promised = await account.MakePromise(new PromiseRequest { Amount = 150.00m, PromisedDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime).AddDays(20) });
        Assert.Equal(CadenceStatus.PromisePending, promised.Value!.Cadence!.Status);

        var broken = await AdvanceUntil(account, v => v.Promises.Single().Status != PromiseStatus.Pending);

        Assert.Equal(PromiseStatus.Broken, broken.Promises.Single().Status);
        Assert.Equal(CadenceStatus.Active, broken.Cadence!.Status);
    }

    /// <summary>
    /// The wake-up is never left later than what is stored: a promise that would have paused the cadence for twenty
    /// days is refused by the database, and the step after the statement still comes on its day, not at the deadline
    /// of a promise that was never made.
    /// </summary>
    [Fact]
    public async Task A_refused_commit_that_would_have_delayed_the_cadence_leaves_the_next_step_on_its_day()
    {
        var (account, _) = await OpenSelfPayAsync(400.00m);
        var id = account.GetPrimaryKeyString();
        var armed = await AdvanceUntil(account, v => StepsDone(v).Contains("statement") && v.Cadence!.NextActionAt > fixture.Clock.GetUtcNow());
        var stepsBefore = StepsDone(armed).Length;
        var nextStep = armed.Cadence!.NextActionAt!.Value;
        var trigger = "refuse_promise_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"CREATE TRIGGER {trigger} BEFORE INSERT ON collections_audit_event WHEN NEW.resource_id = '{id}' AND NEW.action = 'account.promise.make' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
        try
        {
            await Assert.ThrowsAsync<CommandNotStoredException>(() => account.MakePromise(new PromiseRequest
            {
                Amount = 150.00m, PromisedDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime).AddDays(20),
            }));
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger}");
        }
        Assert.Empty((await account.Get())!.Promises);

        fixture.Clock.Advance(nextStep - fixture.Clock.GetUtcNow());
        var view = (await account.Get())!;
        for (var i = 0; i < 400 && StepsDone(view).Length == stepsBefore; i++)
        {
            await Task.Delay(25); // the reminder's tick is being handled
            view = (await account.Get())!;
        }
        Assert.Equal(stepsBefore + 1, StepsDone(view).Length);
        Assert.Equal(nextStep, view.Cadence!.Progress.Steps.Where(s => s.Outcome == StepOutcome.Done).Last().At); // on its day
    }

    /// <summary>
    /// A step's message and the guarantor's record of the contact commit together: when the database refuses the record,
    /// the message is not queued either (it would go out uncounted by the contact rules, and a later run that finds no
    /// record could decide differently). The next run queues it once and records it once.
    /// </summary>
    [Fact]
    public async Task A_statement_whose_contact_record_the_database_refuses_is_not_queued_and_the_next_run_queues_it_once()
    {
        var guarantorId = Samples.NewId("G");
        var guarantor = Grains.GetGrain<IGuarantorGrain>(guarantorId);
        Assert.True((await guarantor.Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded);
        var key = new AccountKey("MAIN", Samples.NewId("A"));
        var account = Grains.GetGrain<IPatientAccountGrain>(key.ToString());
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId })).Succeeded);
        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();

        var trigger = "refuse_contact_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"CREATE TRIGGER {trigger} BEFORE INSERT ON collections_audit_event WHEN NEW.resource_id = '{guarantorId}' AND NEW.action = 'guarantor.contact' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
        try
        {
            var charged = await account.Post(Samples.Charge(300.00m, "charge-1") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) });
            Assert.True(charged.Succeeded); // the charge is the account's own commit
            await account.Get(); // after the statement step, queued behind the charge, has run (and failed)
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger}");
        }
        Assert.Empty(await outbox.QueryAsync("MAIN", key.AccountNumber, null, 50));
        Assert.DoesNotContain((await guarantor.Get())!.RecentContacts, c => c.Account == key);
        Assert.DoesNotContain("statement", StepsDone((await account.Get())!));

        await account.Reevaluate(); // as the step's fallback reminder would (one-way: the account may still be reloading)
        var view = (await account.Get())!;
        for (var i = 0; i < 200 && !StepsDone(view).Contains("statement"); i++)
        {
            await Task.Delay(25);
            view = (await account.Get())!;
        }
        Assert.Contains("statement", StepsDone(view));
        var statement = Assert.Single(await outbox.QueryAsync("MAIN", key.AccountNumber, null, 50));
        Assert.Equal(OutreachAction.PatientStatement, statement.Action);
        Assert.Single((await guarantor.Get())!.RecentContacts, c => c.Account == key && c.Action == OutreachAction.PatientStatement);
    }

    /// <summary>
    /// Many guarantors' contacts commit in one transaction with their messages; when the database refuses one record,
    /// that guarantor's message is not queued and the others are, each once (the group is committed again without it).
    /// </summary>
    [Fact]
    public async Task A_contact_record_refused_in_a_group_keeps_only_its_own_message_out_of_the_outbox()
    {
        var guarantorIds = Enumerable.Range(0, 16).Select(_ => Samples.NewId("G")).ToList();
        await Task.WhenAll(guarantorIds.Select(async id =>
            Assert.True((await Grains.GetGrain<IGuarantorGrain>(id).Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded)));
        var keys = guarantorIds.Select(_ => new AccountKey("MAIN", Samples.NewId("A"))).ToList();
        await Task.WhenAll(keys.Select(async (key, i) =>
            Assert.True((await Grains.GetGrain<IPatientAccountGrain>(key.ToString()).Open(new OpenAccountRequest { GuarantorId = guarantorIds[i] })).Succeeded)));
        var refused = guarantorIds[5];
        var trigger = "refuse_one_contact_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"CREATE TRIGGER {trigger} BEFORE INSERT ON collections_audit_event WHEN NEW.resource_id = '{refused}' AND NEW.action = 'guarantor.contact' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
        try
        {
            // Charged at once: the statement steps that follow reach the guarantors' storage together.
            await Task.WhenAll(keys.Select(key => Grains.GetGrain<IPatientAccountGrain>(key.ToString())
                .Post(Samples.Charge(300.00m, "charge-1") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) })));
            await Task.WhenAll(keys.Select(key => Grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get())); // after each step has run
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger}");
        }
        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        for (var i = 0; i < keys.Count; i++)
        {
            var messages = await outbox.QueryAsync("MAIN", keys[i].AccountNumber, null, 50);
            var contacts = (await Grains.GetGrain<IGuarantorGrain>(guarantorIds[i]).Get())!.RecentContacts.Count(c => c.Account == keys[i]);
            if (guarantorIds[i] == refused)
            {
                Assert.Empty(messages);
                Assert.Equal(0, contacts);
            }
            else
            {
                Assert.Equal(OutreachAction.PatientStatement, Assert.Single(messages).Action);
                Assert.Equal(1, contacts);
            }
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await fixture.Database.OpenAsync();
        await connection.Command(sql).ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_kept_promise_is_recorded_as_kept()
    {
        var (account, _) = await OpenSelfPayAsync(400.00m);
        await account.MakePromise(new PromiseRequest { Amount = 150.00m, PromisedDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime).AddDays(10) });
        fixture.Clock.Advance(TimeSpan.FromDays(3));

        await account.Post(Samples.Payment(150.00m, "promised"));

        Assert.Equal(PromiseStatus.Kept, (await account.Get())!.Promises.Single().Status);
    }

    [Fact]
    public async Task A_missed_installment_defaults_the_plan_and_the_cadence_resumes()
    {
        var (account, _) = await OpenSelfPayAsync(600.00m);
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var planned = await account.StartPlan(new PlanRequest { InstallmentCount = 6, Frequency = InstallmentFrequency.Monthly, FirstDueDate = today.AddDays(10) });
        Assert.True(planned.Succeeded, string.Join("; ", planned.Errors.Select(e => e.Message)));
        Assert.Equal(CadenceStatus.OnPaymentPlan, planned.Value!.Cadence!.Status);

        var defaulted = await AdvanceUntil(account, v => v.Plans.Single().Status != PlanStatus.Active);

        Assert.Equal(PlanStatus.Defaulted, defaulted.Plans.Single().Status);
        Assert.Contains(1, defaulted.Plans.Single().Reminded); // the installment reminder went out first
        Assert.Equal(CadenceStatus.Active, defaulted.Cadence!.Status);
    }

    [Fact]
    public async Task A_defaulted_plan_is_reinstated_and_the_cadence_stands_down_when_a_check_deposited_in_time_is_posted_later()
    {
        var (account, _) = await OpenSelfPayAsync(600.00m);
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        var due = today.AddDays(10);
        Assert.True((await account.StartPlan(new PlanRequest { InstallmentCount = 6, Frequency = InstallmentFrequency.Monthly, FirstDueDate = due })).Succeeded);
        var defaulted = await AdvanceUntil(account, v => v.Plans.Single().Status != PlanStatus.Active);
        Assert.Equal((PlanStatus.Defaulted, CadenceStatus.Active), (defaulted.Plans.Single().Status, defaulted.Cadence!.Status));

        // The lockbox's file brings the check the patient mailed, deposited on the due date.
        CallerContext.Set(new Caller { Actor = "integration:lockbox", Role = "integration" });
        var posted = await account.Post(Samples.Payment(100.00m, "lockbox-check") with
        {
            Method = PaymentMethod.Check, Channel = PaymentChannel.Mail, EffectiveDate = due, Reference = "CHK 1042",
        });

        Assert.True(posted.Succeeded, string.Join("; ", posted.Errors.Select(e => e.Message)));
        var view = (await account.Get())!;
        Assert.Equal(PlanStatus.Active, view.Plans.Single().Status);
        Assert.Null(view.Plans.Single().EndedAt);
        Assert.Equal(fixture.Clock.GetUtcNow(), view.Plans.Single().ReinstatedAt);
        Assert.Equal(CadenceStatus.OnPaymentPlan, view.Cadence!.Status);
    }

    [Fact]
    public async Task An_account_with_an_admit_date_alone_runs_its_whole_cadence_under_the_default_rules()
    {
        // Billing exports (Synthea, many CSVs) give the visit's date as the admit date and no discharge date.
        var guarantorId = Samples.NewId("G");
        Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Samples.Guarantor() with { PreferredChannel = ContactChannel.Email })).Succeeded);
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        Assert.True((await account.Open(new OpenAccountRequest { GuarantorId = guarantorId, AdmitDate = today })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(900.00m, "charge-1") with { ServiceDate = today })).Succeeded);

        var placed = await AdvanceUntil(account, v => v.PlacedWithAgencyAt is not null);

        Assert.Equal(["statement", "reminder-15", "reminder-30", "call-45", "final-notice", "agency"], StepsDone(placed));
        Assert.True(placed.PlacedWithAgencyAt >= placed.FirstStatementAt!.Value.AddDays(120));
    }

    [Fact]
    public async Task A_final_notice_about_a_debt_paid_off_does_not_let_a_new_debts_placement_go()
    {
        var (account, guarantorId) = await OpenSelfPayAsync(900.00m);
        var noticed = await AdvanceUntil(account, v => v.FinalNoticeAt is not null);
        Assert.Null(noticed.PlacedWithAgencyAt);
        Assert.True((await account.Post(Samples.Payment(900.00m, "paid-in-full"))).Succeeded); // the first debt ends before its placement

        // A new balance on the account; the patient has since asked for no letters, so this debt's written notice never goes.
        Assert.True((await Grains.GetGrain<IGuarantorGrain>(guarantorId).RecordConsent(new ConsentRequest { Channel = ContactChannel.Mail, Status = ConsentStatus.OptedOut, Source = "patient's letter" })).Succeeded);
        Assert.True((await account.Post(Samples.Charge(900.00m, "charge-2") with { ServiceDate = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime) })).Succeeded);
        var finished = await AdvanceUntil(account, v => v.Cadence is { Status: CadenceStatus.Finished, Progress.Cycle: 2 });

        Assert.Null(finished.PlacedWithAgencyAt);
        Assert.Contains(finished.Cadence!.Decisions, d => d.StepId == "agency" && d.Decision.Rule == "eca.no-notice");
    }

    [Fact]
    public async Task A_collection_message_still_waiting_when_a_plan_starts_is_not_sent_and_the_plans_own_reminders_are()
    {
        var (account, _) = await OpenSelfPayAsync(600.00m);
        Assert.Null(await account.CollectionStop(OutreachAction.PatientStatement));
        var today = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);
        Assert.True((await account.StartPlan(new PlanRequest { InstallmentCount = 6, Frequency = InstallmentFrequency.Monthly, FirstDueDate = today.AddDays(10) })).Succeeded);

        Assert.Equal("the account is on a payment plan", await account.CollectionStop(OutreachAction.PatientStatement));
        Assert.Equal("the account is on a payment plan", await account.CollectionStop(OutreachAction.FinalNotice));
        Assert.Null(await account.CollectionStop(OutreachAction.InstallmentReminder));
    }

    [Fact]
    public async Task A_tick_that_arrives_twice_sends_nothing_twice()
    {
        var (account, _) = await OpenSelfPayAsync(250.00m);
        var before = (await account.Get())!;

        await account.Reevaluate();
        await account.Reevaluate();

        var after = (await account.Get())!;
        Assert.Equal(StepsDone(before), StepsDone(after));
        var outbox = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
        Assert.Single(await outbox.QueryAsync("MAIN", after.AccountNumber, null, 10));
    }
}

/// <summary>A crash between writing a message to the outbox and sending it: after the restart it goes out exactly once.</summary>
public sealed class OutboxRestartTests
{
    [Fact]
    public async Task A_message_written_before_a_crash_is_delivered_exactly_once_after_the_restart()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var serviceId = TestDatabases.NewServiceId();
        string accountNumber;

        // 1. The sender is off: the statement is written to the outbox but not sent; then the cluster goes down.
        var first = await TestClusters.StartAsync(database, serviceId, settings: new Dictionary<string, string?> { ["Collections:Outreach:Sender:Enabled"] = "false" });
        try
        {
            var account = await Samples.OpenAccountAsync(first.Client);
            await account.Post(Samples.Charge(250m, "c1"));
            accountNumber = AccountKey.Parse(account.GetPrimaryKeyString()).AccountNumber;
            // The statement is a command of its own, taken just after the charge commits: wait until it is in the
            // outbox, so the crash comes after the write (killed before it, the step waits for its one-minute fallback).
            var outbox = first.GetSiloServiceProvider(first.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
            IReadOnlyList<OutboxMessage> written = [];
            for (var i = 0; i < 100 && written.Count == 0; i++)
            {
                written = await outbox.QueryAsync("MAIN", accountNumber, null, 10);
                if (written.Count == 0) await Task.Delay(100);
            }
            Assert.Equal(OutreachAction.PatientStatement, Assert.Single(written).Action);
        }
        finally
        {
            await first.KillSiloAsync(first.Silos[0]);
            await first.DisposeAsync();
        }
        var mailbox = new SandboxMailbox(database, new SqlOutboxStore(database, TimeProvider.System), new StatementPdfRenderer(new FacilityDirectory(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())));
        Assert.Empty(await mailbox.QueryAsync(null, "MAIN", accountNumber, 10));

        // 2. Back up with the sender on: the pending message is delivered, once.
        var second = await TestClusters.StartAsync(database, serviceId);
        try
        {
            IReadOnlyList<SandboxMessage> delivered = [];
            for (var i = 0; i < 100 && delivered.Count == 0; i++)
            {
                await Task.Delay(100);
                delivered = await mailbox.QueryAsync(null, "MAIN", accountNumber, 10);
            }
            if (delivered.Count == 0)
            {
                var outbox = second.GetSiloServiceProvider(second.Silos[0].SiloAddress).GetRequiredService<IOutboxStore>();
                var stored = await outbox.QueryAsync("MAIN", accountNumber, null, 10);
                Assert.Fail($"Nothing delivered; outbox: {string.Join(", ", stored.Select(m => $"{m.Action}/{m.Status}/{m.Attempts}/{m.LastError}"))}");
            }
            var message = Assert.Single(delivered);
            Assert.Equal(OutreachAction.PatientStatement, message.Action);
            await Task.Delay(1500); // any second delivery would have happened by now
            Assert.Single(await mailbox.QueryAsync(null, "MAIN", accountNumber, 10));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }
}
