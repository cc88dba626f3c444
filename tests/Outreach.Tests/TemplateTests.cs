using Collections.Domain;

namespace Collections.Outreach.Tests;

public sealed class TemplateTests
{
    private static readonly FacilityInfo Facility = new()
    {
        Code = "MAIN", Name = "Riverside Hospital", PayUrl = "https://pay.riverside.example", PayPhone = "800-555-0100",
        AssistanceUrl = "https://riverside.example/help", AssistancePhone = "800-555-0101", ReturnAddress = "1 River Rd",
    };

    public static TheoryData<ContactChannel, OutreachAction> Defaults()
    {
        var data = new TheoryData<ContactChannel, OutreachAction>();
        foreach (var t in DefaultTemplates.All) data.Add(t.Channel, t.Action);
        return data;
    }

    [Theory, MemberData(nameof(Defaults))]
    public void Every_default_template_is_valid_and_names_the_facility_how_to_pay_and_how_to_get_help(ContactChannel channel, OutreachAction action)
    {
        var template = DefaultTemplates.Find(channel, action)!;
        Assert.Empty(TemplateEngine.Validate(channel, action, template.Subject, template.Body));
        var placeholders = TemplateEngine.Placeholders(template.Body);
        Assert.Contains("facility.name", placeholders);
        Assert.Contains(placeholders, p => p is "payUrl" or "payPhone");
        if (action == OutreachAction.OptOutConfirmation)
        {
            // The confirmation of a STOP confirms, and asks for nothing: no payment link, no amount.
            Assert.DoesNotContain("payUrl", placeholders);
            Assert.DoesNotContain("amountDue", placeholders);
            return;
        }
        Assert.Contains(placeholders, p => p is "assistanceUrl" or "assistancePhone");
        if (action == OutreachAction.PaymentReceipt) Assert.Contains("amountPaid", placeholders); // a receipt names what was paid
        else Assert.Contains("amountDue", placeholders);
    }

