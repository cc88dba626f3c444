using System.Runtime.InteropServices;

namespace Collections.Outreach;

/// <summary>
/// Cuts a TrueType font down to the glyphs of some characters, with HarfBuzz's subsetter (<c>hb_subset_*</c>, exported
/// by the <c>libHarfBuzzSharp</c> native library that ships with SkiaSharp's HarfBuzz package). Null when the library
/// or the subsetter fails: the caller then embeds the whole font (bigger, never wrong).
/// </summary>
internal static partial class FontSubsetter
{
    private const string Library = "libHarfBuzzSharp";
    private const int MemoryModeDuplicate = 0; // HB_MEMORY_MODE_DUPLICATE: HarfBuzz copies the bytes

    public static byte[]? Subset(byte[] font, IEnumerable<int> codepoints)
    {
        try
        {
            return SubsetCore(font, codepoints);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    private static byte[]? SubsetCore(byte[] font, IEnumerable<int> codepoints)
    {
        var data = Marshal.AllocHGlobal(font.Length);
        IntPtr blob = 0, face = 0, input = 0, subset = 0, result = 0;
        try
        {
            Marshal.Copy(font, 0, data, font.Length);
            blob = hb_blob_create(data, (uint)font.Length, MemoryModeDuplicate, 0, 0);
            face = hb_face_create(blob, 0);
            input = hb_subset_input_create_or_fail();
            if (input == 0) return null;
            var set = hb_subset_input_unicode_set(input);
            foreach (var codepoint in codepoints) hb_set_add(set, (uint)codepoint);
            subset = hb_subset_or_fail(face, input);
            if (subset == 0) return null;
            result = hb_face_reference_blob(subset);
            var bytes = hb_blob_get_data(result, out var length);
            if (bytes == 0 || length == 0) return null;
            var copy = new byte[length];
            Marshal.Copy(bytes, copy, 0, (int)length);
            return copy;
        }
        finally
        {
            if (result != 0) hb_blob_destroy(result);
            if (subset != 0) hb_face_destroy(subset);
            if (input != 0) hb_subset_input_destroy(input);
            if (face != 0) hb_face_destroy(face);
            if (blob != 0) hb_blob_destroy(blob);
            Marshal.FreeHGlobal(data);
        }
    }

    [LibraryImport(Library)] private static partial IntPtr hb_blob_create(IntPtr data, uint length, int mode, IntPtr userData, IntPtr destroy);
    [LibraryImport(Library)] private static partial void hb_blob_destroy(IntPtr blob);
    [LibraryImport(Library)] private static partial IntPtr hb_blob_get_data(IntPtr blob, out uint length);
    [LibraryImport(Library)] private static partial IntPtr hb_face_create(IntPtr blob, uint index);
    [LibraryImport(Library)] private static partial void hb_face_destroy(IntPtr face);
    [LibraryImport(Library)] private static partial IntPtr hb_face_reference_blob(IntPtr face);
    [LibraryImport(Library)] private static partial IntPtr hb_subset_input_create_or_fail();
    [LibraryImport(Library)] private static partial void hb_subset_input_destroy(IntPtr input);
    [LibraryImport(Library)] private static partial IntPtr hb_subset_input_unicode_set(IntPtr input);
    [LibraryImport(Library)] private static partial void hb_set_add(IntPtr set, uint codepoint);
    [LibraryImport(Library)] private static partial IntPtr hb_subset_or_fail(IntPtr source, IntPtr input);
}
