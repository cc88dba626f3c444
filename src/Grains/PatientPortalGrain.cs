using Collections.Domain;
using Collections.Domain.Payments;
using Collections.Payments;
using Collections.Outreach;
using Collections.Persistence;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>
/// One guarantor's side of the self-service page: the date-of-birth check (wrong answers lock every link to the
/// person, <see cref="PortalAccess"/>), the card the processor keeps for them, and autopay. It reads the guarantor;
/// nothing it calls calls it back.
/// </summary>
public sealed class PatientPortalGrain(
    [PersistentState(StorageNames.PatientPortalState, StorageNames.Collections)] IPersistentState<PatientPortalState> portal,
    IGrainFactory grains,
    PortalAccessRules rules,
    AutopayRules autopay,
    FacilityDirectory facilities,
    TimeProvider clock,
    IAuditTrail audit,
    CadenceSettings settings,
    ILogger<PatientPortalGrain> logger) : Grain, IPatientPortalGrain, IRemindable
{
    private const string AutopayReminder = "autopay";
    private static readonly TimeSpan AutopayCheck = TimeSpan.FromHours(6);
    private const string Resource = "guarantor";
    private string Id => this.GetPrimaryKeyString();

    public async Task<PortalCheck> Verify(DateOnly? dateOfBirth, string via)
    {
        var now = clock.GetUtcNow();
        if (PortalAccess.LockedUntil(portal.State.Failures, rules, now) is { } locked)
        {
            await audit.RecordAsync(clock, "portal.verify", Resource, Id, "locked", $"via={via}");
            return new PortalCheck { Verified = false, LockedUntil = locked };
        }
        var guarantor = await grains.GetGrain<IGuarantorGrain>(Id).Get();
        if (guarantor is not null && PortalAccess.Matches(guarantor.Profile.DateOfBirth, dateOfBirth))
        {
            if (portal.State.Failures.Count > 0)
            {
                portal.State.Failures.Clear();
                await portal.WriteStateAsync();
            }
            await audit.RecordAsync(clock, "portal.verify", Resource, Id, "ok", $"via={via}");
            return new PortalCheck { Verified = true, AttemptsLeft = rules.MaxFailures };
        }
        portal.State.Failures.RemoveAll(f => f < now - rules.Window - rules.Lockout);
        portal.State.Failures.Add(now);
        var lockedNow = PortalAccess.LockedUntil(portal.State.Failures, rules, now);
        await portal.WriteStateAsync(audit, AuditExtensions.Event(clock, "portal.verify", Resource, Id, lockedNow is null ? "failed" : "failed-locked", $"via={via}"));
        return new PortalCheck { Verified = false, LockedUntil = lockedNow, AttemptsLeft = PortalAccess.AttemptsLeft(portal.State.Failures, rules, now) };
    }

    public Task<PortalView> Get() => Task.FromResult(View());

    public async Task SaveCard(SavedCard card)
    {
        if (portal.State.Card == card) return;
        portal.State.Card = card;
        await portal.WriteStateAsync(audit, AuditExtensions.Event(clock, "portal.card.save", Resource, Id, "ok", card.Last4 is { } l ? $"last4={l}" : null));
    }

    public async Task RememberPayment(string paymentId)
    {
        if (portal.State.Payments.Contains(paymentId)) return;
        portal.State.Payments.Add(paymentId);
        if (portal.State.Payments.Count > 20) portal.State.Payments.RemoveAt(0);
        await portal.WriteStateAsync();
    }

    public async Task<PortalView> RemoveCard()
    {
        if (portal.State.Card is null && portal.State.Autopay.Count == 0) return View();
        portal.State.Card = null;
        portal.State.Autopay.Clear();
        await portal.WriteStateAsync(audit, AuditExtensions.Event(clock, "portal.card.remove", Resource, Id, "ok"));
        return View();
    }

    public async Task<Outcome<PortalView>> EnrollAutopay(AccountKey account, string planId)
    {
        if (portal.State.Card is null)
            return Outcome<PortalView>.Failure(DomainError.Conflict("autopay.no-card", "Autopay needs a card on file: pay once with \"keep my card for my plan\" ticked."));
        if (!portal.State.Autopay.Any(a => a.Account == account && a.PlanId == planId))
        {
            portal.State.Autopay.RemoveAll(a => a.Account == account);
            portal.State.Autopay.Add(new AutopayEnrollment { Account = account, PlanId = planId, EnrolledAt = clock.GetUtcNow() });
            await portal.WriteStateAsync();
            await this.RegisterOrUpdateReminder(AutopayReminder, TimeSpan.FromMinutes(1), AutopayCheck);
            await audit.RecordAsync(clock, "portal.autopay.enroll", Resource, Id, "ok", $"account={account};plan={planId}");
        }
        return Outcome<PortalView>.Success(View());
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != AutopayReminder) return;
        CallerContext.Set(new Caller { Actor = "system:autopay", Role = "system" });
        await RunAutopay();
        if (portal.State.Autopay.Count == 0 && await this.GetReminder(AutopayReminder) is { } reminder)
            await this.UnregisterReminder(reminder);
    }

    public async Task EndSession(string sessionId, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        foreach (var gone in portal.State.EndedSessions.Where(e => e.Value <= now).Select(e => e.Key).ToList()) portal.State.EndedSessions.Remove(gone);
        if (expiresAt <= now || !portal.State.EndedSessions.TryAdd(sessionId, expiresAt)) return;
        await portal.WriteStateAsync();
        await audit.RecordAsync(clock, "portal.signout", Resource, Id, "ok");
    }

    public Task<bool> SessionEnded(string sessionId) => Task.FromResult(portal.State.EndedSessions.ContainsKey(sessionId));

    public async Task<IReadOnlyList<string>> RunAutopay()
    {
        var started = new List<string>();
        if (portal.State.Card is not { } card || portal.State.Autopay.Count == 0) return started;
        var now = clock.GetUtcNow();
        // The person's holds (a bankruptcy, a death, an attorney) stop every charge, like an account's; and an installment
        // is due on the patient's day, not UTC's (a Pacific patient is not charged the evening before).
        var person = await grains.GetGrain<IGuarantorGrain>(Id).GetContactSummary();
        var today = new Domain.Arrangements.PatientCalendar(person.TimeZones).Today(now);
        foreach (var enrollment in portal.State.Autopay.ToList())
        {
            var account = await grains.GetGrain<IPatientAccountGrain>(enrollment.Account.ToString()).Get();
            var plan = account?.Plans.FirstOrDefault(p => p.PlanId == enrollment.PlanId);
            // A plan that defaulted may still be reinstated by a check deposited in time: the enrollment waits, charging nothing.
            if (plan is not null && Domain.Arrangements.ArrangementRulesLogic.MayBeReinstated(plan, settings.Arrangements.GraceDays, now)) continue;
            if (account is null || plan is null || plan.Status != Domain.Arrangements.PlanStatus.Active)
            {
                portal.State.Autopay.Remove(enrollment); // the plan ended (completed, defaulted): autopay with it
                await portal.WriteStateAsync();
                continue;
            }
            // A dispute or an assistance application puts the account on hold, a bankruptcy or a death the person: nothing
            // is charged while it lasts.
            if (person.AnyHold || account.Holds.Any(h => h.IsActive)) continue;
            if (Autopay.Due(plan, account.Entries, account.Balances.PatientResponsibility, today) is not { } due) continue;
            var key = $"{enrollment.Account}|{plan.PlanId}|{due.Installment.Number}";
            var attempts = portal.State.AutopayAttempts.GetValueOrDefault(key) ?? [];
            if (!Autopay.MayCharge(attempts, autopay, now)) continue;
            attempts.Add(now);
            portal.State.AutopayAttempts[key] = attempts;
            await portal.WriteStateAsync(); // the attempt is counted before the card is charged
            var paymentId = $"AUTO-{enrollment.Account.ToString().Replace('/', '~')}-{plan.PlanId}-{due.Installment.Number}-{attempts.Count}";
            var charged = await grains.GetGrain<IPatientPaymentGrain>(paymentId).ChargeSavedCard(new CardPaymentStart
            {
                GuarantorId = Id, Shares = [new Domain.Payments.PaymentShare { Account = enrollment.Account, Amount = due.Amount }],
                Description = $"{facilities.Get(enrollment.Account.Facility).Name} payment plan", ReturnUrl = "", CancelUrl = "", Source = CardPaymentSource.Autopay,
            }, card);
            await RememberPayment(paymentId);
            started.Add(paymentId);
            logger.LogInformation("Autopay charged installment {Installment} of a plan: {Status}", due.Installment.Number, charged.Value?.Status.ToString() ?? "refused");
        }
        return started;
    }

    private PortalView View() => new() { Card = portal.State.Card, Autopay = portal.State.Autopay.ToList(), RecentPayments = portal.State.Payments.ToList() };
}
