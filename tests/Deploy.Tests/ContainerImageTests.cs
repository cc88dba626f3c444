using System.Diagnostics;
using Collections.TestSupport;
using Xunit.Abstractions;

namespace Collections.Deploy.Tests;

/// <summary>
/// The silo and gateway images, built by the .NET SDK (scripts/images.sh: dotnet publish -t:PublishContainer on a base
/// served from a private registry), loaded into podman and run against the private PostgreSQL: both must answer
/// /health/ready. Skipped, saying why, where podman or PostgreSQL is not there (scripts/test.sh installs and starts both).
/// </summary>
[Collection(ReleaseBuilds.Name)]
public sealed class ContainerImageTests(ITestOutputHelper output)
{
    [PodmanFact]
    public async Task The_silo_and_gateway_images_run_as_non_root_under_podman_and_become_ready_on_postgresql()
    {
        // A database of its own: a cluster's silos mark their database as their cluster's (another test's cluster beside
        // this one would be refused on it).
        var postgres = (await TestDatabases.PostgresAsync()).ConnectionString;
        var folder = Directory.CreateTempSubdirectory("collections-images").FullName;
        var tag = Guid.NewGuid().ToString("N")[..8];
        var containers = new List<string>();
        try
        {
            var build = Stopwatch.StartNew();
            var (exit, text) = await Commands.RunAsync(Repository.Path("scripts", "images.sh"), [folder], TimeSpan.FromMinutes(15));
            Assert.True(exit == 0, $"scripts/images.sh failed:\n{text}");
            output.WriteLine($"images built in {build.Elapsed.TotalSeconds:0} s");

            var httpPorts = new Dictionary<string, int>();
            foreach (var name in new[] { "collections-silo", "collections-gateway" })
            {
                var archive = Path.Combine(folder, $"{name}.tar.gz");
                output.WriteLine($"{name}: archive {new FileInfo(archive).Length / 1048576.0:0} MiB");
                await PodmanAsync("load", "-q", "-i", archive);
                await PodmanAsync("tag", $"{name}:latest", $"{name}:{tag}");
                var user = (await PodmanAsync("image", "inspect", $"{name}:{tag}", "--format", "{{.Config.User}}")).Trim();
                Assert.Equal("1654", user);
                output.WriteLine($"{name}: {(await PodmanAsync("image", "inspect", $"{name}:{tag}", "--format", "{{.Size}}")).Trim()} bytes unpacked");
            }

            // Host networking: the private PostgreSQL listens on 127.0.0.1. Free ports for everything the engine opens.
            var siloHttp = Ports.Free();
            var silo = $"collections-silo-{tag}";
            var started = Stopwatch.StartNew();
            await PodmanAsync(["run", "-d", "--name", silo, .. RunFlags, "-e", "Collections__Profile=cluster", "-e", $"Collections__PostgresConnectionString={postgres}",
                "-e", $"ASPNETCORE_URLS=http://127.0.0.1:{siloHttp}", "-e", $"Collections__SiloPort={Ports.Free()}", "-e", $"Collections__GatewayPort={Ports.Free()}",
                "-e", $"Collections__ClusterId=images-{tag}", "-e", "Collections__Scoring__BootstrapAccounts=200", $"collections-silo:{tag}"]);
            containers.Add(silo);
            await ReadyAsync(siloHttp, silo);
            output.WriteLine($"silo: cold start to ready {started.Elapsed.TotalSeconds:0.0} s");
            // The image's own health check verb answers as an orchestrator would ask it.
            Assert.Contains(": 200", await PodmanAsync("exec", silo, "dotnet", "/app/Collections.Silo.dll", "probe", $"http://127.0.0.1:{siloHttp}/health/ready"));

            var gatewayHttp = Ports.Free();
            var gateway = $"collections-gateway-{tag}";
            started.Restart();
            await PodmanAsync(["run", "-d", "--name", gateway, .. RunFlags, "-e", "Collections__Profile=cluster", "-e", $"Collections__PostgresConnectionString={postgres}",
                "-e", $"ASPNETCORE_URLS=http://127.0.0.1:{gatewayHttp}", "-e", $"Collections__ClusterId=images-{tag}", $"collections-gateway:{tag}"]);
            containers.Add(gateway);
            await ReadyAsync(gatewayHttp, gateway);
            output.WriteLine($"gateway: cold start to ready {started.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (var container in containers) await Commands.RunAsync("podman", ["rm", "-f", container], TimeSpan.FromMinutes(1));
            foreach (var name in new[] { "collections-silo", "collections-gateway" })
                await Commands.RunAsync("podman", ["rmi", "-f", $"{name}:{tag}", $"{name}:latest"], TimeSpan.FromMinutes(1));
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>How Debian's podman runs here (packages.md): runc, and limits the sandbox allows.</summary>
    private static readonly string[] RunFlags = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host"];

    private static async Task ReadyAsync(int port, string container)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(500);
        }
        var (_, logs) = await Commands.RunAsync("podman", ["logs", container], TimeSpan.FromMinutes(1));
        Assert.Fail($"{container} not ready within 3 minutes:\n{logs}");
    }

    private static async Task<string> PodmanAsync(params string[] args)
    {
        var (exit, text) = await Commands.RunAsync("podman", args, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"podman {string.Join(' ', args.Select(a => a.Contains("Password", StringComparison.Ordinal) ? "(connection string)" : a))} exited {exit}: {text}");
        return text;
    }
}

/// <summary>Runs a command to its end (or kills it at the timeout) and returns its exit code and everything it wrote.</summary>
internal static class Commands
{
    public static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>Needs podman, Debian's docker-registry and the test PostgreSQL (scripts/test.sh provides all three).</summary>
public sealed class PodmanFactAttribute : FactAttribute
{
    public PodmanFactAttribute()
    {
        if (!Tools.OnPath("podman") || !Tools.OnPath("docker-registry"))
            Skip = "podman or docker-registry is not installed (scripts/test.sh installs both): the container images were not built or run.";
        else if (TestDatabases.PostgresConnectionString is null)
            Skip = $"{TestDatabases.PostgresVariable} is not set (scripts/test.sh starts a private PostgreSQL): the images were not run.";
    }
}
