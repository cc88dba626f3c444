using System.Net.Mail;
using System.Text.RegularExpressions;

namespace Collections.Domain;

/// <summary>The ways the engine can reach a guarantor.</summary>
public enum ContactChannel
{
    Mail,
    Email,
    Sms,
    /// <summary>A call placed by an agent.</summary>
    Voice,
    /// <summary>An automated or prerecorded call (needs prior express consent to a mobile number).</summary>
    AutomatedVoice,
}

public enum PhoneType
{
    Mobile,
    Landline,
    /// <summary>A workplace number: never called when the guarantor's employer prohibits such calls.</summary>
    Work,
}

/// <summary>Who speaks for the guarantor: contact about their debts goes to this person, never to the guarantor.</summary>
public enum RepresentativeKind
{
    /// <summary>An attorney represents the guarantor with respect to the debt.</summary>
    Attorney,
    /// <summary>The guarantor died: the executor or administrator of the estate.</summary>
    Estate,
}

/// <summary>The person contact goes to instead of the guarantor, with how to reach them.</summary>
[GenerateSerializer, Immutable, Alias("collections.Representative")]
public sealed record Representative
{
    [Id(0)] public required RepresentativeKind Kind { get; init; }
    [Id(1)] public required string Name { get; init; }
    /// <summary>Law firm, or "Estate of ..." details.</summary>
    [Id(2)] public string? Organization { get; init; }
    [Id(3)] public required PostalAddress Address { get; init; }
    [Id(4)] public string? Phone { get; init; }
    [Id(5)] public string? Email { get; init; }
    [Id(6)] public required DateTimeOffset RecordedAt { get; init; }
    [Id(7)] public required string RecordedBy { get; init; }
}

/// <summary>What a caller supplies to record a representative (unvalidated).</summary>
[GenerateSerializer, Immutable, Alias("collections.RepresentativeDetails")]
public sealed record RepresentativeDetails
{
    [Id(0)] public RepresentativeKind? Kind { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public string? Organization { get; init; }
    [Id(3)] public PostalAddress? Address { get; init; }
    [Id(4)] public string? Phone { get; init; }
    [Id(5)] public string? Email { get; init; }
}

/// <summary>Whether a guarantor agreed to, or refused, contact through a channel.</summary>
public enum ConsentStatus
{
    /// <summary>Prior express consent recorded (needed for texts and automated calls).</summary>
    Granted,
    /// <summary>The guarantor opted out or revoked consent: the channel is closed.</summary>
    OptedOut,
}

[GenerateSerializer, Immutable, Alias("collections.PostalAddress")]
public sealed record PostalAddress
{
    [Id(0)] public string? Line1 { get; init; }
    [Id(1)] public string? Line2 { get; init; }
    [Id(2)] public string? City { get; init; }
    /// <summary>Two-letter US state or territory code.</summary>
    [Id(3)] public string? State { get; init; }
    /// <summary>ZIP code: five digits, or ZIP+4 as 12345-6789.</summary>
    [Id(4)] public string? Zip { get; init; }
}

[GenerateSerializer, Immutable, Alias("collections.PhoneNumber")]
public sealed record PhoneNumber
{
    /// <summary>Ten-digit US number, stored as digits only.</summary>
    [Id(0)] public string? Number { get; init; }
    [Id(1)] public PhoneType? Type { get; init; }
    /// <summary>A work number whose employer prohibits collection calls there (the guarantor said so): never called.</summary>
    [Id(2)] public bool EmployerProhibitsCalls { get; init; }

