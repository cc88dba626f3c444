using Collections.Domain;

namespace Collections.Grains.Tests;

internal static class Samples
{
    private static int _next;

    public static string NewId(string prefix) => $"{prefix}{Interlocked.Increment(ref _next)}-{Guid.NewGuid().ToString("N")[..6]}";

    public static GuarantorDetails Guarantor() => new()
    {
        FirstName = "Maria",
        LastName = "Lopez",
        DateOfBirth = new DateOnly(1980, 4, 2),
        Address = new PostalAddress { Line1 = "12 Elm St", City = "Austin", State = "TX", Zip = "78701" },
        Phones = [new PhoneNumber { Number = "5125550100", Type = PhoneType.Mobile }],
        Email = "maria@example.org",
    };

    public static EntryRequest Charge(decimal amount, string key) => new()
    {
        Kind = EntryKind.Charge, Amount = amount, ServiceDate = new DateOnly(2026, 10, 1), Code = "99213", IdempotencyKey = key,
    };

    public static EntryRequest Payment(decimal amount, string key) => new()
    {
        Kind = EntryKind.PatientPayment, Amount = amount, Method = PaymentMethod.Card, IdempotencyKey = key,
    };

    /// <summary>Registers a guarantor and opens a self-pay account for them; returns the account grain.</summary>
    public static async Task<IPatientAccountGrain> OpenAccountAsync(IGrainFactory grains, string? facility = null)
    {
        var guarantorId = NewId("G");
        Assert.True((await grains.GetGrain<IGuarantorGrain>(guarantorId).Register(Guarantor())).Succeeded);
        var key = new AccountKey(facility ?? "MAIN", NewId("A"));
        var account = grains.GetGrain<IPatientAccountGrain>(key.ToString());
        var opened = await account.Open(new OpenAccountRequest { GuarantorId = guarantorId });
        Assert.True(opened.Succeeded, string.Join("; ", opened.Errors.Select(e => e.Message)));
        return account;
    }
}
