using SkiaSharp;

namespace Collections.Outreach;

/// <summary>
/// DejaVu Sans (regular and bold), embedded in this assembly from Debian's fonts-dejavu-core, so statement PDFs look the
/// same on every machine and never depend on the fonts installed there. Each face is loaded once per process.
/// </summary>
internal static class EmbeddedFonts
{
    private static readonly Lazy<SKTypeface> RegularFace = new(() => Load("DejaVuSans"));
    private static readonly Lazy<SKTypeface> BoldFace = new(() => Load("DejaVuSans-Bold"));

    public static SKTypeface Regular => RegularFace.Value;
    public static SKTypeface Bold => BoldFace.Value;

    private static SKTypeface Load(string face)
    {
        var assembly = typeof(EmbeddedFonts).Assembly;
        // The typeface takes the stream over (and disposes of it when it is done with it).
        var stream = assembly.GetManifestResourceStream($"fonts/{face}.ttf")
            ?? throw new InvalidOperationException($"The font {face}.ttf is not embedded in {assembly.GetName().Name}.");
        return SKTypeface.FromStream(stream)
            ?? throw new InvalidOperationException($"The embedded font {face}.ttf could not be read.");
    }
}