    /// <summary>Whether an agent or a dialler may call this number.</summary>
    public bool MayBeCalled => !(Type == PhoneType.Work && EmployerProhibitsCalls);
}

/// <summary>One consent or opt-out decision for a channel, with where it came from and when.</summary>
[GenerateSerializer, Immutable, Alias("collections.ChannelConsent")]
public sealed record ChannelConsent
{
    [Id(0)] public required ContactChannel Channel { get; init; }
    [Id(1)] public required ConsentStatus Status { get; init; }
    /// <summary>Where the decision came from: "registration form", "SMS reply STOP", "phone call with agent"...</summary>
    [Id(2)] public required string Source { get; init; }
    [Id(3)] public required DateTimeOffset RecordedAt { get; init; }
    [Id(4)] public required string RecordedBy { get; init; }
    /// <summary>The Idempotency-Key it was recorded under, if the request carried one: a retry under it is answered, not recorded again.</summary>
    [Id(5), System.Text.Json.Serialization.JsonIgnore] public string? RequestKey { get; init; }
}

/// <summary>What a caller supplies to register or update a guarantor (unvalidated).</summary>
[GenerateSerializer, Immutable, Alias("collections.GuarantorDetails")]
public sealed record GuarantorDetails
{
    [Id(0)] public string? FirstName { get; init; }
    [Id(1)] public string? LastName { get; init; }
    [Id(2)] public DateOnly? DateOfBirth { get; init; }
    [Id(3)] public PostalAddress? Address { get; init; }
    [Id(4)] public IReadOnlyList<PhoneNumber>? Phones { get; init; }
    [Id(5)] public string? Email { get; init; }
    [Id(6)] public ContactChannel? PreferredChannel { get; init; }
    /// <summary>IANA time zone (e.g. America/Chicago); derived from the address when left out.</summary>
    [Id(7)] public string? TimeZone { get; init; }
    /// <summary>The language the guarantor prefers to be spoken to in, ISO 639-1 (e.g. <c>es</c>); <c>en</c> when left out.</summary>
    [Id(8)] public string? PreferredLanguage { get; init; }
}

/// <summary>A guarantor's validated, normalised details, plus the time zone(s) contact windows are checked in.</summary>
[GenerateSerializer, Immutable, Alias("collections.GuarantorProfile")]
public sealed record GuarantorProfile
{
    [Id(0)] public required string FirstName { get; init; }
    [Id(1)] public required string LastName { get; init; }
    [Id(2)] public required DateOnly DateOfBirth { get; init; }
    [Id(3)] public required PostalAddress Address { get; init; }
    [Id(4)] public required IReadOnlyList<PhoneNumber> Phones { get; init; }
    [Id(5)] public string? Email { get; init; }
    [Id(6)] public required ContactChannel PreferredChannel { get; init; }
    [Id(7)] public required TimeZoneResolution TimeZone { get; init; }
    /// <summary>ISO 639-1; null on profiles registered before languages were recorded, which means <see cref="Languages.Default"/>.</summary>
    [Id(8)] public string? PreferredLanguage { get; init; }

    /// <summary>
    /// The mailing address is incomplete (no ZIP code): the person is registered all the same (a contact detail never
    /// drops a debt), letters wait until staff complete it, and contact windows use every zone of the state.
    /// </summary>
    public bool AddressNeedsReview => string.IsNullOrWhiteSpace(Address.Zip);
}

public static partial class GuarantorRules
{
    public const int MaxNameLength = 100;

    [GeneratedRegex(@"^\d{5}(-\d{4})?$")]
    private static partial Regex ZipPattern();

