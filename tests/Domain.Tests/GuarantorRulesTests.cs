using Collections.Domain;

namespace Collections.Domain.Tests;

public sealed class GuarantorRulesTests
{
    private static readonly DateOnly Today = new(2026, 11, 23);
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 15, 0, 0, TimeSpan.Zero);

    private static RepresentativeDetails Attorney() => new()
    {
        Kind = RepresentativeKind.Attorney, Name = "Dana Counsel", Organization = "Counsel & Partners",
        Address = new PostalAddress { Line1 = "1 Court St", City = "Springfield", State = "IL", Zip = "62701" },
    };

    private static GuarantorDetails Valid() => new()
    {
        FirstName = " Maria ",
        LastName = "Lopez",
        DateOfBirth = new DateOnly(1980, 4, 2),
        Address = new PostalAddress { Line1 = "12 Elm St", City = "Austin", State = "tx", Zip = "78701" },
        Phones = [new PhoneNumber { Number = "(512) 555-0100", Type = PhoneType.Mobile }],
        Email = "maria@example.org",
        PreferredChannel = ContactChannel.Sms,
    };

    [Fact]
    public void A_valid_guarantor_is_normalised()
    {
        var (profile, errors) = GuarantorRules.Validate(Valid(), Today);

        Assert.Empty(errors);
        Assert.Equal("Maria", profile!.FirstName);
        Assert.Equal("TX", profile.Address.State);
        Assert.Equal("5125550100", profile.Phones[0].Number);
    }

    [Fact]
    public void The_time_zone_comes_from_the_state_when_not_given()
    {
        var (profile, _) = GuarantorRules.Validate(Valid(), Today);
        Assert.Equal("America/Chicago", profile!.TimeZone.Zone);
        Assert.Equal(TimeZoneSource.State, profile.TimeZone.Source);
    }

    [Fact]
    public void A_zip_code_in_a_split_state_picks_its_own_zone()
    {
        var (profile, _) = GuarantorRules.Validate(Valid() with { Address = Valid().Address! with { Zip = "79901" } }, Today);
        Assert.Equal("America/Denver", profile!.TimeZone.Zone);
    }

    [Fact]
    public void A_zip_area_that_straddles_a_zone_line_leaves_both_zones_plausible()
    {
        var (profile, _) = GuarantorRules.Validate(Valid() with { Address = new PostalAddress { Line1 = "1 Main", City = "Goodland", State = "KS", Zip = "67735" } }, Today);
        Assert.Null(profile!.TimeZone.Zone);
        Assert.Equal(["America/Chicago", "America/Denver"], profile.TimeZone.PlausibleZones);
    }

    [Theory]
    [InlineData("TN", "37388", "America/New_York", "America/Chicago")]  // Tullahoma is Central, Chattanooga Eastern
    [InlineData("FL", "32456", "America/Chicago", "America/New_York")]  // Port St. Joe is Eastern, Panama City Central
    [InlineData("SD", "57601", "America/Chicago", "America/Denver")]    // Mobridge is Central, Lemmon Mountain
    [InlineData("TX", "79843", "America/Chicago", "America/Denver")]    // Marfa is Central, Sierra Blanca Mountain
    [InlineData("KY", "42701", "America/New_York", "America/Chicago")]  // Elizabethtown is Eastern, Leitchfield Central
    public void A_zip_area_with_towns_on_both_sides_of_a_zone_line_names_both(string state, string zip, string first, string second)
    {
        var (profile, _) = GuarantorRules.Validate(Valid() with { Address = new PostalAddress { Line1 = "1 Main", City = "Town", State = state, Zip = zip } }, Today);
        Assert.Null(profile!.TimeZone.Zone);
        Assert.Equal([first, second], profile.TimeZone.PlausibleZones);
    }

    [Fact]
    public void A_profile_registered_under_an_older_zone_table_is_read_with_todays_and_a_given_zone_is_kept()
    {
        var (profile, _) = GuarantorRules.Validate(Valid() with { Address = new PostalAddress { Line1 = "1 Main", City = "Tullahoma", State = "TN", Zip = "37388" } }, Today);
        var stored = profile! with { TimeZone = new TimeZoneResolution { Zone = "America/New_York", PlausibleZones = ["America/New_York"], Source = TimeZoneSource.ZipArea } };
        Assert.Equal(["America/New_York", "America/Chicago"], GuarantorRules.WithCurrentZones(stored).TimeZone.PlausibleZones);
        var given = stored with { TimeZone = TimeZoneResolution.Given("America/New_York") };
        Assert.Same(given, GuarantorRules.WithCurrentZones(given));
        Assert.Same(profile, GuarantorRules.WithCurrentZones(profile));
    }

    [Fact]
    public void A_given_time_zone_wins_over_the_address()
    {
        var (profile, _) = GuarantorRules.Validate(Valid() with { TimeZone = "America/New_York" }, Today);
        Assert.Equal("America/New_York", profile!.TimeZone.Zone);
        Assert.Equal(TimeZoneSource.Given, profile.TimeZone.Source);
    }

    [Fact]
    public void Every_state_maps_to_a_zone_this_machine_knows()
    {
        foreach (var zone in UsTimeZones.AllZones)
            Assert.True(TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _), zone);
    }

    [Theory]
    [InlineData("firstName")]
    [InlineData("lastName")]
    [InlineData("dateOfBirth")]
    [InlineData("address")]
    public void Required_fields_are_named_when_missing(string field)
    {
        var details = field switch
        {
            "firstName" => Valid() with { FirstName = null },
            "lastName" => Valid() with { LastName = "  " },
            "dateOfBirth" => Valid() with { DateOfBirth = null },
            _ => Valid() with { Address = null, PreferredChannel = ContactChannel.Mail },
        };
        var (profile, errors) = GuarantorRules.Validate(details, Today);
        Assert.Null(profile);
        Assert.Contains(errors, e => e.Field == field);
    }

    [Theory]
    [InlineData("7870", "address.zip")]
    [InlineData("ABCDE", "address.zip")]
    public void A_malformed_zip_is_refused(string zip, string field)
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Address = Valid().Address! with { Zip = zip } }, Today);
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void An_unknown_state_is_refused()
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Address = Valid().Address! with { State = "ZZ" } }, Today);
        Assert.Equal("state.invalid", Assert.Single(errors).Code);
    }

    [Fact]
    public void A_date_of_birth_in_the_future_is_refused()
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { DateOfBirth = Today.AddDays(1) }, Today);
        Assert.Equal("date.future", Assert.Single(errors).Code);
    }

    [Theory]
    [InlineData("555-0100")]          // seven digits
    [InlineData("0125550100")]        // area code starting 0
    [InlineData("(212) 055-1234")]    // exchange starting 0
    [InlineData("(212) 155-1234")]    // exchange starting 1
    [InlineData("911-555-1234")]      // N11 area code
    [InlineData("212-911-1234")]      // N11 exchange
    [InlineData("555-0199 x123")]     // seven digits and an extension, not ten
    [InlineData("+49 89 123456")]     // another country
    [InlineData("+44 20 7946 0958")]
    public void A_phone_number_that_is_not_a_nanp_number_is_refused(string number)
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = number, Type = PhoneType.Mobile }] }, Today);
        Assert.Contains(errors, e => e.Code == "phone.invalid");
    }

    [Theory]
    [InlineData("900-555-1234", PhoneType.Mobile, "phone.premium-rate")]
    [InlineData("1 (900) 246-8000", PhoneType.Work, "phone.premium-rate")]
    [InlineData("800-555-0100", PhoneType.Mobile, "phone.toll-free")]
    [InlineData("(888) 246-8000", PhoneType.Landline, "phone.toll-free")]
    [InlineData("833 246 8000", PhoneType.Mobile, "phone.toll-free")]
    [InlineData("889-246-8000", PhoneType.Mobile, "phone.toll-free")] // held by NANPA for toll-free's growth
    public void A_number_that_is_not_a_persons_line_is_refused_as_their_phone(string number, PhoneType type, string code)
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = number, Type = type }], PreferredChannel = ContactChannel.Mail }, Today);
        var error = Assert.Single(errors);
        Assert.Equal((code, "phones[0].number"), (error.Code, error.Field));
    }

    [Theory]
    [InlineData("800-246-8000")]
    [InlineData("877-246-8000")]
    public void A_toll_free_number_is_kept_as_a_work_phone_and_as_a_representatives(string number)
    {
        var (guarantor, errors) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = number, Type = PhoneType.Work }], PreferredChannel = ContactChannel.Mail }, Today);
        Assert.Empty(errors);
        Assert.Equal(PhoneType.Work, Assert.Single(guarantor!.Phones).Type);

        var (representative, refused) = GuarantorRules.ValidateRepresentative(Attorney() with { Phone = number }, "agent-1", Now);
        Assert.Empty(refused);
        Assert.NotNull(representative!.Phone);
        Assert.Equal("phone.premium-rate", Assert.Single(GuarantorRules.ValidateRepresentative(Attorney() with { Phone = "900-246-8000" }, "agent-1", Now).Errors).Code);
    }

    [Fact]
    public void A_toll_free_number_given_without_a_type_is_told_at_once_that_it_can_only_be_a_work_phone()
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = "800-246-8000" }], PreferredChannel = ContactChannel.Mail }, Today);
        var error = Assert.Single(errors);
        Assert.Equal(("phone-type.required", "phones[0].type"), (error.Code, error.Field));
        Assert.Contains("toll-free", error.Message, StringComparison.Ordinal);
        Assert.Contains("work phone", error.Message, StringComparison.Ordinal);
        var (_, untyped) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = "217-244-3000" }], PreferredChannel = ContactChannel.Mail }, Today);
        Assert.Equal("Say whether the phone is mobile or landline.", Assert.Single(untyped).Message);
    }

    [Theory]
    [InlineData("(217) 244-3000 ext 5", "2172443000")]
    [InlineData("217.244.3000 x12", "2172443000")]
    [InlineData("+1 (217) 244-3000", "2172443000")]
    [InlineData("1-217-244-3000 #7", "2172443000")]
    [InlineData("2175550100", "2175550100")]
    public void A_nanp_number_as_people_write_it_is_kept_as_its_ten_digits(string number, string digits)
    {
        var (guarantor, errors) = GuarantorRules.Validate(Valid() with { Phones = [new PhoneNumber { Number = number, Type = PhoneType.Mobile }] }, Today);
        Assert.Empty(errors);
        Assert.Equal(digits, Assert.Single(guarantor!.Phones).Number);
        Assert.Equal(digits, GuarantorRules.UsPhoneDigits(number));
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("a@b")]
    [InlineData("Maria <maria@example.org>")]
    public void A_malformed_email_is_refused(string email)
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Email = email }, Today);
        Assert.Contains(errors, e => e.Code == "email.invalid");
    }

    [Fact]
    public void A_preferred_channel_without_the_means_to_use_it_is_refused()
    {
        var (_, errors) = GuarantorRules.Validate(Valid() with { Phones = [], PreferredChannel = ContactChannel.Sms }, Today);
        Assert.Contains(errors, e => e.Code == "channel.unavailable");
    }

    [Fact]
    public void The_latest_consent_decision_per_channel_is_the_one_in_force()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var history = new[]
        {
            new ChannelConsent { Channel = ContactChannel.Sms, Status = ConsentStatus.Granted, Source = "form", RecordedAt = t0, RecordedBy = "k1" },
            new ChannelConsent { Channel = ContactChannel.Sms, Status = ConsentStatus.OptedOut, Source = "SMS reply STOP", RecordedAt = t0.AddDays(3), RecordedBy = "k1" },
            new ChannelConsent { Channel = ContactChannel.Email, Status = ConsentStatus.Granted, Source = "form", RecordedAt = t0.AddDays(1), RecordedBy = "k1" },
        };

        var current = GuarantorRules.CurrentConsents(history);

        Assert.Equal(ConsentStatus.OptedOut, current[ContactChannel.Sms].Status);
        Assert.Equal(ConsentStatus.Granted, current[ContactChannel.Email].Status);
    }
}

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("MAIN", true)]
    [InlineData("st-marys_2", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("a/b", false)]
    public void Facility_codes_are_url_safe(string value, bool valid) => Assert.Equal(valid, Identifiers.IsFacility(value));

    [Fact]
    public void An_account_key_round_trips_through_its_grain_key()
    {
        var key = new AccountKey("MAIN", "A1000.23");
        Assert.Equal(key, AccountKey.Parse(key.ToString()));
    }

    [Theory]
    [InlineData("O'Brien-Núñez", "obriennunez")]
    [InlineData("  de la Cruz ", "delacruz")]
    [InlineData("MÜLLER", "muller")]
    [InlineData("Nguyễn", "nguyen")]
    [InlineData("-' ", "")]
    [InlineData(null, "")]
    public void A_name_is_compared_without_accents_case_spaces_or_punctuation(string? name, string key) =>
        Assert.Equal(key, Text.NameKey(name));
}
