using System.Text;
using Collections.Domain;
using PdfSharp.Pdf;
using PdfSharp.Pdf.Content;
using PdfSharp.Pdf.Content.Objects;
using PdfSharp.Pdf.IO;

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
        using var document = PdfReader.Open(new MemoryStream(bytes), PdfDocumentOpenMode.Import);
        Assert.True(document.PageCount >= 1);
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
    public async Task A_long_statement_flows_onto_more_pages()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var lines = Enumerable.Range(1, 80).Select(i => new StatementLine(new DateOnly(2026, 1, 1).AddDays(i), $"Lab test {i}", 10m)).ToList();
        var message = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.FinalNotice) with { StatementLines = lines, AmountDue = 800m });
        using var document = PdfReader.Open(new MemoryStream(h.Documents.Render(message)), PdfDocumentOpenMode.Import);
        Assert.True(document.PageCount >= 2);
        Assert.Contains("Lab test 80", Text(document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sandbox_keeps_the_pdf_of_a_mail_message_and_none_when_pdfs_are_off()
    {
        var h = await Harness.CreateAsync(Db.Sqlite);
        var letter = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.Letter));
        await h.Sender().RunOnceAsync();
        var stored = await h.Sandbox.GetAsync(letter.MessageId, withPdf: true);
        Assert.True(stored!.HasPdf);
        Assert.Equal("%PDF", Encoding.ASCII.GetString(stored.Pdf!, 0, 4));

        var off = new StatementPdfRenderer(h.Facilities, Microsoft.Extensions.Options.Options.Create(new OutreachOptions()));
        Assert.False(off.IsEnabled);
        var other = await h.Service().EnqueueAsync(Harness.Request(ContactChannel.Mail, OutreachAction.Letter));
        await new SandboxTransport(h.Sandbox, off, h.Clock).DeliverAsync(other, CancellationToken.None);
        Assert.False((await h.Sandbox.GetAsync(other.MessageId, withPdf: true))!.HasPdf);
    }

    /// <summary>The text the pages show (the renderer writes Latin text with WinAnsi encoding, so strings are plain).</summary>
    private static string Text(PdfDocument document)
    {
        var text = new StringBuilder();
        foreach (var page in document.Pages) Collect(ContentReader.ReadContent(page), text);
        return text.ToString();
    }

    private static void Collect(CObject item, StringBuilder text)
    {
        switch (item)
        {
            case COperator op when op.OpCode.Name is "Tj" or "TJ" or "'" or "\"":
                foreach (var operand in op.Operands) Collect(operand, text);
                text.Append('\n');
                break;
            case CSequence sequence:
                foreach (var child in sequence) Collect(child, text);
                break;
            case CString s:
                text.Append(s.Value);
                break;
        }
    }
}
