using SkiaSharp;

namespace Collections.Outreach;

/// <summary>
/// DejaVu Sans (regular and bold), embedded in this assembly from Debian's fonts-dejavu-core, so statement PDFs look the
/// same on every machine and never depend on the fonts installed there. Each face is loaded once per process.
/// </summary>
internal static class EmbeddedFonts
{
    private static readonly Lazy<byte[]> RegularBytes = new(() => Bytes("DejaVuSans"));
    private static readonly Lazy<byte[]> BoldBytes = new(() => Bytes("DejaVuSans-Bold"));
    private static readonly Lazy<SKTypeface> RegularFace = new(() => Load(RegularBytes.Value, "DejaVuSans"));
    private static readonly Lazy<SKTypeface> BoldFace = new(() => Load(BoldBytes.Value, "DejaVuSans-Bold"));

    public static SKTypeface Regular => RegularFace.Value;
    public static SKTypeface Bold => BoldFace.Value;


    /// <summary>Printable ASCII: always in a subset, so most documents (plain English names and addresses) share one.</summary>
    private static readonly int[] Basic = Enumerable.Range(0x20, 0x5F).ToArray();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (SKTypeface Regular, SKTypeface Bold)> Subsets = new(StringComparer.Ordinal);

    /// <summary>
    /// The two faces cut down to printable ASCII and <paramref name="characters"/> (the whole faces if subsetting is not
    /// available). Subsets are kept per set of characters beyond ASCII, up to a few hundred sets.
    /// </summary>
    public static (SKTypeface Regular, SKTypeface Bold) Subset(IEnumerable<int> characters)
    {
        var extra = characters.Where(c => c is < 0x20 or > 0x7E).Distinct().Order().ToArray();
        var key = string.Join(',', extra);
        if (Subsets.TryGetValue(key, out var cached)) return cached;
        var wanted = Basic.Concat(extra).ToArray();
        var regular = FontSubsetter.Subset(RegularBytes.Value, wanted);
        var bold = FontSubsetter.Subset(BoldBytes.Value, wanted);
        if (regular is null || bold is null) return (Regular, Bold);
        var faces = (SKTypeface.FromData(SKData.CreateCopy(regular)) ?? Regular, SKTypeface.FromData(SKData.CreateCopy(bold)) ?? Bold);
        if (Subsets.Count > 500) Subsets.Clear();
        return Subsets.GetOrAdd(key, faces);
    }

    private static byte[] Bytes(string face)
    {
        using var stream = typeof(EmbeddedFonts).Assembly.GetManifestResourceStream($"fonts/{face}.ttf")
            ?? throw new InvalidOperationException($"The font {face}.ttf is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static SKTypeface Load(byte[] bytes, string face) =>
        SKTypeface.FromData(SKData.CreateCopy(bytes)) ?? throw new InvalidOperationException($"The embedded font {face}.ttf could not be read.");
}
