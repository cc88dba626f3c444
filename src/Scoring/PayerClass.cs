namespace Collections.Scoring;

/// <summary>The broad class of an account's primary payer, derived from the payer's name.</summary>
public enum PayerClass
{
    SelfPay,
    Medicare,
    Medicaid,
    Commercial,
    Other,
}

public static class PayerClassifier
{
    // State Medicaid programmes that do not say "Medicaid" in their name, and the large Medicaid managed-care plans.
    private static readonly string[] MedicaidNames = ["medicaid", "medi-cal", "medi cal", "masshealth", "ahcccs", "tenncare", "soonercare", "badgercare", "husky", "apple health", "chip"];
    private static readonly string[] MedicareNames = ["medicare"];
    // Government and liability payers that are neither Medicare, Medicaid nor a commercial health plan.
    private static readonly string[] OtherNames = ["tricare", "champva", "veterans", " va ", "workers comp", "workers' comp", "workerscomp", "auto ", "motor vehicle", "liability", "indian health"];
    private static readonly string[] CommercialNames =
    [
        "aetna", "cigna", "united", "uhc", "optum", "blue cross", "blue shield", "bcbs", "anthem", "elevance", "highmark", "premera", "regence",
        "humana", "kaiser", "health net", "centene", "ambetter", "oscar", "wellcare", "carefirst", "florida blue", "horizon", "emblem", "oxford",
        "meritain", "umr", "geisinger", "harvard pilgrim", "tufts", "priority health", "medical mutual", "commercial", "hmo", "ppo", "ppo ",
    ];

    /// <summary>
    /// Null or blank: self-pay. A name containing a Medicaid programme's name (checked first, so "Medicare-Medicaid plan"
    /// counts as Medicaid), then "medicare", then a government or liability payer (TRICARE, VA, workers' compensation,
    /// auto): other; a known commercial insurer or plan type (Aetna, BCBS, HMO, ...): commercial; anything else: other.
    /// </summary>
    public static PayerClass Classify(string? payer)
    {
        if (string.IsNullOrWhiteSpace(payer)) return PayerClass.SelfPay;
        var name = $" {payer.Trim().ToLowerInvariant()} ";
        if (MedicaidNames.Any(n => ContainsWord(name, n))) return PayerClass.Medicaid;
        if (MedicareNames.Any(n => name.Contains(n, StringComparison.Ordinal))) return PayerClass.Medicare;
        if (OtherNames.Any(n => name.Contains(n, StringComparison.Ordinal))) return PayerClass.Other;
        if (CommercialNames.Any(n => name.Contains(n, StringComparison.Ordinal))) return PayerClass.Commercial;
        return PayerClass.Other;
    }

    // "chip" must be a word of its own (not "chipotle"); longer names may match anywhere.
    private static bool ContainsWord(string name, string word) =>
        word.Length > 4 ? name.Contains(word, StringComparison.Ordinal) : name.Contains($" {word} ", StringComparison.Ordinal);
}
