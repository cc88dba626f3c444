using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Persistence;

namespace Collections.Grains.Tests;

[Collection(SqliteClusterCollection.Name)]
public sealed class PatientAccountGrainTests(SqliteClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Grains;

    [Fact]
    public async Task A_charge_and_a_payment_leave_the_difference_on_the_account()
    {
        var account = await Samples.OpenAccountAsync(Grains);

        await account.Post(Samples.Charge(250.00m, "c1"));
        var receipt = await account.Post(Samples.Payment(40.00m, "p1"));

        Assert.Equal(210.00m, receipt.Value!.Balances.Balance);
        var view = await account.Get();
        Assert.Equal(210.00m, view!.Balances.PatientResponsibility);
        Assert.Equal(2, view.Entries.Count);
    }

    [Fact]
    public async Task Posting_the_same_payment_twice_with_one_key_posts_it_once()
    {
        var account = await Samples.OpenAccountAsync(Grains);
        await account.Post(Samples.Charge(250.00m, "c1"));

        var first = await account.Post(Samples.Payment(40.00m, "same-key"));
        var second = await account.Post(Samples.Payment(40.00m, "same-key"));

        Assert.False(first.Value!.IsReplay);
        Assert.True(second.Value!.IsReplay);
        Assert.Equal(first.Value.Entry.EntryId, second.Value.Entry.EntryId);
        Assert.Equal(2, (await account.Get())!.Entries.Count);
    }

    [Fact]
    public async Task Concurrent_retries_of_one_payment_post_it_once()
    {
        var account = await Samples.OpenAccountAsync(Grains);
        await account.Post(Samples.Charge(250.00m, "c1"));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => account.Post(Samples.Payment(40.00m, "retry"))));

        Assert.All(results, r => Assert.True(r.Succeeded));
        Assert.Single(results, r => !r.Value!.IsReplay);
        Assert.Equal(210.00m, (await account.Get())!.Balances.Balance);
    }

    [Fact]
    public async Task A_refused_entry_changes_nothing()
    {
        var account = await Samples.OpenAccountAsync(Grains);
        await account.Post(Samples.Charge(250.00m, "c1"));

        var refused = await account.Post(Samples.Payment(-5m, "bad"));

        Assert.False(refused.Succeeded);
        Assert.Equal("amount.negative", refused.Errors[0].Code);
        Assert.Single((await account.Get())!.Entries);
    }

    [Fact]
    public async Task Opening_an_account_twice_is_a_conflict()
    {
        var account = await Samples.OpenAccountAsync(Grains);
        var guarantorId = (await account.Get())!.GuarantorId;

        var again = await account.Open(new OpenAccountRequest { GuarantorId = guarantorId });

        Assert.Equal(ErrorKind.Conflict, Assert.Single(again.Errors).Kind);
    }

    [Fact]
    public async Task An_account_cannot_be_opened_for_an_unknown_guarantor()
    {
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());

        var opened = await account.Open(new OpenAccountRequest { GuarantorId = "nobody" });

        Assert.Equal("guarantor.not-found", Assert.Single(opened.Errors).Code);
        Assert.Null(await account.Get());
    }

    [Fact]
    public async Task Posting_to_an_account_that_was_never_opened_is_not_found()
    {
        var account = Grains.GetGrain<IPatientAccountGrain>(new AccountKey("MAIN", Samples.NewId("A")).ToString());
        var posted = await account.Post(Samples.Charge(10m, "k"));
        Assert.Equal(ErrorKind.NotFound, Assert.Single(posted.Errors).Kind);
    }

    [Fact]
    public async Task An_opened_account_appears_on_its_guarantors_list()
    {
        var account = await Samples.OpenAccountAsync(Grains);
        var view = await account.Get();

        var guarantor = await Grains.GetGrain<IGuarantorGrain>(view!.GuarantorId).Get();

        Assert.Contains(new AccountKey(view.Facility, view.AccountNumber), guarantor!.Accounts);
    }

    [Fact]
    public async Task Every_read_and_change_is_in_the_audit_trail_with_who_did_it()
    {
        CallerContext.Set(new Caller { Actor = "key-123", Role = "supervisor", ClientAddress = "10.1.2.3", CorrelationId = "trace-1" });
        var account = await Samples.OpenAccountAsync(Grains);
        await account.Post(Samples.Charge(10m, "c1"));
        var view = await account.Get();
        var audit = new DatabaseAuditTrail(fixture.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger<DatabaseAuditTrail>.Instance);

        var all = await audit.QueryAsync(new AuditQuery("account", $"{view!.Facility}/{view.AccountNumber}", Limit: 20));
        var events = all.Where(e => e.Actor == "key-123").ToList();

        Assert.Equal(["account.read", "account.entry.post", "account.open"], events.Select(e => e.Action));
        // The statement the charge set off is the engine's own action, audited as such.
        Assert.Contains(all, e => e.Action == "account.cadence.step" && e.Actor == "system:cadence");
        Assert.All(events, e => Assert.Equal("key-123", e.Actor));
        Assert.All(events, e => Assert.Equal("10.1.2.3", e.ClientAddress));
        Assert.Contains("amount=10.00", events[1].Detail);
    }
}

