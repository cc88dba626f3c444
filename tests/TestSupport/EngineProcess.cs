using System.Diagnostics;
using System.Text;

namespace Collections.TestSupport;

/// <summary>
/// The engine's real executables (Collections.Silo / Collections.Gateway) run as child processes, so tests can kill
/// them with SIGKILL exactly as an operator's <c>kill -9</c> would.
/// </summary>
public sealed class EngineProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly string _readyPath;

    private EngineProcess(string executable, IEnumerable<string> args, Uri healthBase, string readyPath = "/health/ready")
    {
        HealthBase = healthBase;
        _readyPath = readyPath;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(executable);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri HealthBase { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Starts <c>Collections.Silo</c> or <c>Collections.Gateway</c> and waits until /health/ready answers 200.</summary>
    public static async Task<EngineProcess> StartAsync(string project, Uri healthBase, params string[] args)
    {
        var process = new EngineProcess(ExecutablePath(project), args, healthBase);
        await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return process;
    }

    /// <summary>Starts another built program (<c>dotnet DLL args</c>) and waits until <paramref name="readyPath"/> answers 200.</summary>
    public static async Task<EngineProcess> StartProgramAsync(string dll, Uri baseAddress, string readyPath, params string[] args)
    {
        var process = new EngineProcess(dll, args, baseAddress, readyPath);
        await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return process;
    }

    /// <summary>Runs <c>Collections.Silo</c> or <c>Collections.Gateway</c> expecting it to stop on its own: its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string project, TimeSpan timeout, params string[] args)
    {
        using var process = new EngineProcess(ExecutablePath(project), args, new Uri("http://127.0.0.1/"));
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process._process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Still running after {timeout}:\n{process.Output}");
        }
        process._process.WaitForExit(); // the output's last lines
        return (process._process.ExitCode, process.Output);
    }

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = HealthBase, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The process exited with code {_process.ExitCode}:\n{Output}");
            try
            {
                if ((await http.GetAsync(_readyPath)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Not ready after {timeout}:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; what is not durable is lost.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }

    /// <summary>The built executable next to this test run (same configuration), e.g. src/Silo/bin/Release/net10.0/Collections.Silo.dll.</summary>
    private static string ExecutablePath(string project)
    {
        var here = AppContext.BaseDirectory;
        var root = new DirectoryInfo(here);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Collections.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Cannot find the repository root (Collections.sln) above " + here);
        var configuration = here.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(root.FullName, "src", project, "bin", configuration, "net10.0", $"Collections.{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first: {path} is missing.");
    }
}
