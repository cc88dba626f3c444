using Collections.Domain;
using SkiaSharp;

namespace Collections.Outreach;

/// <summary>
/// The printed document of a mail message (and the attachment of an emailed statement): a US Letter PDF with the
/// facility's name and return address, the guarantor's name and address, the account number, the statement date, the
/// message itself, the lines of the statement with their totals (charges, insurance paid, adjustments, the patient's
/// payments, the amount owed), the due date, how to pay, and how to ask for financial assistance with the
/// plain-language summary line.
/// </summary>
/// <remarks>
/// Drawn with SkiaSharp's PDF backend (MIT licence) in the embedded DejaVu Sans fonts (<see cref="EmbeddedFonts"/>), so
/// nothing depends on the machine's fonts. Text is written as embedded font subsets with a ToUnicode map: the PDF's text
/// can be selected, searched and read aloud.
/// </remarks>
public sealed class StatementPdfRenderer(FacilityDirectory facilities, PayLinks? payLinks = null)
{
    /// <summary>The document with the payment link its message carries (its QR code and statement code), when it has one.</summary>
    public async Task<byte[]> RenderAsync(OutboxMessage message, CancellationToken cancellationToken = default) =>
        Render(message, payLinks is not { Enabled: true } ? null : await payLinks.FindByMessageAsync(message.MessageId, cancellationToken));

    private const float PageWidth = 612, PageHeight = 792, Margin = 54, ContentWidth = PageWidth - 2 * Margin;
    private const float TableDateX = Margin, TableDescriptionX = Margin + 90;

    /// <summary>Whether a message is printed (mail), or comes with its statement attached (an emailed statement or final notice).</summary>
    public static bool NeedsDocument(OutboxMessage message) =>
        message.Channel == ContactChannel.Mail
        || (message.Channel == ContactChannel.Email && message.Action is OutreachAction.PatientStatement or OutreachAction.FinalNotice);

    public byte[] Render(OutboxMessage message, PayLink? link = null)
    {
        var qr = link is null ? null : QrModules(link.Url);
        var facility = facilities.Get(message.Facility);
        var values = TemplateEngine.Values(facility, message.RecipientName, message.AccountNumber, message.AmountDue, message.DueDate);
        // The statement date is the day the message was written, so a re-rendered or re-sent copy is identical.
        var statementDate = DateOnly.FromDateTime(message.CreatedAt.UtcDateTime);
        var title = message.Subject ?? (message.Action == OutreachAction.PatientStatement ? "Your statement" : "A message about your bill");

        // Fixed dates (the statement's own) keep the document the same however often it is rendered.
        var metadata = SKDocumentPdfMetadata.Default;
        metadata.Title = title.Replace(facility.Name, "", StringComparison.Ordinal).Trim() is { Length: > 0 } t ? t : "Statement";
        metadata.Creator = "Collections";
        metadata.Producer = "Collections";
        metadata.Creation = message.CreatedAt.UtcDateTime;
        metadata.Modified = message.CreatedAt.UtcDateTime;

        // Pass 1 lays the document out without drawing, to learn which characters it uses; pass 2 draws it with fonts
        // cut down to those characters (HarfBuzz's subsetter): a page is tens of kilobytes, not the 750 KB of two whole
        // fonts. Glyph advances and metrics are the subset's own copies, so both passes lay out alike.
        var used = new HashSet<int>();
        using (var dry = SKDocument.CreatePdf(Stream.Null, metadata))
        using (var canvas = new Canvas(dry, $"{facility.Name} - account {message.AccountNumber}", EmbeddedFonts.Regular, EmbeddedFonts.Bold, used))
            Draw(canvas);
        var (regular, bold) = EmbeddedFonts.Subset(used);
        using var output = new MemoryStream();
        using (var document = SKDocument.CreatePdf(output, metadata))
        // Every page after the first starts with whose statement it is and its page number.
        using (var canvas = new Canvas(document, $"{facility.Name} - account {message.AccountNumber}", regular, bold, record: null))
            Draw(canvas);
        return output.ToArray();

        void Draw(Canvas canvas)
        {
            // Header: facility and return address on the left, the summary box on the right.
            var top = canvas.Y;
            canvas.Text(facility.Name, Fonts.Title);
            foreach (var line in Lines(facility.ReturnAddress)) canvas.Text(line, Fonts.Small);
            var afterLeft = canvas.Y;

            const float boxX = Margin + ContentWidth - 220, boxWidth = 220;
            canvas.Box(boxX, top, boxWidth, 86);
            canvas.TextAt(boxX + 10, top + 8, "Account number: " + message.AccountNumber, Fonts.Normal);
            canvas.TextAt(boxX + 10, top + 24, "Statement date: " + TemplateEngine.FormatDate(statementDate), Fonts.Normal);
            canvas.TextAt(boxX + 10, top + 42, "Amount you owe: " + TemplateEngine.FormatMoney(message.AmountDue), Fonts.Heading);
            canvas.TextAt(boxX + 10, top + 64, "Due date: " + values["dueDate"], Fonts.Normal);
            canvas.Y = Math.Max(afterLeft, top + 86) + 18;

            // The guarantor's name and address, where a window envelope shows it.
            canvas.Text(message.RecipientName, Fonts.Normal);
            foreach (var line in Lines(message.Recipient)) canvas.Text(line, Fonts.Normal);
            canvas.Y += 14;

            canvas.Text(TemplateEngine.Render(title, values), Fonts.Heading);
            canvas.Y += 4;
            foreach (var paragraph in message.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                canvas.Paragraph(paragraph.Replace('\n', ' '), Fonts.Normal);
                canvas.Y += 4;
            }

            if (message.StatementLines.Count > 0) StatementTable(canvas, message);

            canvas.Y += 8;
            canvas.Text("How to pay", Fonts.Heading);
            if (link is not null && qr is not null)
            {
                // The link as a QR code a phone's camera opens, and the statement code for typing it at the page.
                const float size = 84;
                canvas.EnsureRoom(size + 8);
                canvas.Modules(Margin, canvas.Y, size, qr);
                canvas.Y += size + 4;
                canvas.Paragraph("Scan the code with your phone's camera to pay or set up a plan.", Fonts.Small);
                canvas.Paragraph($"Online: {link.Url}", Fonts.Normal);
                canvas.Paragraph($"Or go to {link.Url[..link.Url.LastIndexOf("/p/", StringComparison.Ordinal)]}/pay and enter statement code {link.Printed} with your date of birth.", Fonts.Normal);
            }
            else
                canvas.Paragraph($"Online: {facility.PayUrl}", Fonts.Normal);
            canvas.Paragraph($"By phone: {facility.PayPhone}", Fonts.Normal);
            canvas.Paragraph($"By mail: send a check to {string.Join(", ", Lines(facility.ReturnAddress))}. Write account number {message.AccountNumber} on it.", Fonts.Normal);
            canvas.Y += 8;
            canvas.Text("Need help paying your bill?", Fonts.Heading);
            canvas.Paragraph($"Ask about financial assistance: go to {facility.AssistanceUrl} or call {facility.AssistancePhone}. It is free to ask, and you can ask at any time.", Fonts.Normal);
            canvas.Paragraph(TemplateEngine.Render(DefaultTemplates.AssistanceSummary, values), Fonts.Normal);
            canvas.Close();
        }
    }

