using Collections.Domain;

namespace Collections.Outreach;

/// <summary>
/// The templates shipped in code, used until a supervisor saves a version. Plain words and short sentences (about a
/// 6th-grade reading level). Every one names the facility and says how to pay and how to ask for financial assistance;
/// every email and text also says how to opt out, except the one confirmation text sent after an opt-out (it confirms
/// the opt-out itself, and carries no balance).
/// </summary>
public static class DefaultTemplates
{
    /// <summary>
    /// The plain-language summary line nonprofit hospitals print on statements and notices (501(r)). The printed
    /// document of every mail message carries it, with "how to pay", whatever the template says.
    /// </summary>
    public const string AssistanceSummary =
        "{{facility.name}} has a financial assistance program. You may get free or lower-cost care based on your income and family size. " +
        "A plain language summary and an application are free at {{assistanceUrl}} or by calling {{assistancePhone}}.";

    private const string EmailOptOut = "Do not want these emails? To unsubscribe, use the link at the end of this email or call {{payPhone}}, and we will stop emailing you.";
    private const string SmsOptOut = "Reply STOP to stop texts.";

    public static IReadOnlyList<MessageTemplate> All { get; } =
    [
        Mail(OutreachAction.PatientStatement, "Your statement from {{facility.name}}",
            """
            Dear {{recipientName}},

            This is your bill from {{facility.name}} for account {{accountNumber}}. Any insurance payments are already taken off. You owe {{amountDue}}. Due date: {{dueDate}}.

            How to pay: go to {{payUrl}} or call {{payPhone}}. You can also mail a check to the address at the top of this page. Write your account number on the check.

            Need help paying? You can ask for financial assistance. Go to {{assistanceUrl}} or call {{assistancePhone}}. It is free to ask.

            Questions about this bill? Call {{payPhone}}. We are glad to help.
            """),
        Mail(OutreachAction.Letter, "A reminder about your bill from {{facility.name}}",
            """
            Dear {{recipientName}},

            We have not received payment for account {{accountNumber}} at {{facility.name}}. You owe {{amountDue}}. Due date: {{dueDate}}.

            How to pay: go to {{payUrl}} or call {{payPhone}}. You can also mail a check to the address at the top of this page.

            Can't pay it all now? Call {{payPhone}} to set up a payment plan.

            Need help paying? You can ask for financial assistance. Go to {{assistanceUrl}} or call {{assistancePhone}}. It is free to ask.

            If you already paid, thank you. You do not need to do anything.
            """),
        Mail(OutreachAction.FinalNotice, "Final notice from {{facility.name}}",
            """
            Dear {{recipientName}},

            This is a final notice about account {{accountNumber}} at {{facility.name}}. You owe {{amountDue}}.

            If we do not get a payment or hear from you by {{dueDate}}, we may send your account to a collection agency.

            You can stop this. Pay at {{payUrl}} or call {{payPhone}}. You can also set up a payment plan by phone.

            You may not have to pay this bill. You can apply for financial assistance at any time, even now. Go to {{assistanceUrl}} or call {{assistancePhone}}. While we look at your application, we will not send your account to an agency.
            """),
        Mail(OutreachAction.AgencyPlacement, "Your account with {{facility.name}} has been placed with a collection agency",
            """
            Dear {{recipientName}},

            We did not get payment for account {{accountNumber}} at {{facility.name}}. We have sent this account to a collection agency. You owe {{amountDue}}.

            You can still pay us. Go to {{payUrl}} or call {{payPhone}}.

            You can still apply for financial assistance. Go to {{assistanceUrl}} or call {{assistancePhone}}. If you qualify, we will bring your account back from the agency and lower or remove what you owe.
            """),
        Mail(OutreachAction.InstallmentReminder, "Your payment plan with {{facility.name}}",
            """
            Dear {{recipientName}},

            Your next payment plan payment to {{facility.name}} is due on {{dueDate}}. The amount is {{amountDue}} for account {{accountNumber}}.

            How to pay: go to {{payUrl}} or call {{payPhone}}.

            Having trouble paying? Call {{payPhone}} to change your plan, or ask for financial assistance at {{assistanceUrl}} or {{assistancePhone}}.
            """),

        Email(OutreachAction.PatientStatement, "Your statement from {{facility.name}}",
            """
            Hello {{recipientName}},

            Your new bill from {{facility.name}} is ready. Account: {{accountNumber}}. You owe {{amountDue}}. Due date: {{dueDate}}.

            To pay, go to {{payUrl}} or call {{payPhone}}.

            Need help paying? You can ask for financial assistance. Go to {{assistanceUrl}} or call {{assistancePhone}}. It is free to ask.
            """),
        Email(OutreachAction.EmailReminder, "A reminder about your bill from {{facility.name}}",
            """
            Hello {{recipientName}},

            This is a reminder from {{facility.name}}. You owe {{amountDue}} on account {{accountNumber}}. Due date: {{dueDate}}.

            To pay, go to {{payUrl}} or call {{payPhone}}. Can't pay it all now? Call us to set up a payment plan.

            Need help paying? You can ask for financial assistance. Go to {{assistanceUrl}} or call {{assistancePhone}}. It is free to ask.

            If you already paid, thank you. You do not need to do anything.
            """),
        Email(OutreachAction.FinalNotice, "Final notice from {{facility.name}}",
            """
            Hello {{recipientName}},

            This is a final notice about account {{accountNumber}} at {{facility.name}}. You owe {{amountDue}}. If we do not get a payment or hear from you by {{dueDate}}, we may send your account to a collection agency.

            To pay, go to {{payUrl}} or call {{payPhone}}. You can also set up a payment plan by phone.

            You can apply for financial assistance at any time. Go to {{assistanceUrl}} or call {{assistancePhone}}.
            """),
        Email(OutreachAction.PaymentReceipt, "Your payment to {{facility.name}}",
            """
            Hello {{recipientName}},

            Thank you. We received your payment of {{amountPaid}} to {{facility.name}}. Keep this email as your receipt.

            To see what is left to pay, go to {{payUrl}} or call {{payPhone}}.

            Need help paying the rest? Ask about financial assistance at {{assistanceUrl}} or {{assistancePhone}}.
            """),
        Email(OutreachAction.InstallmentReminder, "Your payment plan with {{facility.name}}",
            """
            Hello {{recipientName}},

            Your next payment plan payment to {{facility.name}} is due on {{dueDate}}. The amount is {{amountDue}} for account {{accountNumber}}.

            To pay, go to {{payUrl}} or call {{payPhone}}.

            Having trouble paying? Call {{payPhone}} to change your plan, or ask for financial assistance at {{assistanceUrl}} or {{assistancePhone}}.
            """),

        Sms(OutreachAction.SmsReminder,
            "{{facility.name}}: You owe {{amountDue}} on your bill. Pay at {{payUrl}} or call {{payPhone}}. Need help paying? Call {{assistancePhone}}. " + SmsOptOut),
        Sms(OutreachAction.InstallmentReminder,
            "{{facility.name}}: Your plan payment of {{amountDue}} is due {{dueDate}}. Pay at {{payUrl}} or call {{payPhone}}. Need help paying? Call {{assistancePhone}}. " + SmsOptOut),
        Sms(OutreachAction.PaymentReceipt,
            "{{facility.name}}: Thank you. We received your payment of {{amountPaid}}. See your bill at {{payUrl}}. Help paying? Call {{assistancePhone}}. " + SmsOptOut),
        Sms(OutreachAction.OptOutConfirmation,
            // The one confirmation after a STOP confirms and nothing more: no request to pay (FCC, 47 CFR 64.1200(a)(12)).
            "{{facility.name}}: You will not get any more texts from us. Questions? Call {{payPhone}}."),
    ];

    private static readonly Dictionary<(ContactChannel, OutreachAction), MessageTemplate> ByKey =
        All.ToDictionary(t => (t.Channel, t.Action));

    public static MessageTemplate? Find(ContactChannel channel, OutreachAction action) => ByKey.GetValueOrDefault((channel, action));

    /// <summary>Whether (channel, action) is a message the outreach subsystem sends.</summary>
    public static bool IsMessage(ContactChannel channel, OutreachAction action) => ByKey.ContainsKey((channel, action));

    private static MessageTemplate Mail(OutreachAction action, string subject, string body) =>
        new() { Channel = ContactChannel.Mail, Action = action, Subject = subject, Body = Normalize(body), Version = 0 };

    private static MessageTemplate Email(OutreachAction action, string subject, string body) =>
        new() { Channel = ContactChannel.Email, Action = action, Subject = subject, Body = Normalize(body) + "\n\n" + EmailOptOut, Version = 0 };

    private static MessageTemplate Sms(OutreachAction action, string body) =>
        new() { Channel = ContactChannel.Sms, Action = action, Body = body, Version = 0 };

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").Trim();
}
