using System.Globalization;
using System.Text;
using Collections.Domain;
using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;
using Collections.Domain.Payments;
using Collections.Gateway.Security;
using Collections.Grains;
using Collections.Outreach;
using Collections.Payments;
using Collections.Persistence;
using Microsoft.Extensions.Options;
using static Collections.Gateway.Portal.PortalPage;

namespace Collections.Gateway.Portal;

/// <summary>
/// The patients' self-service page. A patient arrives by the link in a statement, email or text (<c>/p/{code}</c>) or
/// types the statement code at <c>/pay</c>, proves who they are with their date of birth (wrong answers are limited
/// per person and per client address, then locked; every try is audited), and then sees all their bills, pays all or
/// part by card on the processor's own page, sets up a plan (with autopay), promises a date, applies for financial
/// assistance, disputes, chooses channels and writes to the billing office. Nothing names the person or an account
/// before the check. Every action goes through the same grains, rules, audit and idempotency as the staff API.
/// </summary>
public static class PortalEndpoints
{
    private const string Actor = "patient:portal";

    /// <summary>The patients' pages' stylesheet (the payment page's, and the email opt-out page's even with the payment page off).</summary>
    public static void MapPortalStylesheet(this WebApplication app)
    {
        var css = Api.ConsoleEndpoints.ReadResource("Collections.Gateway.Portal.portal.css");
        app.MapGet("/pay/pay.css", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Bytes(css, "text/css; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
    }

    public static void MapPatientPortal(this WebApplication app)
    {
        app.MapPortalStylesheet();

        var pay = app.MapGroup("").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        pay.MapGet("/pay", async (HttpContext http, PortalSession session) =>
            await session.GuarantorAsync(http) is not null ? Results.Redirect("/pay/home") : CodeForm(http, PortalSession.Language(http), null));
        pay.MapPost("/pay", async (HttpContext http, PayLinks links, PortalSession session, PortalAddressThrottle throttle, IGrainFactory grains, IAuditTrail audit, TimeProvider clock) =>
        {
            var language = PortalSession.Language(http);
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var guarantorId = await links.GuarantorAsync(form["code"], http.RequestAborted);
            return await VerifyAsync(http, guarantorId, "statement-code", form, language, session, throttle, grains, audit, clock,
                error => CodeForm(http, language, error, form["code"]));
        });
        pay.MapGet("/p/{code}", async (string code, HttpContext http, PayLinks links) =>
        {
            var language = PortalSession.Language(http);
            return await links.GuarantorAsync(code, http.RequestAborted) is null
                ? CodeForm(http, language, PortalText.T(language, "verify.bad-link"), status: 404)
                : LinkForm(http, language, code, null);
        });
        pay.MapPost("/p/{code}", async (string code, HttpContext http, PayLinks links, PortalSession session, PortalAddressThrottle throttle, IGrainFactory grains, IAuditTrail audit, TimeProvider clock) =>
        {
            var language = PortalSession.Language(http);
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var guarantorId = await links.GuarantorAsync(code, http.RequestAborted);
            return await VerifyAsync(http, guarantorId, "link", form, language, session, throttle, grains, audit, clock,
                error => guarantorId is null ? CodeForm(http, language, PortalText.T(language, "verify.bad-link"), status: 404) : LinkForm(http, language, code, error));
        });

        pay.MapGet("/pay/home", async (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules arrangementRules) =>
            await session.GuarantorAsync(http) is { } guarantorId
                ? await HomeAsync(http, guarantorId, session, grains, audit, clock, arrangementRules, notice: Notices(http), error: null)
                : Expired(http));
        pay.MapPost("/pay/signout", async (HttpContext http, PortalSession session) =>
        {
            await session.EndAsync(http);
            return Results.Redirect("/pay");
        });

        pay.MapPost("/pay/checkout", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules,
                FacilityDirectory facilities, IOptions<OutreachOptions> outreach, IPaymentProcessor processor) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                var accounts = await AccountsAsync(grains, guarantorId);
                if (!TryAmount(form["amount"], out var amount))
                    return Outcome<string>.Failure(DomainError.Invalid("amount", "amount.invalid", language == "es" ? "Escriba una cantidad en dólares, por ejemplo 25.00." : "Enter an amount in dollars, for example 25.00."));
                var payable = accounts.Where(a => !a.OnHold).Select(a => new AccountOwed(a.Key, a.View.Balances.PatientResponsibility, a.Since)).ToList();
                var (shares, errors) = PaymentAllocation.Allocate(amount, payable);
                if (errors.Count > 0) return Outcome<string>.Failure(errors);
                var portal = await grains.GetGrain<IPatientPortalGrain>(guarantorId).Get();
                var paymentId = "PAY" + Guid.NewGuid().ToString("N")[..20].ToUpperInvariant();
                var baseUrl = outreach.Value.PublicBaseUrl.TrimEnd('/');
                try
                {
                    var started = await grains.GetGrain<IPatientPaymentGrain>(paymentId).Start(new CardPaymentStart
                    {
                        GuarantorId = guarantorId, Shares = shares, SaveCard = form["saveCard"] == "on", Language = language,
                        ReturnUrl = $"{baseUrl}/pay/return/{paymentId}", CancelUrl = $"{baseUrl}/pay/home",
                        Description = $"{facilities.Get(shares[0].Account.Facility).Name} bill payment", CustomerRef = portal.Card?.CustomerRef,
                    });
                    if (!started.Succeeded) return Outcome<string>.Failure(started.Errors);
                    await grains.GetGrain<IPatientPortalGrain>(guarantorId).RememberPayment(paymentId);
                    return Outcome<string>.Success("redirect:" + started.Value!.CheckoutUrl);
                }
                catch (Exception ex) when (ex is ProcessorUnavailableException or ProcessorRefusedException)
                {
                    return Outcome<string>.Failure(DomainError.Conflict("processor.unavailable", PortalText.T(language, "pay.unavailable")));
                }
            }, processor.Name == "stripe" ? "https://checkout.stripe.com" : null));

