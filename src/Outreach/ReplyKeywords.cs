namespace Collections.Outreach;

/// <summary>
/// Recognises a text reply that revokes consent to texts (TCPA): STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE.
/// The rule: ignoring case, punctuation and extra spaces, the whole reply is one keyword ("Stop", "stop.", " STOP!",
/// "opt-out", "optout"), optionally with polite words around it ("Stop please", "please unsubscribe", "STOP thank you").
/// Any other reply ("don't stop", "stop by the office tomorrow?") is not an opt-out by keyword: it should go to a person,
/// who can still honour it as a revocation by other reasonable means.
/// </summary>
public static class ReplyKeywords
{
    public static IReadOnlyList<string> OptOutKeywords { get; } = ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"];

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "STOP", "QUIT", "END", "REVOKE", "OPTOUT", "CANCEL", "UNSUBSCRIBE", "STOPALL" };
    private static readonly HashSet<string> Polite = new(StringComparer.Ordinal) { "PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "NOW" };

    public static bool IsOptOut(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 200) return false;
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetter(c)) current.Append(char.ToUpperInvariant(c));
            else if (char.IsWhiteSpace(c) || c is '.' or ',' or '!' or '?' or ';' or ':' or '"' or '\'' or '(' or ')')
                Flush();
            // Hyphens and other marks join ("opt-out" is OPTOUT).
        }
        Flush();
        // "OPT OUT" written as two words.
        for (var i = 0; i + 1 < words.Count; i++)
        {
            if (words[i] == "OPT" && words[i + 1] == "OUT")
            {
                words[i] = "OPTOUT";
                words.RemoveAt(i + 1);
            }
        }
        var keywords = words.Count(Keywords.Contains);
        return keywords >= 1 && words.All(w => Keywords.Contains(w) || Polite.Contains(w));

        void Flush()
        {
            if (current.Length > 0) words.Add(current.ToString());
            current.Clear();
        }
    }
}
