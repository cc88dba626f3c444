using Collections.Domain;
using Collections.TestSupport;

namespace Collections.Remittance.Tests;

public sealed class RemittanceReaderTests
{
    [Fact]
    public void An_835_reads_into_claims_adjustments_service_lines_and_provider_adjustments()
    {
        var remittance = Assert.Single(Remittance835Reader.Read(Fixtures.TwoClaims));

        Assert.Matches("^835-[0-9a-f]{16}$", remittance.RemittanceId);
        Assert.Equal("000000123-0001", remittance.LegacyId);
        Assert.False(remittance.IsTest);
        Assert.Equal(640.00m, remittance.PaymentAmount);
        Assert.Equal("EFT-778899", remittance.TraceNumber);
        Assert.Equal("ACME HEALTH PLAN", remittance.PayerName);
        Assert.Equal(2, remittance.Claims.Count);
        var first = remittance.Claims[0];
        Assert.Equal("A1001", first.PatientControlNumber);
        Assert.Equal(600.00m, first.PaidAmount);
        Assert.Equal([("CO", "45", 250.00m), ("PR", "1", 100.00m), ("PR", "2", 50.00m)], first.AllAdjustments.Select(a => (a.Group, a.Reason, a.Amount)));
        Assert.Equal("HC:99214", first.ServiceLines.Single().Procedure);
        Assert.Equal(new DateOnly(2026, 10, 15), first.ServiceLines.Single().ServiceDate);
        Assert.Equal(("WO", "ADJ1", 10.00m), (remittance.ProviderAdjustments.Single().ReasonCode, remittance.ProviderAdjustments.Single().Reference, remittance.ProviderAdjustments.Single().Amount));
        Assert.True(remittance.IsBalanced); // 600 + 50 - 10 = 640
        Assert.Empty(remittance.Warnings);
    }

