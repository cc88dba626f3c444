using System.Globalization;
using System.Text;

namespace Collections.Outreach;

/// <summary>What an inbound reply means, as far as a machine can tell.</summary>
public enum ReplyMeaning
{
    /// <summary>Revokes consent to this channel: honoured at once.</summary>
    OptOut,
    /// <summary>Clearly nothing to act on ("OK", "thanks", "gracias").</summary>
    Acknowledgement,
    /// <summary>Anything else: a person reads it (it may be a revocation in other words, a dispute, a question).</summary>
    NeedsReview,
}

/// <summary>
/// Reads a text reply the way the TCPA's "any reasonable means" asks (47 CFR 64.1200(a)(10)): the standard keywords
/// STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE and their Spanish counterparts (ALTO, PARAR/PARE, BASTA,
/// CANCELAR, DETENER, BAJA, NO MÁS, ...) alone or with polite words ("Stop please", "stop por favor"); and plain requests
/// to stop ("Please stop texting me", "don't text me again", "remove me from your list", "no me manden mensajes", "dejen
/// de escribirme"). Case, accents, punctuation and extra spaces do not matter. A keyword that is negated or used in
/// another sense ("don't stop", "stop by the office") is not read as an opt-out, and neither is ignored: every reply
/// that is not clearly an opt-out or a plain acknowledgement goes to a person.
/// </summary>
public static class ReplyKeywords
{
    public static IReadOnlyList<string> OptOutKeywords { get; } =
        ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE", "ALTO", "PARAR", "BASTA", "CANCELAR", "DETENER", "BAJA", "NO MÁS"];

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "STOP", "STOPALL", "QUIT", "END", "REVOKE", "OPTOUT", "CANCEL", "UNSUBSCRIBE", "REMOVE",
        "ALTO", "PARAR", "PARE", "PARA", "PAREN", "BASTA", "CANCELAR", "CANCELA", "DETENER", "DETENGAN", "BAJA", "SALIR", "NOMAS", "REVOCAR", "DESUSCRIBIR",
    };

    private static readonly HashSet<string> Polite = new(StringComparer.Ordinal)
    {
        "PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "NOW", "ALL", "ME", "IT", "JUST", "OK", "OKAY",
        "POR", "FAVOR", "PORFAVOR", "GRACIAS", "YA", "AHORA", "TODO", "TODOS",
    };

    private static readonly HashSet<string> Acknowledgements = new(StringComparer.Ordinal)
    {
        "OK", "OKAY", "K", "THANKS", "THANK", "YOU", "TY", "THX", "GOT", "IT", "RECEIVED", "GRACIAS", "MUCHAS", "RECIBIDO", "ENTENDIDO", "VALE", "BIEN",
    };

    /// <summary>Words that turn a keyword into something else: "don't stop", "stop by", "no pare de".</summary>
    private static readonly HashSet<string> Negations = new(StringComparer.Ordinal) { "DONT", "NOT", "NEVER", "DIDNT", "WONT", "NO" };

    /// <summary>What the person wants stopped (after a stop word): texts, calls, contact, them.</summary>
    private static readonly HashSet<string> Targets = new(StringComparer.Ordinal)
    {
        "TEXT", "TEXTS", "TEXTING", "TXT", "TXTS", "TXTING", "MESSAGE", "MESSAGES", "MESSAGING", "MSG", "MSGS", "SMS", "CALL", "CALLS", "CALLING",
        "CONTACT", "CONTACTING", "EMAIL", "EMAILS", "EMAILING", "SENDING", "BOTHERING", "HARASSING", "ME", "THIS", "THESE", "THEM", "NUMBER", "LIST",
        "MENSAJE", "MENSAJES", "LLAMADAS", "LLAMAR", "ESCRIBIR", "ESCRIBIRME", "ESCRIBAN", "MANDAR", "MANDEN", "ENVIAR", "ENVIEN", "TEXTOS", "CORREOS",
        "MOLESTAR", "MOLESTARME", "LLAMARME", "CONTACTARME", "CONTACTAR",
    };

    public static bool IsOptOut(string? text) => Classify(text) == ReplyMeaning.OptOut;

    /// <summary>
    /// The channels a revocation closes: the one it came by, and those it names ("stop calling me" closes calls too,
    /// "don't email me" email; "wrong number" closes every channel to that number).
    /// </summary>
    public static IReadOnlyList<Domain.ContactChannel> ChannelsRevoked(string? text, Domain.ContactChannel repliedOn)
    {
        var channels = new List<Domain.ContactChannel> { repliedOn == Domain.ContactChannel.Voice ? Domain.ContactChannel.AutomatedVoice : repliedOn };
        var words = Words(text ?? "");
        var joined = " " + string.Join(' ', words) + " ";
        if (words.Any(w => w is "CALL" or "CALLS" or "CALLING" or "PHONE" or "LLAMAR" or "LLAMADAS" or "LLAMEN" or "LLAME" or "LLAMARME") || joined.Contains(" WRONG NUMBER ", StringComparison.Ordinal))
            channels.AddRange([Domain.ContactChannel.Voice, Domain.ContactChannel.AutomatedVoice]);
        if (joined.Contains(" WRONG NUMBER ", StringComparison.Ordinal)) channels.Add(Domain.ContactChannel.Sms);
        if (words.Any(w => w is "EMAIL" or "EMAILS" or "EMAILING" or "CORREO" or "CORREOS")) channels.Add(Domain.ContactChannel.Email);
        return channels.Distinct().ToList();
    }

    public static ReplyMeaning Classify(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return ReplyMeaning.NeedsReview;
        if (text.Length > 500) return ReplyMeaning.NeedsReview;
        var words = Words(text);
        if (words.Count == 0) return ReplyMeaning.NeedsReview;

        // The whole reply is keywords and polite words: "STOP", "Stop please", "ALTO por favor", "NO MAS".
        if (words.Any(Keywords.Contains) && words.All(w => Keywords.Contains(w) || Polite.Contains(w)))
            return ReplyMeaning.OptOut;
        if (words.All(Acknowledgements.Contains)) return ReplyMeaning.Acknowledgement;
        if (words.Count > 40) return ReplyMeaning.NeedsReview;

        var joined = " " + string.Join(' ', words) + " ";
        // A plain request to stop: a stop word followed (within a few words) by what to stop, with no negation before it.
        for (var i = 0; i < words.Count; i++)
        {
            if (!StopWords.Contains(words[i])) continue;
            if (i > 0 && (Negations.Contains(words[i - 1]) || (i > 1 && words[i - 2] == "DO" && words[i - 1] == "NOT"))) continue;
            if (words.Skip(i + 1).Take(4).Any(Targets.Contains)) return ReplyMeaning.OptOut;
        }
        foreach (var phrase in Phrases)
            if (joined.Contains(phrase, StringComparison.Ordinal)) return ReplyMeaning.OptOut;
        return ReplyMeaning.NeedsReview;
    }

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "STOP", "QUIT", "CEASE", "END", "CANCEL", "UNSUBSCRIBE", "REMOVE", "DELETE", "PARAR", "PAREN", "PARE", "DEJA", "DEJE", "DEJEN", "DETENER", "DETENGAN", "BASTA", "ALTO", "NOMAS",
    };

    /// <summary>Requests not to be contacted, written out ("don't text me", "no me llamen", "take me off your list").</summary>
    private static readonly string[] Phrases =
    [
        " DONT TEXT ", " DO NOT TEXT ", " DONT CALL ", " DO NOT CALL ", " DONT CONTACT ", " DO NOT CONTACT ", " DONT MESSAGE ", " DO NOT MESSAGE ",
        " DONT EMAIL ", " DO NOT EMAIL ", " NO MORE TEXTS ", " NO MORE MESSAGES ", " NO MORE CALLS ", " NO MORE EMAILS ", " TAKE ME OFF ", " REMOVE ME ",
        " LEAVE ME ALONE ", " OPTOUT ", " UNSUBSCRIBE ", " WRONG NUMBER ",
        " NO ME ESCRIBAN ", " NO ME ESCRIBA ", " NO ME MANDEN ", " NO ME MANDE ", " NO ME LLAMEN ", " NO ME LLAME ", " NO ME ENVIEN ", " NO ME CONTACTEN ",
        " YA NO ME ", " DEJENME EN PAZ ", " SAQUENME ", " DAR DE BAJA ", " DARME DE BAJA ",
    ];

    /// <summary>Upper-case words without accents; punctuation splits words, apostrophes and hyphens join ("don't" is DONT, "opt-out" OPTOUT).</summary>
    private static List<string> Words(string text)
    {
        var plain = new StringBuilder(text.Length);
        foreach (var c in text.Normalize(NormalizationForm.FormD))
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) plain.Append(c);
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var c in plain.ToString())
        {
            if (char.IsLetter(c)) current.Append(char.ToUpperInvariant(c));
            else if (c is '\'' or '’' or '-' or '_') continue; // joins
            else Flush();
        }
        Flush();
        for (var i = 0; i + 1 < words.Count; i++)
        {
            var pair = words[i] + words[i + 1];
            if (pair is "OPTOUT" or "NOMAS" or "PORFAVOR")
            {
                words[i] = pair;
                words.RemoveAt(i + 1);
            }
        }
        return words;

        void Flush()
        {
            if (current.Length > 0) words.Add(current.ToString());
            current.Clear();
        }
    }
}
