using System.Net;
using System.Net.Sockets;
using Collections.Hosting;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

/// <summary>Mistakes an operator makes at start, each refused before anything starts, in one line.</summary>
public sealed class StartRefusalTests
{
    [Fact]
    public void A_port_another_engine_listens_on_is_refused_before_anything_starts()
    {
        // Orleans would take a silo or gateway port another silo holds without complaint (one of the two then stops).
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var data = TestDatabases.NewFolder();
            var refused = Assert.Throws<EngineStartException>(() => EngineHost.Build(
                ["--data", data, "--urls", $"http://127.0.0.1:{Ports.Free()}", "--silo-port", port.ToString(), "--gateway-port", Ports.Free().ToString()]));
            Assert.Equal($"--silo-port {port}: the port is already in use on 127.0.0.1 (another engine or silo, most often): give this one its own port.", refused.Message);
            Assert.False(File.Exists(Path.Combine(data, "collections.db.lock")) && IsLocked(Path.Combine(data, "collections.db.lock")), "nothing holds the folder");
            var http = Assert.Throws<EngineStartException>(() => EngineHost.Build(
                ["--data", data, "--urls", $"http://127.0.0.1:{port}", "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()]));
            Assert.StartsWith($"--urls {port}: the port is already in use", http.Message, StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void A_misspelt_profile_is_refused_naming_the_two_there_are()
    {
        var refused = Assert.Throws<EngineStartException>(() => EngineHost.Build(["--data", TestDatabases.NewFolder(), "--profile", "clustr"]));
        Assert.Equal("--profile clustr: use local (one process; SQLite unless --postgres) or cluster (silos on PostgreSQL, see docs/cluster.md).", refused.Message);
        Assert.StartsWith("The cluster profile needs a PostgreSQL connection string",
            Assert.Throws<EngineStartException>(() => EngineHost.Build(["--data", TestDatabases.NewFolder(), "--profile", "cluster"])).Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_local_engine_on_a_postgresql_database_another_engine_runs_on_is_refused_before_its_silo_starts()
    {
        // A local engine forms a cluster of its own: beside another on the same database, both would run the same
        // accounts' cadences and send the same messages.
        var database = await TestDatabases.PostgresAsync();
        string[] Arguments() => ["--data", TestDatabases.NewFolder(), "--postgres", database.ConnectionString, "--urls", $"http://127.0.0.1:{Ports.Free()}",
            "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()];
        await using var first = EngineHost.Build(Arguments());
        await first.StartAsync();
        try
        {
            await using var second = EngineHost.Build(Arguments());
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => second.StartAsync());
            var said = StartFailure.Explain(refused);
            Assert.NotNull(said);
            Assert.StartsWith("Another engine or a cluster's silos are running on the PostgreSQL database", said, StringComparison.Ordinal);
            Assert.EndsWith("One deployment per database.", said, StringComparison.Ordinal);
        }
        finally
        {
            await first.StopAsync();
        }
        // Stopped, the first gives the database back.
        await using var third = EngineHost.Build(Arguments());
        await third.StartAsync();
        await third.StopAsync();
    }

    [PostgresFact]
    public async Task An_engine_whose_database_lock_was_lost_takes_it_again_and_stops_if_another_deployment_took_it_meanwhile()
    {
        var database = await TestDatabases.PostgresAsync();
        var lifetime = new RecordedLifetime();
        // Its looks made by the test, one at a time (the engine looks every 30 s on its own).
        await using var engine = new DeploymentLockStartup(database, clusterId: null, Microsoft.Extensions.Logging.Abstractions.NullLogger<DeploymentLockStartup>.Instance,
            lifetime, checkEvery: TimeSpan.FromHours(1));
        await engine.StartingAsync(CancellationToken.None);
        await engine.StartedAsync(CancellationToken.None);
        Assert.True(await engine.CheckAsync(CancellationToken.None));

        // The server drops the lock's connection (a restart, a broken network): the engine's next look takes the lock again.
        var before = Assert.Single(await LockHoldersAsync(database));
        await DropLockConnectionsAsync(database);
        await WaitUntilAsync(async () => (await LockHoldersAsync(database)).Count == 0, "the dropped connection's lock to go");
        Assert.True(await engine.CheckAsync(CancellationToken.None));
        Assert.NotEqual(before, Assert.Single(await LockHoldersAsync(database)));
        Assert.Null(lifetime.StoppedAt);

        // Dropped again, and another local engine takes the database before the next look: this one stops rather than
        // run beside it.
        await DropLockConnectionsAsync(database);
        Persistence.DeploymentLock? other = null;
        await WaitUntilAsync(async () => (other ??= (await Persistence.DeploymentLock.TryTakeAsync(database, clusterId: null)).Lock) is not null, "the other engine's lock");
        await using var _ = other;
        Assert.False(await engine.CheckAsync(CancellationToken.None));
        Assert.NotNull(lifetime.StoppedAt);
    }

    /// <summary>The server processes holding an advisory lock in the database.</summary>
    private static async Task<List<int>> LockHoldersAsync(Persistence.DatabaseOptions database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var ask = new Npgsql.NpgsqlCommand(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", connection);
        var pids = new List<int>();
        await using var reader = await ask.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return pids;
    }

    private static async Task DropLockConnectionsAsync(Persistence.DatabaseOptions database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @name AND datname = current_database()", connection);
        drop.Parameters.AddWithValue("name", Persistence.DeploymentLock.ApplicationName);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    private sealed class RecordedLifetime : Microsoft.Extensions.Hosting.IHostApplicationLifetime
    {
        public DateTime? StoppedAt { get; private set; }
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() => StoppedAt ??= DateTime.UtcNow;
    }

    private static bool IsLocked(string path)
    {
        try
        {
            using var _ = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