        pay.MapGet("/pay/return/{paymentId}", async (string paymentId, HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock) =>
        {
            if (await session.GuarantorAsync(http) is not { } guarantorId) return Expired(http);
            var language = PortalSession.Language(http);
            SetCaller(http);
            var grain = grains.GetGrain<IPatientPaymentGrain>(paymentId);
            if (await grain.Get() is not { } payment || payment.GuarantorId != guarantorId) return Results.Redirect("/pay/home");
            // The patient may be back before the processor's webhook: ask the processor (the same confirmation, applied once).
            payment = await grain.Refresh() ?? payment;
            var main = new StringBuilder();
            switch (payment.Status)
            {
                case CardPaymentStatus.Succeeded:
                    main.Append("<h1>").Append(E(PortalText.T(language, "return.done", Money(payment.Amount)))).Append("</h1>")
                        .Append(Notice(PortalText.T(language, "return.receipt", payment.PaymentId, payment.CardBrand ?? "card", payment.CardLast4 ?? "····")));
                    break;
                case CardPaymentStatus.Failed:
                    main.Append("<h1>").Append(E(PortalText.T(language, "status.Failed"))).Append("</h1>")
                        .Append(Alert(PortalText.T(language, "return.declined", Decline(language, payment.FailureCode))));
                    break;
                default:
                    main.Append("<h1>").Append(E(PortalText.T(language, "status.RequiresAction"))).Append("</h1>")
                        .Append(Notice(PortalText.T(language, "return.waiting")))
                        .Append("<p><a href=\"/pay/return/").Append(E(paymentId)).Append("\">").Append(E(PortalText.T(language, "return.refresh"))).Append("</a></p>");
                    break;
            }
            main.Append("<p><a href=\"/pay/home\">").Append(E(PortalText.T(language, "return.back"))).Append("</a></p>");
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), Actor, "patient", "portal.payment.view", "guarantor", guarantorId, "ok", Address(http), http.TraceIdentifier, $"payment={paymentId}"), http.RequestAborted);
            return Html(http, language, PortalText.T(language, "title"), main.ToString(), signedIn: true, formToken: await session.FormTokenAsync(http));
        });

        pay.MapGet("/pay/statement/{facility}/{accountNumber}", async (string facility, string accountNumber, HttpContext http, PortalSession session, IGrainFactory grains,
            IOutboxStore outbox, StatementPdfRenderer documents, IAuditTrail audit, TimeProvider clock) =>
        {
            if (await session.GuarantorAsync(http) is not { } guarantorId) return Expired(http);
            SetCaller(http); // the grains' own read records name the patient, not the engine
            var key = new AccountKey(facility, accountNumber);
            if (await grains.GetGrain<IGuarantorGrain>(guarantorId).Get() is not { } person || !person.Accounts.Contains(key)) return await NoStatementAsync(http, session);
            var statement = (await outbox.QueryAsync(facility, accountNumber, null, 100, http.RequestAborted))
                .Where(m => m.Action is OutreachAction.PatientStatement or OutreachAction.FinalNotice && StatementPdfRenderer.NeedsDocument(m) && m.Status != OutboxStatus.Cancelled)
                .MaxBy(m => m.CreatedAt);
            if (statement is null) return await NoStatementAsync(http, session);
            // The document shows the account and the guarantor's name and mailing address.
            var viewed = clock.GetUtcNow();
            await audit.RecordAllAsync([
                new AuditEvent(viewed, Actor, "patient", "portal.statement.view", "account", key.ToString(), "ok", Address(http), http.TraceIdentifier),
                new AuditEvent(viewed, Actor, "patient", "portal.statement.view", "guarantor", guarantorId, "ok", Address(http), http.TraceIdentifier)], http.RequestAborted);
            http.Response.Headers.CacheControl = "no-store";
            return Results.File(await documents.RenderAsync(statement, http.RequestAborted), "application/pdf", $"statement-{accountNumber}.pdf");
        });

        // One statement for the whole household: every bill's lines under its visit, and what is owed in all.
        pay.MapGet("/pay/statement", async (HttpContext http, PortalSession session, IGrainFactory grains, FacilityDirectory facilities,
            StatementPdfRenderer documents, IAuditTrail audit, TimeProvider clock) =>
        {
            if (await session.GuarantorAsync(http) is not { } guarantorId) return Expired(http);
            SetCaller(http);
            var person = await grains.GetGrain<IGuarantorGrain>(guarantorId).Get();
            var accounts = await AccountsAsync(grains, guarantorId);
            if (person is null || accounts.Count == 0) return await NoStatementAsync(http, session);
            var now = clock.GetUtcNow();
            var lines = accounts.SelectMany(a => StatementEntries.From(a.View.Entries).Select(l => new StatementLine(l.Date,
                $"Visit {a.Since:MM/dd/yyyy}: {l.Description}", l.Amount, StatementLine.KindOf(l.Kind)))).ToList();
            var owed = accounts.Sum(a => a.View.Balances.PatientResponsibility);
            var facility = facilities.Get(accounts[0].Key.Facility);
            var address = person.Profile.Address;
            var pdf = documents.Render(new OutboxMessage
            {
                MessageId = $"combined/{guarantorId}/{now:yyyyMMdd}", Channel = ContactChannel.Mail, Action = OutreachAction.PatientStatement,
                Facility = accounts[0].Key.Facility, AccountNumber = accounts.Count == 1 ? accounts[0].Key.AccountNumber : $"{accounts.Count} accounts", GuarantorId = guarantorId,
                RecipientName = $"{person.Profile.FirstName} {person.Profile.LastName}",
                Recipient = string.Join('\n', new[] { address.Line1, address.Line2, $"{address.City}, {address.State} {address.Zip}" }.Where(l => !string.IsNullOrWhiteSpace(l))),
                AmountDue = owed, StatementLines = lines, Subject = $"Your statement for all your bills at {facility.Name}",
                Body = $"This statement shows all {accounts.Count} of your bills with {facility.Name} together. You owe {Money(owed)} in all.",
                TemplateId = "combined-statement", TemplateVersion = 0, Status = OutboxStatus.Sent, Attempts = 0, CreatedAt = now, UpdatedAt = now,
            });
            await audit.RecordAllAsync([new AuditEvent(now, Actor, "patient", "portal.statement.view", "guarantor", guarantorId, "ok", Address(http), http.TraceIdentifier),
                .. accounts.Select(a => new AuditEvent(now, Actor, "patient", "portal.statement.view", "account", a.Key.ToString(), "ok", Address(http), http.TraceIdentifier))], http.RequestAborted);
            http.Response.Headers.CacheControl = "no-store";
            return Results.File(pdf, "application/pdf", "statement-all-bills.pdf");
        });

        pay.MapPost("/pay/plan", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                if (await OwnAccountAsync(grains, guarantorId, form["account"]) is not { } account) return Unknown(language);
                var count = int.TryParse(form["installments"], CultureInfo.InvariantCulture, out var n) ? n : (int?)null;
                var first = DateOnly.TryParseExact(form["firstDue"].ToString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : (DateOnly?)null;
                var started = await grains.GetGrain<IPatientAccountGrain>(account.ToString()).StartPlan(new PlanRequest
                {
                    InstallmentCount = count, Frequency = InstallmentFrequency.Monthly, FirstDueDate = first, DownPayment = 0m,
                });
                return started.Succeeded ? Outcome<string>.Success("plan.done") : Outcome<string>.Failure(started.Errors);
            }));

        pay.MapPost("/pay/autopay", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                if (await OwnAccountAsync(grains, guarantorId, form["account"]) is not { } account) return Unknown(language);
                var view = await grains.GetGrain<IPatientAccountGrain>(account.ToString()).Get();
                if (view?.Plans.FirstOrDefault(p => p.Status == PlanStatus.Active) is not { } plan)
                    return Outcome<string>.Failure(DomainError.Conflict("autopay.no-plan", language == "es" ? "Esta factura no tiene un plan de pagos activo." : "This bill has no active payment plan."));
                var enrolled = await grains.GetGrain<IPatientPortalGrain>(guarantorId).EnrollAutopay(account, plan.PlanId);
                return enrolled.Succeeded ? Outcome<string>.Success("autopay.on") : Outcome<string>.Failure(enrolled.Errors);
            }));

        pay.MapPost("/pay/card/remove", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, _, _) =>
            {
                await grains.GetGrain<IPatientPortalGrain>(guarantorId).RemoveCard();
                return Outcome<string>.Success("channels.done");
            }));

        pay.MapPost("/pay/promise", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                if (await OwnAccountAsync(grains, guarantorId, form["account"]) is not { } account) return Unknown(language);
                var promised = await grains.GetGrain<IPatientAccountGrain>(account.ToString()).MakePromise(new PromiseRequest
                {
                    Amount = TryAmount(form["amount"], out var a) ? a : null,
                    PromisedDate = DateOnly.TryParseExact(form["date"].ToString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null,
                });
                return promised.Succeeded ? Outcome<string>.Success("promise.done") : Outcome<string>.Failure(promised.Errors);
            }));

        pay.MapPost("/pay/assistance", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                var household = int.TryParse(form["household"], CultureInfo.InvariantCulture, out var h) && h is > 0 and < 50 ? h : (int?)null;
                var income = TryAmount(form["income"], out var i, allowZero: true) ? i : (decimal?)null;
                if (household is null || income is null)
                    return Outcome<string>.Failure(DomainError.Invalid("household", "assistance.incomplete", language == "es" ? "Escriba cuántas personas hay en su hogar y su ingreso anual." : "Enter how many people are in your household and your yearly income."));
                var accounts = (await AccountsAsync(grains, guarantorId)).Where(a => a.View.Balances.PatientResponsibility > 0).ToList();
                return await RequestAsync(grains, clock, guarantorId, form, BillingRequestKind.FinancialAssistance, accounts, HoldReason.FinancialAssistancePending,
                    Limit(form["note"], 2000) ?? "", "fa.done", household, income);
            }));

        pay.MapPost("/pay/dispute", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                if (await OwnAccountAsync(grains, guarantorId, form["account"]) is not { } account) return Unknown(language);
                if (Limit(form["text"], 2000) is not { } text)
                    return Outcome<string>.Failure(DomainError.Invalid("text", "dispute.text-required", language == "es" ? "Díganos qué está mal." : "Tell us what is wrong."));
                var accounts = (await AccountsAsync(grains, guarantorId)).Where(a => a.Key == account).ToList();
                return await RequestAsync(grains, clock, guarantorId, form, BillingRequestKind.Dispute, accounts, HoldReason.Dispute, text, "dispute.done");
            }));

        pay.MapPost("/pay/message", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, language) =>
            {
                if (Limit(form["text"], 2000) is not { } text)
                    return Outcome<string>.Failure(DomainError.Invalid("text", "message.text-required", language == "es" ? "Escriba su mensaje." : "Write your message."));
                return await RequestAsync(grains, clock, guarantorId, form, BillingRequestKind.Message, [], null, text, "message.done");
            }));

        pay.MapPost("/pay/channels", (HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules) =>
            Signed(http, session, grains, audit, clock, rules, async (guarantorId, form, _) =>
            {
                var guarantor = grains.GetGrain<IGuarantorGrain>(guarantorId);
                var person = await guarantor.Get();
                var current = GuarantorRules.CurrentConsents(person!.Consents);
                foreach (var (channel, field) in new[] { (ContactChannel.Email, "email"), (ContactChannel.Sms, "sms") })
                {
                    var wanted = form[field] == "on" ? ConsentStatus.Granted : ConsentStatus.OptedOut;
                    var now = current.TryGetValue(channel, out var c) ? c.Status : (ConsentStatus?)null;
                    var openNow = channel == ContactChannel.Email ? now != ConsentStatus.OptedOut : now == ConsentStatus.Granted;
                    if ((wanted == ConsentStatus.Granted) == openNow) continue;
                    var recorded = await guarantor.RecordConsent(new ConsentRequest { Channel = channel, Status = wanted, Source = "self-service page" });
                    if (!recorded.Succeeded) return Outcome<string>.Failure(recorded.Errors);
                }
                return Outcome<string>.Success("channels.done");
            }));
    }

    private static readonly string[] KnownNotices = ["plan.done", "promise.done", "fa.done", "dispute.done", "channels.done", "message.done", "autopay.on"];

    private static string? Notices(HttpContext http) =>
        http.Request.Query["notice"].ToString() is var n && KnownNotices.Contains(n) ? n : null;

    /// <summary>
    /// A signed-in form post: the session and the form's token checked, the action run as the patient, then back to the
    /// page with what happened (a success redirects; a refusal shows the page again with the reason).
    /// </summary>
    private static async Task<IResult> Signed(HttpContext http, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, ArrangementRules rules,
        Func<string, IFormCollection, string, Task<Outcome<string>>> action, string? formTarget = null)
    {
        if (await session.GuarantorAsync(http) is not { } guarantorId) return Expired(http);
        var language = PortalSession.Language(http);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (!await session.FormTokenValidAsync(http, form["csrf"]))
            return await HomeAsync(http, guarantorId, session, grains, audit, clock, rules, null, PortalText.T(language, "error.form"), 400);
        SetCaller(http);
        var outcome = await action(guarantorId, form, language);
        if (outcome.Succeeded)
            return outcome.Value!.StartsWith("redirect:", StringComparison.Ordinal)
                ? Results.Redirect(outcome.Value["redirect:".Length..])
                : Results.Redirect($"/pay/home?notice={outcome.Value}");
        var status = outcome.Errors[0].Kind switch { ErrorKind.NotFound => 404, ErrorKind.Conflict => 409, _ => 400 };
        return await HomeAsync(http, guarantorId, session, grains, audit, clock, rules, null, string.Join(" ", outcome.Errors.Select(e => PortalText.Error(language, e)).Distinct()), status, formTarget);
    }

    private static Outcome<string> Unknown(string language) =>
        Outcome<string>.Failure(DomainError.NotFound("account.not-found", language == "es" ? "Elija una de sus facturas." : "Choose one of your bills."));

    /// <summary>A request for staff (and the hold it puts on the accounts meanwhile), keyed by the form's own id so a resubmit adds nothing.</summary>
    private static async Task<Outcome<string>> RequestAsync(IGrainFactory grains, TimeProvider clock, string guarantorId, IFormCollection form, BillingRequestKind kind,
        IReadOnlyList<PortalAccount> accounts, HoldReason? hold, string text, string done, int? household = null, decimal? income = null)
    {
        var requestId = Guid.TryParse(form["requestId"], out var id) ? $"{kind}-{id:N}" : $"{kind}-{Guid.NewGuid():N}";
        if (hold is { } reason)
            foreach (var account in accounts.Where(a => !a.View.Holds.Any(h => h.IsActive && h.Reason == reason)))
            {
                var placed = await grains.GetGrain<IPatientAccountGrain>(account.Key.ToString()).PlaceHold(new HoldRequest
                {
                    Reason = reason, Note = $"Patient's request on the self-service page ({requestId})",
                });
                if (!placed.Succeeded) return Outcome<string>.Failure(placed.Errors);
            }
        await grains.GetGrain<IBillingOfficeQueueGrain>(0).Add(new BillingRequest
        {
            RequestId = requestId, Kind = kind, GuarantorId = guarantorId, Accounts = accounts.Select(a => a.Key).ToList(), Text = text,
            ReceivedAt = clock.GetUtcNow(), HouseholdSize = household, AnnualIncome = income,
        });
        return Outcome<string>.Success(done);
    }

    private static async Task<IResult> VerifyAsync(HttpContext http, string? guarantorId, string via, IFormCollection form, string language, PortalSession session,
        PortalAddressThrottle throttle, IGrainFactory grains, IAuditTrail audit, TimeProvider clock, Func<string, IResult> again)
    {
        var address = http.Connection.RemoteIpAddress;
        if (throttle.LockedUntil(address) is { } addressLocked)
        {
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), Actor, "patient", "portal.verify", "portal", via, "locked-address", Address(http), http.TraceIdentifier), http.RequestAborted);
            return Locked(http, language, addressLocked, clock);
        }
        if (guarantorId is null)
        {
            var lockedNow = throttle.RecordFailure(address);
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), Actor, "patient", "portal.verify", "portal", via, "unknown-code", Address(http), http.TraceIdentifier), http.RequestAborted);
            return lockedNow is { } l ? Locked(http, language, l, clock) : again(PortalText.T(language, "verify.bad-code"));
        }
        // A date that cannot be anyone's date of birth (a field left empty, 30 February, month 13, a year to come) is a
        // typing mistake, not a guess: it is said so, audited, and costs no try.
        if (DateOfBirth(form) is not { } dateOfBirth || dateOfBirth > DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(1))
        {
            await audit.RecordAsync(new AuditEvent(clock.GetUtcNow(), Actor, "patient", "portal.verify", "guarantor", guarantorId, "invalid-date", Address(http), http.TraceIdentifier), http.RequestAborted);
            // Not the person's try; the client address's all the same (a flood of them is stopped like any other).
            return throttle.RecordFailure(address) is { } floodLocked ? Locked(http, language, floodLocked, clock) : again(PortalText.T(language, "verify.dob-invalid"));
        }
        SetCaller(http);
        var check = await grains.GetGrain<IPatientPortalGrain>(guarantorId).Verify(dateOfBirth, via);
        if (check.Verified)
        {
            await session.StartAsync(http, guarantorId);
            return Results.Redirect("/pay/home");
        }
        var addressLockedNow = throttle.RecordFailure(address);
        if ((check.LockedUntil ?? addressLockedNow) is { } until) return Locked(http, language, until, clock);
        return again(PortalText.T(language, "verify.wrong") + " " + PortalText.T(language, "verify.left", check.AttemptsLeft));
    }

    private static DateOnly? DateOfBirth(IFormCollection form) =>
        int.TryParse(form["year"], CultureInfo.InvariantCulture, out var y) && int.TryParse(form["month"], CultureInfo.InvariantCulture, out var m)
        && int.TryParse(form["day"], CultureInfo.InvariantCulture, out var d) && y is > 1850 and < 2200 && m is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, m)
            ? new DateOnly(y, m, d) : null;

    private static IResult Locked(HttpContext http, string language, DateTimeOffset until, TimeProvider clock)
    {
        var left = until - clock.GetUtcNow();
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Html(http, language, PortalText.T(language, "title"),
            $"<h1>{E(PortalText.T(language, "title"))}</h1>{Alert(PortalText.T(language, "verify.locked", Math.Max(2, (int)Math.Ceiling(left.TotalMinutes))))}", 429);
    }

    /// <summary>
    /// A statement the patient asked for that is not theirs, or not there (an address typed or changed by hand, a bill
    /// with no statement yet): a page in their language that leads back to their bills, not a bare 404.
    /// </summary>
    private static async Task<IResult> NoStatementAsync(HttpContext http, PortalSession session)
    {
        var language = PortalSession.Language(http);
        return Html(http, language, PortalText.T(language, "title"),
            $"<h1>{E(PortalText.T(language, "title"))}</h1>{Alert(PortalText.T(language, "statement.none"))}" +
            $"<p><a href=\"/pay/home\">{E(PortalText.T(language, "return.back"))}</a></p>",
            status: 404, signedIn: true, formToken: await session.FormTokenAsync(http));
    }

    private static IResult Expired(HttpContext http)
    {
        var language = PortalSession.Language(http);
        return CodeForm(http, language, PortalText.T(language, "verify.expired"), status: 401);
    }

    private static IResult CodeForm(HttpContext http, string language, string? error, string? code = null, int status = 200) =>
        Html(http, language, PortalText.T(language, "title"),
            $"<h1>{E(PortalText.T(language, "title"))}</h1>{(error is null ? "" : Alert(error))}<p>{E(PortalText.T(language, "verify.code-lead"))}</p>" +
            "<form method=\"post\" action=\"/pay\" novalidate>" +
            Field("code", PortalText.T(language, "verify.code"), "text", code, PortalText.T(language, "verify.code-hint"), "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required") +
            PortalPage.DateOfBirth(language) + $"<button type=\"submit\">{E(PortalText.T(language, "verify.submit"))}</button></form>",
            error is null ? status : status == 200 ? 400 : status);

    private static IResult LinkForm(HttpContext http, string language, string code, string? error) =>
        Html(http, language, PortalText.T(language, "title"),
            $"<h1>{E(PortalText.T(language, "title"))}</h1>{(error is null ? "" : Alert(error))}<p>{E(PortalText.T(language, "verify.lead"))}</p>" +
            $"<form method=\"post\" action=\"/p/{E(code)}\" novalidate>{PortalPage.DateOfBirth(language)}<button type=\"submit\">{E(PortalText.T(language, "verify.submit"))}</button></form>",
            error is null ? 200 : 400);

    internal sealed record PortalAccount(AccountKey Key, AccountView View, DateOnly Since, bool OnHold);

    private static async Task<List<PortalAccount>> AccountsAsync(IGrainFactory grains, string guarantorId)
    {
        var person = await grains.GetGrain<IGuarantorGrain>(guarantorId).Get();
        var views = await Task.WhenAll((person?.Accounts ?? []).Select(a => grains.GetGrain<IPatientAccountGrain>(a.ToString()).Get()));
        return views.Where(v => v is not null).Select(v => new PortalAccount(new AccountKey(v!.Facility, v.AccountNumber), v,
                v.AdmitDate ?? v.Entries.Where(e => e.ServiceDate is not null).Select(e => e.ServiceDate!.Value).DefaultIfEmpty(DateOnly.FromDateTime(v.OpenedAt.UtcDateTime)).Min(),
                v.Holds.Any(h => h.IsActive)))
            .OrderBy(a => a.Since).ToList();
    }

    private static async Task<AccountKey?> OwnAccountAsync(IGrainFactory grains, string guarantorId, string? chosen)
    {
        if (string.IsNullOrEmpty(chosen) || chosen.IndexOf('/', StringComparison.Ordinal) is <= 0 || chosen.EndsWith('/')) return null;
        var key = AccountKey.Parse(chosen);
        var person = await grains.GetGrain<IGuarantorGrain>(guarantorId).Get();
        return person is not null && person.Accounts.Contains(key) ? key : null;
    }

    private static async Task<IResult> HomeAsync(HttpContext http, string guarantorId, PortalSession session, IGrainFactory grains, IAuditTrail audit, TimeProvider clock,
        ArrangementRules rules, string? notice, string? error, int status = 200, string? formTarget = null)
    {
        var language = PortalSession.Language(http);
        SetCaller(http);
        var person = await grains.GetGrain<IGuarantorGrain>(guarantorId).Get();
        if (person is null) return Expired(http);
        var accounts = await AccountsAsync(grains, guarantorId);
        var portal = await grains.GetGrain<IPatientPortalGrain>(guarantorId).Get();
        var payments = (await Task.WhenAll(portal.RecentPayments.TakeLast(5).Select(p => grains.GetGrain<IPatientPaymentGrain>(p).Get()))).Where(p => p is not null).ToList();
        var token = await session.FormTokenAsync(http);
        var csrf = $"<input type=\"hidden\" name=\"csrf\" value=\"{E(token)}\">";
        string RequestId() => $"<input type=\"hidden\" name=\"requestId\" value=\"{Guid.NewGuid():N}\">";
        var owing = accounts.Where(a => a.View.Balances.PatientResponsibility > 0).ToList();
        var payable = owing.Where(a => !a.OnHold).Sum(a => a.View.Balances.PatientResponsibility);
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

        var main = new StringBuilder(8192);
        main.Append("<h1>").Append(E(PortalText.T(language, "home.hello", person.Profile.FirstName))).Append("</h1>");
        if (error is not null) main.Append(Alert(PortalText.T(language, "error.summary") + " " + error));
        if (notice is not null) main.Append(Notice(PortalText.T(language, notice)));
        main.Append("<p class=\"total\">").Append(E(owing.Count == 0 ? PortalText.T(language, "home.nothing") : PortalText.T(language, "home.total", Money(owing.Sum(a => a.View.Balances.PatientResponsibility))))).Append("</p>");

        if (payable > 0)
        {
            main.Append("<h2>").Append(E(PortalText.T(language, "pay.heading"))).Append("</h2><form method=\"post\" action=\"/pay/checkout\">").Append(csrf)
                .Append(Field("amount", PortalText.T(language, "pay.amount"), "text", payable.ToString("0.00", CultureInfo.InvariantCulture), PortalText.T(language, "pay.amount-hint"), "inputmode=\"decimal\" autocomplete=\"off\" required"))
                .Append("<div class=\"check\"><input type=\"checkbox\" id=\"saveCard\" name=\"saveCard\"><label for=\"saveCard\">").Append(E(PortalText.T(language, "pay.save-card"))).Append("</label></div>")
                .Append("<p class=\"hint\">").Append(E(PortalText.T(language, "pay.secure"))).Append("</p><button type=\"submit\" id=\"pay\">").Append(E(PortalText.T(language, "pay.submit"))).Append("</button></form>");
        }

        main.Append("<h2>").Append(E(PortalText.T(language, "home.accounts"))).Append("</h2>");
        if (accounts.Count > 1)
            main.Append("<p><a href=\"/pay/statement\">").Append(E(PortalText.T(language, "home.combined"))).Append("</a></p>");
        foreach (var account in accounts)
        {
            var v = account.View;
            var (charges, insurance, adjustments, paid) = Why(v);
            main.Append("<section class=\"card\" aria-labelledby=\"acct-").Append(E(Slug(account.Key))).Append("\"><h3 id=\"acct-").Append(E(Slug(account.Key))).Append("\">")
                .Append(E(PortalText.T(language, "home.bill", PortalText.Date(language, account.Since), v.AccountNumber)))
                .Append("</h3><p class=\"owed\">").Append(E(PortalText.T(language, "home.owed", Money(v.Balances.PatientResponsibility)))).Append("</p><p>")
                .Append(E(PortalText.T(language, "home.why", Money(charges), Money(insurance), Money(adjustments), Money(paid)))).Append("</p>");
            // What insurance has not settled yet: without it the figures above do not add up to the charges.
            if (v.Balances.InsurancePending > 0)
                main.Append("<p>").Append(E(PortalText.T(language, "home.insurance-pending", Money(v.Balances.InsurancePending)))).Append("</p>");
            if (account.OnHold) main.Append("<p>").Append(E(PortalText.T(language, "home.on-hold"))).Append("</p>");
            if (v.Plans.FirstOrDefault(p => p.Status == PlanStatus.Active) is { } plan && plan.Installments.FirstOrDefault(i => i.DueDate >= today) is { } next)
            {
                main.Append("<p>").Append(E(PortalText.T(language, "home.plan", Money(next.Amount), PortalText.Date(language, next.DueDate)))).Append("</p>");
                if (portal.Autopay.Any(a => a.Account == account.Key && a.PlanId == plan.PlanId))
                    main.Append(Notice(PortalText.T(language, "autopay.on")));
                else if (portal.Card is { } card)
                    main.Append("<form method=\"post\" action=\"/pay/autopay\">").Append(csrf).Append("<input type=\"hidden\" name=\"account\" value=\"").Append(E(account.Key.ToString())).Append("\"><p>")
                        .Append(E(PortalText.T(language, "autopay.lead", card.Brand ?? "card", card.Last4 ?? "····"))).Append("</p><button type=\"submit\" class=\"secondary\">")
                        .Append(E(PortalText.T(language, "autopay.submit"))).Append("</button></form>");
            }
            if (v.Promises.Count > 0 && v.Promises[^1] is { } promise && promise.PromisedDate >= today)
                main.Append("<p>").Append(E(PortalText.T(language, "home.promise", Money(promise.Amount), PortalText.Date(language, promise.PromisedDate)))).Append("</p>");
            main.Append("<p><a href=\"/pay/statement/").Append(Uri.EscapeDataString(v.Facility)).Append('/').Append(Uri.EscapeDataString(v.AccountNumber)).Append("\">")
                .Append(E(PortalText.T(language, "home.statement"))).Append("</a></p></section>");
        }

        if (owing.Count > 0)
        {
            var options = string.Concat(owing.Select(a => $"<option value=\"{E(a.Key.ToString())}\">{E(PortalText.T(language, "home.bill", PortalText.Date(language, a.Since), a.View.AccountNumber))} ({E(Money(a.View.Balances.PatientResponsibility))})</option>"));
            string Select(string id) => $"<div class=\"field\"><label for=\"{id}\">{E(PortalText.T(language, "plan.account"))}</label><select id=\"{id}\" name=\"account\">{options}</select></div>";
            var maxMonths = Math.Clamp((int)Math.Floor(owing.Max(a => a.View.Balances.PatientResponsibility) / rules.MinimumInstallment), 2, rules.MaxInstallments);
            var months = string.Concat(Enumerable.Range(2, Math.Max(1, maxMonths - 1)).Select(m => $"<option value=\"{m}\"{(m == Math.Min(6, maxMonths) ? " selected" : "")}>{m}</option>"));
            main.Append("<h2>").Append(E(PortalText.T(language, "plan.heading"))).Append("</h2><form method=\"post\" action=\"/pay/plan\">").Append(csrf).Append(Select("plan-account"))
                .Append("<div class=\"field\"><label for=\"installments\">").Append(E(PortalText.T(language, "plan.months"))).Append("</label><select id=\"installments\" name=\"installments\">").Append(months).Append("</select></div>")
                .Append(Field("firstDue", PortalText.T(language, "plan.first"), "date", today.AddDays(14).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
                .Append("<button type=\"submit\" id=\"start-plan\">").Append(E(PortalText.T(language, "plan.submit"))).Append("</button></form>");
            main.Append("<h2>").Append(E(PortalText.T(language, "promise.heading"))).Append("</h2><form method=\"post\" action=\"/pay/promise\">").Append(csrf).Append(Select("promise-account"))
                .Append(Field("promise-amount", PortalText.T(language, "promise.amount"), "text", null, null, "name=\"amount\" inputmode=\"decimal\"").Replace("name=\"promise-amount\" ", ""))
                .Append(Field("promise-date", PortalText.T(language, "promise.date"), "date", today.AddDays(14).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), null, "name=\"date\"").Replace("name=\"promise-date\" ", ""))
                .Append("<button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "promise.submit"))).Append("</button></form>");
            main.Append("<h2>").Append(E(PortalText.T(language, "fa.heading"))).Append("</h2><p>").Append(E(PortalText.T(language, "fa.lead"))).Append("</p><form method=\"post\" action=\"/pay/assistance\">").Append(csrf).Append(RequestId())
                .Append(Field("household", PortalText.T(language, "fa.household"), "text", null, null, "inputmode=\"numeric\""))
                .Append(Field("income", PortalText.T(language, "fa.income"), "text", null, null, "inputmode=\"decimal\""))
                .Append("<div class=\"field\"><label for=\"fa-note\">").Append(E(PortalText.T(language, "fa.note"))).Append("</label><textarea id=\"fa-note\" name=\"note\" maxlength=\"2000\"></textarea></div>")
                .Append("<button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "fa.submit"))).Append("</button></form>");
            main.Append("<h2>").Append(E(PortalText.T(language, "dispute.heading"))).Append("</h2><form method=\"post\" action=\"/pay/dispute\">").Append(csrf).Append(RequestId()).Append(Select("dispute-account"))
                .Append("<div class=\"field\"><label for=\"dispute-text\">").Append(E(PortalText.T(language, "dispute.text"))).Append("</label><textarea id=\"dispute-text\" name=\"text\" maxlength=\"2000\"></textarea></div>")
                .Append("<button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "dispute.submit"))).Append("</button></form>");
        }

        var consents = GuarantorRules.CurrentConsents(person.Consents);
        var emailOn = person.Profile.Email is not null && !(consents.TryGetValue(ContactChannel.Email, out var e) && e.Status == ConsentStatus.OptedOut);
        var smsOn = consents.TryGetValue(ContactChannel.Sms, out var s) && s.Status == ConsentStatus.Granted;
        main.Append("<h2>").Append(E(PortalText.T(language, "channels.heading"))).Append("</h2><form method=\"post\" action=\"/pay/channels\">").Append(csrf)
            .Append("<div class=\"check\"><input type=\"checkbox\" id=\"email\" name=\"email\"").Append(emailOn ? " checked" : "").Append("><label for=\"email\">").Append(E(PortalText.T(language, "channels.email"))).Append("</label></div>")
            .Append("<div class=\"check\"><input type=\"checkbox\" id=\"sms\" name=\"sms\"").Append(smsOn ? " checked" : "").Append("><label for=\"sms\">").Append(E(PortalText.T(language, "channels.sms"))).Append("</label></div>")
            .Append("<p class=\"hint\">").Append(E(PortalText.T(language, "channels.letters"))).Append("</p><button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "channels.submit"))).Append("</button></form>");
        if (portal.Card is not null)
            main.Append("<form method=\"post\" action=\"/pay/card/remove\">").Append(csrf).Append("<button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "autopay.remove"))).Append("</button></form>");
        main.Append("<h2>").Append(E(PortalText.T(language, "message.heading"))).Append("</h2><form method=\"post\" action=\"/pay/message\">").Append(csrf).Append(RequestId())
            .Append("<div class=\"field\"><label for=\"message-text\">").Append(E(PortalText.T(language, "message.text"))).Append("</label><textarea id=\"message-text\" name=\"text\" maxlength=\"2000\"></textarea></div>")
            .Append("<button type=\"submit\" class=\"secondary\">").Append(E(PortalText.T(language, "message.submit"))).Append("</button></form>");
        if (payments.Count > 0)
        {
            main.Append("<h2>").Append(E(PortalText.T(language, "payments.heading"))).Append("</h2><ul>");
            foreach (var p in payments.OrderByDescending(p => p!.StartedAt))
                main.Append("<li>").Append(E(PortalText.Date(language, DateOnly.FromDateTime(p!.StartedAt.UtcDateTime)))).Append(": ").Append(E(Money(p.Amount))).Append(", ")
                    .Append(E(PortalText.T(language, $"status.{p.Status}"))).Append("</li>");
            main.Append("</ul>");
        }

        // Every page that shows the person is audited per person (and per account shown).
        var now = clock.GetUtcNow();
        await audit.RecordAllAsync([new AuditEvent(now, Actor, "patient", "portal.view", "guarantor", guarantorId, "ok", Address(http), http.TraceIdentifier),
            .. accounts.Select(a => new AuditEvent(now, Actor, "patient", "portal.view", "account", a.Key.ToString(), "ok", Address(http), http.TraceIdentifier))], http.RequestAborted);
        return Html(http, language, PortalText.T(language, "title"), main.ToString(), status, formTarget, signedIn: true, formToken: token);
    }

    /// <summary>What the patient's share is made of, in the words a statement uses.</summary>
    private static (decimal Charges, decimal Insurance, decimal Adjustments, decimal Paid) Why(AccountView v)
    {
        // The statement's own lines (reversals left out; a refund counts against the patient's payments).
        var lines = StatementEntries.From(v.Entries);
        decimal Total(EntryKind kind) => lines.Where(l => l.Kind == kind).Sum(l => l.Amount);
        return (Total(EntryKind.Charge), -Total(EntryKind.InsurancePayment), -Total(EntryKind.Adjustment), -Total(EntryKind.PatientPayment));
    }

    private static string Decline(string language, string? code) => code switch
    {
        "insufficient_funds" => language == "es" ? "fondos insuficientes" : "not enough funds",
        "payment_intent_authentication_failure" or "authentication_required" => language == "es" ? "su banco no confirmó el pago" : "your bank did not confirm it",
        _ => language == "es" ? "la tarjeta no fue aceptada" : "the card was not accepted",
    };

    private static bool TryAmount(string? text, out decimal amount, bool allowZero = false)
    {
        amount = 0;
        var typed = text?.Trim().TrimStart('$').Trim();
        // A comma only between thousands (1,250.00): "100,00" is a decimal comma, not ten thousand, and is refused.
        if (typed is null || !System.Text.RegularExpressions.Regex.IsMatch(typed, @"^(\d+|\d{1,3}(,\d{3})+)(\.\d*)?$|^\.\d+$")) return false;
        var cleaned = typed.Replace(",", "", StringComparison.Ordinal);
        return !string.IsNullOrEmpty(cleaned) && cleaned.Length <= 15
               && decimal.TryParse(cleaned, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount)
               && (allowZero ? amount >= 0 : amount > 0) && decimal.Round(amount, 2) == amount;
    }

    private static string? Limit(string? text, int max) => Text.Clean(text) is { Length: > 0 } t ? (t.Length > max ? t[..max] : t) : null;

    private static string Money(decimal amount) => amount.ToString("C2", CultureInfo.GetCultureInfo("en-US"));

    private static string Slug(AccountKey key) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..10];

    private static string? Address(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    private static void SetCaller(HttpContext http) =>
        CallerContext.Set(new Caller { Actor = Actor, Role = "patient", ClientAddress = Address(http), CorrelationId = http.TraceIdentifier });

}
