using PdfSharp.Fonts;

namespace Collections.Outreach;

/// <summary>
/// PDFsharp finds no fonts by itself on Linux: this resolver serves DejaVu Sans (regular and bold), embedded in this
/// assembly from Debian's fonts-dejavu-core, for every family name asked for.
/// </summary>
internal sealed class EmbeddedFontResolver : IFontResolver
{
    public const string Family = "DejaVu Sans";
    private const string Regular = "DejaVuSans";
    private const string Bold = "DejaVuSans-Bold";

    private static readonly Lazy<byte[]> RegularBytes = new(() => Load(Regular));
    private static readonly Lazy<byte[]> BoldBytes = new(() => Load(Bold));
    private static readonly Lock Gate = new();

    /// <summary>Installs the resolver once per process, unless the host installed its own.</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            GlobalFontSettings.FontResolver ??= new EmbeddedFontResolver();
        }
    }

    public FontResolverInfo? ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        // No italic face is shipped: PDFsharp simulates it by slanting the upright one.
        new(isBold ? Bold : Regular, mustSimulateBold: false, mustSimulateItalic: isItalic);

    public byte[]? GetFont(string faceName) => faceName == Bold ? BoldBytes.Value : RegularBytes.Value;

    private static byte[] Load(string face)
    {
        using var stream = typeof(EmbeddedFontResolver).Assembly.GetManifestResourceStream($"fonts/{face}.ttf")
            ?? throw new InvalidOperationException($"The font {face}.ttf is not embedded in {typeof(EmbeddedFontResolver).Assembly.GetName().Name}.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
