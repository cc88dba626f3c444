using System.Diagnostics.Metrics;
using System.Net;

namespace Collections.Bench;

/// <summary>A webhook receiver on 127.0.0.1 that answers 200 to everything (so deliveries succeed during the bench).</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private int _requests;
    public string Url { get; }

    /// <summary>How many requests it answered (webhook deliveries, or OTLP exports when it stands in for a collector).</summary>
    public int Requests => Volatile.Read(ref _requests);

    private WebhookReceiver(int port)
    {
        Url = $"http://127.0.0.1:{port}/hook";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                try
                {
                    var context = await _listener.GetContextAsync();
                    Interlocked.Increment(ref _requests);
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
            }
        });
    }

    public static WebhookReceiver Start(int port) => new(port);

    public void Dispose() => _listener.Close();
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