[Collection(SqliteClusterCollection.Name)]
public sealed class GuarantorGrainTests(SqliteClusterFixture fixture)
{
    [Fact]
    public async Task A_registered_guarantor_can_be_read_back_with_a_derived_time_zone()
    {
        var id = Samples.NewId("G");
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(id);

        await guarantor.Register(Samples.Guarantor());
        var view = await guarantor.Get();

        Assert.Equal("Lopez", view!.Profile.LastName);
        Assert.Equal("America/Chicago", view.Profile.TimeZone.Zone);
    }

    [Fact]
    public async Task Registering_the_same_id_twice_is_a_conflict_and_keeps_the_first()
    {
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(Samples.NewId("G"));
        await guarantor.Register(Samples.Guarantor());

        var again = await guarantor.Register(Samples.Guarantor() with { LastName = "Other" });

        Assert.Equal("guarantor.exists", Assert.Single(again.Errors).Code);
        Assert.Equal("Lopez", (await guarantor.Get())!.Profile.LastName);
    }

    [Fact]
    public async Task An_opt_out_replaces_an_earlier_consent_for_that_channel()
    {
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(Samples.NewId("G"));
        await guarantor.Register(Samples.Guarantor());

        await guarantor.RecordConsent(new ConsentRequest { Channel = ContactChannel.Sms, Status = ConsentStatus.Granted, Source = "registration form" });
        var view = await guarantor.RecordConsent(new ConsentRequest { Channel = ContactChannel.Sms, Status = ConsentStatus.OptedOut, Source = "SMS reply STOP" });

        var sms = Assert.Single(view.Value!.Consents);
        Assert.Equal(ConsentStatus.OptedOut, sms.Status);
        Assert.Equal("SMS reply STOP", sms.Source);
    }

    [Fact]
    public async Task A_guarantor_change_whose_audit_record_the_database_refuses_is_not_stored_either()
    {
        var id = Samples.NewId("G");
        var guarantor = fixture.Grains.GetGrain<IGuarantorGrain>(id);
        await guarantor.Register(Samples.Guarantor());
        var trigger = "refuse_hold_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"CREATE TRIGGER {trigger} BEFORE INSERT ON collections_audit_event WHEN NEW.resource_id = '{id}' AND NEW.action = 'guarantor.hold.place' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => guarantor.PlaceHold(new HoldRequest { Reason = HoldReason.Bankruptcy, Note = "Chapter 7 notice" }));
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger}");
        }
        // The failed write dropped the activation: this reads what the database holds.
        Assert.Empty((await guarantor.Get())!.Holds);

        var held = await guarantor.PlaceHold(new HoldRequest { Reason = HoldReason.Bankruptcy, Note = "Chapter 7 notice" });
        Assert.Single(held.Value!.Holds);
        Assert.Equal(["guarantor.register", "guarantor.read", "guarantor.hold.place"], await AuditedActionsAsync(id));
    }

    [Fact]
    public async Task A_change_the_database_refuses_fails_alone_and_the_changes_committed_with_it_are_stored()
    {
        var ids = Enumerable.Range(0, 24).Select(_ => Samples.NewId("G")).ToList();
        var guarantors = ids.Select(id => fixture.Grains.GetGrain<IGuarantorGrain>(id)).ToList();
        await Task.WhenAll(guarantors.Select(g => g.Register(Samples.Guarantor())));
        var refused = ids[7];
        var trigger = "refuse_one_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"CREATE TRIGGER {trigger} BEFORE INSERT ON collections_audit_event WHEN NEW.resource_id = '{refused}' AND NEW.action = 'guarantor.hold.place' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
        Task<Outcome<GuarantorView>>[] holds;
        try
        {
            holds = guarantors.Select(g => g.PlaceHold(new HoldRequest { Reason = HoldReason.Bankruptcy, Note = "Chapter 7 notice" })).ToArray();
            await Task.WhenAll(holds).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger}");
        }
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == refused)
            {
                Assert.True(holds[i].IsFaulted);
                Assert.Empty((await guarantors[i].Get())!.Holds);
            }
            else
            {
                Assert.Single((await holds[i]).Value!.Holds);
                Assert.Contains("guarantor.hold.place", await AuditedActionsAsync(ids[i]));
            }
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await fixture.Database.OpenAsync();
        await connection.Command(sql).ExecuteNonQueryAsync();
    }

    private async Task<List<string>> AuditedActionsAsync(string resourceId)
    {
        await using var connection = await fixture.Database.OpenAsync();
        await using var command = connection.Command("SELECT action FROM collections_audit_event WHERE resource_id = @id ORDER BY id").WithParameter("id", resourceId);
        await using var reader = await command.ExecuteReaderAsync();
        var actions = new List<string>();
        while (await reader.ReadAsync()) actions.Add(reader.GetString(0));
        return actions;
    }
}
