using Orleans.Concurrency;
using Collections.Domain;
using Collections.Persistence;

namespace Collections.Grains;

[GenerateSerializer, Alias("collections.AccountState")]
public sealed class AccountState
{
    [Id(0)] public bool IsOpen { get; set; }
    [Id(1)] public string GuarantorId { get; set; } = "";
    [Id(2)] public PatientDetails? Patient { get; set; }
    [Id(3)] public string? PrimaryPayer { get; set; }
    [Id(4)] public DateOnly? AdmitDate { get; set; }
    [Id(5)] public DateOnly? DischargeDate { get; set; }
    [Id(6)] public DateTimeOffset OpenedAt { get; set; }
    [Id(7)] public string? OpenedBy { get; set; }
    /// <summary>Set when the first statement goes to the patient; aging counts from it.</summary>
    [Id(8)] public DateOnly? FirstPatientStatementDate { get; set; }
    /// <summary>The append-only ledger, oldest first.</summary>
    [Id(9)] public List<LedgerEntry> Entries { get; set; } = [];
}

public sealed class PatientAccountGrain(
    [PersistentState(StorageNames.AccountState, StorageNames.Collections)] IPersistentState<AccountState> account,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit) : Grain, IPatientAccountGrain
{
    private const string Resource = "account";
    private string Id => this.GetPrimaryKeyString();

    public async Task<Outcome<AccountView>> Open(OpenAccountRequest request)
    {
        var outcome = await OpenAsync(request);
        await audit.RecordAsync(clock, "account.open", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
            outcome.Succeeded ? $"guarantor={request.GuarantorId}" : null);
        return outcome;
    }

    private async Task<Outcome<AccountView>> OpenAsync(OpenAccountRequest request)
    {
        var now = clock.GetUtcNow();
        if (account.State.IsOpen)
            return Outcome<AccountView>.Failure(DomainError.Conflict("account.exists", "An account with this facility and account number is already open.", "accountNumber"));
        var errors = AccountRules.ValidateOpening(request.GuarantorId, request.Patient?.FirstName, request.Patient?.LastName,
            request.Patient?.DateOfBirth, request.Patient is not null, request.PrimaryPayer, request.AdmitDate, request.DischargeDate, now);
        if (errors.Count > 0)
            return Outcome<AccountView>.Failure(errors);

        var guarantorId = request.GuarantorId!.Trim();
        var linked = await grains.GetGrain<IGuarantorGrain>(guarantorId).LinkAccount(AccountKey.Parse(Id));
        if (!linked)
            return Outcome<AccountView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id; register the guarantor first.", "guarantorId"));

        var state = account.State;
        state.IsOpen = true;
        state.GuarantorId = guarantorId;
        state.Patient = request.Patient is null ? null : request.Patient with { FirstName = request.Patient.FirstName?.Trim(), LastName = request.Patient.LastName?.Trim() };
        state.PrimaryPayer = Text.Clean(request.PrimaryPayer);
        state.AdmitDate = request.AdmitDate;
        state.DischargeDate = request.DischargeDate;
        state.OpenedAt = now;
        state.OpenedBy = CallerContext.Current.Actor;
        await PersistAsync();
        return Outcome<AccountView>.Success(View(now));
    }

    public async Task<AccountView?> Get()
    {
        var view = account.State.IsOpen ? View(clock.GetUtcNow()) : null;
        await audit.RecordAsync(clock, "account.read", Resource, Id, view is null ? "not-found" : "ok");
        return view;
    }

    public async Task<Outcome<PostingReceipt>> Post(EntryRequest request)
    {
        var outcome = await PostAsync(request);
        var entry = outcome.Value?.Entry;
        await audit.RecordAsync(clock, outcome.Value?.IsReplay == true ? "account.entry.replay" : "account.entry.post", Resource, Id,
            AuditExtensions.OutcomeOf(outcome.Errors),
            entry is null ? $"kind={request.Kind}" : $"entry={entry.EntryId};kind={entry.Kind};amount={entry.Amount:0.00}");
        return outcome;
    }

    private async Task<Outcome<PostingReceipt>> PostAsync(EntryRequest request)
    {
        if (!account.State.IsOpen)
            return Outcome<PostingReceipt>.Failure(DomainError.NotFound("account.not-found", "No account is open with this facility and account number."));

        var now = clock.GetUtcNow();
        var facts = new AccountFacts(HasInsurance: account.State.PrimaryPayer is not null);
        var decision = LedgerPosting.Prepare(request, account.State.Entries, facts, CallerContext.Current.Actor, now);
        if (!decision.Accepted)
            return Outcome<PostingReceipt>.Failure(decision.Errors);
        if (!decision.IsReplay)
        {
            account.State.Entries.Add(decision.Entry!);
            await PersistAsync();
        }
        return Outcome<PostingReceipt>.Success(new PostingReceipt
        {
            Entry = decision.Entry!,
            IsReplay = decision.IsReplay,
            Balances = AccountBalances.Of(account.State.Entries),
        });
    }

    private async Task PersistAsync()
    {
        try
        {
            await account.WriteStateAsync();
        }
        catch
        {
            // The in-memory state is ahead of storage: drop this activation so the next call reloads what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    private AccountView View(DateTimeOffset now)
    {
        var state = account.State;
        var key = AccountKey.Parse(Id);
        return new AccountView
        {
            Facility = key.Facility,
            AccountNumber = key.AccountNumber,
            GuarantorId = state.GuarantorId,
            Patient = state.Patient,
            PrimaryPayer = state.PrimaryPayer,
            AdmitDate = state.AdmitDate,
            DischargeDate = state.DischargeDate,
            OpenedAt = state.OpenedAt,
            FirstPatientStatementDate = state.FirstPatientStatementDate,
            Balances = AccountBalances.Of(state.Entries),
            Age = Aging.Of(state.FirstPatientStatementDate, state.Entries, DateOnly.FromDateTime(state.OpenedAt.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime)),
            Entries = state.Entries.ToList(),
        };
    }
}

[StatelessWorker]
public sealed class ClusterProbeGrain(ILocalSiloDetails silo) : Grain, IClusterProbeGrain
{
    public Task<string> Ping() => Task.FromResult(silo.Name);
}
