using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Collections.Bench;

/// <summary>
/// A webhook receiver on 127.0.0.1 that answers 200 to everything (so deliveries succeed during the bench), on Kestrel
/// as a real receiver would be: it serves requests concurrently. It shares the machine's cores with the engine, so what
/// it costs is in the posting figures; the <c>HttpListener</c> it replaces answered one request at a time, which put a
/// limit of its own into the dispatcher's figures, and allocated about a tenth more per post.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>How many requests it answered (webhook deliveries, or OTLP exports when it stands in for a collector).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<WebhookReceiver> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, $"http://127.0.0.1:{port}/hook");
        app.Run(context =>
        {
            Interlocked.Increment(ref receiver._requests);
            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Collects the projections' lag histogram (commit to applied) while it lives.</summary>
public sealed class LagRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, List<double>> _lags = [];

    public LagRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Collections.Projections" && instrument.Name == "collections.projection.lag") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var name = "?";
            foreach (var tag in tags) if (tag.Key == "projection") name = tag.Value?.ToString() ?? "?";
            lock (_lags) (_lags.TryGetValue(name, out var list) ? list : _lags[name] = []).Add(value * 1000);
        });
        _listener.Start();
    }

    public string Summary()
    {
        lock (_lags)
            return string.Join("; ", _lags.OrderBy(l => l.Key).Select(l =>
            {
                var sorted = l.Value.Order().ToList();
                double P(double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
                return $"{l.Key} p50 {P(0.5):0} ms, p99 {P(0.99):0} ms";
            }));
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>
/// The ceiling every bench compares with: one row per transaction, with the engine's own connection settings (SQLite
/// WAL, synchronous FULL, busy timeout; PostgreSQL synchronous_commit on), into a table of its own in the same database.
/// </summary>
public static class RawInsertCeiling
{
    /// <summary>Creates the table on PostgreSQL before many inserts race to it (SQLite's insert creates it itself).</summary>
    public static async Task EnsureTableAsync(Collections.Persistence.DatabaseOptions database)
    {
        if (database.Provider != Collections.Persistence.DatabaseProvider.PostgreSql) return;
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS bench_raw_insert (id BIGSERIAL PRIMARY KEY, account TEXT NOT NULL, amount TEXT NOT NULL, payload BYTEA NOT NULL)";
        await command.ExecuteNonQueryAsync();
    }

    public static async Task InsertAsync(Collections.Persistence.DatabaseOptions database, int i)
    {
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = database.Provider == Collections.Persistence.DatabaseProvider.Sqlite
            ? "CREATE TABLE IF NOT EXISTS bench_raw_insert (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, amount TEXT NOT NULL, payload BLOB NOT NULL); INSERT INTO bench_raw_insert (account, amount, payload) VALUES (@a, @m, @p)"
            : "INSERT INTO bench_raw_insert (account, amount, payload) VALUES (@a, @m, @p)";
        var a = command.CreateParameter(); a.ParameterName = "a"; a.Value = $"BENCH/raw-{i % 64}"; command.Parameters.Add(a);
        var m = command.CreateParameter(); m.ParameterName = "m"; m.Value = "1.00"; command.Parameters.Add(m);
        var p = command.CreateParameter(); p.ParameterName = "p"; p.Value = new byte[200]; command.Parameters.Add(p);
        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }
}

/// <summary>
/// What this machine's disks wrote (Linux: /proc/diskstats, whole disks only, as /sys/block lists them): a database
/// bound by its disk's write throughput runs at the bytes each commit makes it write, which the ratio's two sides can
/// be compared by. The whole machine's writes: run the bench on a quiet machine. Zero elsewhere.
/// </summary>
public readonly record struct DiskWrites(long Writes, long Bytes)
{
    public static DiskWrites Now()
    {
        if (!File.Exists("/proc/diskstats") || !Directory.Exists("/sys/block")) return default;
        // Physical disks only: a device built on others (LVM, LUKS, md RAID: its "slaves" are listed) would count each
        // write twice, and RAM disks write no disk.
        var disks = Directory.GetDirectories("/sys/block")
            .Where(d => !Directory.Exists(Path.Combine(d, "slaves")) || Directory.GetFileSystemEntries(Path.Combine(d, "slaves")).Length == 0)
            .Select(Path.GetFileName)
            .Where(n => n is not null && !n.StartsWith("loop", StringComparison.Ordinal) && !n.StartsWith("zram", StringComparison.Ordinal) && !n.StartsWith("ram", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        long writes = 0, sectors = 0;
        foreach (var line in File.ReadLines("/proc/diskstats"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10 || !disks.Contains(f[2])) continue;
            writes += long.Parse(f[7], System.Globalization.CultureInfo.InvariantCulture);
            sectors += long.Parse(f[9], System.Globalization.CultureInfo.InvariantCulture);
        }
        return new DiskWrites(writes, sectors * 512);
    }

    public static DiskWrites operator -(DiskWrites after, DiskWrites before) => new(after.Writes - before.Writes, after.Bytes - before.Bytes);

    /// <summary>KiB written per operation, for <paramref name="operations"/> operations.</summary>
    public double KibPer(int operations) => operations == 0 ? 0 : Bytes / 1024.0 / operations;
}

/// <summary>
/// What this process's runtime spent over a run: bytes allocated, time paused by the GC, collections by generation and
/// CPU time (the engine, its projections, the bench's own client and webhook receiver: all in this process).
/// </summary>
public readonly record struct RuntimeCost(long Allocated, TimeSpan Paused, int Gen0, int Gen1, int Gen2, TimeSpan Cpu, TimeSpan Wall)
{
    public static RuntimeCost Now()
    {
        using var process = Process.GetCurrentProcess();
        return new(GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration(),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), process.TotalProcessorTime, Stopwatch.GetElapsedTime(0));
    }

    public static RuntimeCost operator -(RuntimeCost after, RuntimeCost before) => new(after.Allocated - before.Allocated, after.Paused - before.Paused,
        after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2, after.Cpu - before.Cpu, after.Wall - before.Wall);

    /// <summary>A row of the runtime table for <paramref name="operations"/> operations.</summary>
    public string Row(string label, int inFlight, int operations, TimeSpan warmUp) => operations == 0 ? $"| {label} | {inFlight} | | | | | |" :
        $"| {label} | {inFlight} | {warmUp.TotalSeconds:0} s | {Allocated / 1024.0 / operations:0.0} KiB | {Paused.TotalMilliseconds:0} ms ({Paused / Wall:P0}) | {Gen0} / {Gen1} / {Gen2} | {Cpu.TotalMilliseconds / operations:0.000} ms |";
}
