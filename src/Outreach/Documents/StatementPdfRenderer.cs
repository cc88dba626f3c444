using Collections.Domain;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace Collections.Outreach;

/// <summary>
/// The printed document of a mail message (and the attachment of an emailed statement): a US Letter PDF with the
/// facility's name and return address, the guarantor's name and address, the account number, the statement date, the
/// message itself, the lines of the statement with their totals (charges, insurance paid, adjustments, the patient's
/// payments, the amount owed), the due date, how to pay, and how to ask for financial assistance with the
/// plain-language summary line.
/// </summary>
/// <remarks>
/// PDFsharp 6.5 refuses to work until its user picks a license (<see cref="OutreachOptions.PdfLicense"/>): without one
/// <see cref="IsEnabled"/> is false and <see cref="Render"/> must not be called.
/// </remarks>
public sealed class StatementPdfRenderer
{
    private const double PageWidth = 612, PageHeight = 792, Margin = 54, ContentWidth = PageWidth - 2 * Margin;
    public const string AgplLicense = "AGPL";
    private static readonly Lock LicenseGate = new();
    private readonly FacilityDirectory facilities;

    static StatementPdfRenderer() => EmbeddedFontResolver.EnsureInstalled();

    public StatementPdfRenderer(FacilityDirectory facilities, Microsoft.Extensions.Options.IOptions<OutreachOptions> options)
    {
        this.facilities = facilities;
        var license = options.Value.PdfLicense?.Trim();
        if (string.IsNullOrEmpty(license)) return;
        lock (LicenseGate)
        {
            if (string.Equals(license, AgplLicense, StringComparison.OrdinalIgnoreCase)) PdfSharp.PdfSharpLicense.SetAgplLicense();
            else PdfSharp.PdfSharpLicense.LoadLicense(license);
        }
        IsEnabled = true;
    }

    /// <summary>Whether a PDFsharp license was chosen, so documents can be rendered.</summary>
    public bool IsEnabled { get; }

    /// <summary>Whether a message is printed (mail), or comes with its statement attached (an emailed statement or final notice).</summary>
    public static bool NeedsDocument(OutboxMessage message) =>
        message.Channel == ContactChannel.Mail
        || (message.Channel == ContactChannel.Email && message.Action is OutreachAction.PatientStatement or OutreachAction.FinalNotice);

    public byte[] Render(OutboxMessage message)
    {
        if (!IsEnabled)
            throw new InvalidOperationException($"Statement PDFs are off: set {OutreachOptions.Section}:PdfLicense (see the README).");
        var facility = facilities.Get(message.Facility);
        var values = TemplateEngine.Values(facility, message.RecipientName, message.AccountNumber, message.AmountDue, message.DueDate);
        // The statement date is the day the message was written, so a re-rendered or re-sent copy is identical.
        var statementDate = DateOnly.FromDateTime(message.CreatedAt.UtcDateTime);
        var title = message.Subject ?? (message.Action == OutreachAction.PatientStatement ? "Your statement" : "A message about your bill");

        var document = new PdfDocument();
        document.Info.Title = title.Replace(facility.Name, "", StringComparison.Ordinal).Trim() is { Length: > 0 } t ? t : "Statement";
        document.Info.Creator = "Collections";
        using (var canvas = new Canvas(document))
        {
            // Header: facility and return address on the left, the summary box on the right.
            var top = canvas.Y;
            canvas.Text(facility.Name, Fonts.Title);
            foreach (var line in Lines(facility.ReturnAddress)) canvas.Text(line, Fonts.Small);
            var afterLeft = canvas.Y;

            const double boxX = Margin + ContentWidth - 220, boxWidth = 220;
            canvas.Box(boxX, top, boxWidth, 92);
            canvas.TextAt(boxX + 10, top + 8, "Account number: " + message.AccountNumber, Fonts.Normal);
            canvas.TextAt(boxX + 10, top + 24, "Statement date: " + TemplateEngine.FormatDate(statementDate), Fonts.Normal);
            canvas.TextAt(boxX + 10, top + 42, "Amount you owe: " + TemplateEngine.FormatMoney(message.AmountDue), Fonts.Heading);
            canvas.TextAt(boxX + 10, top + 64, "Due date: " + values["dueDate"], Fonts.Normal);
            canvas.Y = Math.Max(afterLeft, top + 92) + 24;

            // The guarantor's name and address, where a window envelope shows it.
            canvas.Text(message.RecipientName, Fonts.Normal);
            foreach (var line in Lines(message.Recipient)) canvas.Text(line, Fonts.Normal);
            canvas.Y += 20;

            canvas.Text(TemplateEngine.Render(title, values), Fonts.Heading);
            canvas.Y += 4;
            foreach (var paragraph in message.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                canvas.Paragraph(paragraph.Replace('\n', ' '), Fonts.Normal);
                canvas.Y += 6;
            }

            if (message.StatementLines.Count > 0) StatementTable(canvas, message);

            canvas.Y += 10;
            canvas.Text("How to pay", Fonts.Heading);
            canvas.Paragraph($"Online: {facility.PayUrl}", Fonts.Normal);
            canvas.Paragraph($"By phone: {facility.PayPhone}", Fonts.Normal);
            canvas.Paragraph($"By mail: send a check to {string.Join(", ", Lines(facility.ReturnAddress))}. Write account number {message.AccountNumber} on it.", Fonts.Normal);
            canvas.Y += 10;
            canvas.Text("Need help paying your bill?", Fonts.Heading);
            canvas.Paragraph($"Ask about financial assistance: go to {facility.AssistanceUrl} or call {facility.AssistancePhone}. It is free to ask, and you can ask at any time.", Fonts.Normal);
            canvas.Paragraph(TemplateEngine.Render(DefaultTemplates.AssistanceSummary, values), Fonts.Normal);
        }
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return output.ToArray();
    }

