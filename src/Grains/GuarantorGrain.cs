using Collections.Domain;
using Collections.Persistence;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.GuarantorState")]
public sealed class GuarantorState
{
    [Id(0)] public bool IsRegistered { get; set; }
    [Id(1)] public GuarantorProfile? Profile { get; set; }
    /// <summary>Every consent decision ever recorded, oldest first; the latest per channel is in force.</summary>
    [Id(2)] public List<ChannelConsent> ConsentHistory { get; set; } = [];
    [Id(3)] public List<AccountKey> Accounts { get; set; } = [];
    [Id(4)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(5)] public string? RegisteredBy { get; set; }
}

public sealed class GuarantorGrain(
    [PersistentState(StorageNames.GuarantorState, StorageNames.Collections)] IPersistentState<GuarantorState> guarantor,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IGuarantorGrain
{
    private const string Resource = "guarantor";
    private string Id => this.GetPrimaryKeyString();

    public async Task<Outcome<GuarantorView>> Register(GuarantorDetails details)
    {
        var now = clock.GetUtcNow();
        Outcome<GuarantorView> outcome;
        if (guarantor.State.IsRegistered)
        {
            outcome = Outcome<GuarantorView>.Failure(DomainError.Conflict("guarantor.exists", "A guarantor with this id is already registered.", "guarantorId"));
        }
        else
        {
            var (profile, errors) = GuarantorRules.Validate(details, DateOnly.FromDateTime(now.UtcDateTime));
            if (profile is null)
            {
                outcome = Outcome<GuarantorView>.Failure(errors);
            }
            else
            {
                guarantor.State.IsRegistered = true;
                guarantor.State.Profile = profile;
                guarantor.State.RegisteredAt = now;
                guarantor.State.RegisteredBy = CallerContext.Current.Actor;
                await PersistAsync();
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        await audit.RecordAsync(clock, "guarantor.register", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public async Task<GuarantorView?> Get()
    {
        var view = guarantor.State.IsRegistered ? View() : null;
        await audit.RecordAsync(clock, "guarantor.read", Resource, Id, view is null ? "not-found" : "ok");
        return view;
    }

    public async Task<Outcome<GuarantorView>> RecordConsent(ConsentRequest request)
    {
        Outcome<GuarantorView> outcome;
        if (!guarantor.State.IsRegistered)
        {
            outcome = Outcome<GuarantorView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id."));
        }
        else
        {
            var errors = new ErrorList();
            if (request.Channel is null) errors.Invalid("channel", "channel.required", "The channel is required (mail, email, sms, voice, automatedVoice).");
            if (request.Status is null) errors.Invalid("status", "status.required", "The status is required (granted or optedOut).");
            Text.Require(request.Source, "source", LedgerPosting.MaxTextLength, errors);
            if (errors.Any)
            {
                outcome = Outcome<GuarantorView>.Failure(errors.Errors);
            }
            else
            {
                guarantor.State.ConsentHistory.Add(new ChannelConsent
                {
                    Channel = request.Channel!.Value,
                    Status = request.Status!.Value,
                    Source = request.Source!.Trim(),
                    RecordedAt = clock.GetUtcNow(),
                    RecordedBy = CallerContext.Current.Actor,
                });
                await PersistAsync();
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        await audit.RecordAsync(clock, "guarantor.consent.record", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Succeeded ? $"channel={request.Channel};status={request.Status}" : null);
        return outcome;
    }

    public async Task<bool> LinkAccount(AccountKey account)
    {
        if (!guarantor.State.IsRegistered) return false;
        if (guarantor.State.Accounts.Contains(account)) return true;
        guarantor.State.Accounts.Add(account);
        await PersistAsync();
        await audit.RecordAsync(clock, "guarantor.account.link", Resource, Id, "ok", $"account={account}");
        return true;
    }

    private async Task PersistAsync()
    {
        try
        {
            await guarantor.WriteStateAsync();
        }
        catch
        {
            // The in-memory state is ahead of storage: drop this activation so the next call reloads what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    private GuarantorView View() => new()
    {
        GuarantorId = Id,
        Profile = guarantor.State.Profile!,
        Consents = GuarantorRules.CurrentConsents(guarantor.State.ConsentHistory).Values.OrderBy(c => c.Channel).ToList(),
        Accounts = guarantor.State.Accounts.ToList(),
        RegisteredAt = guarantor.State.RegisteredAt,
    };
}
