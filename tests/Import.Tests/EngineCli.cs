using Collections.Cli;
using Collections.Gateway.Tests;

namespace Collections.Import.Tests;

/// <summary>Runs a <c>collections</c> command against the in-process engine, with its address and the admin key.</summary>
internal static class EngineCli
{
    public static async Task<(int Code, string Output, string Error)> RunCliAsync(this EngineFixture engine, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync([.. args, "--url", engine.BaseAddress.ToString(), "--key", engine.AdminKey], output, error);
        return (code, output.ToString(), error.ToString());
    }
}
