using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Outreach;
using Collections.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>
/// The outbox, the sandbox mailbox, message templates and delivery receipts. Message ids contain slashes
/// ("MAIN/A1001/cadence-v3/step-d15/1"): they may be sent as they are or URL-encoded. Needs
/// <c>services.AddCollectionsOutreach(configuration)</c>.
/// </summary>
public static class OutreachEndpoints
{
    private const string PdfSuffix = "/pdf";

    public static RouteGroupBuilder MapOutreach(this RouteGroupBuilder api)
    {
        var outbox = api.MapGroup("/outbox").WithTags("Outreach").RequireAuthorization(Policies.ReadAudit);
        outbox.MapGet("/", ListOutbox)
            .WithSummary("Messages in the outbox, newest first: account=FAC/123, status=pending|sending|sent|delivered|failed|bounced|cancelled, limit (100).");
        outbox.MapGet("/{**messageId}", GetOutbox).WithSummary("One outbox message with its delivery attempts.");

        var sandbox = api.MapGroup("/sandbox/messages").WithTags("Outreach").RequireAuthorization(Policies.ReadAudit);
        sandbox.MapGet("/", ListSandbox).WithSummary("What the sandbox transport delivered, newest first: recipient=, account=FAC/123, limit (100).");
        sandbox.MapGet("/{**messageId}", GetSandbox)
            .WithSummary("One sandbox message; add /pdf to the id for the printed document of a mail message (application/pdf).");

        var templates = api.MapGroup("/templates").WithTags("Outreach");
        templates.MapGet("/", ListTemplates).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("The template in use for every message, with the placeholders a template may use.");
        templates.MapPut("/{channel}/{action}", SaveTemplate).RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Save a new version of a template (subject, body). Refused with the reasons if a placeholder is unknown, an email or text has no opt-out line, or a text is too long.");

        api.MapPost("/outreach/receipts", PostReceipt).WithTags("Outreach").RequireAuthorization(Policies.ReceiveWebhooks)
            .WithSummary("A vendor's delivery receipt: messageId, status (delivered|failed|bounced), providerMessageId, occurredAt.");
        return api;
    }

    private static async Task<Results<Ok<IReadOnlyList<OutboxMessage>>, ProblemHttpResult>> ListOutbox(
        string? account, string? status, int? limit, IOutboxStore store, HttpContext http, CancellationToken ct)
    {
        string? facility = null, accountNumber = null;
        if (!string.IsNullOrEmpty(account))
        {
            var parts = account.Split('/', 2);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                return Problems.Invalid("account", "account.invalid", "account must be FACILITY/ACCOUNTNUMBER, e.g. MAIN/A1001.");
            (facility, accountNumber) = (parts[0], parts[1]);
        }
        if (Problems.ReadEnum<OutboxStatus>("status", status, out var wanted) is { } refused) return refused;
        if (limit is < 1 or > 1000) return Problems.Invalid("limit", "limit.invalid", "limit must be between 1 and 1000.");
        var messages = await store.QueryAsync(facility, accountNumber, wanted, limit ?? 100, ct);
        await http.AuditShownAsync("outbox.read", messages.Select(m => ("account", m.AccountKey)));
        return TypedResults.Ok(messages);
    }

    private static async Task<Results<Ok<OutboxMessageResponse>, ProblemHttpResult>> GetOutbox(
        string messageId, IOutboxStore store, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var id = Uri.UnescapeDataString(messageId);
        var message = await store.GetAsync(id, ct);
        if (message is null) return Problems.NotFound("outbox.message.not-found", "No outbox message has this id.");
        await AuditAsync(audit, clock, http, "outbox.message.read", "account", message.AccountKey, ct);
        return TypedResults.Ok(new OutboxMessageResponse(message, await store.AttemptsAsync(id, ct)));
    }

    private static async Task<Results<Ok<IReadOnlyList<SandboxMessage>>, ProblemHttpResult>> ListSandbox(
        string? recipient, string? account, int? limit, SandboxMailbox mailbox, HttpContext http, CancellationToken ct)
    {
        string? facility = null, accountNumber = null;
        if (!string.IsNullOrEmpty(account))
        {
            var parts = account.Split('/', 2);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                return Problems.Invalid("account", "account.invalid", "account must be FACILITY/ACCOUNTNUMBER, e.g. MAIN/A1001.");
            (facility, accountNumber) = (parts[0], parts[1]);
        }
        if (limit is < 1 or > 1000) return Problems.Invalid("limit", "limit.invalid", "limit must be between 1 and 1000.");
        var messages = await mailbox.QueryAsync(string.IsNullOrEmpty(recipient) ? null : recipient, facility, accountNumber, limit ?? 100, ct);
        await http.AuditShownAsync("sandbox.read", messages.Select(m => ShownAudit.ShownAccount(m.Facility, m.AccountNumber)));
        return TypedResults.Ok(messages);
    }