    /// <summary>The link's QR code (error correction M, with the standard quiet zone) as a module grid.</summary>
    private static bool[,] QrModules(string url)
    {
        using var generator = new QRCoder.QRCodeGenerator();
        using var data = generator.CreateQrCode(url, QRCoder.QRCodeGenerator.ECCLevel.M);
        var matrix = data.ModuleMatrix;
        var grid = new bool[matrix.Count, matrix.Count];
        for (var row = 0; row < matrix.Count; row++)
            for (var column = 0; column < matrix.Count; column++)
                grid[row, column] = matrix[row][column];
        return grid;
    }

    private static void StatementTable(Canvas canvas, OutboxMessage message)
    {
        const float dateX = TableDateX, descriptionX = TableDescriptionX, amountRight = Margin + ContentWidth;
        canvas.Y += 8;
        canvas.Text("Your account activity", Fonts.Heading);
        canvas.EnsureRoom(40);
        ColumnHeads(canvas);
        // A page break inside the table repeats the column heads on the next page.
        canvas.PageStarted = ColumnHeads;
        foreach (var line in message.StatementLines)
        {
            canvas.EnsureRoom(16);
            canvas.TextAt(dateX, canvas.Y, line.Date.ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture), Fonts.Normal);
            canvas.TextAt(descriptionX, canvas.Y, Fit(canvas, line.Description, amountRight - 90 - descriptionX), Fonts.Normal);
            canvas.TextRight(amountRight, canvas.Y, TemplateEngine.FormatMoney(line.Amount), Fonts.Normal);
            canvas.Y += 15;
        }
        canvas.Rule();
        canvas.PageStarted = null;

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

    private static void ColumnHeads(Canvas canvas)
    {
        canvas.TextAt(TableDateX, canvas.Y, "Date", Fonts.Bold);
        canvas.TextAt(TableDescriptionX, canvas.Y, "Description", Fonts.Bold);
        canvas.TextRight(Margin + ContentWidth, canvas.Y, "Amount", Fonts.Bold);
        canvas.Y += 16;
        canvas.Rule();
    }

    private static string Fit(Canvas canvas, string text, float width)
    {
        if (canvas.Width(text, Fonts.Normal) <= width) return text;
        while (text.Length > 1 && canvas.Width(text + "...", Fonts.Normal) > width) text = text[..^1];
        return text + "...";
    }

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private enum Fonts { Small, Normal, Bold, Heading, Title }

    /// <summary>A cursor down the pages: adds a page when the text reaches the bottom margin. Y is the top of the next line.</summary>
    private sealed class Canvas : IDisposable
    {
        private readonly SKDocument _document;
        private readonly Dictionary<Fonts, SKFont> _fonts = [];
        private readonly SKPaint _ink = new() { Color = SKColors.Black, IsAntialias = true };
        private readonly SKPaint _rule = new() { Color = SKColors.Gray, Style = SKPaintStyle.Stroke, StrokeWidth = 0.75f, IsAntialias = true };
        private readonly SKPaint _shade = new() { Color = SKColors.WhiteSmoke, Style = SKPaintStyle.Fill };
        private readonly string _runningHeader;
        private SKCanvas? _page;
        private int _pageNumber;

