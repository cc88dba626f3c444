namespace Collections.Cli.Tests;

/// <summary>The <c>collections</c> command line run in process, its output and errors captured.</summary>
internal static class Cli
{
    public static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