    /// <summary>Validates and normalises what a caller supplied; <paramref name="today"/> bounds the date of birth.</summary>
    public static (GuarantorProfile? Profile, IReadOnlyList<DomainError> Errors) Validate(GuarantorDetails? details, DateOnly today)
    {
        var errors = new ErrorList();
        if (details is null)
        {
            errors.Invalid("", "body.required", "The guarantor's details are required.");
            return (null, errors.Errors);
        }
        Text.Require(details.FirstName, "firstName", MaxNameLength, errors);
        Text.Require(details.LastName, "lastName", MaxNameLength, errors);
        if (details.DateOfBirth is not { } dob)
            errors.Invalid("dateOfBirth", "date-of-birth.required", "The date of birth is required.");
        else if (dob > today)
            errors.Invalid("dateOfBirth", "date.future", "The date of birth must not be in the future.");
        else if (dob < new DateOnly(1890, 1, 1))
            errors.Invalid("dateOfBirth", "date.too-old", "The date of birth must not be before 1890.");

        var address = details.Address;
        // A missing ZIP leaves the address incomplete (flagged for review), never the person unregistered.
        CheckAddress(address, "A mailing address is required.", zipRequired: false, errors);

        var phones = new List<PhoneNumber>();
        foreach (var (phone, i) in (details.Phones ?? []).Select((p, i) => (p, i)))
        {
            var digits = PhoneDigits(phone?.Number);
            if (!IsPhone(digits))
                errors.Invalid($"phones[{i}].number", "phone.invalid", PhoneRule);
            else if (NotAPersonsLine(digits, phone?.Type) is { } refused)
                errors.Invalid($"phones[{i}].number", refused.Code, refused.Message);
            if (phone?.Type is null)
                errors.Invalid($"phones[{i}].type", "phone-type.required", IsPhone(digits) && IsTollFree(digits)
                    // Told now, not after the type is given: a toll-free number is taken as a work phone only.
                    ? $"Say what kind of phone it is: {digits[..3]} is a toll-free code, so it is taken as a work phone (the guarantor's workplace), not as a mobile or home phone."
                    : "Say whether the phone is mobile or landline.");
            phones.Add(new PhoneNumber { Number = digits, Type = phone?.Type, EmployerProhibitsCalls = phone?.Type == PhoneType.Work && phone.EmployerProhibitsCalls });
        }

        var email = Text.Clean(details.Email);
        if (email is not null && (email.Length > 254 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !email.Contains('.', StringComparison.Ordinal)))
            errors.Invalid("email", "email.invalid", "The email address is not valid.");

        var preferred = details.PreferredChannel ?? ContactChannel.Mail;
        if (preferred == ContactChannel.Email && email is null)
            errors.Invalid("preferredChannel", "channel.unavailable", "Email is preferred but no email address is given.");
        if (preferred is ContactChannel.Sms && !phones.Any(p => p.Type == PhoneType.Mobile))
            errors.Invalid("preferredChannel", "channel.unavailable", "Text messages are preferred but no mobile number is given.");
        if (preferred is ContactChannel.Voice or ContactChannel.AutomatedVoice && phones.Count == 0)
            errors.Invalid("preferredChannel", "channel.unavailable", "Calls are preferred but no phone number is given.");

        Languages.Check(details.PreferredLanguage, "preferredLanguage", errors);

        TimeZoneResolution? zone = null;
        if (details.TimeZone is { } tz)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _) || !tz.Contains('/', StringComparison.Ordinal))
                errors.Invalid("timeZone", "time-zone.invalid", "The time zone must be an IANA name such as America/Chicago.");
            else
                zone = TimeZoneResolution.Given(tz);
        }

        if (errors.Any)
            return (null, errors.Errors);

        zone ??= UsTimeZones.ResolveAddress(address!.State, address.Zip);
        var profile = new GuarantorProfile
        {
            FirstName = details.FirstName!.Trim(),
            LastName = details.LastName!.Trim(),
            DateOfBirth = details.DateOfBirth!.Value,
            Address = Normalized(address!),
            Phones = phones,
            Email = email,
            PreferredChannel = preferred,
            TimeZone = zone,
            PreferredLanguage = Languages.Normalize(details.PreferredLanguage) ?? Languages.Default,
        };
        return (profile, []);
    }

    /// <summary>A mailing address's checks: line 1, city, a US state; the ZIP when required, and its form when given.</summary>
    private static void CheckAddress(PostalAddress? address, string requiredMessage, bool zipRequired, ErrorList errors)
    {
        if (address is null)
        {
            errors.Invalid("address", "address.required", requiredMessage);
            return;
        }
        Text.Require(address.Line1, "address.line1", MaxNameLength, errors);
        Text.Check(address.Line2, "address.line2", MaxNameLength, errors);
        Text.Require(address.City, "address.city", MaxNameLength, errors);
        if (address.State is null || !UsTimeZones.IsKnownState(address.State.Trim().ToUpperInvariant()))
            errors.Invalid("address.state", "state.invalid", "The state must be a two-letter US state or territory code.");
        if (string.IsNullOrWhiteSpace(address.Zip) ? zipRequired : !ZipPattern().IsMatch(address.Zip.Trim()))
            errors.Invalid("address.zip", "zip.invalid", zipRequired
                ? "The ZIP code must be 5 digits or ZIP+4 (12345-6789)."
                : "The ZIP code must be 5 digits or ZIP+4 (12345-6789); leave it out when it is not known.");
    }

    /// <summary>A checked address, trimmed, its state in capitals (no ZIP: empty).</summary>
    private static PostalAddress Normalized(PostalAddress address) => new()
    {
        Line1 = address.Line1!.Trim(), Line2 = Text.Clean(address.Line2), City = address.City!.Trim(),
        State = address.State!.Trim().ToUpperInvariant(), Zip = Text.Clean(address.Zip) ?? "",
    };

    /// <summary>The ten digits of a US phone number as a person gives it (punctuation and a leading 1 allowed), or null.</summary>
    public static string? UsPhoneDigits(string? number) => PhoneDigits(number) is var digits && IsPhone(digits) ? digits : null;

    /// <summary>
    /// A US number as its ten digits: punctuation, a leading country code 1 (or +1) and an extension at the end (x12,
    /// ext. 12, extension 12, #12: not kept, the number is dialled without it) allowed. Another country code after a
    /// plus is not a NANP number, and comes back as no digits.
    /// </summary>
    private static string PhoneDigits(string? number)
    {
        var text = (number ?? "").Trim();
        if (Extension.Match(text) is { Success: true } extension) text = text[..extension.Index];
        if (text.StartsWith('+') && !text[1..].TrimStart().StartsWith('1')) return "";
        var digits = new string(text.Where(char.IsAsciiDigit).ToArray());
        return digits.Length == 11 && digits[0] == '1' ? digits[1..] : digits;
    }

    private static readonly Regex Extension = new(@"\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>
    /// NANP's shape: NXX-NXX-XXXX, the area code and the exchange each starting 2-9 and neither an N11 service code
    /// (211, 311, ... 911), which are dialled as they are, never as part of a number.
    /// </summary>
    private static bool IsPhone(string digits) =>
        digits.Length == 10 && digits[0] is >= '2' and <= '9' && digits[3] is >= '2' and <= '9'
        && !(digits[1] == '1' && digits[2] == '1') && !(digits[4] == '1' && digits[5] == '1');

    /// <summary>
    /// A number of the right shape that is still not a line to reach a person on: a 900 number (premium rate, the
    /// caller pays by the minute: never dialled), or a toll-free number (800, 833, 844, 855, 866, 877, 888 and the
    /// codes NANPA holds for toll-free's growth: 822, 880-887, 889) given as a mobile or home phone. Toll-free numbers
    /// are businesses' inbound lines and take no texts from us; an employer's switchboard is fine as a work phone, and
    /// an attorney's office line as a representative's. The fictional 555-0100 to 555-0199 are not refused: NANPA
    /// keeps them for examples, and a transport that cannot deliver to one records the failure.
    /// </summary>
    private static (string Code, string Message)? NotAPersonsLine(string digits, PhoneType? type)
    {
        var area = digits[..3];
        if (area == "900")
            return ("phone.premium-rate", "A 900 number charges whoever calls it: it cannot be a phone we call or text.");
        if (type is PhoneType.Mobile or PhoneType.Landline && IsTollFree(digits))
            return ("phone.toll-free", $"{area} is a toll-free code: a business's line, not a person's {(type == PhoneType.Mobile ? "mobile" : "home phone")}. Give it as a work phone if it is the guarantor's workplace.");
        return null;
    }

    private static bool IsTollFree(string digits) => TollFree.Contains(digits[..3]);

    private static readonly HashSet<string> TollFree = ["800", "822", "833", "844", "855", "866", "877", "880", "881", "882", "883", "884", "885", "886", "887", "888", "889"];

    private const string PhoneRule = "A phone number must be a US (NANP) number: 10 digits, the area code and the exchange each starting 2-9 and neither a service code such as 911 (a leading 1 or +1, punctuation and an extension such as x12 are fine).";

    /// <summary>Checks a representative's details: a name and a complete mailing address, and a phone or email if given.</summary>
    public static (Representative? Representative, IReadOnlyList<DomainError> Errors) ValidateRepresentative(RepresentativeDetails details, string recordedBy, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (details.Kind is null) errors.Invalid("kind", "kind.required", "Say who the representative is: attorney or estate.");
        Text.Require(details.Name, "name", MaxNameLength, errors);
        Text.Check(details.Organization, "organization", MaxNameLength, errors);
        var address = details.Address;
        CheckAddress(address, "The representative's mailing address is required: letters go there.", zipRequired: true, errors);
        string? phone = null;
        if (!string.IsNullOrWhiteSpace(details.Phone))
        {
            phone = PhoneDigits(details.Phone);
            if (!IsPhone(phone)) errors.Invalid("phone", "phone.invalid", PhoneRule);
            else if (NotAPersonsLine(phone, PhoneType.Work) is { } refused) errors.Invalid("phone", refused.Code, refused.Message);
        }
        var email = Text.Clean(details.Email);
        if (email is not null && (email.Length > 254 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email))
            errors.Invalid("email", "email.invalid", "The email address is not valid.");
        if (errors.Any) return (null, errors.Errors);
        return (new Representative
        {
            Kind = details.Kind!.Value, Name = details.Name!.Trim(), Organization = Text.Clean(details.Organization),
            Address = Normalized(address!),
            Phone = phone, Email = email, RecordedAt = now, RecordedBy = recordedBy,
        }, []);
    }

    /// <summary>
    /// The contact details to use for a represented guarantor: the representative's (name, address, phone as a landline,
    /// email), so every contact rule (channels, hours in the representative's zones) applies to whom we actually reach.
    /// </summary>
    public static GuarantorProfile ContactProfile(GuarantorProfile guarantor, Representative representative) => guarantor with
    {
        FirstName = representative.Name,
        LastName = "",
        Address = representative.Address,
        Phones = representative.Phone is { } p ? [new PhoneNumber { Number = p, Type = PhoneType.Landline }] : [],
        Email = representative.Email,
        TimeZone = UsTimeZones.ResolveAddress(representative.Address.State, representative.Address.Zip),
    };

    /// <summary>
    /// The profile with its zone worked out again from its address by today's table (a ZIP area found to straddle a zone
    /// line after the person was registered now names both); a zone the person gave is kept. The same instance when
    /// nothing changed.
    /// </summary>
    public static GuarantorProfile WithCurrentZones(GuarantorProfile profile)
    {
        if (profile.TimeZone.Source == TimeZoneSource.Given) return profile;
        var current = UsTimeZones.ResolveAddress(profile.Address.State, profile.Address.Zip);
        return current.PlausibleZones.SequenceEqual(profile.TimeZone.PlausibleZones) && current.Zone == profile.TimeZone.Zone ? profile : profile with { TimeZone = current };
    }

    /// <summary>The latest decision for each channel (later decisions replace earlier ones).</summary>
    public static IReadOnlyDictionary<ContactChannel, ChannelConsent> CurrentConsents(IEnumerable<ChannelConsent> history) =>
        history.OrderBy(c => c.RecordedAt).GroupBy(c => c.Channel).ToDictionary(g => g.Key, g => g.Last());
}