    private static void StatementTable(Canvas canvas, OutboxMessage message)
    {
        const double dateX = Margin, descriptionX = Margin + 90, amountRight = Margin + ContentWidth;
        canvas.Y += 8;
        canvas.Text("Your account activity", Fonts.Heading);
        canvas.EnsureRoom(40);
        canvas.TextAt(dateX, canvas.Y, "Date", Fonts.Bold);
        canvas.TextAt(descriptionX, canvas.Y, "Description", Fonts.Bold);
        canvas.TextRight(amountRight, canvas.Y, "Amount", Fonts.Bold);
        canvas.Y += 16;
        canvas.Rule();
        foreach (var line in message.StatementLines)
        {
            canvas.EnsureRoom(16);
            canvas.TextAt(dateX, canvas.Y, line.Date.ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture), Fonts.Normal);
            canvas.TextAt(descriptionX, canvas.Y, Fit(canvas, line.Description, amountRight - 90 - descriptionX), Fonts.Normal);
            canvas.TextRight(amountRight, canvas.Y, TemplateEngine.FormatMoney(line.Amount), Fonts.Normal);
            canvas.Y += 15;
        }
        canvas.Rule();

        decimal Sum(StatementLineKind kind) => message.StatementLines.Where(l => l.EffectiveKind == kind).Sum(l => l.Amount);
        (string Label, decimal Amount)[] totals =
        [
            ("Total charges", Sum(StatementLineKind.Charge)),
            ("Insurance paid", Sum(StatementLineKind.InsurancePayment)),
            ("Adjustments", Sum(StatementLineKind.Adjustment)),
            ("Your payments", Sum(StatementLineKind.PatientPayment)),
        ];
        foreach (var (label, amount) in totals)
        {
            canvas.EnsureRoom(16);
            canvas.TextRight(amountRight - 110, canvas.Y, label, Fonts.Normal);
            canvas.TextRight(amountRight, canvas.Y, TemplateEngine.FormatMoney(amount), Fonts.Normal);
            canvas.Y += 15;
        }
        canvas.EnsureRoom(20);
        canvas.TextRight(amountRight - 110, canvas.Y, "Amount you owe", Fonts.Heading);
        canvas.TextRight(amountRight, canvas.Y, TemplateEngine.FormatMoney(message.AmountDue), Fonts.Heading);
        canvas.Y += 22;
    }

    private static string Fit(Canvas canvas, string text, double width)
    {
        if (canvas.Width(text, Fonts.Normal) <= width) return text;
        while (text.Length > 1 && canvas.Width(text + "...", Fonts.Normal) > width) text = text[..^1];
        return text + "...";
    }

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private enum Fonts { Small, Normal, Bold, Heading, Title }

    /// <summary>A cursor down the pages: adds a page when the text reaches the bottom margin.</summary>
    private sealed class Canvas : IDisposable
    {
        private readonly PdfDocument _document;
        private XGraphics _graphics;
        private static readonly XPen RulePen = new(XColors.Gray, 0.75);

        public Canvas(PdfDocument document)
        {
            _document = document;
            _graphics = NewPage();
        }

        public double Y { get; set; } = Margin;

        private XGraphics NewPage()
        {
            var page = _document.AddPage();
            page.Width = XUnit.FromPoint(PageWidth);
            page.Height = XUnit.FromPoint(PageHeight);
            return XGraphics.FromPdfPage(page);
        }

        public void EnsureRoom(double height)
        {
            if (Y + height <= PageHeight - Margin) return;
            _graphics.Dispose();
            _graphics = NewPage();
            Y = Margin;
        }

        public double Width(string text, Fonts font) => _graphics.MeasureString(text, Font(font, text)).Width;

        public void Text(string text, Fonts font)
        {
            var height = LineHeight(font);
            EnsureRoom(height);
            TextAt(Margin, Y, text, font);
            Y += height;
        }

        public void TextAt(double x, double y, string text, Fonts font) =>
            _graphics.DrawString(text, Font(font, text), XBrushes.Black, new XRect(x, y, PageWidth - x - Margin, LineHeight(font)), XStringFormats.TopLeft);

        public void TextRight(double right, double y, string text, Fonts font) =>
            _graphics.DrawString(text, Font(font, text), XBrushes.Black, new XRect(Margin, y, right - Margin, LineHeight(font)), XStringFormats.TopRight);

        /// <summary>Wraps the text at word boundaries to the page width.</summary>
        public void Paragraph(string text, Fonts font)
        {
            var line = "";
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = line.Length == 0 ? word : line + " " + word;
                if (line.Length > 0 && Width(candidate, font) > ContentWidth)
                {
                    Text(line, font);
                    line = word;
                }
                else line = candidate;
            }
            if (line.Length > 0) Text(line, font);
        }

        public void Box(double x, double y, double width, double height) =>
            _graphics.DrawRectangle(RulePen, XBrushes.WhiteSmoke, new XRect(x, y, width, height));

        public void Rule()
        {
            _graphics.DrawLine(RulePen, Margin, Y, PageWidth - Margin, Y);
            Y += 4;
        }

        public void Dispose() => _graphics.Dispose();

        private static double LineHeight(Fonts font) => font switch
        {
            Fonts.Title => 22,
            Fonts.Heading => 17,
            Fonts.Small => 12,
            _ => 14.5,
        };

        // Text in the Windows-1252 range is written with WinAnsi encoding (plain, searchable text in the PDF); anything
        // else (names in other scripts) with the Unicode encoding, so every character prints.
        private static readonly Dictionary<(Fonts, bool), XFont> Cache = [];
        private static readonly Lock CacheGate = new();

        private static XFont Font(Fonts font, string text)
        {
            var unicode = text.Any(c => c > '\u00FF');
            lock (CacheGate)
            {
                if (Cache.TryGetValue((font, unicode), out var cached)) return cached;
                var (size, style) = font switch
                {
                    Fonts.Title => (16.0, XFontStyleEx.Bold),
                    Fonts.Heading => (12.0, XFontStyleEx.Bold),
                    Fonts.Bold => (10.0, XFontStyleEx.Bold),
                    Fonts.Small => (8.5, XFontStyleEx.Regular),
                    _ => (10.0, XFontStyleEx.Regular),
                };
                var created = new XFont(EmbeddedFontResolver.Family, size, style,
                    new XPdfFontOptions(unicode ? PdfFontEncoding.Unicode : PdfFontEncoding.WinAnsi));
                Cache[(font, unicode)] = created;
                return created;
            }
        }
    }
}
