using Collections.Domain;
using Collections.Domain.Compliance;
using Collections.Outreach;
using Collections.Persistence;

namespace Collections.Grains;

public sealed class GuarantorGrain(
    [PersistentState(StorageNames.GuarantorState, StorageNames.Collections)] IPersistentState<GuarantorState> guarantor,
    IGrainFactory grains,
    IOutreachService outreach,
    IOutboxStore outbox,
    CadenceSettings settings,
    TimeProvider clock,
    IAuditTrail audit,
    Scoring.ZipIncomeBands incomes) : Grain, IGuarantorGrain
{
    /// <summary>Contact history older than this is dropped: every rule looks back far less.</summary>
    public static readonly TimeSpan HistoryKept = TimeSpan.FromDays(400);
    private const string Resource = "guarantor";
    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Contact hours and the patient's days follow the zone table as it is now, not as it was at registration
        // (kept in memory; the next write stores it).
        if (guarantor.State.Profile is { } profile) guarantor.State.Profile = GuarantorRules.WithCurrentZones(profile);
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<Outcome<GuarantorView>> Register(GuarantorDetails details)
    {
        var now = clock.GetUtcNow();
        Outcome<GuarantorView> outcome;
        if (guarantor.State.IsRegistered)
        {
            outcome = Outcome<GuarantorView>.Failure(DomainError.Conflict("guarantor.exists", "A guarantor with this id is already registered.", "guarantorId"));
        }
        else
        {
            var (profile, errors) = GuarantorRules.Validate(details, DateOnly.FromDateTime(now.UtcDateTime));
            if (profile is null)
            {
                outcome = Outcome<GuarantorView>.Failure(errors);
            }
            else
            {
                guarantor.State.IsRegistered = true;
                guarantor.State.Profile = profile;
                guarantor.State.RegisteredAt = now;
                guarantor.State.RegisteredBy = CallerContext.Current.Actor;
                await PersistAsync("guarantor.register");
                foreach (var phone in profile.Phones)
                    await grains.GetGrain<IPhoneDirectoryGrain>(phone.Number!).Add(Id);
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.register", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public async Task<GuarantorView?> Get()
    {
        var view = guarantor.State.IsRegistered ? View() : null;
        await audit.RecordAsync(clock, "guarantor.read", Resource, Id, view is null ? "not-found" : "ok");
        return view;
    }

    public async Task<Outcome<GuarantorView>> RecordConsent(ConsentRequest request)
    {
        Outcome<GuarantorView> outcome;
        if (!guarantor.State.IsRegistered)
        {
            outcome = Outcome<GuarantorView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id."));
        }
        else
        {
            var errors = new ErrorList();
            if (request.Channel is null) errors.Invalid("channel", "channel.required", "The channel is required (mail, email, sms, voice, automatedVoice).");
            if (request.Status is null) errors.Invalid("status", "status.required", "The status is required (granted or optedOut).");
            Text.Require(request.Source, "source", LedgerPosting.MaxTextLength, errors);
            var (key, malformedKey) = RepeatedRequests.Key(request.IdempotencyKey);
            if (malformedKey is not null) errors.Add(malformedKey);
            var (earlier, keyError) = errors.Any
                ? (null, null)
                : RepeatedRequests.Find(key, guarantor.State.ConsentHistory, c => c.RequestKey,
                    c => c.Channel == request.Channel && c.Status == request.Status && c.Source == request.Source!.Trim(), "consent");
            if (errors.Any)
            {
                outcome = Outcome<GuarantorView>.Failure(errors.Errors);
            }
            else if (keyError is not null)
            {
                outcome = Outcome<GuarantorView>.Failure(keyError);
            }
            else if (earlier is not null)
            {
                // A retry of a consent recorded under this key, however late: answered, never recorded again (a late
                // retry of a grant must not undo an opt-out recorded since).
                await audit.RecordAsync(clock, "guarantor.consent.repeat", Resource, Id, "ok", $"channel={request.Channel};status={request.Status};key=yes");
                return Outcome<GuarantorView>.Success(View()) with { Replayed = true };
            }
            else if (key is null && GuarantorRules.CurrentConsents(guarantor.State.ConsentHistory).TryGetValue(request.Channel!.Value, out var current)
                     && current.Status == request.Status && current.Source == request.Source!.Trim())
            {
                // Without a key: what the channel already stands at, from the same source (a retry from a client that
                // sends no key, or the same form sent twice). It changes nothing and is not recorded twice; the look is
                // audited. With a key it is recorded, so that a retry under that key, however late, is known as one.
                await audit.RecordAsync(clock, "guarantor.consent.repeat", Resource, Id, "ok", $"channel={request.Channel};status={request.Status}");
                return Outcome<GuarantorView>.Success(View()) with { Replayed = true };
            }
            else
            {
                guarantor.State.ConsentHistory.Add(new ChannelConsent
                {
                    Channel = request.Channel!.Value,
                    Status = request.Status!.Value,
                    Source = request.Source!.Trim(),
                    RecordedAt = clock.GetUtcNow(),
                    RecordedBy = CallerContext.Current.Actor,
                    RequestKey = key,
                });
                await PersistAsync("guarantor.consent.record", $"channel={request.Channel};status={request.Status}");
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.consent.record", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors));
        return outcome;
    }

    public async Task<bool> LinkAccount(AccountKey account)
    {
        if (!guarantor.State.IsRegistered) return false;
        if (guarantor.State.Accounts.Contains(account)) return true;
        guarantor.State.Accounts.Add(account);
        await PersistAsync("guarantor.account.link", $"account={account}");
        return true;
    }

    public async Task<ContactResult> RequestContact(ContactPermitRequest request)
    {
        var state = guarantor.State;
        // Made already (the caller's commit was lost, or a retry): answered as it was, a broken rule included.
        if (state.ContactHistory.FindLast(a => a.RequestId == request.RequestId) is { } earlier)
            return new ContactResult { Decision = GateDecision.MadeEarlier(earlier.RuleBroken), Replayed = true };
        if (!state.IsRegistered || state.Profile is null)
            return new ContactResult { Decision = GateDecision.Deny("guarantor.unknown", "The account's guarantor is not registered.") };

        var now = clock.GetUtcNow();
        var isLoggedCall = request.Outcome is not null;
        // A call logged after it took place is judged, and recorded, at the time it was made.
        var at = isLoggedCall ? LoggedCall.At(request.OccurredAt, now) : now;
        // An extraordinary action asks what became of the account's notices (a returned final notice opens no way to it).
        var notices = ComplianceGate.IsExtraordinaryAction(request.Action) && request.Outcome is null ? await NoticesAsync(request.Account) : null;
        var decision = Decide(request with { DebtHolds = LoggedCall.HoldsAt(request.DebtHolds, at, now) }, state.Profile, at, notices, asOf: now);
        // A call logged after calls made later than it: the limit counts them together.
        if (isLoggedCall && decision.Verdict == GateVerdict.Allow
            && LoggedCall.CallLimitWithLaterCalls(new ContactRequest(request.Account, request.Action, request.Channel, request.Initiator),
                   Person(state.Profile), settings.Compliance, at, now) is { } together)
            decision = together;
        // A call that took place is a fact: it is recorded whatever the rules say (a refusal would lose it, and a dispute
        // raised on it). The rule it broke, if any, is kept with it for the compliance review.
        string? ruleBroken = null;
        if (isLoggedCall && decision.Verdict != GateVerdict.Allow)
        {
            ruleBroken = decision.Rule;
            decision = GateDecision.RecordedDespite(decision);
        }
        else if (decision.Verdict != GateVerdict.Allow)
        {
            CollectionsMetrics.Decided(request.Action, decision);
            return new ContactResult { Decision = decision };
        }

        // Carry it out (each step is idempotent by the request id) and remember it. A message is stored in the same
        // transaction as the contact that records it, so the person is never sent one the history does not count.
        PreparedMessage? message = null;
        switch (request.Action)
        {
            case OutreachAction.CallTask when isLoggedCall:
                break; // a call already made: only recorded below
            case OutreachAction.CallTask or OutreachAction.WriteOffReview:
                await grains.GetGrain<ICallTaskQueueGrain>(request.Account.Facility).Add(new CallTask
                {
                    TaskId = request.RequestId,
                    Kind = request.Action == OutreachAction.CallTask ? CallTaskKind.Call : CallTaskKind.WriteOffReview,
                    Account = request.Account,
                    GuarantorId = Id,
                    PatientResponsibility = request.PatientResponsibility,
                    CreatedAt = now,
                    Reason = request.Reason,
                });
                break;
            case OutreachAction.AgencyPlacement or OutreachAction.CreditReporting:
                break; // the account records the placement; nothing reaches the person
            default:
                message = await outreach.PrepareAsync(Message(request, state.Profile));
                break;
        }
        // Tasks and placements are not contacts with the person; a call is recorded when it is made (logged).
        // In time order: a call logged after it took place goes where it happened.
        state.ContactHistory.Insert(LoggedCall.InsertionIndex(state.ContactHistory, at), new ContactAttempt
        {
            RequestId = request.RequestId,
            Account = request.Account,
            Action = request.Action,
            Channel = isLoggedCall ? request.Channel ?? ContactChannel.Voice
                : request.Action is OutreachAction.CallTask or OutreachAction.WriteOffReview or OutreachAction.AgencyPlacement or OutreachAction.CreditReporting ? null : request.Channel,
            Initiator = request.Initiator,
            At = at,
            Outcome = request.Outcome ?? ContactOutcome.Attempted,
            RuleBroken = ruleBroken,
        });
        state.ContactHistory.RemoveAll(a => a.At < now - HistoryKept);
        await PersistAsync("guarantor.contact", $"account={request.Account};action={request.Action};channel={request.Channel};request={request.RequestId}"
            + (at != now ? $";called-at={at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}" : ""), message);
        if (message is not null) outreach.Stored(message);
        CollectionsMetrics.Decided(request.Action, decision);
        return new ContactResult { Decision = decision };
    }

    public Task<ContactResult> CheckContact(ContactPermitRequest request)
    {
        var state = guarantor.State;
        if (!state.IsRegistered || state.Profile is null)
            return Task.FromResult(new ContactResult { Decision = GateDecision.Deny("guarantor.unknown", "The account's guarantor is not registered.") });
        return Task.FromResult(new ContactResult { Decision = Decide(request, state.Profile, clock.GetUtcNow()) });
    }

    /// <summary>The gate's decision on a contact now, over the person's whole history (what <see cref="RequestContact"/> and <see cref="CheckContact"/> share).</summary>
    /// <param name="asOf">For a call logged after it took place (<paramref name="now"/> its time): the time it is logged,
    /// so the person's facts are taken as they stood when it was made.</param>
    private GateDecision Decide(ContactPermitRequest request, GuarantorProfile profile, DateTimeOffset now, IReadOnlyList<NoticeRecord>? notices = null,
        DateTimeOffset? asOf = null)
    {
        var state = guarantor.State;
        return request.Outcome is not null && request.Initiator is ContactInitiator.Inbound or ContactInitiator.PatientRequested
            ? GateDecision.Allowed // the patient called, or asked us to: nothing to gate
            : ComplianceGate.Check(
                new ContactRequest(request.Account, request.Action, request.Channel, request.Initiator),
                LoggedCall.AsOf(Person(profile), now, asOf ?? now),
                new DebtFacts(request.DebtHolds, request.PatientResponsibility, request.FirstStatementAt, request.FinalNoticeAt, request.FinancialAssistanceApprovedAt,
                    request.ValidationNoticeAt, notices),
                settings.Compliance, now);
    }

    /// <summary>What the gate knows of the person: the profile given, with their consents, holds, contacts and representative.</summary>
    private PersonFacts Person(GuarantorProfile profile) =>
        new(profile, guarantor.State.ConsentHistory, guarantor.State.Holds, guarantor.State.ContactHistory, guarantor.State.Representative);

    /// <summary>The account's letters, emails and texts as the outbox has them: sent, returned, cancelled or waiting.</summary>
    private async Task<IReadOnlyList<NoticeRecord>> NoticesAsync(AccountKey account) =>
        (await outbox.FatesAsync(account.Facility, account.AccountNumber)).Select(m => new NoticeRecord(m.Action, m.Channel, m.CreatedAt, m.SentAt, m.Status switch
        {
            OutboxStatus.Sent or OutboxStatus.Delivered => NoticeState.Sent,
            OutboxStatus.Bounced or OutboxStatus.Failed => NoticeState.Returned,
            OutboxStatus.Cancelled => NoticeState.NotSent,
            _ => NoticeState.Waiting,
        })).ToList();

    public Task<GuarantorContactSummary> GetContactSummary() => Task.FromResult(new GuarantorContactSummary
    {
        Registered = guarantor.State.IsRegistered,
        PreferredChannel = guarantor.State.Profile?.PreferredChannel ?? ContactChannel.Mail,
        // A hold the representative answers (attorney, deceased) does not pause the cadence: contact goes to them.
        OnHold = guarantor.State.Holds.Any(h => h.IsActive && !(guarantor.State.Representative is { } r && h.Reason == ComplianceGate.CoveredHold(r.Kind))),
        PreferredLanguage = guarantor.State.Profile?.PreferredLanguage ?? Languages.Default,
        HoldAnsweredByRepresentative = guarantor.State.Representative is { } rep ? ComplianceGate.CoveredHold(rep.Kind) : null,
        IncomeBand = incomes.BandOf(guarantor.State.Profile?.Address.Zip),
        TimeZones = guarantor.State.Profile?.TimeZone.PlausibleZones ?? [],
        AnyHold = guarantor.State.Holds.Any(h => h.IsActive),
    });

    public Task<GateDecision> CheckSend(OutreachAction action, ContactChannel channel, DateTimeOffset queuedAt)
    {
        var state = guarantor.State;
        if (state.Profile is not { } profile) return Task.FromResult(GateDecision.Deny("guarantor.not-found", "The guarantor is not registered."));
        return Task.FromResult(ComplianceGate.AtSend(action, channel, queuedAt,
            Person(profile), settings.Compliance, clock.GetUtcNow()));
    }

    public Task<CallerIndexName?> GetCallerIndexName() =>
        Task.FromResult(guarantor.State is { IsRegistered: true, Profile: { } profile }
            ? CallerIndexName.Of(profile.DateOfBirth, profile.LastName)
            : null);

    public Task<GuarantorScoringFacts> GetScoringFacts(AccountKey account)
    {
        var state = guarantor.State;
        var profile = state.Profile;
        var consents = GuarantorRules.CurrentConsents(state.ConsentHistory);
        return Task.FromResult(new GuarantorScoringFacts
        {
            DateOfBirth = profile?.DateOfBirth,
            HasEmail = profile?.Email is not null,
            HasMobilePhone = profile?.Phones.Any(p => p.Type == PhoneType.Mobile) == true,
            HasTextConsent = consents.TryGetValue(ContactChannel.Sms, out var sms) && sms.Status == ConsentStatus.Granted,
            Contacts = state.ContactHistory.Where(c => c.Account == account).ToList(),
            Holds = state.Holds.ToList(),
        });
    }

    public async Task<Outcome<GuarantorView>> SetRepresentative(RepresentativeDetails details)
    {
        Outcome<GuarantorView> outcome;
        if (!guarantor.State.IsRegistered)
            outcome = Outcome<GuarantorView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id."));
        else
        {
            var (representative, errors) = GuarantorRules.ValidateRepresentative(details, CallerContext.Current.Actor, clock.GetUtcNow());
            if (representative is null) outcome = Outcome<GuarantorView>.Failure(errors);
            else
            {
                guarantor.State.Representative = representative;
                await PersistAsync("guarantor.representative.set", $"kind={details.Kind}");
                await ReevaluateAccountsAsync(); // a deferred contact may now go to the representative
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.representative.set", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"kind={details.Kind}");
        return outcome;
    }

    public async Task<Outcome<GuarantorView>> RemoveRepresentative(string? note)
    {
        Outcome<GuarantorView> outcome;
        var errors = new ErrorList();
        Text.Require(note, "note", 500, errors);
        if (!guarantor.State.IsRegistered)
            outcome = Outcome<GuarantorView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id."));
        else if (guarantor.State.Representative is null)
            outcome = Outcome<GuarantorView>.Failure(DomainError.Conflict("representative.none", "No representative is recorded for this guarantor."));
        else if (errors.Any)
            outcome = Outcome<GuarantorView>.Failure(errors.Errors.Select(e => e with { Message = "Say why the representation ended (note)." }).ToList());
        else
        {
            guarantor.State.Representative = null;
            await PersistAsync("guarantor.representative.remove", Text.Clean(note));
            await ReevaluateAccountsAsync();
            outcome = Outcome<GuarantorView>.Success(View());
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.representative.remove", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), Text.Clean(note));
        return outcome;
    }

    public async Task<Outcome<GuarantorView>> PlaceHold(HoldRequest request)
    {
        Outcome<GuarantorView> outcome;
        if (!guarantor.State.IsRegistered)
            outcome = Outcome<GuarantorView>.Failure(DomainError.NotFound("guarantor.not-found", "No guarantor has this id."));
        else if (HoldRules.RepeatOf(request, guarantor.State.Holds) is var (earlier, keyError) && (earlier is not null || keyError is not null))
        {
            // Sent again (the same Idempotency-Key, or a double click): the hold placed the first time, nothing changed.
            outcome = keyError is not null ? Outcome<GuarantorView>.Failure(keyError) : Outcome<GuarantorView>.Success(View()) with { Replayed = true };
            await audit.RecordAsync(clock, keyError is null ? "guarantor.hold.replay" : "guarantor.hold.place", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors),
                $"reason={request.Reason}{(earlier is null ? "" : $";of={earlier.HoldId}")}");
            return outcome;
        }
        else
        {
            var (hold, errors) = HoldRules.Place(request, guarantor.State.Holds, CallerContext.Current.Actor, clock.GetUtcNow());
            if (hold is null) outcome = Outcome<GuarantorView>.Failure(errors);
            else
            {
                guarantor.State.Holds.Add(hold);
                await PersistAsync("guarantor.hold.place", $"reason={request.Reason}");
                await ReevaluateAccountsAsync();
                outcome = Outcome<GuarantorView>.Success(View());
            }
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.hold.place", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"reason={request.Reason}");
        return outcome;
    }

    public async Task<Outcome<GuarantorView>> ReleaseHold(string holdId, string? note)
    {
        var (released, errors) = HoldRules.Release(holdId, note, guarantor.State.Holds, CallerContext.Current.Actor, clock.GetUtcNow());
        Outcome<GuarantorView> outcome;
        if (released is null) outcome = Outcome<GuarantorView>.Failure(errors);
        else
        {
            guarantor.State.Holds[guarantor.State.Holds.FindIndex(h => h.HoldId == holdId)] = released;
            await PersistAsync("guarantor.hold.release", $"hold={holdId}");
            await ReevaluateAccountsAsync();
            outcome = Outcome<GuarantorView>.Success(View());
        }
        if (!outcome.Succeeded) await audit.RecordAsync(clock, "guarantor.hold.release", Resource, Id, AuditExtensions.OutcomeOf(outcome.Errors), $"hold={holdId}");
        return outcome;
    }

    public async Task<ReplyHandling> RecordReply(InboundReply reply)
    {
        if (!guarantor.State.IsRegistered || !ReplyKeywords.IsOptOut(reply.Text))
        {
            await audit.RecordAsync(clock, "guarantor.reply", Resource, Id, "ignored", $"channel={reply.Channel}");
            return new ReplyHandling { OptedOut = false, ConfirmationSent = false, Reason = "Not a revocation; unless it is a plain acknowledgement, it goes to the review queue." };
        }
        var now = clock.GetUtcNow();
        var channel = reply.Channel == ContactChannel.Voice ? ContactChannel.AutomatedVoice : reply.Channel;
        var keyword = reply.Text.Trim().ToUpperInvariant();
        // Already opted out: record the repeat as evidence, but the one confirmation was for the first revocation.
        var alreadyOptedOut = GuarantorRules.CurrentConsents(guarantor.State.ConsentHistory).TryGetValue(channel, out var current)
                              && current.Status == ConsentStatus.OptedOut;
        // The channel it came by, and every channel it names ("stop calling me" closes calls as well as texts).
        foreach (var closed in ReplyKeywords.ChannelsRevoked(reply.Text, reply.Channel))
            guarantor.State.ConsentHistory.Add(new ChannelConsent
            {
                Channel = closed, Status = ConsentStatus.OptedOut, Source = $"{channel} reply \"{(keyword.Length > 20 ? keyword[..20] : keyword)}\"",
                RecordedAt = now, RecordedBy = CallerContext.Current.Actor,
            });
        // The confirmation text below is a contact of its own, with its own record ("guarantor.contact").
        await PersistAsync("guarantor.reply.opt-out", $"channel={channel}");

        var confirmed = false;
        if (channel == ContactChannel.Sms && !alreadyOptedOut)
        {
            var account = guarantor.State.Accounts.FirstOrDefault();
            var result = await RequestContact(new ContactPermitRequest
            {
                RequestId = $"{Id}/opt-out-confirmation/{now.UtcTicks}",
                Account = account == default ? new AccountKey("NONE", "NONE") : account,
                Action = OutreachAction.OptOutConfirmation,
                Channel = ContactChannel.Sms,
                Initiator = ContactInitiator.Engine,
                PatientResponsibility = 0m,
            });
            confirmed = result.Decision.Verdict == GateVerdict.Allow && !result.Replayed;
        }
        return new ReplyHandling { OptedOut = true, ConfirmationSent = confirmed };
    }

    public async Task RecordCall(AccountKey account, ContactInitiator initiator, ContactOutcome outcome, string requestId)
    {
        if (guarantor.State.ContactHistory.Any(a => a.RequestId == requestId)) return;
        guarantor.State.ContactHistory.Add(new ContactAttempt
        {
            RequestId = requestId, Account = account, Action = OutreachAction.CallTask, Channel = ContactChannel.Voice,
            Initiator = initiator, At = clock.GetUtcNow(), Outcome = outcome,
        });
        await PersistAsync("guarantor.call.record", $"account={account};outcome={outcome};initiator={initiator}");
    }

    /// <summary>Tells each of the person's accounts to look at its cadence again: one-way, so nothing here waits on an account.</summary>
    private async Task ReevaluateAccountsAsync()
    {
        foreach (var account in guarantor.State.Accounts)
            await grains.GetGrain<IPatientAccountGrain>(account.ToString()).Reevaluate(); // [OneWay]: returns at once
    }

    private MessageRequest Message(ContactPermitRequest request, GuarantorProfile profile)
    {
        // A represented guarantor's messages go to the representative, addressed as such.
        var representative = guarantor.State.Representative;
        var recipientName = representative is null ? $"{profile.FirstName} {profile.LastName}"
            : representative.Kind == RepresentativeKind.Estate ? $"Estate of {profile.FirstName} {profile.LastName}, c/o {representative.Name}"
            : $"{representative.Name}{(representative.Organization is { } firm ? ", " + firm : "")}, attorney for {profile.FirstName} {profile.LastName}";
        if (representative is not null) profile = GuarantorRules.ContactProfile(profile, representative);
        var channel = request.Channel ?? ContactChannel.Mail;
        var recipient = channel switch
        {
            ContactChannel.Email => profile.Email!,
            ContactChannel.Sms => profile.Phones.First(p => p.Type == PhoneType.Mobile).Number!,
            // The postal address only: the name travels as RecipientName and heads the address block.
            _ => string.Join('\n', new[] { profile.Address.Line1, profile.Address.Line2, $"{profile.Address.City}, {profile.Address.State} {profile.Address.Zip}" }.Where(l => !string.IsNullOrWhiteSpace(l))),
        };
        return new MessageRequest
        {
            MessageId = request.RequestId,
            Channel = channel,
            Action = request.Action,
            Facility = request.Account.Facility,
            AccountNumber = request.Account.AccountNumber,
            GuarantorId = Id,
            RecipientName = recipientName,
            Recipient = recipient,
            AmountDue = Money.Normalize(Math.Max(request.PatientResponsibility, 0m)),
            DueDate = request.DueDate,
            StatementLines = request.StatementLines.Select(l => new StatementLine(l.Date, l.Description, l.Amount, StatementLine.KindOf(l.Kind))).ToList(),
            PolicyReference = request.PolicyReference,
        };
    }

    /// <summary>Writes the state with the audit record of the change made ("ok") and the message it made, if any: all commit, or none.</summary>
    private async Task PersistAsync(string action, string? detail = null, PreparedMessage? message = null)
    {
        try
        {
            // Group-committed with other grains' states (GroupCommitGrainStorage, which takes the SQLite write turn itself).
            if (!await guarantor.WriteStateAsync(audit, AuditExtensions.Event(clock, action, Resource, Id, "ok", detail), message) && message is not null)
                await outreach.StoreAsync(message); // a storage other than the engine's did not take it: stored after the contact
        }
        catch
        {
            // The in-memory state is ahead of storage: drop this activation so the next call reloads what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    private GuarantorView View() => new()
    {
        GuarantorId = Id,
        Profile = guarantor.State.Profile!,
        Consents = GuarantorRules.CurrentConsents(guarantor.State.ConsentHistory).Values.OrderBy(c => c.Channel).ToList(),
        Accounts = guarantor.State.Accounts.ToList(),
        RegisteredAt = guarantor.State.RegisteredAt,
        Holds = guarantor.State.Holds.ToList(),
        RecentContacts = guarantor.State.ContactHistory.AsEnumerable().Reverse().Take(50).ToList(),
        Representative = guarantor.State.Representative,
    };
}
