using System.Text;
using Collections.Domain;
using UglyToad.PdfPig;

namespace Collections.Outreach.Tests;

public sealed class DocumentTests
{
    [Fact]
    public async Task The_statement_pdf_is_a_valid_pdf_with_the_amount_owed_lines_totals_and_assistance()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement));
        var bytes = h.Documents.Render(message);

        Assert.Equal("%PDF", Encoding.ASCII.GetString(bytes, 0, 4));
        using var document = PdfDocument.Open(bytes);
        Assert.True(document.NumberOfPages >= 1);
        Assert.All(document.GetPages(), page => Assert.Equal((612, 792), (page.Width, page.Height)));   // US Letter
        var text = Text(document);
        foreach (var expected in new[]
                 {
                     "Riverside Hospital", "1 River Rd", "Maria Lopez", "12 Elm St", "Account number: A1001", "Statement date: November 23, 2026",
                     "Amount you owe: $210.00", "Due date: December 23, 2026", "Office visit 99213", "$250.00", "Total charges",
                     "Insurance paid", "-$30.00", "Adjustments", "-$10.00", "Your payments", "$0.00", "How to pay", "https://pay.riverside.example",
                     "Need help paying your bill?", "plain language summary",
                 })
            Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_statement_embeds_only_the_glyphs_it_uses()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement) with { RecipientName = "José Núñez" });
        var bytes = h.Documents.Render(message);
        // Two whole DejaVu faces came to about 740 KB a page; cut down to the text's characters a page is a few tens.
        Assert.True(bytes.Length < 120_000, $"{bytes.Length:N0} bytes");
        Console.WriteLine($"statement pdf: {bytes.Length:N0} bytes");
        using var document = PdfDocument.Open(bytes);
        Assert.Contains("José Núñez", Text(document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_statement_flows_onto_more_pages()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var lines = Enumerable.Range(1, 80).Select(i => new StatementLine(new DateOnly(2026, 1, 1).AddDays(i), $"Lab test {i}", 10m)).ToList();
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.FinalNotice) with { StatementLines = lines, AmountDue = 800m });
        var bytes = h.Documents.Render(message);
        Assert.Equal("%PDF", Encoding.ASCII.GetString(bytes, 0, 4));
        using var document = PdfDocument.Open(bytes);
        Assert.True(document.NumberOfPages >= 2);
        var text = Text(document);
        foreach (var expected in new[] { "Lab test 1", "Lab test 80", "Total charges", "$800.00", "Amount you owe: $800.00", "Need help paying your bill?" })
            Assert.Contains(expected, text, StringComparison.Ordinal);
        // Every line is printed once, in order, across the pages.
        var printed = text.Split('\n').Where(l => l.Contains("Lab test ", StringComparison.Ordinal)).ToList();
        Assert.Equal(80, printed.Count);
        Assert.Contains("Lab test 80", document.GetPage(document.NumberOfPages).Text, StringComparison.Ordinal);
        // Later pages say whose statement they are and repeat the column heads.
        var second = Text(document).Split('\n').SkipWhile(l => !l.Contains("Page 2", StringComparison.Ordinal)).Take(2).ToList();
        Assert.Equal(["Riverside Hospital - account A1001 Page 2", "Date Description Amount"], second);
    }

    [Fact]
    public async Task The_sandbox_keeps_the_pdf_of_a_mail_message()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var letter = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.Letter));
        await h.Sender().RunOnceAsync();
        var stored = await h.Sandbox.GetAsync(letter.MessageId, withPdf: true);
        Assert.True(stored!.HasPdf);
        Assert.Equal("%PDF", Encoding.ASCII.GetString(stored.Pdf!, 0, 4));
        using var document = PdfDocument.Open(stored.Pdf!);
        Assert.Contains("Riverside Hospital", Text(document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rendering_again_gives_the_same_document_and_names_in_other_scripts_print()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.PatientStatement) with { RecipientName = "Zoë Ἀλέξανδρος Łukasz" });
        var first = h.Documents.Render(message);
        Assert.Equal(first, h.Documents.Render(message));
        using var document = PdfDocument.Open(first);
        Assert.Contains("Zoë Ἀλέξανδρος Łukasz", Text(document), StringComparison.Ordinal);
    }

    /// <summary>
    /// The text the pages show, one printed line per line of text: PdfPig decodes the glyphs through the fonts'
    /// ToUnicode maps, and the words are grouped into lines by where they sit on the page.
    /// </summary>
    private static string Text(PdfDocument document)
    {
        var text = new StringBuilder();
        foreach (var page in document.GetPages())
        {
            var words = page.GetWords().ToList();
            foreach (var line in words.GroupBy(w => Math.Round(w.Letters[0].StartBaseLine.Y, 1)).OrderByDescending(g => g.Key))
                text.AppendJoin(' ', line.OrderBy(w => w.BoundingBox.Left).Select(w => w.Text)).Append('\n');
        }
        return text.ToString();
    }
}
