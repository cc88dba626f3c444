namespace Collections.TestSupport;

/// <summary>The public sample files in ../shared/samples (beside the repository; never copied into it).</summary>
public static class SharedSamples
{
    public static string? Folder(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Collections.sln"))) dir = dir.Parent;
        var folder = dir?.Parent is null ? null : Path.Combine(dir.Parent.FullName, "shared", "samples", relative);
        return folder is not null && Directory.Exists(folder) ? folder : null;
    }

    public static string Read835(string name) => File.ReadAllText(Path.Combine(Folder(Path.Combine("x12", "835"))!, name));
}

/// <summary>A test that reads ../shared/samples/x12/835; skipped, with the reason, where that folder is not beside the checkout.</summary>
public sealed class SharedSampleFactAttribute : FactAttribute
{
    public SharedSampleFactAttribute()
    {
        if (SharedSamples.Folder(Path.Combine("x12", "835")) is null) Skip = "../shared/samples/x12/835 is not beside this checkout.";
    }
}