    [Fact]
    public void Line_breaks_and_crlf_between_segments_change_nothing()
    {
        var plain = Remittance835Reader.Read(Fixtures.TwoClaims).Single();
        var lf = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("~", "~\n")).Single();
        var crlf = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("~", "~\r\n")).Single();

        Assert.Equal(plain.Claims.Select(c => c.PaidAmount), lf.Claims.Select(c => c.PaidAmount));
        Assert.Equal(plain.Claims.Select(c => c.PatientControlNumber), crlf.Claims.Select(c => c.PatientControlNumber));
        Assert.Equal(plain.PaymentAmount, crlf.PaymentAmount);
    }

    [Fact]
    public void Several_interchanges_with_their_own_delimiters_are_all_read()
    {
        var other = Fixtures.TwoClaims.Replace("*", "|").Replace("~", "\n").Replace("|:\n", "|>\n")
            .Replace("HC:99214", "HC>99214").Replace("WO:ADJ1", "WO>ADJ1").Replace("000000123", "000000124");
        var both = Fixtures.TwoClaims + "\r\n" + other;

        var remittances = Remittance835Reader.Read(both);

        Assert.Equal(["000000123-0001", "000000124-0001"], remittances.Select(r => r.LegacyId));
        // The same remittance sent again in another interchange, with other delimiters, is the same remittance.
        Assert.Equal(remittances[0].RemittanceId, remittances[1].RemittanceId);
        Assert.Equal("HC:99214", remittances[1].Claims[0].ServiceLines[0].Procedure);
        Assert.All(remittances, r => Assert.True(r.IsBalanced));
    }

    [Fact]
    public void A_component_separator_used_other_than_declared_is_still_understood()
    {
        var text = Fixtures.TwoClaims.Replace("HC:99214", "HC>99214"); // ':' declared in ISA16, '>' used
        Assert.Equal("HC:99214", Remittance835Reader.Read(text).Single().Claims[0].ServiceLines[0].Procedure);
    }

    [Fact]
    public void An_unbalanced_file_reports_the_difference()
    {
        var text = Fixtures.TwoClaims.Replace("BPR*I*640.00", "BPR*I*650.00");
        var remittance = Remittance835Reader.Read(text).Single();
        Assert.False(remittance.IsBalanced);
        Assert.Equal(10.00m, remittance.Imbalance);
    }

    [Theory]
    [InlineData("CLP*A1001*1*1000.00*600.00*", "CLP*A1001*1*1000.00*6OO.00*", 9, "CLP04 (payment) is not an amount")]
    [InlineData("CAS*CO*45*250.00~", "CAS*XX*45*250.00~", 12, "CAS01 'XX' is not an adjustment group")]
    [InlineData("ST*835*0001~", "ST*837*0001~", 3, "not an 835")]
    [InlineData("IEA*1*000000123~", "", 18, "without an IEA")]
    [InlineData("CAS*CO*45*50.00~", "CAS*CO*45*10.00*1**40.00~", 15, "CAS06 has an amount (40.00) without its reason code in CAS05")]
    [InlineData("CAS*CO*45*50.00~", "CAS*CO*45*50.00**253~", 15, "CAS05 gives reason 253 without its amount in CAS06")]
    public void Malformed_input_names_the_segment_and_the_reason(string find, string replace, int segment, string reason)
    {
        var error = Assert.Throws<X12FormatException>(() => Remittance835Reader.Read(Fixtures.TwoClaims.Replace(find, replace)));
        Assert.Equal(segment, error.SegmentNumber);
        Assert.Contains(reason, error.Reason);
    }

    [Fact]
    public void Lower_case_segment_ids_and_padding_after_the_last_iea_read_as_the_same_remittance()
    {
        var expected = Remittance835Reader.Read(Fixtures.TwoClaims).Single();
        var text = Fixtures.TwoClaims.Replace("CAS*CO*45*250.00~", "cas*CO*45*250.00~") + "\r\n\u001a\0\0";

        var read = Remittance835Reader.Read(text).Single();

        Assert.Equal(expected.Claims[0].AllAdjustments, read.Claims[0].AllAdjustments);
        Assert.Equal(expected.RemittanceId, read.RemittanceId);
    }

    [Fact]
    public void A_debit_remittance_balances_when_its_claims_add_up_to_minus_its_amount()
    {
        // A reversal of 600 and a new payment of 550: the provider owes the payer 50 (BPR03 = D).
        var text = Fixtures.TwoClaims
            .Replace("BPR*I*640.00*C*", "BPR*I*60.00*D*")
            .Replace("CLP*A1001*1*1000.00*600.00*150.00*12*PCN-1~", "CLP*A1001*22*-1000.00*-600.00*-150.00*12*PCN-1~")
            .Replace("CAS*CO*45*250.00~", "CAS*CO*45*-250.00~").Replace("CAS*PR*1*100.00*1*2*50.00~", "CAS*PR*1*-100.00*1*2*-50.00~")
            .Replace("CLP*A1002*1*100.00*50.00**12*PCN-2~CAS*CO*45*50.00~", "CLP*A1002*1*1000.00*550.00**12*PCN-2~CAS*CO*45*450.00~");
        var remittance = Remittance835Reader.Read(text).Single();

        Assert.Equal(-60.00m, remittance.SignedPaymentAmount);
        Assert.True(remittance.IsBalanced, $"imbalance {remittance.Imbalance}");
        Assert.False(Remittance835Reader.Read(text.Replace("BPR*I*60.00*D*", "BPR*I*60.00*C*")).Single().IsBalanced);
    }

    [Fact]
    public void Different_remittances_that_reuse_control_numbers_keep_different_ids()
    {
        var other = Fixtures.TwoClaims.Replace("EFT-778899", "EFT-990011");
        Assert.NotEqual(Remittance835Reader.Read(Fixtures.TwoClaims).Single().RemittanceId, Remittance835Reader.Read(other).Single().RemittanceId);
    }

    [Fact]
    public void A_test_interchange_is_marked_as_test_data()
    {
        var text = Fixtures.TwoClaims.Replace("*000000123*0*P*:~", "*000000123*0*T*:~");
        Assert.True(Remittance835Reader.Read(text).Single().IsTest);
    }

    [Theory]
    [InlineData("5010")]
    [InlineData("005010")]
    [InlineData("")]
    public void A_loose_GS08_is_read_as_5010_with_a_warning_unless_empty(string version)
    {
        var remittance = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("*X*005010X221A1~", $"*X*{version}~")).Single();
        Assert.Equal(2, remittance.Claims.Count);
        if (version.Length > 0) Assert.Contains(remittance.Warnings, w => w.Reason.Contains("GS08", StringComparison.Ordinal));
    }

    [Fact]
    public void A_4010_835_is_refused()
    {
        var error = Assert.Throws<X12FormatException>(() => Remittance835Reader.Read(Fixtures.TwoClaims.Replace("005010X221A1", "004010X091A1")));
        Assert.Contains("4010", error.Reason);
    }

    [Fact]
    public void Control_numbers_repeated_in_a_file_are_warned_about()
    {
        var second = Fixtures.TwoClaims.Replace("EFT-778899", "EFT-990011");
        var remittances = Remittance835Reader.Read(Fixtures.TwoClaims + second);
        Assert.Empty(remittances[0].Warnings);
        Assert.Contains(remittances[1].Warnings, w => w.Reason.Contains("000000123 was already used", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_loops_of_one_claim_in_a_transaction_are_numbered()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*100.00*50.00**12*PCN-2~", "CLP*A1001*1*100.00*50.00**12*PCN-1~");
        var claims = Remittance835Reader.Read(text).Single().Claims;
        Assert.Equal([1, 2], claims.Select(c => c.Occurrence));
    }

    [Fact]
    public void Text_that_is_not_x12_is_refused_at_the_first_segment()
    {
        var error = Assert.Throws<X12FormatException>(() => Remittance835Reader.Read("patient,amount\nA1,10.00\n"));
        Assert.Equal(1, error.SegmentNumber);
    }
}

public sealed class SharedSampleTests
{
    private static readonly string[] Files =
    [
        "lfh_cob-contractural-adjustment.835", "lfh_managed-care.835", "lfh_medicare-part-a.835", "lfh_secondary-payment.835", "lfh_tertiary-payment.835",
    ];

    [SharedSampleFact]
    public void Every_public_sample_reads_and_balances()
    {
        foreach (var file in Files)
        {
            var remittance = Assert.Single(Remittance835Reader.Read(Fixtures.Sample(file)));
            Assert.True(remittance.IsBalanced, $"{file}: off by {remittance.Imbalance}");
            Assert.NotEmpty(remittance.Claims);
        }
    }

    [SharedSampleFact]
    public void No_public_sample_is_warned_about_its_envelope_trailers()
    {
        foreach (var file in Files)
            Assert.DoesNotContain(Remittance835Reader.Read(Fixtures.Sample(file)).Single().Warnings,
                w => w.Reason.Contains("trailer", StringComparison.Ordinal) || w.Reason.StartsWith("GE01", StringComparison.Ordinal) || w.Reason.StartsWith("IEA01", StringComparison.Ordinal));
    }

    [SharedSampleFact]
    public void The_medicare_file_balances_only_with_its_provider_level_adjustment()
    {
        var remittance = Remittance835Reader.Read(Fixtures.Sample("lfh_medicare-part-a.835")).Single();
        Assert.Equal(-1.27m, remittance.ProviderAdjustments.Single().Amount);
        Assert.Equal(149998.73m, remittance.ClaimPaymentsTotal);
        Assert.Equal(150000.00m, remittance.PaymentAmount);
        Assert.True(remittance.IsBalanced);
    }

    [SharedSampleFact]
    public void A_payment_date_that_is_missing_or_not_a_date_is_reported_and_the_entries_take_the_day_they_post()
    {
        var invalid = Remittance835Reader.Read(Fixtures.Sample("lfh_managed-care.835")).Single(); // BPR16 "20002316"
        Assert.Null(invalid.PaymentDate);
        Assert.Contains(invalid.Warnings, w => w.Reason.Contains("BPR16 (the payment date) '20002316' is not a date", StringComparison.Ordinal));
        var missing = Remittance835Reader.Read(Fixtures.Sample("lfh_secondary-payment.835")).Single();
        Assert.Contains(missing.Warnings, w => w.Reason.Contains("BPR16 (the payment date) is missing", StringComparison.Ordinal));
        Assert.DoesNotContain(Remittance835Reader.Read(Fixtures.Sample("lfh_medicare-part-a.835")).Single().Warnings, w => w.Reason.Contains("BPR16", StringComparison.Ordinal));
    }

    [SharedSampleFact]
    public void The_malformed_service_line_is_reported_and_the_claim_still_posts_from_its_totals()
    {
        var remittance = Remittance835Reader.Read(Fixtures.Sample("lfh_tertiary-payment.835")).Single();
        var warning = Assert.Single(remittance.Warnings, w => w.Reason.Contains("SVC01", StringComparison.Ordinal));
        Assert.Equal(20, warning.SegmentNumber);
    }

    [SharedSampleFact]
    public void Posting_each_sample_to_accounts_charged_for_its_claims_leaves_the_balances_the_file_states()
    {
        foreach (var file in Files)
        {
            var remittance = Remittance835Reader.Read(Fixtures.Sample(file)).Single();
            foreach (var claim in remittance.Claims)
            {
                var plan = RemittancePosting.Plan(remittance, claim, Fixtures.ChargedTo(claim.ChargeAmount));
                // The COB sample's claim nets its other adjustments below zero once the prior payers' amount (OA-23) is
                // left to their own remittances (OA-94 -9.00: paid in excess of the charge): a person posts that one.
                if (claim.AllAdjustments.Where(a => a.Group is "OA" or "CR" && !RemittancePosting.IsPriorPayerImpact(a)).Sum(a => a.Amount) < 0)
                {
                    Assert.Contains("negative amount", plan.Problem);
                    continue;
                }
                Assert.Null(plan.Problem);
                var ledger = Fixtures.Apply(Fixtures.ChargedTo(claim.ChargeAmount), plan.Entries);
                var balances = AccountBalances.Of(ledger);
                var patientShare = claim.AllAdjustments.Where(a => a.Group == "PR").Sum(a => a.Amount);
                // A secondary or tertiary payer's prior-payer amount (OA-23) is what the earlier payers' own remittances
                // post: charged here without them, it stays with insurance.
                var notAdjudicated = claim.ChargeAmount - claim.PaidAmount - claim.AllAdjustments.Where(a => !RemittancePosting.IsPriorPayerImpact(a)).Sum(a => a.Amount);
                Assert.Equal(patientShare, balances.PatientResponsibility);
                Assert.Equal(notAdjudicated, balances.InsuranceBalance);
                Assert.Contains(ledger, e => e.Kind == EntryKind.InsurancePayment && e.Amount == claim.PaidAmount);
            }
        }
    }
}

public sealed class RemittancePostingTests
{
    private static Remittance835 Remittance => Remittance835Reader.Read(Fixtures.TwoClaims).Single();

    [Fact]
    public void A_claim_posts_payment_contractual_adjustment_and_patient_share_in_that_order()
    {
        var plan = RemittancePosting.Plan(Remittance, Remittance.Claims[0], Fixtures.ChargedTo(1000m));

        Assert.Equal([EntryKind.InsurancePayment, EntryKind.Adjustment, EntryKind.Transfer], plan.Entries.Select(e => e.Kind!.Value));
        Assert.Equal("CO-45", plan.Entries[1].ReasonCode);
        Assert.Equal(AdjustmentCategory.Contractual, plan.Entries[1].Category);
        Assert.Equal("PR-1,PR-2", plan.Entries[2].ReasonCode);
        Assert.Equal(150.00m, plan.Entries[2].Amount);
        Assert.Contains("HC:99214", plan.Entries[0].Note);
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), plan.Entries);
        Assert.Equal(150.00m, AccountBalances.Of(ledger).PatientResponsibility);
        Assert.Equal(0m, AccountBalances.Of(ledger).InsurancePending);
    }

    /// <summary>One 835 transaction around the given claim segments, paying <paramref name="paid"/> on <paramref name="paymentDate"/> (BPR16).</summary>
    [Fact]
    public void Trailers_that_disagree_with_their_headers_are_told_on_the_transactions_they_close()
    {
        const string transaction = "ST*835*{st}~BPR*I*0.00*C*NON************20261101~TRN*1*T-{st}*1234567890~N1*PR*ACME HEALTH PLAN~LX*1~CLP*A{st}*1*10.00*0.00**12*X{st}~CAS*CO*45*10.00~SE*8*{se}~";
        var text = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000406*0*P*:~GS*HP*PAYER*HOSPITAL*20261101*0900*11*X*005010X221A1~" +
                   transaction.Replace("{st}", "0001").Replace("{se}", "0009") + transaction.Replace("{st}", "0002").Replace("{se}", "0002") +
                   "GE*5*12~IEA*1*000000999~";

        var read = Remittance835Reader.Read(text);

        Assert.Equal(2, read.Count);
        Assert.Contains(read[0].Warnings, w => w.Reason.StartsWith("SE02 is 0009, but the transaction's ST02", StringComparison.Ordinal));
        Assert.DoesNotContain(read[1].Warnings, w => w.Reason.StartsWith("SE02", StringComparison.Ordinal));
        foreach (var remittance in read)
        {
            Assert.Contains(remittance.Warnings, w => w.Reason == "GE01 says 5 transaction(s); the group holds 2.");
            Assert.Contains(remittance.Warnings, w => w.Reason.StartsWith("GE02 is 12, but the group's GS06", StringComparison.Ordinal));
            Assert.Contains(remittance.Warnings, w => w.Reason.StartsWith("IEA02 is 000000999, but the interchange's ISA13 (segment 1) is 000000406", StringComparison.Ordinal));
            Assert.DoesNotContain(remittance.Warnings, w => w.Reason.StartsWith("IEA01", StringComparison.Ordinal));
            Assert.Equal(1, remittance.InterchangeSegment);
        }
    }

    [Theory]
    [InlineData("70.005")]
    [InlineData("70.001")]
    public void An_amount_with_a_fraction_of_a_cent_is_refused_naming_its_segment_and_element(string amount)
    {
        var refused = Assert.Throws<X12FormatException>(() => Single(70.01m, "20261101", $"CLP*A1*1*100.00*{amount}**12*X", "CAS*CO*45*29.99"));
        Assert.Contains($"CLP04 (payment) is {amount}: amounts are dollars and cents, at most two decimal places", refused.Message, StringComparison.Ordinal);
        // Zeros past the cents are the same amount.
        Assert.Equal(70.00m, Single(70.00m, "20261101", "CLP*A1*1*100.00*70.000**12*X", "CAS*CO*45*30.00").Claims[0].PaidAmount);
    }

    private static Remittance835 Single(decimal paid, string paymentDate, params string[] claimSegments)
    {
        var body = new List<string>
        {
            "ST*835*0001", $"BPR*I*{paid:0.00}*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*{paymentDate}", "TRN*1*EFT-1*1234567890",
            "N1*PR*ACME HEALTH PLAN", "N1*PE*GENERAL HOSPITAL*XX*1999999999", "LX*1",
        };
        body.AddRange(claimSegments);
        body.Add($"SE*{body.Count + 1}*0001");
        var text = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HOSPITAL       *261101*0900*^*00501*000000123*0*P*:~" +
                   "GS*HP*PAYER*HOSPITAL*20261101*0900*7*X*005010X221A1~" + string.Join("~", body) + "~GE*1*7~IEA*1*000000123~";
        return Remittance835Reader.Read(text).Single();
    }

    [Fact]
    public void A_secondary_payers_prior_payer_amount_is_not_written_off_again_and_leaves_no_credit()
    {
        // The primary pays 700, writes off 200 and forwards the patient's 100 coinsurance to the secondary (status 19).
        var primary = Single(700m, "20261101", "CLP*ACC1*19*1000.00*700.00*100.00*12*ICN1", "CAS*CO*45*200.00", "CAS*PR*2*100.00");
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(primary, primary.Claims[0], Fixtures.ChargedTo(1000m)).Entries);
        Assert.Equal(100.00m, AccountBalances.Of(ledger).InsuranceBalance);

        // The secondary pays the 100; OA-23 (900) is the primary's payment and write-off, which its own remittance posted.
        var secondary = Single(100m, "20261102", "CLP*ACC1*2*1000.00*100.00**12*ICN2", "CAS*OA*23*900.00");
        var plan = RemittancePosting.Plan(secondary, secondary.Claims[0], ledger);
        Assert.Null(plan.Problem);
        var entry = Assert.Single(plan.Entries);
        Assert.Equal((EntryKind.InsurancePayment, 100.00m), (entry.Kind!.Value, entry.Amount!.Value));

        var balances = AccountBalances.Of(Fixtures.Apply(ledger, plan.Entries));
        Assert.Equal(0m, balances.InsuranceBalance);
        Assert.Equal(0m, balances.CreditBalance);
        Assert.Equal(0m, balances.PatientResponsibility);
    }

    [Fact]
    public void A_claim_that_does_not_balance_waits_for_a_person_instead_of_posting_in_part()
    {
        // The file lost CAS*PR*1*150.00: 1000 charged, 600 paid, 250 written off, 150 unexplained.
        var remittance = Single(600m, "20261101", "CLP*A1*1*1000.00*600.00**12*X", "CAS*CO*45*250.00");

        var plan = RemittancePosting.Plan(remittance, remittance.Claims[0], Fixtures.ChargedTo(1000m));

        Assert.Contains("does not balance", plan.Problem);
        Assert.Contains("150.00", plan.Problem);
        Assert.Empty(plan.Entries);
    }

    [Fact]
    public void Patient_responsibility_with_a_blank_clp05_waits_for_a_person_instead_of_billing_the_patient()
    {
        var remittance = Single(70m, "20261101", "CLP*R12*1*100.00*70.00**12*CLAIMR12", "CAS*PR*1*30.00");

        var plan = RemittancePosting.Plan(remittance, remittance.Claims[0], Fixtures.ChargedTo(100m));

        Assert.Contains("CLP05", plan.Problem);
        Assert.DoesNotContain(plan.Entries, e => e.Kind == EntryKind.Transfer);
    }

    [Fact]
    public void A_remittance_dated_after_today_posts_as_of_today_and_replays_when_sent_again_after_that_day()
    {
        var remittance = Single(600m, "20261105", "CLP*A1*1*1000.00*600.00*150.00*12*PCN-1", "CAS*CO*45*250.00", "CAS*PR*1*150.00");
        var today = new DateOnly(2026, 11, 2);

        var plan = RemittancePosting.Plan(remittance, remittance.Claims[0], Fixtures.ChargedTo(1000m), today: today);
        Assert.All(plan.Entries, e => Assert.Equal(today, e.EffectiveDate));
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), plan.Entries);
        var count = ledger.Count;

        // Sent again on the 6th, after its payment date: the same entries under the same keys, so they replay.
        var again = RemittancePosting.Plan(remittance, remittance.Claims[0], ledger, today: new DateOnly(2026, 11, 6));
        Fixtures.Apply(ledger, again.Entries);
        Assert.Equal(count, ledger.Count);
        Assert.Equal(new DateOnly(2026, 11, 5), RemittancePosting.EffectiveDate(remittance, new DateOnly(2026, 11, 6)));
    }

    [Fact]
    public void The_same_payment_resent_in_a_file_that_differs_only_in_form_posts_nothing_twice()
    {
        var first = Remittance;
        // Resent: a trailing separator, amounts written without their decimals, and a production date added.
        var resent = Remittance835Reader.Read(Fixtures.TwoClaims
            .Replace("CLP*A1001*1*1000.00*600.00*150.00*12*PCN-1~", "CLP*A1001*1*1000*600*150*12*PCN-1*~")
            .Replace("N1*PR*ACME HEALTH PLAN~", "DTM*405*20261102~N1*PR*ACME HEALTH PLAN~")
            .Replace("SE*15*0001~", "SE*16*0001~")).Single();
        Assert.NotEqual(first.RemittanceId, resent.RemittanceId);
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(first, first.Claims[0], Fixtures.ChargedTo(1000m)).Entries);

        var again = RemittancePosting.Plan(resent, resent.Claims[0], ledger);

        Assert.Null(again.Problem);
        Assert.Empty(again.Entries);
        // Another payment (another trace number) of the same claim and amount still posts.
        var other = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("EFT-778899", "EFT-990011")).Single();
        Assert.NotEmpty(RemittancePosting.Plan(other, other.Claims[0], ledger).Entries);
    }

    [Fact]
    public void A_resent_file_with_two_loops_of_one_claim_recognises_each_loop_by_its_own_place()
    {
        // One claim paid in two loops (100 and 50), posted; then the same payment resent in another form.
        var two = "CLP*A1*1*300.00*100.00**12*ICN7~CAS*CO*45*200.00~CLP*A1*1*300.00*50.00**12*ICN7~CAS*CO*45*250.00~";
        var first = Single(150m, "20261101", two.TrimEnd('~').Split('~'));
        var ledger = Fixtures.ChargedTo(1000m);
        foreach (var claim in first.Claims) Fixtures.Apply(ledger, RemittancePosting.Plan(first, claim, ledger).Entries);
        var posted = ledger.Count;
        var resent = Single(150m, "20261101", ["DTM*405*20261102", .. two.Replace("*12*ICN7~", "*12*ICN7*~").TrimEnd('~').Split('~')]);
        Assert.NotEqual(first.RemittanceId, resent.RemittanceId);

        foreach (var claim in resent.Claims) Assert.Empty(RemittancePosting.Plan(resent, claim, ledger).Entries);
        Assert.Equal(posted, ledger.Count);
    }

    [Fact]
    public void A_payer_claim_number_that_begins_with_another_is_a_claim_of_its_own()
    {
        // "C/1" posts first; "C" is another claim of the same account, not already posted.
        var remittance = Single(150m, "20261101", "CLP*A1*1*300.00*100.00**12*C/1", "CAS*CO*45*200.00", "CLP*A1*1*300.00*50.00**12*C", "CAS*CO*45*250.00");
        var ledger = Fixtures.ChargedTo(1000m);
        Fixtures.Apply(ledger, RemittancePosting.Plan(remittance, remittance.Claims[0], ledger).Entries);

        var second = RemittancePosting.Plan(remittance, remittance.Claims[1], ledger);

        Assert.Contains(second.Entries, e => e.Kind == EntryKind.InsurancePayment && e.Amount == 50.00m);
    }

    [Fact]
    public void A_claim_that_pays_nothing_resent_in_another_form_does_not_adjust_twice()
    {
        // Denied and written off by contract (status 1, paid 0, CO-45), posted; then resent with a trailing separator.
        var first = Single(0m, "20261101", "CLP*Z1*1*200.00*0.00**12*ICN9", "CAS*CO*45*200.00");
        var ledger = Fixtures.ChargedTo(200m);
        Fixtures.Apply(ledger, RemittancePosting.Plan(first, first.Claims[0], ledger).Entries);
        var resent = Single(0m, "20261101", "CLP*Z1*1*200*0**12*ICN9*", "CAS*CO*45*200");
        Assert.NotEqual(first.RemittanceId, resent.RemittanceId);

        Assert.Empty(RemittancePosting.Plan(resent, resent.Claims[0], ledger).Entries);
        // Adjudicated again on another payment date: that is new, and posts.
        var later = Single(0m, "20261120", "CLP*Z1*1*200.00*0.00**12*ICN9", "CAS*CO*45*200.00");
        Assert.NotEmpty(RemittancePosting.Plan(later, later.Claims[0], ledger).Entries);
        Assert.Equal(0m, AccountBalances.Of(ledger).Balance);
    }

    [Fact]
    public void A_denial_a_person_matched_once_is_not_sent_to_a_person_again_when_resent_in_another_form()
    {
        // A denial waits for a person; matched, its planned entries post. Resent in another form, it posts nothing more
        // and asks nobody.
        var first = Single(0m, "20261101", "CLP*Z2*4*300.00*0.00**12*ICN4", "CAS*CO*97*300.00");
        var plan = RemittancePosting.Plan(first, first.Claims[0], Fixtures.ChargedTo(300m));
        Assert.NotNull(plan.Problem);
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(300m), plan.Entries);
        var resent = Single(0m, "20261101", "CLP*Z2*4*300*0**12*ICN4", "CAS*CO*97*300");

        var again = RemittancePosting.Plan(resent, resent.Claims[0], ledger);

        Assert.Null(again.Problem);
        Assert.Empty(again.Entries);
    }

    [Fact]
    public void Entries_a_person_would_match_that_the_account_holds_from_another_remittance_are_recognised_until_reversed()
    {
        var first = Single(0m, "20261101", "CLP*Z3*4*300.00*0.00**12*ICN5", "CAS*CO*97*300.00");
        var firstPlan = RemittancePosting.Plan(first, first.Claims[0], Fixtures.ChargedTo(300m)).Entries;
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(300m), firstPlan);
        var resent = Single(0m, "20261101", "CLP*Z3*4*300*0**12*ICN5", "CAS*CO*97*300");
        // What its exception keeps: the plan without the ledger (the account was not known when it was listed).
        var planned = RemittancePosting.Plan(resent, resent.Claims[0], Fixtures.ChargedTo(300m)).Entries;

        Assert.Equal(first.RemittanceId, RemittancePosting.PostedFromAnotherRemittance(planned, ledger));
        Assert.Null(RemittancePosting.PostedFromAnotherRemittance(firstPlan, ledger)); // its own entries are not another's
        Assert.Null(RemittancePosting.PostedFromAnotherRemittance(planned, Fixtures.ChargedTo(300m)));
        // Another amount is another adjudication.
        var other = Single(0m, "20261101", "CLP*Z3*4*300.00*0.00**12*ICN5", "CAS*CO*97*250.00", "CAS*PR*1*50.00");
        Assert.Null(RemittancePosting.PostedFromAnotherRemittance(RemittancePosting.Plan(other, other.Claims[0], Fixtures.ChargedTo(300m)).Entries, ledger));
        // Reversed since: the payer adjudicated again, and matching posts.
        var adjustment = ledger.Single(e => e.Kind == EntryKind.Adjustment);
        Fixtures.Apply(ledger, [new EntryRequest { Kind = EntryKind.Reversal, ReversesEntryId = adjustment.EntryId, IdempotencyKey = "undo" }]);
        Assert.Null(RemittancePosting.PostedFromAnotherRemittance(planned, ledger));
    }

    [Fact]
    public void A_prior_payers_adjudication_on_a_claim_processed_as_primary_waits_for_a_person()
    {
        var primary = Single(500m, "20261101", "CLP*A1*1*1000.00*500.00*150.00*12*X", "CAS*CO*45*250.00", "CAS*PR*1*150.00", "CAS*OA*23*100.00");
        var plan = RemittancePosting.Plan(primary, primary.Claims[0], Fixtures.ChargedTo(1000m));
        Assert.Contains("processed as primary (status 1) carries a prior payer's adjudication (OA-23, 100.00)", plan.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Entries, e => e.Amount == 100.00m && e.Kind == EntryKind.Adjustment); // matched, the rest posts
        // As secondary (2) it is what the primary already posted: left out, the rest posts.
        var secondary = Single(500m, "20261101", "CLP*A1*2*1000.00*500.00*150.00*12*X", "CAS*CO*45*250.00", "CAS*PR*1*150.00", "CAS*OA*23*100.00");
        Assert.Null(RemittancePosting.Plan(secondary, secondary.Claims[0], Fixtures.ChargedTo(1000m)).Problem);
    }

    [Fact]
    public void A_remittance_that_came_before_its_payment_date_is_recognised_when_sent_again_on_a_later_day()
    {
        // BPR16 is 11-05; the file came on 11-01 (its entries are dated that day) and again, in another form, on 11-02.
        var first = Single(0m, "20261105", "CLP*Z4*1*200.00*0.00**12*ICN8", "CAS*CO*45*200.00");
        var firstPlan = RemittancePosting.Plan(first, first.Claims[0], Fixtures.ChargedTo(200m), today: new DateOnly(2026, 11, 1)).Entries;
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(200m), firstPlan);
        var resent = Single(0m, "20261105", "CLP*Z4*1*200*0**12*ICN8*", "CAS*CO*45*200");

        Assert.Empty(RemittancePosting.Plan(resent, resent.Claims[0], ledger, today: new DateOnly(2026, 11, 2)).Entries);
        // Matched by a person from an exception planned on 11-02: the same payment date makes it the same adjudication.
        var planned = RemittancePosting.Plan(resent, resent.Claims[0], Fixtures.ChargedTo(200m), today: new DateOnly(2026, 11, 2)).Entries;
        Assert.Equal(first.RemittanceId, RemittancePosting.PostedFromAnotherRemittance(planned, ledger, _ => new DateOnly(2026, 11, 5)));
        Assert.Null(RemittancePosting.PostedFromAnotherRemittance(planned, ledger, id => id == first.RemittanceId ? new DateOnly(2026, 11, 20) : new DateOnly(2026, 11, 5)));
    }

    [Fact]
    public void Late_payment_interest_in_a_claims_payment_waits_for_a_person()
    {
        var remittance = Single(610m, "20261101", "CLP*A1*1*1000.00*610.00*150.00*12*X", "AMT*I*10.00", "CAS*CO*45*250.00", "CAS*PR*1*150.00");

        var plan = RemittancePosting.Plan(remittance, remittance.Claims[0], Fixtures.ChargedTo(1000m));

        Assert.Contains("interest", plan.Problem);
        Assert.Equal(10.00m, remittance.Claims[0].Interest);
    }

    [Fact]
    public void Posting_the_same_remittance_again_posts_nothing_twice()
    {
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(Remittance, Remittance.Claims[0], Fixtures.ChargedTo(1000m)).Entries);
        var count = ledger.Count;

        Fixtures.Apply(ledger, RemittancePosting.Plan(Remittance, Remittance.Claims[0], ledger).Entries);

        Assert.Equal(count, ledger.Count);
    }

    [Fact]
    public void A_reversal_claim_reverses_what_an_earlier_remittance_posted_for_that_claim()
    {
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(Remittance, Remittance.Claims[0], Fixtures.ChargedTo(1000m)).Entries);
        var reversalFile = Reversal(Fixtures.TwoClaims, "-600.00");
        var reversal = Remittance835Reader.Read(reversalFile).Single();

        var plan = RemittancePosting.Plan(reversal, reversal.Claims[0], ledger);
        Fixtures.Apply(ledger, plan.Entries);

        Assert.Equal(3, plan.Entries.Count);
        Assert.All(plan.Entries, e => Assert.Equal(EntryKind.Reversal, e.Kind));
        Assert.Equal(1000m, AccountBalances.Of(ledger).InsurancePending);
        Assert.Equal(0m, AccountBalances.Of(ledger).PatientResponsibility);
        // and again: nothing more
        Assert.Empty(RemittancePosting.Plan(reversal, reversal.Claims[0], ledger).Entries);
    }

    /// <summary>The first claim reversed, as the 835 guide writes a reversal: status 22 and every amount negated.</summary>
    private static string Reversal(string file, string paid) => file.Replace("000000123", "000000200")
        .Replace("BPR*I*640.00", $"BPR*I*{40.00m + decimal.Parse(paid, System.Globalization.CultureInfo.InvariantCulture):0.00}")
        .Replace("CLP*A1001*1*1000.00*600.00*150.00", $"CLP*A1001*22*-1000.00*{paid}*-150.00")
        .Replace("SVC*HC:99214*1000.00*600.00**1~", $"SVC*HC:99214*-1000.00*{paid}**1~")
        .Replace("CAS*CO*45*250.00~", "CAS*CO*45*-250.00~").Replace("CAS*PR*1*100.00*1*2*50.00~", "CAS*PR*1*-100.00*1*2*-50.00~");

    [Fact]
    public void A_reversal_whose_amounts_differ_from_the_posting_is_left_for_a_person()
    {
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(Remittance, Remittance.Claims[0], Fixtures.ChargedTo(1000m)).Entries);
        var reversal = Remittance835Reader.Read(Reversal(Fixtures.TwoClaims, "-300.00")).Single();

        var plan = RemittancePosting.Plan(reversal, reversal.Claims[0], ledger);

        Assert.Empty(plan.Entries);
        Assert.Contains("does not match", plan.Problem);
    }

    [Fact]
    public void A_reversal_sent_again_reverses_nothing_more_even_after_a_new_payment_of_the_claim()
    {
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(1000m), RemittancePosting.Plan(Remittance, Remittance.Claims[0], Fixtures.ChargedTo(1000m)).Entries);
        var reversal = Remittance835Reader.Read(Reversal(Fixtures.TwoClaims, "-600.00")).Single();
        Fixtures.Apply(ledger, RemittancePosting.Plan(reversal, reversal.Claims[0], ledger).Entries);
        // The corrected claim is paid again by a later remittance...
        var corrected = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("000000123", "000000300").Replace("EFT-778899", "EFT-CORRECTED")).Single();
        Fixtures.Apply(ledger, RemittancePosting.Plan(corrected, corrected.Claims[0], ledger).Entries);
        var paid = ledger.Where(e => e.Kind == EntryKind.InsurancePayment).Sum(e => e.Amount) - ledger.Where(e => e.Kind == EntryKind.Reversal).Count(e => ledger.Any(x => x.EntryId == e.ReversesEntryId && x.Kind == EntryKind.InsurancePayment)) * 600m;

        // ...and the reversal file arrives again: it must not reverse the corrected payment.
        Assert.Empty(RemittancePosting.Plan(reversal, reversal.Claims[0], ledger).Entries);
        Assert.Equal(600m, paid);
    }

    [Fact]
    public void A_predetermination_moves_no_money()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*100.00*50.00", "CLP*A1002*25*100.00*0.00").Replace("BPR*I*640.00", "BPR*I*590.00");
        var remittance = Remittance835Reader.Read(text).Single();
        var plan = RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m));
        Assert.Empty(plan.Entries);
        Assert.Null(plan.Problem);
        Assert.Contains("Predetermination", plan.NoMoneyReason);
    }

    [Fact]
    public void A_denial_waits_for_a_person_unless_the_facility_lets_its_groups_post()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*100.00*50.00**12*PCN-2~CAS*CO*45*50.00~", "CLP*A1002*4*100.00*0.00*25.95*12*PCN-2~CAS*CO*45*74.05~CAS*PR*96*25.95~")
            .Replace("BPR*I*640.00", "BPR*I*590.00");
        var remittance = Remittance835Reader.Read(text).Single();

        var review = RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m));
        Assert.Contains("Denied", review.Problem);
        Assert.Equal([EntryKind.Adjustment, EntryKind.Transfer], review.Entries.Select(e => e.Kind!.Value)); // what a match would post

        Assert.NotNull(RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m), new RemittanceRules { AutoPostDeniedGroups = ["CO"] }).Problem);
        var allowed = RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m), new RemittanceRules { AutoPostDeniedGroups = ["CO", "PR"] });
        Assert.Null(allowed.Problem);
        var ledger = Fixtures.Apply(Fixtures.ChargedTo(100m), allowed.Entries);
        Assert.Equal(25.95m, AccountBalances.Of(ledger).PatientResponsibility);
    }

    [Fact]
    public void A_stated_patient_responsibility_that_the_adjustments_do_not_add_up_to_is_left_for_a_person()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*100.00*50.00**", "CLP*A1002*1*100.00*50.00*20.00*");
        var remittance = Remittance835Reader.Read(text).Single();
        Assert.Contains("CLP05", RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m)).Problem);
    }

    [Fact]
    public void A_claim_forwarded_to_the_next_payer_leaves_the_patient_share_with_insurance()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1001*1*", "CLP*A1001*19*");
        var remittance = Remittance835Reader.Read(text).Single();
        var plan = RemittancePosting.Plan(remittance, remittance.Claims[0], Fixtures.ChargedTo(1000m));
        Assert.DoesNotContain(plan.Entries, e => e.Kind == EntryKind.Transfer);
        Assert.Equal(0m, AccountBalances.Of(Fixtures.Apply(Fixtures.ChargedTo(1000m), plan.Entries)).PatientResponsibility);
    }

    [Fact]
    public void Two_loops_of_one_claim_are_two_payments()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*100.00*50.00**12*PCN-2~CAS*CO*45*50.00~", "CLP*A1001*1*80.00*50.00**12*PCN-1~CAS*CO*45*30.00~");
        var remittance = Remittance835Reader.Read(text).Single();
        var ledger = Fixtures.ChargedTo(1080m);
        foreach (var claim in remittance.Claims) Fixtures.Apply(ledger, RemittancePosting.Plan(remittance, claim, ledger).Entries);
        Assert.Equal(650m, ledger.Where(e => e.Kind == EntryKind.InsurancePayment).Sum(e => e.Amount));
    }

    [Fact]
    public void A_status_the_guide_does_not_define_is_left_for_a_person()
    {
        var remittance = Remittance835Reader.Read(Fixtures.TwoClaims.Replace("CLP*A1002*1*", "CLP*A1002*7*")).Single();
        Assert.Contains("not one the 835 guide defines", RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m)).Problem);
    }

    [Fact]
    public void A_claim_the_payer_says_is_not_ours_is_left_for_a_person()
    {
        var text = Fixtures.TwoClaims.Replace("CLP*A1002*1*", "CLP*A1002*23*");
        var remittance = Remittance835Reader.Read(text).Single();
        Assert.NotNull(RemittancePosting.Plan(remittance, remittance.Claims[1], Fixtures.ChargedTo(100m)).Problem);
    }
}
