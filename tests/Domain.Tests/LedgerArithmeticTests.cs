using Collections.Domain;
using static Collections.Domain.Tests.LedgerBuilder;

namespace Collections.Domain.Tests;

public sealed class LedgerArithmeticTests
{
    [Fact]
    public void A_charge_then_a_patient_payment_leaves_the_difference_owed_by_the_patient()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(250.00m));
        ledger.Post(PatientPayment(40.00m));

        Assert.Equal(210.00m, ledger.Balances.Balance);
        Assert.Equal(210.00m, ledger.Balances.PatientResponsibility);
        Assert.Equal(0m, ledger.Balances.InsurancePending);
        Assert.Equal(0m, ledger.Balances.CreditBalance);
    }

    [Fact]
    public void Insurance_paying_late_after_the_patient_paid_part_of_their_share_leaves_the_patient_owing_nothing_and_the_account_in_credit()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(300.00m));
        ledger.Post(ToPatient(300.00m));      // insurance said: the patient's share
        ledger.Post(PatientPayment(100.00m));
        ledger.Post(InsurancePayment(300.00m)); // then insurance paid after all

        Assert.Equal(200.00m, ledger.Balances.PatientBalance);   // the patient's side of the ledger
        Assert.Equal(-100.00m, ledger.Balances.Balance);
        Assert.Equal(0m, ledger.Balances.PatientResponsibility);  // decided on the whole account: nothing to collect
        Assert.Equal(100.00m, ledger.Balances.CreditBalance);     // owed back: the refund workflow
    }

    [Fact]
    public void An_insured_charge_is_pending_with_insurance_until_insurance_pays_and_transfers_the_rest()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(1000.00m));
        Assert.Equal(1000.00m, ledger.Balances.InsurancePending);
        Assert.Equal(0m, ledger.Balances.PatientResponsibility);

        ledger.Post(InsurancePayment(600.00m));
        ledger.Post(Adjustment(250.00m, AdjustmentCategory.Contractual));
        ledger.Post(ToPatient(150.00m));

        Assert.Equal(0m, ledger.Balances.InsurancePending);
        Assert.Equal(150.00m, ledger.Balances.PatientResponsibility);
        Assert.Equal(150.00m, ledger.Balances.Balance);
    }

    [Fact]
    public void Paying_more_than_is_owed_creates_a_credit_balance_that_a_refund_clears()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(100.00m));
        ledger.Post(PatientPayment(130.00m));
        Assert.Equal(30.00m, ledger.Balances.CreditBalance);
        Assert.Equal(0m, ledger.Balances.PatientResponsibility);
        Assert.Equal(-30.00m, ledger.Balances.Balance);

        ledger.Post(new EntryRequest { Kind = EntryKind.Refund, Amount = 30.00m, Method = PaymentMethod.Check });
        Assert.Equal(0m, ledger.Balances.Balance);
        Assert.Equal(0m, ledger.Balances.CreditBalance);
    }

    [Fact]
    public void A_refund_larger_than_the_credit_balance_is_refused_as_a_conflict()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(100.00m));
        ledger.Post(PatientPayment(110.00m));

        var decision = ledger.Try(new EntryRequest { Kind = EntryKind.Refund, Amount = 20.00m });

        var error = Assert.Single(decision.Errors);
        Assert.Equal(ErrorKind.Conflict, error.Kind);
        Assert.Equal("refund.exceeds-credit", error.Code);
    }

    [Fact]
    public void A_reversal_undoes_exactly_the_entry_it_names()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(250.00m));
        var payment = ledger.Post(PatientPayment(40.00m));

        var reversal = ledger.Post(Reverse(payment.EntryId));

        Assert.Equal(40.00m, reversal.Amount);
        Assert.Equal(250.00m, ledger.Balances.Balance);
        Assert.Null(ledger.Balances.LastPatientPaymentDate);
        Assert.Equal(3, ledger.Entries.Count);
    }

    [Fact]
    public void Reversing_a_transfer_moves_the_responsibility_back()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(500.00m));
        var transfer = ledger.Post(ToPatient(200.00m));
        ledger.Post(Reverse(transfer.EntryId));

        Assert.Equal(500.00m, ledger.Balances.InsurancePending);
        Assert.Equal(0m, ledger.Balances.PatientResponsibility);
    }

    [Fact]
    public void An_entry_can_be_reversed_only_once_and_a_reversal_cannot_be_reversed()
    {
        var ledger = new LedgerBuilder();
        var charge = ledger.Post(Charge(100.00m));
        var reversal = ledger.Post(Reverse(charge.EntryId));

        Assert.Equal("entry.already-reversed", Assert.Single(ledger.Try(Reverse(charge.EntryId)).Errors).Code);
        Assert.Equal("reversal.of-reversal", Assert.Single(ledger.Try(Reverse(reversal.EntryId)).Errors).Code);
    }

    [Fact]
    public void Reversing_an_entry_that_does_not_exist_is_not_found()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(100.00m));

        var error = Assert.Single(ledger.Try(Reverse("E99")).Errors);

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Equal("reversesEntryId", error.Field);
    }

    [Fact]
    public void A_transfer_cannot_move_more_than_insurance_still_owes()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(100.00m));

        var error = Assert.Single(ledger.Try(ToPatient(100.01m)).Errors);

        Assert.Equal("transfer.exceeds-balance", error.Code);
    }

    [Fact]
    public void Charity_and_bad_debt_adjustments_reduce_what_the_patient_owes_and_contractual_ones_what_insurance_owes()
    {
        var ledger = new LedgerBuilder();
        ledger.Post(Charge(300.00m, ResponsibleParty.Patient));
        ledger.Post(Charge(300.00m, ResponsibleParty.Insurance));
        ledger.Post(Adjustment(100.00m, AdjustmentCategory.Charity));
        ledger.Post(Adjustment(50.00m, AdjustmentCategory.BadDebt));
        ledger.Post(Adjustment(120.00m, AdjustmentCategory.Contractual));

        Assert.Equal(150.00m, ledger.Balances.PatientResponsibility);
        Assert.Equal(180.00m, ledger.Balances.InsurancePending);
    }

    [Fact]
    public void The_last_patient_payment_date_is_the_latest_payment_not_reversed()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(500.00m));
        ledger.Post(PatientPayment(10.00m) with { EffectiveDate = new DateOnly(2026, 10, 5) });
        var later = ledger.Post(PatientPayment(10.00m) with { EffectiveDate = new DateOnly(2026, 11, 5) });
        Assert.Equal(new DateOnly(2026, 11, 5), ledger.Balances.LastPatientPaymentDate);

        ledger.Post(Reverse(later.EntryId));
        Assert.Equal(new DateOnly(2026, 10, 5), ledger.Balances.LastPatientPaymentDate);
    }

    [Fact]
    public void Amounts_are_kept_to_the_cent_without_drift_over_many_entries()
    {
        var ledger = new LedgerBuilder { Facts = new AccountFacts(HasInsurance: false) };
        ledger.Post(Charge(1000.00m));
        for (var i = 0; i < 300; i++) ledger.Post(PatientPayment(0.10m));

        Assert.Equal(970.00m, ledger.Balances.Balance);
    }
}