        private readonly HashSet<int>? _record;

        /// <summary><paramref name="record"/>: lay out only, collecting every character the text uses (nothing is drawn).</summary>
        public Canvas(SKDocument document, string runningHeader, SKTypeface regular, SKTypeface bold, HashSet<int>? record)
        {
            _document = document;
            _runningHeader = runningHeader;
            _record = record;
            foreach (var font in Enum.GetValues<Fonts>())
            {
                var (size, isBold) = font switch
                {
                    Fonts.Title => (16f, true),
                    Fonts.Heading => (12f, true),
                    Fonts.Bold => (10f, true),
                    Fonts.Small => (8.5f, false),
                    _ => (10f, false),
                };
                // Outlines as drawn (no hinting, no pixel snapping): the PDF scales to any printer.
                _fonts[font] = new SKFont(isBold ? bold : regular, size)
                {
                    Hinting = SKFontHinting.None, Subpixel = true, LinearMetrics = true, Edging = SKFontEdging.Antialias,
                };
            }
            NewPage();
        }

        public float Y { get; set; } = Margin;

        /// <summary>Draws what a page that starts in the middle of something needs first (the table's column heads).</summary>
        public Action<Canvas>? PageStarted { get; set; }

        private SKCanvas Page => _page ?? throw new InvalidOperationException("The document is closed.");

        private void NewPage()
        {
            if (_page is not null) _document.EndPage();
            _page = _document.BeginPage(PageWidth, PageHeight);
            _pageNumber++;
            Y = Margin;
            if (_pageNumber == 1) return;
            TextAt(Margin, Y, _runningHeader, Fonts.Small);
            TextRight(Margin + ContentWidth, Y, $"Page {_pageNumber}", Fonts.Small);
            Y += LineHeight(Fonts.Small) + 2;
            Rule();
            Y += 8;
            PageStarted?.Invoke(this);
        }

        public void EnsureRoom(float height)
        {
            if (Y + height > PageHeight - Margin) NewPage();
        }

        public float Width(string text, Fonts font) => _fonts[font].MeasureText(text);

        public void Text(string text, Fonts font)
        {
            var height = LineHeight(font);
            EnsureRoom(height);
            TextAt(Margin, Y, text, font);
            Y += height;
        }

        /// <summary>Text whose line box starts at (x, y) (top left), as in a text layout.</summary>
        public void TextAt(float x, float y, string text, Fonts font)
        {
            if (Recorded(text)) return;
            Page.DrawText(text, x, Baseline(y, font), SKTextAlign.Left, _fonts[font], _ink);
        }

        /// <summary>Text that ends at <paramref name="right"/>, its line box starting at <paramref name="y"/>.</summary>
        public void TextRight(float right, float y, string text, Fonts font)
        {
            if (Recorded(text)) return;
            Page.DrawText(text, right, Baseline(y, font), SKTextAlign.Right, _fonts[font], _ink);
        }

        /// <summary>In the layout pass: notes the text's characters and draws nothing.</summary>
        private bool Recorded(string text)
        {
            if (_record is null) return false;
            foreach (var rune in text.EnumerateRunes()) _record.Add(rune.Value);
            return true;
        }

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

        public void Box(float x, float y, float width, float height)
        {
            var rect = SKRect.Create(x, y, width, height);
            Page.DrawRect(rect, _shade);
            Page.DrawRect(rect, _rule);
        }

        /// <summary>A QR code's dark modules, as filled squares in a square of <paramref name="size"/> points.</summary>
        public void Modules(float x, float y, float size, bool[,] modules)
        {
            if (_record is not null) return;
            var n = modules.GetLength(0);
            var cell = size / n;
            for (var row = 0; row < n; row++)
                for (var column = 0; column < n; column++)
                    if (modules[row, column])
                        Page.DrawRect(SKRect.Create(x + column * cell, y + row * cell, cell + 0.05f, cell + 0.05f), _ink);
        }

        public void Rule()
        {
            Page.DrawLine(Margin, Y, PageWidth - Margin, Y, _rule);
            Y += 4;
        }

        /// <summary>Ends the last page and writes the document out.</summary>
        public void Close()
        {
            if (_page is null) return;
            _document.EndPage();
            _page = null;
            _document.Close();
        }

        public void Dispose()
        {
            foreach (var font in _fonts.Values) font.Dispose();
            _ink.Dispose();
            _rule.Dispose();
            _shade.Dispose();
        }

        /// <summary>The baseline of a line whose box starts at <paramref name="top"/>: one ascent below it.</summary>
        private float Baseline(float top, Fonts font) => top - _fonts[font].Metrics.Ascent;

        private static float LineHeight(Fonts font) => font switch
        {
            Fonts.Title => 22,
            Fonts.Heading => 17,
            Fonts.Small => 12,
            _ => 14.5f,
        };
    }
}
