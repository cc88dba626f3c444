using Collections.Cli.Synthea;

namespace Collections.Cli.Tests;

/// <summary>
/// Whole Synthea-shaped folders through the pure mapping: the hand-made fixture and the seeded generator. Each claim's
/// transactions must come to exactly the outstanding amounts claims.csv states, before any engine is involved.
/// </summary>
public class SyntheaFolderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "synthea");

    private sealed record Folder(List<SyntheaPatient> Patients, Dictionary<string, string> Payers, Dictionary<string, SyntheaEncounter> Encounters,
        List<SyntheaClaim> Claims, List<SyntheaTransaction> Transactions);

    private static async Task<Folder> ReadAsync(string folder)
    {
        var result = new Folder([], [], [], [], []);
        await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Patients, default))
            while (await csv.ReadAsync(default)) result.Patients.Add(csv.Patient());
        await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Payers, default))
            while (await csv.ReadAsync(default)) result.Payers[csv.Get("Id")!] = csv.Get("NAME")!;
        await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Encounters, default))
            while (await csv.ReadAsync(default)) result.Encounters[csv.Get("Id")!] = new SyntheaEncounter(csv.Get("Id")!, csv.Get("START"), csv.Get("STOP"), csv.Get("ORGANIZATION"));
        await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Claims, default))
            while (await csv.ReadAsync(default)) result.Claims.Add(csv.Claim());
        await using (var csv = await SyntheaCsv.OpenAsync(folder, SyntheaSchema.Transactions, default))
            while (await csv.ReadAsync(default)) result.Transactions.Add(csv.Transaction());
        return result;
    }

    /// <summary>Every claim planned: (claim, its plan), with the transaction rows whose claim is not in claims.csv.</summary>
    private static (List<(AccountPlan Claim, ClaimLedgerPlan Plan)> Claims, List<SyntheaTransaction> Orphans) PlanAll(Folder folder)
    {
        var byClaim = folder.Transactions.ToLookup(t => t.ClaimId);
        var planned = new List<(AccountPlan, ClaimLedgerPlan)>();
        foreach (var claim in folder.Claims)
        {
            var (account, errors) = SyntheaMapping.MapClaim(claim, folder.Encounters.GetValueOrDefault(claim.AppointmentId ?? ""), folder.Payers, facility: null);
            Assert.Empty(errors);
            planned.Add((account!, ClaimLedgerPlanner.Plan(account!, byClaim[claim.Id], Now)));
        }
        var known = folder.Claims.Select(c => c.Id).ToHashSet();
        return (planned, [.. folder.Transactions.Where(t => !known.Contains(t.ClaimId))]);
    }

    [Fact]
    public async Task Every_claim_of_the_hand_made_fixture_comes_to_exactly_its_outstanding_amounts()
    {
        var folder = await ReadAsync(Fixture);

        var (claims, orphans) = PlanAll(folder);

        Assert.Equal(7, claims.Count);
        Assert.All(claims, c => Assert.Empty(c.Plan.Errors));
        Assert.All(claims, c => Assert.Equal(c.Claim.Outstanding, c.Plan.Balances));
        Assert.Equal([new ClaimBalances(0m, 0m), new(0m, 35m), new(0m, 100m), new(0m, 0m), new(0m, 0m), new(100m, 0m), new(0m, 50m)],
            claims.Select(c => c.Plan.Balances));
        Assert.Equal(30, claims.Sum(c => c.Plan.Entries.Count));
        Assert.Equal(5, claims.Sum(c => c.Plan.RowsWithoutEntry));
        Assert.Equal(14, orphans.Single().Row); // the deliberately bad row: its claim is not in claims.csv
        Assert.Equal(["Blue Cross Blue Shield", "Blue Cross Blue Shield", null, null, "Medicare", "Medicare", "Aetna"], claims.Select(c => c.Claim.PrimaryPayer));
        var patients = folder.Patients.Select(SyntheaMapping.MapPatient).ToList();
        Assert.Equal([true, true, true, true, false], patients.Select(p => p.Plan is not null));
        Assert.Equal(("patients.csv", 6L, "BIRTHDATE"), (patients[4].Errors[0].File, patients[4].Errors[0].Row, patients[4].Errors[0].Column));
        Assert.Equal([null, null, "Deceased 2025-09-30 (Synthea patients.csv DEATHDATE)", null], patients.Take(4).Select(p => p.Plan!.DeceasedHoldNote));
    }

    [Fact]
    public async Task The_fixtures_transactions_are_not_in_claim_order()
    {
        var folder = await ReadAsync(Fixture);

        var claimOrder = folder.Transactions.Select(t => t.ClaimId).ToList();
        var runs = claimOrder.Where((c, i) => i == 0 || c != claimOrder[i - 1]).Count();

        Assert.True(runs > folder.Claims.Count + 1, "claims' rows should be interleaved");
    }

    [Fact]
    public async Task The_sample_generator_is_seeded_and_every_claim_it_writes_comes_to_its_outstanding_amounts()
    {
        var one = Directory.CreateTempSubdirectory("synthea-sample-").FullName;
        var two = Directory.CreateTempSubdirectory("synthea-sample-").FullName;
        var other = Directory.CreateTempSubdirectory("synthea-sample-").FullName;
        try
        {
            var summary = SyntheaSampleGenerator.Write(new SyntheaSampleOptions { Patients = 60, Folder = one, Seed = 7 });
            SyntheaSampleGenerator.Write(new SyntheaSampleOptions { Patients = 60, Folder = two, Seed = 7 });
            SyntheaSampleGenerator.Write(new SyntheaSampleOptions { Patients = 60, Folder = other, Seed = 8 });

            foreach (var file in SyntheaSchema.Files)
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(one, file)), await File.ReadAllBytesAsync(Path.Combine(two, file)));
            Assert.NotEqual(await File.ReadAllTextAsync(Path.Combine(one, SyntheaSchema.Transactions)), await File.ReadAllTextAsync(Path.Combine(other, SyntheaSchema.Transactions)));

            var folder = await ReadAsync(one);
            Assert.Equal((60, summary.Claims, summary.TransactionRows), (folder.Patients.Count, (long)folder.Claims.Count, (long)folder.Transactions.Count));
            Assert.All(folder.Patients, p => Assert.Empty(SyntheaMapping.MapPatient(p).Errors));
            var (claims, orphans) = PlanAll(folder);
            Assert.Empty(orphans);
            Assert.All(claims, c => Assert.Empty(c.Plan.Errors));
            Assert.All(claims, c => Assert.Equal(c.Claim.Outstanding, c.Plan.Balances));
            // Not a trivial folder: some claims owe the patient or wait for insurance, some are self-pay, some have a second payer.
            Assert.Contains(claims, c => c.Plan.Balances.Patient > 0m);
            Assert.Contains(claims, c => c.Plan.Balances.Insurance > 0m);
            Assert.Contains(claims, c => !c.Claim.Insured);
            Assert.Contains(claims, c => c.Claim.SecondaryPayer is not null);
            Assert.Equal(summary.OutstandingPatient, claims.Sum(c => c.Plan.Balances.Patient));
        }
        finally
        {
            foreach (var folder in new[] { one, two, other }) Directory.Delete(folder, recursive: true);
        }
    }
}
