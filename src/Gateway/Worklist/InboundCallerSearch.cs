using Collections.Domain;
using Collections.Grains;

namespace Collections.Gateway.Worklist;

/// <summary>One of a caller's accounts, with what the patient owes on it now.</summary>
public sealed record CallerAccount(string Facility, string AccountNumber, decimal PatientBalance, bool OnHold);

/// <summary>A person who may be on the phone: enough for the agent to confirm who they are (name, date of birth, city) and pick the account.</summary>
public sealed record InboundCaller(string GuarantorId, string FirstName, string LastName, DateOnly DateOfBirth, string City, string State, IReadOnlyList<CallerAccount> Accounts);

/// <summary>
/// Who is calling in: the guarantors registered with the caller's phone number (the phone directory), or the one
/// owning the account number they read out, each with their accounts. Reads only; grains are asked one after another.
/// </summary>
public sealed class InboundCallerSearch(IGrainFactory grains, Persistence.CallerIndexStore index)
{
    /// <summary>At most this many people for one number (a shared household phone), so one search cannot read a crowd.</summary>
    public const int MaxCallers = 10;

    public async Task<IReadOnlyList<InboundCaller>> ByPhoneAsync(string digits)
    {
        var ids = await grains.GetGrain<IPhoneDirectoryGrain>(digits).Find();
        var callers = new List<InboundCaller>();
        foreach (var id in ids.Take(MaxCallers))
            if (await CallerAsync(id) is { } caller) callers.Add(caller);
        return callers;
    }

    /// <summary>
    /// The guarantors born on <paramref name="dateOfBirth"/> with this last name (accents, case, spaces and punctuation
    /// aside), narrowed to those whose first name starts with the same letter when one is given.
    /// </summary>
    public async Task<IReadOnlyList<InboundCaller>> ByNameAsync(string lastName, DateOnly dateOfBirth, string? firstName)
    {
        var ids = await index.FindAsync(await index.KeyAsync(dateOfBirth, Text.NameKey(lastName)));
        var initial = Text.NameKey(firstName) is { Length: > 0 } first ? first[..1] : null;
        var callers = new List<InboundCaller>();
        foreach (var id in ids)
        {
            if (callers.Count == MaxCallers) break;
            if (await CallerAsync(id) is not { } caller) continue;
            if (initial is not null && !Text.NameKey(caller.FirstName).StartsWith(initial, StringComparison.Ordinal)) continue;
            callers.Add(caller);
        }
        return callers;
    }

    public async Task<IReadOnlyList<InboundCaller>> ByAccountAsync(AccountKey key)
    {
        var account = await grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get();
        return account is not null && await CallerAsync(account.GuarantorId) is { } caller ? [caller] : [];
    }

    private async Task<InboundCaller?> CallerAsync(string guarantorId)
    {
        if (await grains.GetGrain<IGuarantorGrain>(guarantorId).Get() is not { } person) return null;
        var accounts = new List<CallerAccount>();
        foreach (var key in person.Accounts)
        {
            if (await grains.GetGrain<IPatientAccountGrain>(key.ToString()).Get() is not { } view) continue;
            accounts.Add(new CallerAccount(key.Facility, key.AccountNumber, Money.Normalize(view.Balances.PatientResponsibility),
                view.Holds.Any(h => h.ReleasedAt is null) || person.Holds.Any(h => h.ReleasedAt is null)));
        }
        var p = person.Profile;
        return new InboundCaller(guarantorId, p.FirstName, p.LastName, p.DateOfBirth, p.Address.City ?? "", p.Address.State ?? "", accounts);
    }
}