public sealed class IncrementalBalanceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Balances_worked_out_from_the_entries_a_command_appends_equal_the_ledgers_own_whatever_was_posted(int seed)
    {
        var random = new Random(seed);
        var ledger = new List<LedgerEntry>();
        var kinds = new[] { EntryKind.Charge, EntryKind.InsurancePayment, EntryKind.PatientPayment, EntryKind.Adjustment, EntryKind.Transfer, EntryKind.Refund, EntryKind.Reversal };
        var balances = AccountBalances.Of(ledger);
        for (var command = 0; command < 200; command++)
        {
            var from = ledger.Count;
            for (var n = random.Next(1, 4); n > 0; n--) // a command appends one entry, or a batch a few
            {
                var kind = kinds[random.Next(kinds.Length)];
                if (kind == EntryKind.Reversal && ledger.Count == 0) kind = EntryKind.Charge;
                var id = $"E{ledger.Count + 1}";
                ledger.Add(new LedgerEntry
                {
                    EntryId = id, Kind = kind, Amount = random.Next(1, 50_000) / 100m, EffectiveDate = new DateOnly(2026, 1, 1).AddDays(random.Next(300)),
                    PostedAt = DateTimeOffset.UnixEpoch.AddDays(ledger.Count), IdempotencyKey = id, PostedBy = "test",
                    Party = random.Next(2) == 0 ? ResponsibleParty.Patient : ResponsibleParty.Insurance,
                    Direction = random.Next(2) == 0 ? TransferDirection.InsuranceToPatient : TransferDirection.PatientToInsurance,
                    ReversesEntryId = kind == EntryKind.Reversal ? ledger[random.Next(ledger.Count)].EntryId : null,
                });
            }
            balances = AccountBalances.After(balances, ledger, from);
            Assert.Equal(AccountBalances.Of(ledger), balances);
        }
    }
}