    private static async Task<IResult> GetSandbox(
        string messageId, SandboxMailbox mailbox, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var id = Uri.UnescapeDataString(messageId);
        var message = await mailbox.GetAsync(id, withPdf: false, ct);
        if (message is null && id.EndsWith(PdfSuffix, StringComparison.Ordinal))
        {
            var pdf = await mailbox.GetAsync(id[..^PdfSuffix.Length], withPdf: true, ct);
            if (pdf is null) return Problems.NotFound("sandbox.message.not-found", "The sandbox has no message with this id.");
            if (pdf.Pdf is null) return Problems.NotFound("sandbox.pdf.not-found", "This message has no printed document: only mail messages do.");
            await AuditAsync(audit, clock, http, "sandbox.pdf.read", "account", $"{pdf.Facility}/{pdf.AccountNumber}", ct);
            return TypedResults.File(pdf.Pdf, "application/pdf", "statement.pdf");
        }
        if (message is null) return Problems.NotFound("sandbox.message.not-found", "The sandbox has no message with this id.");
        await AuditAsync(audit, clock, http, "sandbox.message.read", "account", $"{message.Facility}/{message.AccountNumber}", ct);
        return TypedResults.Ok(message);
    }

    private static async Task<Ok<TemplatesResponse>> ListTemplates(ITemplateStore store, CancellationToken ct) =>
        TypedResults.Ok(new TemplatesResponse(await store.ListCurrentAsync(ct), TemplateEngine.Known));

    private static async Task<Results<Ok<MessageTemplate>, ProblemHttpResult>> SaveTemplate(
        string channel, string action, TemplateBody body, ITemplateStore store, IAuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (!Enum.TryParse<ContactChannel>(channel, ignoreCase: true, out var c) || int.TryParse(channel, out _))
            return Problems.Invalid("channel", "channel.invalid", "channel must be mail, email or sms.");
        if (!Enum.TryParse<OutreachAction>(action, ignoreCase: true, out var a) || int.TryParse(action, out _))
            return Problems.Invalid("action", "action.invalid", "action must be an outreach action, e.g. smsReminder or patientStatement.");
        var caller = http.ToCaller();
        var (saved, errors) = await store.SaveAsync(c, a, body.Subject, body.Body, caller.Actor, ct);
        if (saved is null)
            return Problems.From(errors.Select(e => DomainError.Invalid(e.Field, e.Code, e.Message)).ToList());
        await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, "template.save", "template", saved.Id, "ok",
            caller.ClientAddress, caller.CorrelationId, $"version={saved.Version}"), ct);
        return TypedResults.Ok(saved);
    }

    private static async Task<Results<Accepted<ReceiptResponse>, ProblemHttpResult>> PostReceipt(
        ReceiptBody body, IOutboxStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ErrorList();
        if (string.IsNullOrWhiteSpace(body.MessageId) || body.MessageId.Length > 200)
            errors.Invalid("messageId", "messageId.required", "messageId is required (at most 200 characters).");
        if (body.Status is null) errors.Invalid("status", "status.required", "status is required: delivered, failed or bounced.");
        if (body.ProviderMessageId is { Length: > 200 }) errors.Invalid("providerMessageId", "providerMessageId.too-long", "providerMessageId may be at most 200 characters.");
        if (errors.Any) return Problems.From(errors.Errors);
        var matched = await store.RecordReceiptAsync(
            new DeliveryReceipt(body.MessageId!, body.Status!.Value, body.ProviderMessageId, body.OccurredAt ?? clock.GetUtcNow()), ct);
        return TypedResults.Accepted((string?)null, new ReceiptResponse(body.MessageId!, matched));
    }

    private static Task AuditAsync(IAuditTrail audit, TimeProvider clock, HttpContext http, string action, string resourceType, string resourceId, CancellationToken ct)
    {
        var caller = http.ToCaller();
        return audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), caller.Actor, caller.Role, action, resourceType, resourceId, "ok",
            caller.ClientAddress, caller.CorrelationId), ct);
    }
}

public sealed record OutboxMessageResponse(OutboxMessage Message, IReadOnlyList<DeliveryAttempt> Attempts);

public sealed record TemplatesResponse(IReadOnlyList<MessageTemplate> Templates, IReadOnlyList<string> Placeholders);

public sealed record TemplateBody
{
    public string? Subject { get; init; }
    public string? Body { get; init; }
}

public sealed record ReceiptBody
{
    public string? MessageId { get; init; }
    public ReceiptStatus? Status { get; init; }
    public string? ProviderMessageId { get; init; }
    public DateTimeOffset? OccurredAt { get; init; }
}

public sealed record ReceiptResponse(string MessageId, bool Matched);