    [Fact]
    public void A_saved_opt_out_confirmation_that_asks_for_payment_is_refused()
    {
        var errors = TemplateEngine.Validate(ContactChannel.Sms, OutreachAction.OptOutConfirmation, null,
            "{{facility.name}}: You will not get any more texts from us. You can still pay at {{payUrl}}.");
        Assert.Equal("template.opt-out-confirmation.asks", Assert.Single(errors).Code);
        Assert.Contains("{{payUrl}}", errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_default_email_and_text_carries_the_opt_out_instruction()
    {
        foreach (var t in DefaultTemplates.All.Where(t => t.Channel == ContactChannel.Sms && t.Action != OutreachAction.OptOutConfirmation))
            Assert.Contains("Reply STOP to stop texts.", t.Body, StringComparison.Ordinal);
        foreach (var t in DefaultTemplates.All.Where(t => t.Channel == ContactChannel.Email))
            Assert.Contains("unsubscribe", t.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(5, DefaultTemplates.All.Count(t => t.Channel == ContactChannel.Email));
        Assert.Equal(4, DefaultTemplates.All.Count(t => t.Channel == ContactChannel.Sms));
    }

    [Fact]
    public void Rendering_fills_every_placeholder_with_plain_values()
    {
        var values = TemplateEngine.Values(Facility, "Maria {{payUrl}} Lopez", "A1001", 1234.5m, new DateOnly(2026, 12, 23));
        var text = TemplateEngine.Render(DefaultTemplates.Find(ContactChannel.Email, OutreachAction.EmailReminder)!.Body, values);

        Assert.StartsWith("Hello Maria {{payUrl}} Lopez,", text, StringComparison.Ordinal);   // values are never expanded again
        Assert.Contains("You owe $1,234.50 on account A1001. Due date: December 23, 2026.", text, StringComparison.Ordinal);
        Assert.Contains("https://pay.riverside.example or call 800-555-0100", text, StringComparison.Ordinal);
        Assert.Contains("https://riverside.example/help or call 800-555-0101", text, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", text.Replace("Maria {{payUrl}} Lopez", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var noDate = TemplateEngine.Values(Facility, "M", "A1", 5m, null);
        Assert.Equal("as soon as you can", noDate["dueDate"]);
        Assert.Equal("{{mystery}} $5.00", TemplateEngine.Render("{{mystery}} {{ amountDue }}", noDate));
    }

    [Fact]
    public void Default_texts_stay_within_320_characters_with_long_values()
    {
        var values = TemplateEngine.Values(Facility with { Name = "Riverside Regional Medical Center of Travis County" }, "X", "A0000123456", 99_999.99m, new DateOnly(2026, 12, 31));
        foreach (var t in DefaultTemplates.All.Where(t => t.Channel == ContactChannel.Sms))
            Assert.True(TemplateEngine.Render(t.Body, values).Length <= 320, t.Id);
    }

    [Fact]
    public void A_template_with_an_unknown_placeholder_is_refused_with_every_unknown_name_listed()
    {
        var errors = TemplateEngine.Validate(ContactChannel.Mail, OutreachAction.Letter, "Bill from {{facility}}", "Pay {{amountDue}} by {{deadline}} or {{ balance }}.");
        var body = Assert.Single(errors, e => e.Field == "body");
        Assert.Equal("template.placeholder.unknown", body.Code);
        Assert.Contains("{{deadline}}, {{balance}}", body.Message, StringComparison.Ordinal);
        Assert.Contains(errors, e => e.Field == "subject" && e.Message.Contains("{{facility}}", StringComparison.Ordinal));
    }

    [Fact]
    public void Emails_and_texts_without_the_opt_out_instruction_are_refused()
    {
        Assert.Contains(TemplateEngine.Validate(ContactChannel.Sms, OutreachAction.SmsReminder, null, "{{facility.name}}: pay {{amountDue}} at {{payUrl}}."),
            e => e.Code == "template.opt-out.missing");
        Assert.Contains(TemplateEngine.Validate(ContactChannel.Email, OutreachAction.EmailReminder, "Bill", "Pay {{amountDue}} at {{payUrl}}."),
            e => e.Code == "template.opt-out.missing");
        Assert.Empty(TemplateEngine.Validate(ContactChannel.Email, OutreachAction.EmailReminder, "Bill", "Pay {{amountDue}}. To unsubscribe, call {{payPhone}}."));
        // The one confirmation sent after an opt-out need not repeat it.
        Assert.Empty(TemplateEngine.Validate(ContactChannel.Sms, OutreachAction.OptOutConfirmation, null, "{{facility.name}}: you will get no more texts."));
    }

    [Fact]
    public void Texts_that_come_out_longer_than_320_characters_and_malformed_placeholders_are_refused()
    {
        var longText = string.Concat(Enumerable.Repeat("Please pay {{amountDue}} soon. ", 12)) + "Reply STOP to stop texts.";
        Assert.Contains(TemplateEngine.Validate(ContactChannel.Sms, OutreachAction.SmsReminder, null, longText), e => e.Code == "template.sms.too-long");
        Assert.Contains(TemplateEngine.Validate(ContactChannel.Mail, OutreachAction.Letter, null, "Pay {{amountDue} now"), e => e.Code == "template.placeholder.malformed");
        Assert.Contains(TemplateEngine.Validate(ContactChannel.Email, OutreachAction.CallTask, "x", "y"), e => e.Code == "template.not-a-message");
    }

    [Theory]
    [InlineData(ContactChannel.Voice, OutreachAction.CallTask)]
    [InlineData(ContactChannel.AutomatedVoice, OutreachAction.SmsReminder)]
    [InlineData(ContactChannel.Email, OutreachAction.WriteOffReview)]
    [InlineData(ContactChannel.Mail, OutreachAction.CallTask)]
    [InlineData(ContactChannel.Sms, OutreachAction.Letter)]
    public async Task Enqueueing_something_that_is_not_a_message_is_refused(ContactChannel channel, OutreachAction action)
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        await Assert.ThrowsAsync<ArgumentException>(() => h.Service().EnqueueAsync(Harness.Request(channel, action)));
        Assert.Empty(await h.Outbox.QueryAsync(null, null, null, 10));
    }

    [Fact]
    public async Task Enqueueing_a_bad_recipient_or_amount_is_refused()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var service = h.Service();
        await Assert.ThrowsAsync<ArgumentException>(() => service.EnqueueAsync(Harness.Request(ContactChannel.Sms, OutreachAction.SmsReminder) with { Recipient = "555-0100" }));
        await Assert.ThrowsAsync<ArgumentException>(() => service.EnqueueAsync(Harness.Request() with { Recipient = "not an email" }));
        await Assert.ThrowsAsync<ArgumentException>(() => service.EnqueueAsync(Harness.Request() with { AmountDue = 1.005m }));
        await Assert.ThrowsAsync<ArgumentException>(() => service.EnqueueAsync(Harness.Request() with { MessageId = " " }));
    }
}

public sealed class ReplyKeywordTests
{
    [Theory]
    [InlineData("STOP")]
    [InlineData("stop")]
    [InlineData("  Stop.  ")]
    [InlineData("STOP!!")]
    [InlineData("quit")]
    [InlineData("End")]
    [InlineData("REVOKE")]
    [InlineData("opt out")]
    [InlineData("Opt-Out")]
    [InlineData("OPTOUT")]
    [InlineData("cancel")]
    [InlineData("Unsubscribe")]
    [InlineData("Stop please")]
    [InlineData("please unsubscribe")]
    [InlineData("STOP thank you")]
    [InlineData("ALTO")]
    [InlineData("Parar")]
    [InlineData("BASTA!")]
    [InlineData("basta ya")]
    [InlineData("stop por favor")]
    [InlineData("No más")]
    [InlineData("no mas mensajes por favor")]
    [InlineData("Cancelar")]
    [InlineData("Please stop texting me")]
    [InlineData("stop sending me these messages")]
    [InlineData("Don't text me again")]
    [InlineData("do not contact me")]
    [InlineData("remove me from your list")]
    [InlineData("No me manden mensajes")]
    [InlineData("Dejen de escribirme por favor")]
    [InlineData("quiero darme de baja")]
    public void A_reply_that_is_an_opt_out_keyword_is_an_opt_out(string reply) => Assert.True(ReplyKeywords.IsOptOut(reply));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("don't stop")]
    [InlineData("stop by the office tomorrow?")]
    [InlineData("STOPPED")]
    [InlineData("end of the month")]
    [InlineData("Can I set up a payment plan")]
    [InlineData("please")]
    [InlineData("es para mi hijo")]
    [InlineData("no paren de ayudarme")]
    public void Other_replies_are_not_opt_outs_by_keyword(string? reply) => Assert.False(ReplyKeywords.IsOptOut(reply));

    [Theory]
    [InlineData("don't stop", ReplyMeaning.NeedsReview)]
    [InlineData("I already paid this", ReplyMeaning.NeedsReview)]
    [InlineData("who is this?", ReplyMeaning.NeedsReview)]
    [InlineData("OK", ReplyMeaning.Acknowledgement)]
    [InlineData("thanks", ReplyMeaning.Acknowledgement)]
    [InlineData("Gracias", ReplyMeaning.Acknowledgement)]
    [InlineData("STOP", ReplyMeaning.OptOut)]
    public void Every_reply_is_an_opt_out_an_acknowledgement_or_goes_to_a_person(string reply, ReplyMeaning meaning) =>
        Assert.Equal(meaning, ReplyKeywords.Classify(reply));

    [Fact]
    public void A_revocation_closes_the_channels_it_names_as_well_as_the_one_it_came_by()
    {
        Assert.Equal([ContactChannel.Sms], ReplyKeywords.ChannelsRevoked("STOP", ContactChannel.Sms));
        Assert.Equal([ContactChannel.Sms, ContactChannel.Voice, ContactChannel.AutomatedVoice], ReplyKeywords.ChannelsRevoked("please stop calling me", ContactChannel.Sms));
        Assert.Equal([ContactChannel.Sms, ContactChannel.Email], ReplyKeywords.ChannelsRevoked("don't email me", ContactChannel.Sms));
        Assert.Equal([ContactChannel.Sms, ContactChannel.Voice, ContactChannel.AutomatedVoice], ReplyKeywords.ChannelsRevoked("wrong number", ContactChannel.Sms));
    }
}
