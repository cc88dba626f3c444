using Collections.Domain;
using Collections.Payments;
using Collections.Persistence;
using Microsoft.Extensions.Logging;

namespace Collections.Grains;

/// <summary>
/// One card payment. Opening the checkout, and applying what the processor says, are each one durable write of this
/// grain; a confirmed payment then posts each account's share as that account's own command under the idempotency key
/// <c>processor-payment/{paymentId}/{n}</c>, so however often the confirmation arrives (webhook twice, late, or the
/// patient's return first) each share is on the ledger once. A share not yet posted is posted again by the next
/// delivery of the confirmation (the processor repeats a webhook the engine did not accept).
/// </summary>
public sealed class PatientPaymentGrain(
    [PersistentState(StorageNames.PatientPaymentState, StorageNames.Collections)] IPersistentState<PatientPaymentState> payment,
    IPaymentProcessor processor,
    IGrainFactory grains,
    TimeProvider clock,
    IAuditTrail audit,
    ILogger<PatientPaymentGrain> logger) : Grain, IPatientPaymentGrain
{
    private const string Resource = "payment";
    private string Id => this.GetPrimaryKeyString();
    private PatientPaymentState State => payment.State;

    public async Task<Outcome<CardPaymentView>> Start(CardPaymentStart request)
    {
        // The same payment id asked again for a different amount (an agent's Idempotency-Key reused): refused, one turn at a time.
        if (State.Request is not null && request.Shares.Sum(s => s.Amount) != State.Amount)
            return Outcome<CardPaymentView>.Failure(Domain.Payments.PaymentAllocation.KeyReused);
        if (State.Request is null)
        {
            var errors = Check(request);
            if (errors.Count > 0) return Outcome<CardPaymentView>.Failure(errors);
            State.Request = request;
            State.Amount = request.Shares.Sum(s => s.Amount);
            State.Shares = request.Shares.Select(s => new PostedShare { Account = s.Account, Amount = s.Amount }).ToList();
            State.StartedAt = clock.GetUtcNow();
            State.Processor = processor.Name;
            // Stored before the processor hears of it: the processor is idempotent on the payment id, so a crash in
            // between opens the same checkout on the retry.
            await payment.WriteStateAsync(audit, AuditExtensions.Event(clock, "payment.start", Resource, Id, "ok", $"guarantor={request.GuarantorId};source={request.Source};shares={request.Shares.Count}"));
        }
        if (State.CheckoutUrl is null && State.Request.Source is CardPaymentSource.Portal or CardPaymentSource.Agent)
        {
            var session = await processor.StartCheckoutAsync(new CheckoutRequest
            {
                PaymentId = Id, Amount = State.Amount, Description = State.Request.Description, SaveCard = State.Request.SaveCard,
                CustomerRef = State.Request.CustomerRef, ReturnUrl = State.Request.ReturnUrl, CancelUrl = State.Request.CancelUrl, Language = State.Request.Language,
            });
            State.CheckoutId = session.CheckoutId;
            State.CheckoutUrl = session.RedirectUrl;
            await payment.WriteStateAsync();
        }
        return Outcome<CardPaymentView>.Success(View());
    }

    public async Task<Outcome<CardPaymentView>> ChargeSavedCard(CardPaymentStart request, SavedCard card)
    {
        var started = await Start(request with { Source = CardPaymentSource.Autopay });
        if (!started.Succeeded) return started;
        if (State.Status is CardPaymentStatus.Succeeded or CardPaymentStatus.Failed) return Outcome<CardPaymentView>.Success(View());
        var result = await processor.ChargeSavedCardAsync(new SavedCardCharge { PaymentId = Id, Amount = State.Amount, Description = request.Description, Card = card });
        return Outcome<CardPaymentView>.Success((await Apply(result))!);
    }

    public Task<CardPaymentView?> Get() => Task.FromResult(State.Request is null ? null : View());

    public async Task<CardPaymentView?> Apply(ProcessorEvent e)
    {
        if (State.Request is null)
        {
            // A webhook for a payment this engine never started (another system on the same processor account): ignored.
            logger.LogWarning("Processor event {EventId} names an unknown payment; ignored", e.EventId);
            return null;
        }
        var seen = State.EventsSeen.Contains(e.EventId);
        var statusBefore = State.Status;
        var changed = false;
        switch (e.Kind)
        {
            case ProcessorEventKind.PaymentSucceeded when State.Status != CardPaymentStatus.Succeeded:
                State.Status = CardPaymentStatus.Succeeded;
                State.ProcessorPaymentId = e.ProcessorPaymentId;
                State.ConfirmedAt = clock.GetUtcNow();
                State.FailureCode = null;
                State.Card = e.Card;
                State.CardBrand = e.CardBrand ?? e.Card?.Brand;
                State.CardLast4 = e.CardLast4 ?? e.Card?.Last4;
                if (e.Amount is { } moved && moved != State.Amount)
                    State.NeedsReview = $"The processor moved {moved:0.00}, not the {State.Amount:0.00} asked; nothing was posted.";
                changed = true;
                break;
            case ProcessorEventKind.PaymentFailed when State.Status is CardPaymentStatus.Started or CardPaymentStatus.RequiresAction:
                State.Status = CardPaymentStatus.Failed;
                State.FailureCode = e.FailureCode ?? "declined";
                changed = true;
                break;
            case ProcessorEventKind.PaymentRequiresAction when State.Status == CardPaymentStatus.Started:
                State.Status = CardPaymentStatus.RequiresAction;
                changed = true;
                break;
            case ProcessorEventKind.RefundSucceeded or ProcessorEventKind.RefundFailed:
                changed = SettleRefund(e);
                break;
        }
        if (!seen)
        {
            State.EventsSeen.Add(e.EventId);
            if (State.EventsSeen.Count > 50) State.EventsSeen.RemoveAt(0);
            changed = true;
        }
        if (changed)
        {
            await payment.WriteStateAsync(audit, AuditExtensions.Event(clock, "payment.processor-event", Resource, Id, "ok", $"event={e.Kind};status={State.Status}"));
            if (State.Status != statusBefore && State.Status is CardPaymentStatus.Succeeded or CardPaymentStatus.Failed)
                CollectionsMetrics.CardPaymentSettled(State.Request.Source.ToString(), State.Status.ToString());
        }
        // The card the patient asked to keep goes to their portal with every delivery of the confirmation (one-way, so
        // autopay charging through this grain can never wait on itself; the portal ignores a card it already has).
        if (State.Status == CardPaymentStatus.Succeeded && State.Card is { } kept)
            await grains.GetGrain<IPatientPortalGrain>(State.Request.GuarantorId).SaveCard(kept);
        // Posting is re-driven by every delivery of a confirmation until each share is on its ledger.
        if (State.Status == CardPaymentStatus.Succeeded && State.NeedsReview is null && State.Shares.Any(s => s.EntryId is null && s.Refused is null))
            await PostSharesAsync();
        if (State.Refunds.Any(r => r.Status == CardRefundStatus.Succeeded && r.EntryId is null && r.Problem is null))
            await PostRefundsAsync();
        return View();
    }

    public async Task<CardPaymentView?> Refresh()
    {
        if (State.Request is null) return null;
        // A declined card can be followed by another on the same checkout page: ask until the processor says paid.
        if (State.Status != CardPaymentStatus.Succeeded && State.CheckoutId is { } checkout
            && await processor.GetCheckoutAsync(Id, checkout) is { } answer)
            return await Apply(answer);
        return View();
    }

    public async Task<Outcome<CardPaymentView>> Refund(CardRefundRequest request)
    {
        if (State.Request is null) return Outcome<CardPaymentView>.Failure(DomainError.NotFound("payment.not-found", "No card payment has this id."));
        var key = request.IdempotencyKey.Trim();
        if (State.Refunds.FirstOrDefault(r => r.RefundId == $"{Id}/refund/{key}") is { } earlier)
        {
            if (earlier.Account != request.Account || (request.Amount is not null && request.Amount != earlier.Amount))
                return Outcome<CardPaymentView>.Failure(DomainError.Conflict("idempotency-key.reused", "This Idempotency-Key was used for a different refund."));
            // Stored but never acknowledged by the processor (it did not answer): ask again; it refunds once per refund id.
            if (earlier.Status == CardRefundStatus.Requested && earlier.ProcessorRefundId is null) await SendRefundAsync(earlier);
            return Outcome<CardPaymentView>.Success(View());
        }
        if (State.Status != CardPaymentStatus.Succeeded || State.ProcessorPaymentId is null)
            return Outcome<CardPaymentView>.Failure(DomainError.Conflict("payment.not-confirmed", "Only a payment the processor confirmed can be refunded."));
        var share = State.Shares.Where(s => s.Account == request.Account).Sum(s => s.Amount);
        var alreadyRefunded = State.Refunds.Where(r => r.Account == request.Account && r.Status != CardRefundStatus.Failed).Sum(r => r.Amount);
        // Refunds of this payment still on their way to the ledger already spoke for part of the credit.
        var inFlight = State.Refunds.Where(r => r.Account == request.Account && r.Status != CardRefundStatus.Failed && r.EntryId is null).Sum(r => r.Amount);
        var account = await grains.GetGrain<IPatientAccountGrain>(request.Account.ToString()).Get();
        if (share == 0 || account is null)
            return Outcome<CardPaymentView>.Failure(DomainError.Invalid("account", "refund.account-not-paid", "This payment paid nothing on that account."));
        var credit = account.Balances.CreditBalance - inFlight;
        var amount = request.Amount ?? Math.Min(share - alreadyRefunded, credit);
        if (amount <= 0 || decimal.Round(amount, 2) != amount)
            return Outcome<CardPaymentView>.Failure(DomainError.Invalid("amount", "refund.amount-invalid", "The refund is a positive amount with at most two decimal places, and the account must be in credit."));
        if (amount > share - alreadyRefunded)
            return Outcome<CardPaymentView>.Failure(DomainError.Conflict("refund.more-than-paid", $"At most {share - alreadyRefunded:0.00} of this payment's share on the account is left to refund."));
        if (amount > credit)
            return Outcome<CardPaymentView>.Failure(DomainError.Conflict("refund.exceeds-credit", $"The account's credit balance is {credit:0.00}; a refund cannot make the patient owe more."));

        var refund = new CardRefund
        {
            RefundId = $"{Id}/refund/{key}", Account = request.Account, Amount = amount, Status = CardRefundStatus.Requested,
            RequestedBy = CallerContext.Current.Actor, RequestedAt = clock.GetUtcNow(),
        };
        State.Refunds.Add(refund);
        // Before the processor hears of it: the processor is idempotent on the refund id.
        await payment.WriteStateAsync(audit, AuditExtensions.Event(clock, "payment.refund.request", Resource, Id, "ok", $"account={request.Account};amount={amount:0.00}"));
        await SendRefundAsync(refund);
        return Outcome<CardPaymentView>.Success(View());
    }

    /// <summary>Asks the processor for a stored refund (again, after no answer: idempotent on the refund id); a refusal fails it.</summary>
    private async Task SendRefundAsync(CardRefund refund)
    {
        RefundStart started;
        try
        {
            started = await processor.RefundAsync(new ProcessorRefundRequest
            {
                RefundId = refund.RefundId, PaymentId = Id, ProcessorPaymentId = State.ProcessorPaymentId!, Amount = refund.Amount,
            });
        }
        catch (ProcessorRefusedException ex)
        {
            var failed = State.Refunds.FindIndex(r => r.RefundId == refund.RefundId);
            State.Refunds[failed] = State.Refunds[failed] with { Status = CardRefundStatus.Failed, Problem = $"The processor refused the refund ({ex.Code})." };
            await payment.WriteStateAsync();
            throw;
        }
        var index = State.Refunds.FindIndex(r => r.RefundId == refund.RefundId);
        State.Refunds[index] = State.Refunds[index] with { ProcessorRefundId = started.ProcessorRefundId };
        await payment.WriteStateAsync();
        if (started.Settled is { } settled) await Apply(settled);
    }

    private bool SettleRefund(ProcessorEvent e)
    {
        var index = State.Refunds.FindIndex(r => r.RefundId == e.RefundId);
        if (index < 0 || State.Refunds[index].Status != CardRefundStatus.Requested) return false;
        State.Refunds[index] = State.Refunds[index] with
        {
            Status = e.Kind == ProcessorEventKind.RefundSucceeded ? CardRefundStatus.Succeeded : CardRefundStatus.Failed,
            ProcessorRefundId = e.ProcessorRefundId ?? State.Refunds[index].ProcessorRefundId,
            Problem = e.Kind == ProcessorEventKind.RefundFailed ? $"The processor could not refund ({e.FailureCode})." : null,
        };
        return true;
    }

    private async Task PostSharesAsync()
    {
        var confirmed = DateOnly.FromDateTime((State.ConfirmedAt ?? clock.GetUtcNow()).UtcDateTime);
        for (var i = 0; i < State.Shares.Count; i++)
        {
            var share = State.Shares[i];
            if (share.EntryId is not null || share.Refused is not null) continue;
            var posted = await grains.GetGrain<IPatientAccountGrain>(share.Account.ToString()).Post(new EntryRequest
            {
                Kind = EntryKind.PatientPayment, Amount = share.Amount, Method = PaymentMethod.Card, EffectiveDate = confirmed,
                Reference = $"{State.Processor} {State.ProcessorPaymentId}", Note = State.Request!.Source switch { CardPaymentSource.Autopay => "Autopay installment", CardPaymentSource.Agent => PaymentChannels.CardOnCallNote, _ => "Paid online" },
                Channel = State.Request!.Source == CardPaymentSource.Agent ? PaymentChannel.Agent : PaymentChannel.PatientPage,
                IdempotencyKey = $"{PaymentChannels.CardPaymentKeyPrefix}{Id}/{i + 1}",
            });
            State.Shares[i] = posted.Succeeded
                ? share with { EntryId = posted.Value!.Entry.EntryId }
                : share with { Refused = posted.Errors[0].Message };
            if (!posted.Succeeded) State.NeedsReview = $"An account refused its share ({posted.Errors[0].Code}): a person must apply it.";
        }
        await payment.WriteStateAsync();
    }

    private async Task PostRefundsAsync()
    {
        for (var i = 0; i < State.Refunds.Count; i++)
        {
            var refund = State.Refunds[i];
            if (refund.Status != CardRefundStatus.Succeeded || refund.EntryId is not null || refund.Problem is not null) continue;
            var posted = await grains.GetGrain<IPatientAccountGrain>(refund.Account.ToString()).Post(new EntryRequest
            {
                Kind = EntryKind.Refund, Amount = refund.Amount, Party = ResponsibleParty.Patient, Method = PaymentMethod.Card,
                Reference = $"{State.Processor} {refund.ProcessorRefundId}", Note = "Refunded to the card that paid",
                IdempotencyKey = $"processor-refund/{refund.RefundId}",
            });
            State.Refunds[i] = posted.Succeeded
                ? refund with { EntryId = posted.Value!.Entry.EntryId }
                : refund with { Problem = $"The processor refunded it but the account refused the entry ({posted.Errors[0].Code}): a person must post it." };
        }
        await payment.WriteStateAsync();
    }

    private static List<DomainError> Check(CardPaymentStart request)
    {
        var errors = new List<DomainError>();
        if (request.Shares.Count == 0)
            errors.Add(DomainError.Invalid("shares", "payment.no-shares", "A payment pays at least one account."));
        if (request.Shares.Any(s => s.Amount <= 0 || decimal.Round(s.Amount, 2) != s.Amount))
            errors.Add(DomainError.Invalid("amount", "amount.invalid", "Each share is a positive amount with at most two decimal places."));
        if (string.IsNullOrWhiteSpace(request.GuarantorId))
            errors.Add(DomainError.Invalid("guarantorId", "guarantor.required", "The payer is required."));
        return errors;
    }

    private CardPaymentView View() => new()
    {
        PaymentId = Id, GuarantorId = State.Request!.GuarantorId, Amount = State.Amount, Status = State.Status, Shares = State.Shares.ToList(),
        CheckoutUrl = State.CheckoutUrl, FailureCode = State.FailureCode, ProcessorPaymentId = State.ProcessorPaymentId,
        CardBrand = State.CardBrand, CardLast4 = State.CardLast4, StartedAt = State.StartedAt, ConfirmedAt = State.ConfirmedAt,
        Refunds = State.Refunds.ToList(), NeedsReview = State.NeedsReview, Processor = State.Processor, Source = State.Request.Source,
        Language = State.Request.Language,
    };
}
